"""
Canonical keys <-> NautilusTrader instrument ids and instrument objects.

* :func:`to_instrument_id` — a key's Nautilus ``InstrumentId``: the registry's explicit id if it
  has one, otherwise the venue's symbology rule (``BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN`` ->
  ``BTCUSDT-PERP.BINANCE``).
* :func:`from_instrument_id` — the inverse: registry first, then the symbology rules of every
  venue sharing that Nautilus venue (exactly one must match).
* :func:`key_for_instrument` — the key of a Nautilus instrument object, from its own fields.
* :func:`build_instrument` / :func:`build_instruments` — Nautilus instrument objects from
  registry attributes, with precisions, increments, sizes and fees.

Lending and staking positions (aTokens, debt tokens, LSTs) and plain asset holdings are not
Nautilus instruments: asking for one raises :class:`InvalidInstrumentKey` naming the key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.adapters.betfair.parsing.common import betfair_instrument_id
from nautilus_trader.model.enums import AssetClass as NautilusAssetClass
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.enums import OptionKind as NautilusOptionKind
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.instruments import CryptoFuture
from nautilus_trader.model.instruments import CryptoOption
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import IndexInstrument
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.instruments import OptionContract
from nautilus_trader.model.instruments.betting import null_handicap
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import Symbology
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import SPORTS_TYPES
from nautilus_ext.instruments.enums import AssetClass
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.enums import SettlementStyle
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry

_MAX_PRECISION: Final = 16
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
CANONICAL_KEY_INFO: Final = "canonical_key"
"""The ``Instrument.info`` entry holding the canonical key text of instruments we build."""

_QUOTES: Final = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")
_MONTH_CODES: Final = "FGHJKMNQUVXZ"
_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_BETFAIR_MARKETS: Final = {
    "MATCH_ODDS": (InstrumentType.MATCH_WINNER, None),
    "MONEY_LINE": (InstrumentType.MATCH_WINNER, None),
    "BOTH_TEAMS_TO_SCORE": (InstrumentType.BTTS, None),
    "OVER_UNDER_25": (InstrumentType.TOTAL_GOALS_OU_2_5, "2.5"),
    "WIN": (InstrumentType.WIN, None),
}
_BETFAIR_SPORTS: Final = {
    "1": AssetClass.FOOTBALL,
    "2": AssetClass.TENNIS,
    "4": AssetClass.CRICKET,
    "7": AssetClass.HORSE_RACING,
    "7522": AssetClass.BASKETBALL,
}
_NOT_NAUTILUS: Final = frozenset(
    {
        InstrumentType.SPOT_ASSET,
        InstrumentType.LST,
        InstrumentType.A_TOKEN,
        InstrumentType.DEBT_TOKEN,
    },
)


def _fail(key: object, why: str) -> InvalidInstrumentKey:
    return InvalidInstrumentKey(f"{key!s}: {why}", instrument_key=str(key))


# -- key -> InstrumentId --------------------------------------------------------------------


def to_instrument_id(
    key: InstrumentKey | str,
    registry: InstrumentRegistry,
    *,
    selection: str | None = None,
) -> InstrumentId:
    """
    Return the Nautilus ``InstrumentId`` of a canonical key.

    Parameters
    ----------
    key : InstrumentKey | str
        The canonical key.
    registry : InstrumentRegistry
        Venues (symbology) and instruments (explicit ids, Betfair market and selection ids).
    selection : str, optional
        For betting markets: the selection (``HOME``, ``OVER``...); Nautilus models one
        instrument per selection.

    Raises
    ------
    InvalidInstrumentKey
        If the key has no Nautilus instrument or the registry lacks what the mapping needs.
    """
    k = key if isinstance(key, InstrumentKey) else InstrumentKey.parse(key)
    if k.instrument_type in _NOT_NAUTILUS:
        raise _fail(k, f"{k.instrument_type} positions are not NautilusTrader instruments")
    attrs = registry.find(k)
    if k.is_sports:
        return _betting_id(k, attrs, selection)
    if selection is not None:
        raise _fail(k, "selection applies to betting markets only")
    if attrs is not None and attrs.nautilus_instrument_id is not None:
        return InstrumentId.from_str(attrs.nautilus_instrument_id)
    spec = registry.venue(k.venue)
    return InstrumentId(Symbol(_symbol(k, spec, attrs)), Venue(_nautilus_venue(spec, k)))


def _nautilus_venue(spec: VenueSpec, key: InstrumentKey) -> str:
    if spec.nautilus_venue is None:
        raise _fail(key, f"venue {spec.code} is not modelled in NautilusTrader")
    return spec.nautilus_venue


def _betting_id(
    key: InstrumentKey, attrs: InstrumentAttributes | None, selection: str | None
) -> InstrumentId:
    if attrs is None or attrs.betfair_market_id is None:
        raise _fail(key, "betting markets need a registry entry with betfair_market_id")
    if selection is None:
        raise _fail(key, f"a selection is required (one of {', '.join(sorted(attrs.selections))})")
    selection_id = attrs.selections.get(selection.upper())
    if selection_id is None:
        raise _fail(key, f"unknown selection {selection!r} (one of {', '.join(sorted(attrs.selections))})")
    return betfair_instrument_id(attrs.betfair_market_id, selection_id, None)


def _ddmmmyy(d: date) -> str:
    return f"{d.day}{_MONTHS[d.month - 1]}{d:%y}"


def _yymmdd(d: date) -> str:
    return f"{d:%y%m%d}"


def _cp(kind: OptionKind | None) -> str:
    return "C" if kind is OptionKind.CALL else "P"


def _strike(value: Decimal | None) -> str:
    return format(value, "f") if value is not None else ""


def _symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str:
    t = key.instrument_type
    base, quote = key.base_asset or "", key.quote_asset or ""
    inv = key.settlement is SettlementStyle.INV
    exp = key.expiry_date
    match spec.symbology:
        case Symbology.BINANCE:
            if t is InstrumentType.SPOT_PAIR:
                return f"{base}{quote}"
            if t is InstrumentType.PERPETUAL and not inv:
                return f"{base}{quote}-PERP"
            if t is InstrumentType.FUTURE and not inv and exp is not None:
                return f"{base}{quote}_{_yymmdd(exp)}"
        case Symbology.BYBIT:
            if t is InstrumentType.SPOT_PAIR:
                return f"{base}{quote}-SPOT"
            if t is InstrumentType.PERPETUAL:
                return f"{base}{quote}-{'INVERSE' if inv else 'LINEAR'}"
        case Symbology.OKX:
            if t is InstrumentType.SPOT_PAIR:
                return f"{base}-{quote}"
            if t is InstrumentType.PERPETUAL:
                return f"{base}-{quote}-SWAP"
            if t is InstrumentType.FUTURE and exp is not None:
                return f"{base}-{quote}-{_yymmdd(exp)}"
            if t is InstrumentType.OPTION and exp is not None:
                return f"{base}-{quote}-{_yymmdd(exp)}-{_strike(key.strike)}-{_cp(key.option_kind)}"
        case Symbology.DERIBIT:
            root = base if inv else f"{base}_{quote}"
            if t is InstrumentType.PERPETUAL:
                return f"{root}-PERPETUAL"
            if t is InstrumentType.FUTURE and exp is not None:
                return f"{root}-{_ddmmmyy(exp)}"
            if t is InstrumentType.OPTION and exp is not None:
                return f"{root}-{_ddmmmyy(exp)}-{_strike(key.strike)}-{_cp(key.option_kind)}"
        case Symbology.HYPERLIQUID:
            if t is InstrumentType.PERPETUAL and quote == "USDC" and not inv:
                return f"{base}-USD-PERP"
            if t is InstrumentType.SPOT_PAIR:
                return f"{base}-{quote}-SPOT"
        case Symbology.CCXT:
            return _ccxt_symbol(key)
        case Symbology.CME:
            if attrs is not None and attrs.exchange_raw_symbol:
                return attrs.exchange_raw_symbol
            if t is InstrumentType.FUTURE and exp is not None:
                roots = {canonical: root for root, canonical in spec.root_aliases.items()}
                root = roots.get(base, base)
                return f"{root}{_MONTH_CODES[exp.month - 1]}{exp.year % 10}"
            if t in (InstrumentType.INDEX, InstrumentType.EQUITY):
                return base
        case Symbology.POOL:
            if t is InstrumentType.POOL:
                fee = f"-{key.pool_fee_tier}" if key.pool_fee_tier is not None else ""
                return "-".join(key.pool_assets) + fee
        case Symbology.BETFAIR | Symbology.NONE:
            pass
    raise _fail(key, f"no {spec.symbology} symbology rule for {t}; register nautilus_instrument_id")


def _ccxt_symbol(key: InstrumentKey) -> str:
    """Return ccxt's unified symbol (``BTC/USDT``, ``BTC/USDT:USDT``, ``BTC/USD:BTC-241227``)."""
    t = key.instrument_type
    pair = f"{key.base_asset}/{key.quote_asset}"
    if t is InstrumentType.SPOT_PAIR:
        return pair
    if t in (InstrumentType.PERPETUAL, InstrumentType.FUTURE, InstrumentType.OPTION):
        symbol = f"{pair}:{key.settle_asset}"
        if key.expiry_date is not None:
            symbol += f"-{_yymmdd(key.expiry_date)}"
        if t is InstrumentType.OPTION:
            symbol += f"-{_strike(key.strike)}-{_cp(key.option_kind)}"
        return symbol
    raise _fail(key, f"no ccxt symbol for {t}")


