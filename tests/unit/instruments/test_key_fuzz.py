"""
Fuzz ``InstrumentKey.parse`` with hostile segments: only ``InvalidInstrumentKey`` comes out.

Complements ``test_key_properties`` (random and near-miss text) with real keys whose segments
are replaced by 5,000-digit numbers, impossible dates, non-ASCII and control characters. The
``key_texts`` strategy is used once with a large N for the figure in issue 13 (it was 0 and
stays 0).
"""

from __future__ import annotations

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import InstrumentKey

KEYS = [
    "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
    "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
    "DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV",
    "DERIBIT:FUTURE:BTC-USD-250328@INV",
    "AAVE-V3:A_TOKEN:AUSDC@ETHEREUM",
    "UNISWAP-V3:POOL:WETH-USDC-500@ETHEREUM",
    "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL@2.5",
]
HOSTILE = [
    "",
    "9" * 5000,
    "1e999999999",
    "NaN",
    "-1",
    "991399",
    "20251345T9999",
    "99999999T0000",
    "é",
    "\x00",
    " ",
    "@",
    ":",
    "x" * 300,
    "BTC-",
    "-",
    "2.5.5",
]


@st.composite
def key_texts(draw: st.DrawFn) -> str:
    """Return a real key with one to three segments replaced, or random text."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=60))
    key = draw(st.sampled_from(KEYS))
    for _ in range(draw(st.integers(1, 3))):
        sep = draw(st.sampled_from([":", "-", "@"]))
        parts = key.split(sep)
        i = draw(st.integers(0, len(parts) - 1))
        parts[i] = draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
        key = sep.join(parts)
    return key


def untyped_error(text: str) -> BaseException | None:
    """Return the exception ``InstrumentKey.parse`` raised if it is not the typed one."""
    try:
        InstrumentKey.parse(text)
    except InvalidInstrumentKey:
        return None
    except Exception as e:
        return e
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key_texts())
def test_parse_raises_only_invalid_instrument_key(text: str) -> None:
    error = untyped_error(text)
    assert error is None, f"{type(error).__name__}: {error}"


def test_a_200_digit_goal_line_is_a_typed_error() -> None:
    # found by this fuzzer: ``line % 1`` raised decimal.DivisionImpossible
    text = KEYS[-1].replace("@2.5", "@" + "9" * 200)
    assert untyped_error(text) is None
    assert untyped_error(KEYS[-1].replace("@2.5", "@" + "9" * 200 + ".5")) is None


def test_the_base_keys_parse() -> None:
    for key in KEYS:
        assert str(InstrumentKey.parse(key)) == key
