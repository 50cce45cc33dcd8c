"""What two-legged strategies record for the carry report: fills of an ended group, leg by leg."""

from __future__ import annotations

import uuid
from decimal import Decimal

from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.execution.results import NeutralisationFill
from nautilus_ext.strategies.position_records import LegInfo
from nautilus_ext.strategies.position_records import group_fills

D = Decimal
LONG_KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
SHORT_KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _result(op: str, key: str, side: str, fills: list[tuple[str, str, str]]) -> ExecutionResult:
    return ExecutionResult(
        operation_id=op,
        instrument_key=key,
        side=side,
        requested_quantity=D("0.5"),
        ts_decision_ns=1_000,
        venue=key.split(":", 1)[0],
        arrival_mid=D("60000.0"),
        quote_currency="USDT",
        fills=[
            FillRecord(
                ts_ns=2_000 + n,
                price=D(p),
                quantity=D(q),
                fee=D(fee),
                fee_currency="USDT",
                trade_id=f"{op}-T{n}",
                liquidity="TAKER",
                venue=key.split(":", 1)[0],
            )
            for n, (q, p, fee) in enumerate(fills)
        ],
    )


def _neutralising(op: str, side: str, along: bool, trade: str) -> NeutralisationFill:
    return NeutralisationFill(
        operation_id=op,
        side=side,
        ts_ns=5_000,
        price=D("59990.0"),
        quantity=D("0.1"),
        fee=D("0.3"),
        fee_currency="USDT",
        trade_id=trade,
        along=along,
    )


def test_group_fills_label_legs_and_keep_only_the_neutralising_trades_that_traded_back() -> None:
    pid = uuid.uuid4()
    results = {
        "g-0": _result("g-0", LONG_KEY, "BUY", [("0.3", "60001.0", "0.9"), ("0.2", "60002.0", "0.6")]),
        "g-1": _result("g-1", SHORT_KEY, "SELL", [("0.4", "59999.0", "1.2")]),
    }
    group = GroupExecutionResult(
        group_id="g",
        legs=("g-0", "g-1"),
        ts_decision_ns=1_000,
        neutralisation_fills=[
            _neutralising("g-0", "SELL", along=False, trade="N1"),  # traded the long leg back
            _neutralising("g-1", "SELL", along=True, trade="N2"),  # a top-up: already a leg fill
        ],
    )
    legs = {"g-0": LegInfo("LONG"), "g-1": LegInfo("SHORT", D("2"))}
    rows = group_fills(pid, group, results, legs, "ENTRY")
    summary = [(r.leg, r.intent, r.side, r.quantity, r.trade_id, r.multiplier, r.venue) for r in rows]
    assert summary == [
        ("LONG", "ENTRY", "BUY", D("0.3"), "g-0-T0", D(1), "BINANCE-FUTURES"),
        ("LONG", "ENTRY", "BUY", D("0.2"), "g-0-T1", D(1), "BINANCE-FUTURES"),
        ("SHORT", "ENTRY", "SELL", D("0.4"), "g-1-T0", D(2), "BYBIT"),
        ("LONG", "NEUTRALISE", "SELL", D("0.1"), "N1", D(1), "BINANCE-FUTURES"),
    ]
    assert {r.reference_price for r in rows} == {D("60000.0")}
    assert {(r.position_id, r.group_id, r.quote_currency) for r in rows} == {(pid, "g", "USDT")}
    # a leg the caller does not map (another position's) is not recorded
    assert group_fills(pid, group, results, {"g-1": LegInfo("SHORT")}, "EXIT")[0].leg == "SHORT"
    assert len(group_fills(pid, group, results, {"g-1": LegInfo("SHORT")}, "EXIT")) == 1
