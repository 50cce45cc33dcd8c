"""Canonical keys <-> IB contracts for CME Group futures and futures options (pure mapping)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.adapters.interactive_brokers.contracts import ROOTS
from nautilus_ext.adapters.interactive_brokers.contracts import from_ib_contract
from nautilus_ext.adapters.interactive_brokers.contracts import to_ib_contract
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.key import InstrumentKey


def test_es_future_maps_to_ib_fields_and_back() -> None:
    spec = to_ib_contract("CME:FUTURE:SP500-USD-241220@LIN")
    assert (spec.sec_type, spec.symbol, spec.exchange) == ("FUT", "ES", "CME")
    assert spec.last_trade_date_or_contract_month == "20241220"
    assert (spec.multiplier, spec.trading_class) == ("50", "ES")
    back = from_ib_contract("FUT", "ES", "CME", "20241220", "ES")
    assert str(back) == "CME:FUTURE:SP500-USD-241220@LIN"


def test_es_option_maps_strike_right_and_trading_class() -> None:
    spec = to_ib_contract("CME:OPTION:SP500-USD-241225-4500-CALL@LIN")
    assert (spec.sec_type, spec.symbol, spec.trading_class) == ("FOP", "ES", "ES")
    assert (spec.strike, spec.right, spec.multiplier) == (Decimal(4500), "C", "50")
    assert spec.last_trade_date_or_contract_month == "20241225"
    assert str(from_ib_contract("FOP", "ES", "CME", "20241225", "ES", 4500.0, "C")) == (
        "CME:OPTION:SP500-USD-241225-4500-CALL@LIN"
    )
    put = from_ib_contract("FOP", "ES", "XCME", "20241220", "ES", 5012.5, "P")
    assert str(put) == "CME:OPTION:SP500-USD-241220-5012.5-PUT@LIN"


@pytest.mark.parametrize(
    ("key", "symbol", "exchange", "multiplier", "trading_class"),
    [
        ("CME:FUTURE:NASDAQ100-USD-240920@LIN", "NQ", "CME", "20", "NQ"),
        ("CME:FUTURE:WTI-USD-241119@LIN", "CL", "NYMEX", "1000", "CL"),
        ("CME:FUTURE:ZN-USD-241219@LIN", "ZN", "CBOT", "1000", "ZN"),
        ("CME:FUTURE:EURUSD-USD-241216@LIN", "EUR", "CME", "125000", "6E"),
        ("CME:FUTURE:GOLD-USD-241227@LIN", "GC", "COMEX", "100", "GC"),
    ],
)
def test_each_root_has_its_exchange_multiplier_and_trading_class(
    key: str, symbol: str, exchange: str, multiplier: str, trading_class: str
) -> None:
    spec = to_ib_contract(key)
    assert (spec.symbol, spec.exchange, spec.multiplier, spec.trading_class) == (
        symbol,
        exchange,
        multiplier,
        trading_class,
    )
    day = spec.last_trade_date_or_contract_month
    assert str(from_ib_contract("FUT", symbol, exchange, day, trading_class)) == key


def test_by_month_sends_the_contract_month() -> None:
    assert to_ib_contract(
        "CME:FUTURE:SP500-USD-241220@LIN", by_month=True
    ).last_trade_date_or_contract_month == ("202412")


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("BYBIT:PERPETUAL:BTC-USDT@LIN", "venue CME"),
        ("CME:FUTURE:SP500-EUR-241220@LIN", "USD"),
        ("CME:FUTURE:COCOA-USD-241220@LIN", "no Interactive Brokers root"),
        ("CME:OPTION:RUSSELL2000-USD-241220-2000-CALL@LIN", "no options"),
    ],
)
def test_unmappable_keys_raise_a_typed_error_naming_the_problem(key: str, why: str) -> None:
    with pytest.raises(InvalidInstrumentKey) as e:
        to_ib_contract(key)
    assert e.value.code is ErrorCode.INVALID_INSTRUMENT
    assert why in e.value.message


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("FUT", "ES", "SMART", "20241220", "ES"), "not a CME Group exchange"),
        (("FUT", "ES", "CME", "202412", "ES"), "not YYYYMMDD"),
        (("FUT", "XX", "CME", "20241220", "XX"), "unknown root"),
        (("STK", "ES", "CME", "20241220", "ES"), "only FUT and FOP"),
        (("FOP", "ES", "CME", "20241220", "ES", None, ""), "strike and right"),
    ],
)
def test_unmappable_contracts_raise_a_typed_error(args: tuple[object, ...], why: str) -> None:
    with pytest.raises(InvalidInstrumentKey) as e:
        from_ib_contract(*args)  # type: ignore[arg-type]
    assert why in e.value.message


@given(
    base=st.sampled_from(sorted(ROOTS)),
    day=st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2099, 12, 31)),
    strike=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(99999), places=2),
    call=st.booleans(),
)
def test_round_trip_of_every_root(base: str, day: object, strike: Decimal, call: bool) -> None:
    fut = InstrumentKey.parse(f"CME:FUTURE:{base}-USD-{day:%y%m%d}@LIN")
    spec = to_ib_contract(fut)
    assert (
        from_ib_contract(
            "FUT", spec.symbol, spec.exchange, spec.last_trade_date_or_contract_month, spec.trading_class
        )
        == fut
    )
    if ROOTS[base].option_trading_class is None:
        return
    text = format(strike.normalize(), "f")
    opt = InstrumentKey.parse(f"CME:OPTION:{base}-USD-{day:%y%m%d}-{text}-{'CALL' if call else 'PUT'}@LIN")
    o = to_ib_contract(opt)
    back = from_ib_contract(
        "FOP", o.symbol, o.exchange, o.last_trade_date_or_contract_month, o.trading_class, o.strike, o.right
    )
    assert back == opt