def ccxt_symbol(key: InstrumentKey | str) -> str:
    """Return ccxt's unified symbol of a pair or derivative key."""
    return _ccxt_symbol(key if isinstance(key, InstrumentKey) else InstrumentKey.parse(key))


# -- InstrumentId -> key --------------------------------------------------------------------


def from_instrument_id(instrument_id: InstrumentId | str, registry: InstrumentRegistry) -> InstrumentKey:
    """
    Return the canonical key of a Nautilus ``InstrumentId``.

    Raises
    ------
    InvalidInstrumentKey
        If no venue rule or registry entry maps it, or more than one does.
    """
    text = str(instrument_id)
    known = registry.key_for_nautilus_id(text)
    if known is not None:
        return known
    try:
        iid = instrument_id if isinstance(instrument_id, InstrumentId) else InstrumentId.from_str(text)
    except ValueError as e:
        raise _fail(text, f"not a NautilusTrader instrument id ({e})") from e
    symbol, venue = iid.symbol.value, iid.venue.value
    candidates: set[InstrumentKey] = set()
    for spec in registry.venues.values():
        if venue != spec.nautilus_venue and venue not in spec.nautilus_venue_aliases:
            continue
        key = _parse_symbol(symbol, spec, registry)
        if key is not None and key.instrument_type in spec.instrument_types:
            candidates.add(_registered_form(key, registry))
    if len(candidates) == 1:
        return candidates.pop()
    if not candidates:
        raise _fail(text, "no registered venue symbology maps this instrument id")
    raise _fail(text, f"ambiguous: maps to {sorted(map(str, candidates))}")


