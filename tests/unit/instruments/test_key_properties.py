"""Property tests for canonical keys: generated keys of every type round-trip; junk never escapes."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import AssetClass
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.enums import SPORTS_ASSET_CLASSES

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = UPPER + "0123456789"
SPORTS_CLASSES = sorted(a.value for a in SPORTS_ASSET_CLASSES)
OTHER_CLASSES = sorted(a.value for a in AssetClass if a not in SPORTS_ASSET_CLASSES)

asset = st.text(ALNUM, min_size=1, max_size=6)
# venue names deliberately include type and asset-class names (grammar ambiguities)


def _inner_name(max_inner: int) -> st.SearchStrategy[str]:
    # [A-Z0-9]([A-Z0-9_-]*[A-Z0-9])? without the cost of st.from_regex
    ends = st.sampled_from(ALNUM)
    inner = st.text(ALNUM + "_-", max_size=max_inner)
    return st.one_of(ends, st.tuples(ends, inner, ends).map("".join))


venue = st.one_of(
    _inner_name(8),
    st.sampled_from([t.value for t in InstrumentType]),
    st.sampled_from(["FOOTBALL", "EQUITY", "FX", "DEFI"]),
)
name = _inner_name(12)
chain = st.one_of(
    st.sampled_from(["ETHEREUM", "ARBITRUM", "BASE"]),
    st.tuples(st.sampled_from(UPPER), st.text(ALNUM + "_", max_size=8)).map("".join),
)
settlement = st.sampled_from(["LIN", "INV"])
expiry = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)).map(lambda d: f"{d:%y%m%d}")
kickoff = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: f"{d:%Y%m%dT%H%M}"
)
strike = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**7), places=4).map(
    lambda d: format(d.normalize(), "f")
)
half_line = st.integers(0, 12).map(lambda n: f"{n}.5")


@st.composite
def pair(draw: st.DrawFn, n: int = 2) -> str:
    return "-".join(draw(st.lists(asset, min_size=n, max_size=n, unique=True)))


def _key(venue: str, t: str, payload: str, suffix: str | None = None, cls: str | None = None) -> str:
    text = f"{venue}:{t}:{payload}"
    if cls is not None:
        text = f"{cls}:{text}"
    return text if suffix is None else f"{text}@{suffix}"


@st.composite
def valid_key_text(draw: st.DrawFn, only: InstrumentType | None = None) -> str:
    t = draw(st.sampled_from(list(InstrumentType))) if only is None else only
    v = draw(venue)
    cls = draw(st.none() | st.sampled_from(OTHER_CLASSES))
    if t is InstrumentType.SPOT_ASSET:
        return _key(v, t, draw(asset), draw(st.none() | chain), cls)
    if t is InstrumentType.SPOT_PAIR:
        return _key(v, t, draw(pair()), draw(st.none() | chain), cls)
    if t is InstrumentType.PERPETUAL:
        return _key(v, t, draw(pair()), draw(settlement), cls)
    if t is InstrumentType.FUTURE:
        return _key(v, t, f"{draw(pair())}-{draw(expiry)}", draw(settlement), cls)
    if t is InstrumentType.OPTION:
        kind = draw(st.sampled_from(["CALL", "PUT"]))
        return _key(v, t, f"{draw(pair())}-{draw(expiry)}-{draw(strike)}-{kind}", draw(settlement), cls)
    if t is InstrumentType.POOL:
        assets = draw(pair(draw(st.integers(2, 4))))
        fee = draw(st.none() | st.integers(0, 999_999))
        return _key(v, t, assets if fee is None else f"{assets}:{fee}", draw(chain), cls)
    if t is InstrumentType.LST:
        return _key(v, t, draw(asset), draw(chain), cls)
    if t is InstrumentType.A_TOKEN:
        return _key(v, t, "A" + draw(asset), draw(chain), cls)
    if t is InstrumentType.DEBT_TOKEN:
        return _key(v, t, "DEBT" + draw(asset), draw(chain), cls)
    if t in (InstrumentType.EQUITY, InstrumentType.INDEX):
        payload = draw(asset) + draw(st.sampled_from(["", "-USD", "-EUR"]))
        return _key(v, t, payload, None, cls)
    sports_cls = draw(st.none() | st.sampled_from(SPORTS_CLASSES))
    payload = f"{draw(name)}:{draw(kickoff)}:{draw(name)}"
    if t is InstrumentType.TOTAL_GOALS:
        return _key(v, t, payload, draw(half_line), sports_cls)
    if t is InstrumentType.TOTAL_GOALS_OU_2_5:
        return _key(v, t, payload, draw(st.sampled_from([None, "2.5"])), sports_cls)
    return _key(v, t, payload, None, sports_cls)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_key_text())
def test_generated_keys_of_every_type_round_trip(text: str) -> None:
    key = InstrumentKey.parse(text)
    assert str(key) == text
    assert InstrumentKey.parse(str(key)) == key
    rebuilt = InstrumentKey(
        venue=key.venue,
        instrument_type=key.instrument_type,
        payload=key.payload,
        suffix=key.suffix,
        asset_class=key.asset_class,
    )
    assert rebuilt == key
    assert hash(rebuilt) == hash(key)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_type_is_generated(data: st.DataObject) -> None:
    # guards the generator above: each type it is asked for comes out as a valid key of that type
    for t in InstrumentType:
        assert InstrumentKey.parse(data.draw(valid_key_text(t))).instrument_type is t


def _parse_or_invalid(text: str) -> None:
    error: InvalidInstrumentKey | None = None
    key: InstrumentKey | None = None
    try:
        key = InstrumentKey.parse(text)
    except InvalidInstrumentKey as e:
        error = e
    if error is not None:
        assert error.code is ErrorCode.INVALID_INSTRUMENT
        assert error.details["part"]
        assert error.details["reason"]
    else:
        assert str(key) == text  # anything accepted is canonical


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text_only_ever_raises_invalid_instrument_key(text: str) -> None:
    _parse_or_invalid(text)


PIECES = [
    ":",
    "@",
    "-",
    "_",
    ".",
    " ",
    "",
    "0",
    "13",
    "2.5",
    "2.50",
    "50000.0",
    "241325",
    "241225",
    "20250315T1500",
    "20251315T2500",
    "CALL",
    "PUT",
    "C",
    "LIN",
    "INV",
    "ETHEREUM",
    "ethereum",
    "BTC",
    "USDT",
    "btc",
    "A",
    "DEBT",
    "3000",
    "1000000",
    "BINANCE-SPOT",
    "FOOTBALL",
    "EQUITY-INDEX",
    "BETFAIR",
    "ARSENAL-LIVERPOOL",
    "\u00c9",
    "\x00",
    "\n",
    *[t.value for t in InstrumentType],
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_near_miss_strings_only_ever_raise_invalid_instrument_key(text: str) -> None:
    _parse_or_invalid(text)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_key_text(), st.data())
def test_mutated_valid_keys_only_ever_raise_invalid_instrument_key(text: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 4)))
    replacement = data.draw(st.sampled_from(PIECES))
    _parse_or_invalid(text[:i] + replacement + text[j:])
