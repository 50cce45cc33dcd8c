"""Backtests run through the live node's safety gate and chokepoint; the report shows the denials."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from nautilus_trader.common.component import TestClock

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.orders import Order
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate

from .conftest import START

REPO = Path(__file__).resolve().parents[3]
BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
LIVE_LIMITS = REPO / "configs" / "safety" / "default.yaml"


def _order(op: str, amount: str, secs: int) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=BIN,
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=amount,
        created_at=START + timedelta(seconds=secs),
    )


def _spec(catalog: Path, tmp_path: Path, orders: list[Order], **kw: object) -> BacktestSpec:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    return BacktestSpec.model_validate(
        {
            "run_id": "gated",
            "kind": "orders",
            "catalog": str(catalog),
            "start": START,
            "end": START + timedelta(minutes=2),
            "instruments": [BIN],
            "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
            "orders": str(path),
            "output_dir": str(tmp_path / "out"),
            **kw,
        }
    )


def test_the_live_gate_denies_the_order_for_max_trade_size() -> None:
    # the reference: with the shipped live limits (max_trade_size 0.5), a LIVE gate refuses 2 BTC
    raw = yaml.safe_load(LIVE_LIMITS.read_text())
    gate = SafetyGate(SafetyConfig.parse({**raw, "mode": "LIVE"}), TestClock())
    gate.on_market_data(BIN)
    gate.on_ws_message("BINANCE-FUTURES")
    decision = gate.check(_order("big", "2.000", 30), GateContext(venue="BINANCE-FUTURES"))
    assert decision.error is not None
    assert (str(decision.error.code), decision.details["rule"]) == ("RISK_BLOCKED", "max_trade_size")


@pytest.mark.slow
def test_a_backtest_under_live_limits_denies_the_same_order_and_the_report_says_so(
    small_catalog: Path, tmp_path: Path
) -> None:
    orders = [_order("big", "2.000", 30), _order("small", "0.100", 60)]
    spec = _spec(small_catalog, tmp_path, orders, safety={"config_path": str(LIVE_LIMITS)})
    outcome, report = run_and_report(spec)
    res = {r.operation_id: r for r in outcome.results}
    assert res["big"].status is ExecutionStatus.REJECTED
    assert res["big"].reason is not None
    assert res["big"].reason.startswith("RISK_BLOCKED")
    assert res["big"].filled_quantity == 0
    assert res["small"].filled_quantity == res["small"].requested_quantity
    assert outcome.gate is not None
    assert outcome.gate.allowed == 1
    assert dict(outcome.gate.denials) == {("RISK_BLOCKED", "max_trade_size"): 1}

    html_text = report.read_text(encoding="utf-8")
    table = html_text.split("id='safety-gate'", 1)[1].split("</table>", 1)[0]
    row = table.split("<td>RISK_BLOCKED</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>max_trade_size</td>" in row
    assert "<td>1</td>" in row


@pytest.mark.slow
def test_without_a_safety_section_the_documented_default_applies(small_catalog: Path, tmp_path: Path) -> None:
    outcome, report = run_and_report(_spec(small_catalog, tmp_path, [_order("big", "2.000", 30)]))
    assert outcome.results[0].filled_quantity == 2
    assert outcome.gate is not None
    assert (outcome.gate.allowed, outcome.gate.denied) == (1, 0)
    assert outcome.gate.source.endswith("configs/safety/backtest_default.yaml")
    assert "backtest_default.yaml" in report.read_text(encoding="utf-8")


def test_a_safety_file_for_another_mode_or_with_bad_limits_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(LIVE_LIMITS.read_text())
    live = tmp_path / "live.yaml"
    live.write_text(yaml.safe_dump({**raw, "mode": "LIVE"}))
    spec = _spec(tmp_path, tmp_path, [], safety={"config_path": str(live)})
    with pytest.raises(InvalidConfig, match="not a backtest mode"):
        spec.safety_section().load(spec.mode)
    bad = {**raw, "risk": {**raw["risk"], "max_trade_size": "-1"}}
    spec = _spec(tmp_path, tmp_path, [], safety={"config": bad})
    with pytest.raises(InvalidConfig, match="max_trade_size"):
        spec.safety_section().load(spec.mode)
    with pytest.raises(InvalidConfig, match="exactly one"):
        BacktestSpec.from_yaml(_yaml_with(tmp_path, {"safety": {}}))


def _yaml_with(tmp_path: Path, extra: dict[str, object]) -> Path:
    raw = yaml.safe_load((REPO / "configs/backtests/demo_strategy.yaml").read_text())
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**raw, **extra}))
    return path