def _split_concat(symbol: str) -> tuple[str, str] | None:
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return None


def _key(spec: VenueSpec, t: InstrumentType, payload: str, suffix: str | None = None) -> InstrumentKey | None:
    try:
        return InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
    except InvalidInstrumentKey:
        return None


def _parse_ddmmmyy(text: str) -> date | None:
    m = re.fullmatch(r"(\d{1,2})([A-Z]{3})(\d{2})", text)
    if m is None or m.group(2) not in _MONTHS:
        return None
    try:
        return date(2000 + int(m.group(3)), _MONTHS.index(m.group(2)) + 1, int(m.group(1)))
    except ValueError:
        return None


def _parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    match spec.symbology:
        case Symbology.BINANCE:
            if symbol.endswith("-PERP") and (bq := _split_concat(symbol[:-5])):
                return _key(spec, InstrumentType.PERPETUAL, f"{bq[0]}-{bq[1]}", "LIN")
            m = re.fullmatch(r"([A-Z0-9]+)_(\d{6})", symbol)
            if m is not None and (bq := _split_concat(m.group(1))):
                return _key(spec, InstrumentType.FUTURE, f"{bq[0]}-{bq[1]}-{m.group(2)}", "LIN")
            if bq := _split_concat(symbol):
                return _key(spec, InstrumentType.SPOT_PAIR, f"{bq[0]}-{bq[1]}")
        case Symbology.BYBIT:
            body, _, product = symbol.rpartition("-")
            bq = _split_concat(body)
            if bq is not None:
                payload = f"{bq[0]}-{bq[1]}"
                if product == "SPOT":
                    return _key(spec, InstrumentType.SPOT_PAIR, payload)
                if product in ("LINEAR", "INVERSE"):
                    return _key(
                        spec,
                        InstrumentType.PERPETUAL,
                        payload,
                        "LIN" if product == "LINEAR" else "INV",
                    )
        case Symbology.OKX:
            parts = symbol.split("-")
            if len(parts) == 2:
                return _key(spec, InstrumentType.SPOT_PAIR, symbol)
            if len(parts) == 3 and parts[2] == "SWAP":
                suffix = "INV" if parts[1] == "USD" else "LIN"
                return _key(spec, InstrumentType.PERPETUAL, f"{parts[0]}-{parts[1]}", suffix)
            suffix = "INV" if len(parts) > 1 and parts[1] == "USD" else "LIN"
            if len(parts) == 3:
                return _key(spec, InstrumentType.FUTURE, symbol, suffix)
            if len(parts) == 5:
                kind = {"C": "CALL", "P": "PUT"}.get(parts[4], parts[4])
                return _key(
                    spec,
                    InstrumentType.OPTION,
                    f"{parts[0]}-{parts[1]}-{parts[2]}-{parts[3]}-{kind}",
                    suffix,
                )
        case Symbology.DERIBIT:
            parts = symbol.split("-")
            root = parts[0]
            base, _, quote = root.partition("_")
            inv = not quote
            quote = quote or "USD"
            suffix = "INV" if inv else "LIN"
            if len(parts) == 2 and parts[1] == "PERPETUAL":
                return _key(spec, InstrumentType.PERPETUAL, f"{base}-{quote}", suffix)
            expiry = _parse_ddmmmyy(parts[1]) if len(parts) >= 2 else None
            if expiry is not None and len(parts) == 2:
                return _key(spec, InstrumentType.FUTURE, f"{base}-{quote}-{_yymmdd(expiry)}", suffix)
            if expiry is not None and len(parts) == 4:
                kind = {"C": "CALL", "P": "PUT"}.get(parts[3], parts[3])
                return _key(
                    spec,
                    InstrumentType.OPTION,
                    f"{base}-{quote}-{_yymmdd(expiry)}-{parts[2]}-{kind}",
                    suffix,
                )
        case Symbology.HYPERLIQUID:
            parts = symbol.split("-")
            if len(parts) == 3 and parts[1:] == ["USD", "PERP"]:
                return _key(spec, InstrumentType.PERPETUAL, f"{parts[0]}-USDC", "LIN")
            if len(parts) == 3 and parts[2] == "SPOT":
                return _key(spec, InstrumentType.SPOT_PAIR, f"{parts[0]}-{parts[1]}")
        case Symbology.CCXT:
            return _parse_ccxt(symbol, spec)
        case Symbology.CME:
            # the registry's exchange symbols first: options (ESM4 C5000) and indices (VIX) too
            for attrs in registry:
                if attrs.instrument_key.venue == spec.code and attrs.exchange_raw_symbol == symbol:
                    return attrs.instrument_key
            m = re.fullmatch(r"([A-Z0-9]{1,3}?)([FGHJKMNQUVXZ])(\d)", symbol)
            if m is not None:
                return _cme_future_from_symbol(m.group(1), m.group(2), int(m.group(3)), spec, registry)
        case Symbology.POOL:
            m = re.fullmatch(r"([A-Z0-9-]+?)(?:-(\d+))?", symbol)
            if m is not None:
                fee = f":{m.group(2)}" if m.group(2) else ""
                return _key(spec, InstrumentType.POOL, f"{m.group(1)}{fee}", spec.chain)
        case Symbology.BETFAIR:
            # betfair_instrument_id: <market id with '-' for '.'>-<selection id>-<handicap>
            m = re.fullmatch(r"(\d+)-(\d+)-\d+-.+", symbol)
            if m is not None:
                return registry.key_for_betfair_market(f"{m.group(1)}.{m.group(2)}")
        case Symbology.NONE:
            return None
    return None


