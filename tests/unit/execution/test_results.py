"""Execution results arithmetic, storage rows and the HTML report's summary."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from nautilus_ext.execution.deltas import PositionSpec
from nautilus_ext.execution.deltas import Settlement
from nautilus_ext.execution.deltas import fill_deltas
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.execution.results import to_storage_rows
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.reports import summarise
from nautilus_ext.reports import write_report

D = Decimal
T0 = 1_709_251_200_000_000_000
PERP = "BYBIT:PERPETUAL:BTC-USDT@LIN"
PERP_SPEC = PositionSpec(PERP, InstrumentKey.parse(PERP), "USDT", Settlement.MARGIN)


def _result(op: str, side: str, fills: list[tuple[str, str]], requested: str = "2") -> ExecutionResult:
    r = ExecutionResult(
        operation_id=op,
        instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
        side=side,
        requested_quantity=D(requested),
        ts_decision_ns=T0,
        venue="BYBIT",
        arrival_mid=D("100"),
        expected_deltas={"BYBIT:SPOT_ASSET:BTC": D(requested) if side == "BUY" else -D(requested)},
    )
    for i, (px, qty) in enumerate(fills):
        fee = D(px) * D(qty) * D("0.0005")
        deltas = fill_deltas(
            PERP_SPEC, buy=side == "BUY", quantity=D(qty), price=D(px), fee=fee, fee_currency="USDT"
        )
        r.fills.append(
            FillRecord(T0 + (i + 1) * 1_000_000, D(px), D(qty), fee, "USDT", f"t{i}", "TAKER", deltas)
        )
    r.finalise()
    return r


def test_average_slippage_fees_ratio_and_status() -> None:
    r = _result("a", "BUY", [("100.5", "1"), ("101.5", "1")])
    assert r.status is ExecutionStatus.FILLED
    assert r.avg_fill_price == D("101")
    assert r.slippage_bps == D("100")
    assert r.fees == (D("100.5") + D("101.5")) * D("0.0005")
    assert r.time_to_complete_ms == D("2")
    sell = _result("b", "SELL", [("99", "1")])
    assert sell.status is ExecutionStatus.PARTIAL
    assert sell.fill_ratio == D("0.5")
    assert sell.slippage_bps == D("100")
    # what the fill did on the perpetual, fee in USDT; not the order's expected deltas scaled
    assert sell.actual_deltas == {PERP: D("-1"), "BYBIT:SPOT_ASSET:USDT": -D("99") * D("0.0005")}
    assert sell.expected_deltas == {"BYBIT:SPOT_ASSET:BTC": D("-2")}
    none = _result("c", "BUY", [])
    assert none.status is ExecutionStatus.UNFILLED
    assert none.avg_fill_price is None
    assert none.slippage_bps is None


def test_rejections_stay_rejected() -> None:
    r = _result("r", "BUY", [])
    r.status = ExecutionStatus.REJECTED
    r.finalise()
    assert r.status is ExecutionStatus.REJECTED


def test_storage_rows_carry_fills_and_the_terminal_state() -> None:
    rows = to_storage_rows(_result("p", "SELL", [("99", "1")]), "run-1")
    assert [row.kind for row in rows] == ["FILL", "CANCELLED"]
    assert rows[0].position_deltas == {PERP: D("-1"), "BYBIT:SPOT_ASSET:USDT": -D("99") * D("0.0005")}
    assert rows[0].ts_event.microsecond == 1000
    assert rows[1].run_id == "run-1"
    assert [row.kind for row in to_storage_rows(_result("f", "BUY", [("100", "2")]), "run-1")] == ["FILL"]


def test_summary_and_report(tmp_path: Path) -> None:
    results = [_result("a", "BUY", [("100.5", "1"), ("101.5", "1")]), _result("b", "SELL", [("99", "1")])]
    s = summarise(results)
    assert s["orders"] == 2
    assert s["by_status"]["FILLED"] == 1
    assert s["by_status"]["PARTIAL"] == 1
    assert s["filled_notional"] == D("301")
    # notional-weighted: (100 bps * 202 + 100 bps * 99) / 301
    assert s["notional_weighted_slippage_bps"] == D("100")
    path = write_report(tmp_path / "r.html", title="T", results=results, meta={"run": "x"})
    html = path.read_text(encoding="utf-8")
    assert html.count("<tr>") >= 4
    assert "Fills over price" in html
    assert "BYBIT" in html
