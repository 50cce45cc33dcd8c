"""Report numbers a person can read, and PnL in one currency with every balance marked."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.reports import display
from nautilus_ext.reports.display import InstrumentDisplay
from nautilus_ext.reports.marking import pnl_curve

D = Decimal
SPOT = InstrumentDisplay(price_precision=2, size_precision=5, base="BTC", quote="USDT")
T0 = 1_709_251_200_000_000_000
SEC = 1_000_000_000


def test_numbers_are_rounded_for_reading() -> None:
    assert display.price(D("59589.60653333333333333333"), SPOT, derived=True) == "59589.607"
    assert display.price(D("59589.6"), SPOT) == "59589.60"
    assert display.quantity(D("2.73"), SPOT) == "2.73000"
    assert display.ratio(D("0.999982758917949690")) == "1.000"
    assert display.ratio(D("0.6565217391304347826086956522")) == "0.6565"
    assert display.ratio(D(1)) == "1"
    assert display.money(D("90.09424875000"), "USDT") == "90.09424875"
    assert display.money(D("12.3400"), "USD") == "12.34"
    for missing in (None, float("nan"), pd.NA, pd.NaT, "nan", D("NaN")):
        assert display.cell(missing) == ""
        assert display.price(missing, SPOT) == ""


def _account(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    index = pd.to_datetime([ts for ts, _, _ in rows], utc=True)
    return pd.DataFrame({"total": [t for _, _, t in rows], "currency": [c for _, c, _ in rows]}, index=index)


def test_balances_in_two_currencies_are_one_pnl_in_the_quote_currency() -> None:
    # 1M USDT and 10 BTC; buy 1 BTC at 60000 (fee 6 USDT), BTC then marks at 61000
    account = _account(
        [
            (T0, "USDT", "1000000"),
            (T0, "BTC", "10"),
            (T0 + 10 * SEC, "USDT", "939994"),
            (T0 + 10 * SEC, "BTC", "11"),
        ]
    )
    result = ExecutionResult(
        operation_id="buy",
        instrument_key="BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
        side="BUY",
        requested_quantity=D(1),
        ts_decision_ns=T0 + 5 * SEC,
    )
    result.nautilus_instrument_id = "BTCUSDT.BINANCE"
    result.arrival_mid = D(60000)
    result.end_mid = D(61000)
    result.fills.append(
        FillRecord(
            ts_ns=T0 + 10 * SEC,
            price=D(60000),
            quantity=D(1),
            fee=D(6),
            fee_currency="USDT",
            liquidity="TAKER",
            trade_id="t-1",
        )
    )
    curve = pnl_curve({"BINANCE": account}, [result], {"BTCUSDT.BINANCE": SPOT})
    assert curve.currency == "USDT"
    assert curve.unmarked == []
    assert curve.total[0] == 0
    # the end: 11 BTC at 61000 + 939994 USDT - (10 BTC at 60000 + 1M USDT) = 11000 - 6
    assert curve.total[-1] == D(10_994)
    assert curve.by_venue["BINANCE"][-1] == D(10_994)


def test_a_currency_never_priced_is_listed_unmarked_not_valued_at_zero() -> None:
    account = _account([(T0, "USDT", "1000"), (T0, "ETH", "5"), (T0 + SEC, "USDT", "900")])
    curve = pnl_curve({"X": account}, [], {"BTCUSDT.X": SPOT})
    assert curve.unmarked == ["ETH"]
    assert curve.total == [D(0), D(-100)]