def _parse_ccxt(symbol: str, spec: VenueSpec) -> InstrumentKey | None:
    pair, _, rest = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash:
        return None
    if not rest:
        return _key(spec, InstrumentType.SPOT_PAIR, f"{base}-{quote}")
    parts = rest.split("-")
    settle = parts[0]
    suffix = "INV" if settle == base else "LIN"
    if len(parts) == 1:
        return _key(spec, InstrumentType.PERPETUAL, f"{base}-{quote}", suffix)
    if len(parts) == 2:
        return _key(spec, InstrumentType.FUTURE, f"{base}-{quote}-{parts[1]}", suffix)
    if len(parts) == 4:
        kind = {"C": "CALL", "P": "PUT"}.get(parts[3], parts[3])
        return _key(spec, InstrumentType.OPTION, f"{base}-{quote}-{parts[1]}-{parts[2]}-{kind}", suffix)
    return None


def _cme_future_from_symbol(
    root: str, month_code: str, year_digit: int, spec: VenueSpec, registry: InstrumentRegistry
) -> InstrumentKey | None:
    # a one-digit year is ambiguous by decade: take the registered contract if there is one
    base = spec.root_aliases.get(root, root)
    month = _MONTH_CODES.index(month_code) + 1
    for attrs in registry.by_type(InstrumentType.FUTURE):
        k = attrs.instrument_key
        if (
            k.venue == spec.code
            and k.base_asset == base
            and k.expiry_date is not None
            and k.expiry_date.month == month
            and k.expiry_date.year % 10 == year_digit
        ):
            return k
    return None


# -- instrument object -> key ---------------------------------------------------------------


def key_for_instrument(instrument: Instrument, registry: InstrumentRegistry) -> InstrumentKey:
    """
    Return the canonical key of a Nautilus instrument object.

    Instruments built by :func:`build_instrument` carry their key in ``info``; otherwise the key
    is derived from the instrument's own fields (type, currencies, expiry, strike, Betfair
    event and market fields) and the venue that lists that type.

    Raises
    ------
    InvalidInstrumentKey
        If the instrument's type or venue has no canonical form.
    """
    info = instrument.info or {}
    if isinstance(info.get(CANONICAL_KEY_INFO), str):
        return InstrumentKey.parse(info[CANONICAL_KEY_INFO])
    known = registry.key_for_nautilus_id(str(instrument.id))
    if known is not None:
        return known
    if isinstance(instrument, BettingInstrument):
        registered = registry.key_for_betfair_market(instrument.market_id)
        return registered if registered is not None else _betting_key(instrument)
    venue = instrument.id.venue.value
    if any(s.symbology is Symbology.POOL and s.nautilus_venue == venue for s in registry.venues.values()):
        return from_instrument_id(instrument.id, registry)
    if isinstance(instrument, CurrencyPair):
        t, payload, suffix = (
            InstrumentType.SPOT_PAIR,
            f"{instrument.base_currency.code}-{instrument.quote_currency.code}",
            None,
        )
    elif isinstance(instrument, CryptoPerpetual):
        t = InstrumentType.PERPETUAL
        payload = f"{instrument.base_currency.code}-{instrument.quote_currency.code}"
        suffix = "INV" if instrument.is_inverse else "LIN"
    elif isinstance(instrument, CryptoFuture | CryptoOption):
        d = _ns_date(instrument.expiration_ns)
        payload = f"{instrument.underlying.code}-{instrument.quote_currency.code}-{_yymmdd(d)}"
        suffix = "INV" if instrument.is_inverse else "LIN"
        t = InstrumentType.FUTURE
        if isinstance(instrument, CryptoOption):
            t = InstrumentType.OPTION
            payload += f"-{_price_text(instrument.strike_price)}-{_kind(instrument.option_kind)}"
    elif isinstance(instrument, FuturesContract | OptionContract):
        listed = InstrumentType.OPTION if isinstance(instrument, OptionContract) else InstrumentType.FUTURE
        spec = _spec_for(instrument.id.venue.value, listed, registry)
        root = _cme_root(instrument)
        base = spec.root_aliases.get(root, root)
        d = _ns_date(instrument.expiration_ns)
        payload, suffix, t = (
            f"{base}-{instrument.quote_currency.code}-{_yymmdd(d)}",
            "LIN",
            InstrumentType.FUTURE,
        )
        if isinstance(instrument, OptionContract):
            t = InstrumentType.OPTION
            payload += f"-{_price_text(instrument.strike_price)}-{_kind(instrument.option_kind)}"
        key = InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
        return _registered_form(key, registry)
    elif isinstance(instrument, Equity | IndexInstrument):
        t = InstrumentType.EQUITY if isinstance(instrument, Equity) else InstrumentType.INDEX
        payload, suffix = f"{instrument.raw_symbol.value}-{instrument.quote_currency.code}", None
    else:
        raise _fail(instrument.id, f"{type(instrument).__name__} has no canonical instrument type")
    spec = _spec_for(instrument.id.venue.value, t, registry)
    key = InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
    return _registered_form(key, registry)


def _registered_form(key: InstrumentKey, registry: InstrumentRegistry) -> InstrumentKey:
    # a key derived from Nautilus fields has no asset-class prefix: if the registry holds the
    # same instrument under a prefix (EQUITY-INDEX:CME:FUTURE:...), that is its canonical key
    if key in registry:
        return key
    same = {
        k
        for k in (a.instrument_key for a in registry)
        if (k.venue, k.instrument_type, k.payload, k.suffix)
        == (key.venue, key.instrument_type, key.payload, key.suffix)
    }
    return same.pop() if len(same) == 1 else key


def _cme_root(instrument: FuturesContract | OptionContract) -> str:
    underlying = str(instrument.underlying)
    if isinstance(instrument, OptionContract):
        # Databento/IB option underlyings are the future (ESM4): strip month and year
        m = re.fullmatch(r"([A-Z0-9]{1,3}?)[FGHJKMNQUVXZ]\d{1,2}", underlying)
        return m.group(1) if m else underlying
    return underlying


def _spec_for(nautilus_venue: str, t: InstrumentType, registry: InstrumentRegistry) -> VenueSpec:
    matches = [
        spec
        for spec in registry.venues.values()
        if (nautilus_venue == spec.nautilus_venue or nautilus_venue in spec.nautilus_venue_aliases)
        and t in spec.instrument_types
    ]
    if len(matches) != 1:
        why = "no registered venue" if not matches else f"several venues {[s.code for s in matches]}"
        raise InvalidInstrumentKey(
            f"Nautilus venue {nautilus_venue} with {t}: {why} (add it to configs/venues)",
            venue=nautilus_venue,
        )
    return matches[0]


def _ns_date(ns: int) -> date:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).date()


def _price_text(price: Price) -> str:
    return format(price.as_decimal().normalize(), "f")


def _kind(kind: NautilusOptionKind) -> str:
    return "CALL" if kind == NautilusOptionKind.CALL else "PUT"


def slug(text: str, sep: str = "_") -> str:
    """Return an upper-case key name for free text (``Premier League`` -> ``PREMIER_LEAGUE``)."""
    # fold accents first (ATLETICO, not ATL-TICO): keys hold only A-Z and 0-9
    ascii_text = unicodedata.normalize("NFKD", text.upper()).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Z0-9]+", sep, ascii_text).strip(sep) or "UNKNOWN"


def _fixture(event_name: str) -> str:
    # seed 000 writes fixtures with '-' everywhere: BAYERN-MUNICH-BORUSSIA-DORTMUND
    teams = re.split(r"\s+(?:v|vs|@|-)\s+", event_name.strip(), maxsplit=1, flags=re.IGNORECASE)
    return "-".join(slug(t, "-") for t in teams)


def betting_market_key(
    *,
    event_type_id: str,
    market_type: str,
    country_code: str,
    competition_name: str,
    event_name: str,
    market_start_time: datetime,
) -> InstrumentKey:
    """
    Return the canonical market key from Betfair market fields.

    The league is ``<COUNTRY>-<COMPETITION>`` (``GB-PREMIER_LEAGUE``), or ``<COUNTRY>-<SPORT>``
    when the stream carries no competition; the fixture is the event name with teams joined
    by ``-``; kickoff is the market start time in UTC.

    Raises
    ------
    InvalidInstrumentKey
        If the market type or sport has no canonical form.
    """
    if market_type not in _BETFAIR_MARKETS and not re.fullmatch(r"OVER_UNDER_\d5", market_type):
        raise InvalidInstrumentKey(f"Betfair market type {market_type!r} has no canonical type")
    if market_type in _BETFAIR_MARKETS:
        t, suffix = _BETFAIR_MARKETS[market_type]
    else:
        digits = market_type.removeprefix("OVER_UNDER_")
        t, suffix = InstrumentType.TOTAL_GOALS, f"{digits[:-1]}.{digits[-1]}"
    asset_class = _BETFAIR_SPORTS.get(event_type_id)
    if asset_class is None:
        raise InvalidInstrumentKey(f"Betfair event type {event_type_id!r} has no canonical sport")
    league_name = slug(competition_name) if competition_name.strip() else asset_class.value
    league = f"{slug(country_code) if country_code.strip() else 'INTL'}-{league_name}"
    kickoff = market_start_time.astimezone(UTC).strftime("%Y%m%dT%H%M")
    fixture = _fixture(event_name) if event_name.strip() else "UNKNOWN"
    return InstrumentKey(
        venue="BETFAIR",
        instrument_type=t,
        payload=f"{league}:{kickoff}:{fixture}",
        suffix=suffix,
        asset_class=asset_class,
    )


def _betting_key(instrument: BettingInstrument) -> InstrumentKey:
    return betting_market_key(
        event_type_id=str(instrument.event_type_id),
        market_type=instrument.market_type,
        country_code=instrument.event_country_code,
        competition_name=instrument.competition_name,
        event_name=instrument.event_name,
        market_start_time=instrument.market_start_time,
    )


# -- attributes -> instrument object --------------------------------------------------------


def _currency(code: str) -> Currency:
    existing = Currency.from_str(code) if _is_known_currency(code) else None
    if existing is not None:
        return existing
    return Currency(code, 8, 0, code, CurrencyType.CRYPTO)


def _is_known_currency(code: str) -> bool:
    try:
        return Currency.from_str(code) is not None
    except ValueError:
        return False


def _precision(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _require(attrs: InstrumentAttributes, *names: str) -> None:
    missing = [n for n in names if getattr(attrs, n) is None]
    if missing:
        raise InvalidConfig(f"instrument {attrs.instrument_key}: {', '.join(missing)} required to build it")


def _fees(attrs: InstrumentAttributes, spec: VenueSpec) -> dict[str, Decimal]:
    return {
        "maker_fee": attrs.maker_fee if attrs.maker_fee is not None else spec.maker_fee,
        "taker_fee": attrs.taker_fee if attrs.taker_fee is not None else spec.taker_fee,
    }


def _ns(dt: datetime | None) -> int:
    # integer arithmetic: float seconds * 1e9 is off by up to ~256 ns for today's timestamps
    return 0 if dt is None else (dt - _EPOCH) // timedelta(microseconds=1) * 1_000


def build_instrument(
    attrs: InstrumentAttributes,
    registry: InstrumentRegistry,
    *,
    selection: str | None = None,
    ts_init: int = 0,
) -> Instrument:
    """
    Build the Nautilus instrument for registry attributes.

    CEX pairs -> ``CurrencyPair``; perpetuals -> ``CryptoPerpetual``; CEX futures/options ->
    ``CryptoFuture``/``CryptoOption``; TradFi futures/options -> ``FuturesContract``/
    ``OptionContract``; equities -> ``Equity``; indices -> ``IndexInstrument``; DEX pools ->
    ``CurrencyPair`` on the pool venue; betting markets -> ``BettingInstrument`` (one per
    ``selection``). The canonical key is stored in ``info["canonical_key"]``.

    Raises
    ------
    InvalidInstrumentKey
        If the instrument type is not a Nautilus instrument.
    InvalidConfig
        If attributes the instrument needs (tick size, size increment...) are missing.
    """
    try:
        return _build_instrument(attrs, registry, selection=selection, ts_init=ts_init)
    except NautilusExtError:
        raise
    except ValueError as e:  # NautilusTrader's own checks (price/size limits...) as a config error
        raise InvalidConfig(
            f"instrument {attrs.instrument_key}: NautilusTrader refuses these attributes: {e}"
        ) from e


def _build_instrument(
    attrs: InstrumentAttributes,
    registry: InstrumentRegistry,
    *,
    selection: str | None,
    ts_init: int,
) -> Instrument:
    key = attrs.instrument_key
    t = key.instrument_type
    if t in _NOT_NAUTILUS:
        raise _fail(key, f"{t} positions are not NautilusTrader instruments")
    spec = registry.venue(key.venue)
    iid = to_instrument_id(key, registry, selection=selection)
    info: dict[str, Any] = {CANONICAL_KEY_INFO: str(key)}
    tick, step = attrs.tick_size, attrs.size_increment
    if tick is None or step is None:
        _require(attrs, "tick_size", "size_increment")
        raise AssertionError  # pragma: no cover - _require raised
    p_prec, s_prec = _precision(tick), _precision(step)
    if max(p_prec, s_prec) > _MAX_PRECISION:
        raise InvalidConfig(
            f"instrument {key}: tick_size/size_increment need {max(p_prec, s_prec)} decimals; "
            f"NautilusTrader allows at most {_MAX_PRECISION}",
        )
    price_increment = Price(tick, p_prec)
    size_increment = Quantity(step, s_prec)
    min_qty = Quantity(attrs.min_size, s_prec) if attrs.min_size is not None else None
    if min_qty is not None and min_qty.as_decimal() != attrs.min_size:
        raise InvalidConfig(
            f"instrument {key}: min_size: {attrs.min_size} is finer than size_increment {step} "
            f"(it would round to {min_qty})",
        )
    raw = Symbol(attrs.exchange_raw_symbol or iid.symbol.value)
    fees = _fees(attrs, spec)
    multiplier = Quantity.from_str(str(attrs.contract_size or 1))
    common: dict[str, Any] = {
        "instrument_id": iid,
        "raw_symbol": raw,
        "price_precision": p_prec,
        "price_increment": price_increment,
        "ts_event": ts_init,
        "ts_init": ts_init,
        "info": info,
        **fees,
    }

    if key.is_sports:
        return _build_betting(attrs, iid, selection, p_prec, s_prec, min_qty, ts_init, info)
    base = _currency(key.base_asset or "")
    quote = _currency(key.quote_asset or "USD")
    if t in (InstrumentType.SPOT_PAIR, InstrumentType.POOL):
        if t is InstrumentType.POOL and key.pool_fee_rate is not None:
            common["maker_fee"] = common["taker_fee"] = key.pool_fee_rate
        return CurrencyPair(
            base_currency=base,
            quote_currency=quote,
            size_precision=s_prec,
            size_increment=size_increment,
            min_quantity=min_qty,
            min_notional=Money(attrs.min_notional, quote) if attrs.min_notional is not None else None,
            margin_init=Decimal(0),
            margin_maint=Decimal(0),
            **common,
        )
    inverse = key.settlement is SettlementStyle.INV
    settle = _currency(key.settle_asset or key.quote_asset or "USD")
    if t is InstrumentType.PERPETUAL:
        return CryptoPerpetual(
            base_currency=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            min_quantity=min_qty,
            margin_init=Decimal("0.1"),
            margin_maint=Decimal("0.05"),
            **common,
        )
    expiry_ns = _ns(attrs.expiry)
    if spec.family is VenueFamily.CEX and t is InstrumentType.FUTURE:
        return CryptoFuture(
            underlying=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            activation_ns=0,
            expiration_ns=expiry_ns,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            min_quantity=min_qty,
            margin_init=Decimal("0.1"),
            margin_maint=Decimal("0.05"),
            **common,
        )
    if spec.family is VenueFamily.CEX and t is InstrumentType.OPTION:
        return CryptoOption(
            underlying=base,
            quote_currency=quote,
            settlement_currency=settle,
            is_inverse=inverse,
            option_kind=NautilusOptionKind.CALL
            if key.option_kind is OptionKind.CALL
            else NautilusOptionKind.PUT,
            strike_price=Price.from_str(format(key.strike, "f")),
            activation_ns=0,
            expiration_ns=expiry_ns,
            size_precision=s_prec,
            size_increment=size_increment,
            multiplier=multiplier,
            min_quantity=min_qty,
            **common,
        )
    asset_class = (
        NautilusAssetClass.INDEX if key.asset_class is None else _nautilus_asset_class(key.asset_class)
    )
    if t is InstrumentType.FUTURE:
        _require(attrs, "underlying")
        return FuturesContract(
            asset_class=asset_class,
            currency=quote,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            underlying=str(attrs.underlying),
            activation_ns=0,
            expiration_ns=expiry_ns,
            exchange=attrs.exchange,
            **common,
        )
    if t is InstrumentType.OPTION:
        _require(attrs, "underlying")
        return OptionContract(
            asset_class=asset_class,
            currency=quote,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            underlying=str(attrs.underlying),
            option_kind=NautilusOptionKind.CALL
            if key.option_kind is OptionKind.CALL
            else NautilusOptionKind.PUT,
            strike_price=Price.from_str(format(key.strike, "f")),
            activation_ns=0,
            expiration_ns=expiry_ns,
            exchange=attrs.exchange,
            **common,
        )
    if t is InstrumentType.EQUITY:
        return Equity(currency=quote, lot_size=Quantity.from_int(1), **common)
    if t is InstrumentType.INDEX:
        for fee in ("maker_fee", "taker_fee"):  # an index is not traded
            common.pop(fee)
        return IndexInstrument(currency=quote, size_precision=s_prec, size_increment=size_increment, **common)
    raise _fail(key, f"no Nautilus instrument for {t}")  # pragma: no cover - types exhausted


def _nautilus_asset_class(asset_class: AssetClass) -> NautilusAssetClass:
    return {
        AssetClass.COMMODITIES: NautilusAssetClass.COMMODITY,
        AssetClass.EQUITY: NautilusAssetClass.EQUITY,
        AssetClass.BOND: NautilusAssetClass.DEBT,
        AssetClass.FX: NautilusAssetClass.FX,
        AssetClass.CEFI: NautilusAssetClass.CRYPTOCURRENCY,
        AssetClass.DEFI: NautilusAssetClass.CRYPTOCURRENCY,
    }.get(asset_class, NautilusAssetClass.INDEX)


def _build_betting(
    attrs: InstrumentAttributes,
    iid: InstrumentId,
    selection: str | None,
    p_prec: int,
    s_prec: int,
    min_qty: Quantity | None,
    ts_init: int,
    info: dict[str, Any],
) -> BettingInstrument:
    key = attrs.instrument_key
    if selection is None or attrs.betfair_market_id is None or key.kickoff is None or key.league is None:
        raise _fail(key, "betting instruments need a selection and a betfair_market_id")
    event_type = {v: k for k, v in _BETFAIR_SPORTS.items()}.get(key.asset_class or AssetClass.FOOTBALL, "1")
    market_type = {v[0]: k for k, v in reversed(_BETFAIR_MARKETS.items())}.get(
        key.instrument_type, f"OVER_UNDER_{str(key.goal_line).replace('.', '')}"
    )
    country, _, competition = key.league.partition("-")
    return BettingInstrument(
        venue_name="BETFAIR",
        event_type_id=int(event_type),
        event_type_name=(key.asset_class or AssetClass.FOOTBALL).value.title(),
        competition_id=0,
        competition_name=competition.replace("_", " ").title(),
        event_id=0,
        event_name=attrs.event_name or (key.fixture or "").replace("-", " v ", 1),
        event_country_code=country,
        event_open_date=key.kickoff,
        betting_type="ODDS",
        market_id=attrs.betfair_market_id,
        market_name=market_type.replace("_", " ").title(),
        market_start_time=key.kickoff,
        market_type=market_type,
        selection_id=attrs.selections[selection.upper()],
        selection_name=selection.upper(),
        currency="GBP",
        selection_handicap=null_handicap(),
        price_precision=p_prec,
        size_precision=s_prec,
        ts_event=ts_init,
        ts_init=ts_init,
        min_quantity=min_qty,
        info=info,
    )


def build_instruments(
    attrs: InstrumentAttributes, registry: InstrumentRegistry, *, ts_init: int = 0
) -> list[Instrument]:
    """Build every Nautilus instrument of ``attrs`` (one per selection for betting markets)."""
    if attrs.instrument_key.instrument_type in SPORTS_TYPES:
        return [build_instrument(attrs, registry, selection=s, ts_init=ts_init) for s in attrs.selections]
    return [build_instrument(attrs, registry, ts_init=ts_init)]
