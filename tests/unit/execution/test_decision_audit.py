"""DECISION events: every audited intent links to why it was emitted and what was looked at."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit import iter_records
from nautilus_ext.audit.lineage import show
from nautilus_ext.execution.audit_hook import ExecutionAuditor
from nautilus_ext.orders import Order

HASH = "ab" * 32


def _auditor(root: Path) -> ExecutionAuditor:
    clock = TestClock()
    clock.set_time(1_700_000_000_000_000_000)
    return ExecutionAuditor(
        str(root),
        mode="BACKTEST",
        strategy_id="S-1",
        version_hash=HASH,
        config_hash=HASH,
        clock=clock,
        fsync=False,
    )


def _order(op: str, **extra: object) -> Order:
    fields: dict[str, object] = {
        "operation_id": op,
        "operation": "trade",
        "instrument_key": "BYBIT:PERPETUAL:BTC-USDT@LIN",
        "venue": "BYBIT",
        "side": "BUY",
        "amount": Decimal("0.010"),
        "strategy_id": "S-1",
    }
    fields.update(extra)
    return Order(**fields)  # type: ignore[arg-type]


def test_decision_is_content_addressed_and_linked_from_its_intent(tmp_path: Path) -> None:
    auditor = _auditor(tmp_path)
    inputs = {"price": Decimal("50001.1"), "mean": Decimal("50000.0333"), "trade_id": "T-9"}
    first = auditor.decision(_order("op-1", strategy_intent="mean_revert"), "above the mean", inputs)
    auditor.intent(_order("op-1", strategy_intent="mean_revert"), first)
    same = auditor.decision(_order("op-2"), None, dict(reversed(list(inputs.items()))))
    other = auditor.decision(_order("op-3"), None, {**inputs, "price": Decimal("50001.2")})
    bare = auditor.decision(_order("op-4"))
    auditor.close()

    events = {r.event["id"]: r.event for r in iter_records(str(tmp_path))}
    canonical = '{"mean":50000.0333,"price":50001.1,"trade_id":"T-9"}'
    expected_ref = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert first == "decision:op-1"
    d1 = events["decision:op-1"]
    assert (d1["rationale"], d1["inputs_ref"], d1["tags"]) == (
        "above the mean",
        expected_ref,
        ["mean_revert", "trade"],
    )
    assert d1["details"] == {"price": "50001.1", "mean": "50000.0333", "trade_id": "T-9"}
    assert events["decision:op-2"]["inputs_ref"] == expected_ref  # key order does not matter
    assert events["decision:op-3"]["inputs_ref"] != expected_ref
    assert events["decision:op-2"]["rationale"] == "trade"  # no rationale, no strategy_intent
    assert (same, other, bare) == ("decision:op-2", "decision:op-3", "decision:op-4")
    assert events["decision:op-4"]["inputs_ref"] is None
    assert events["intent:op-1"]["decision_id"] == "decision:op-1"
    traced = show("intent:op-1", str(tmp_path))
    assert traced is not None
    assert traced.decision is not None
    assert traced.decision.rationale == "above the mean"


def test_a_float_input_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    auditor = _auditor(tmp_path)
    with pytest.raises(ValueError, match="floats are not accepted"):
        auditor.decision(_order("op-1"), "x", {"price": 50001.1})  # type: ignore[dict-item]
    auditor.close()
    assert list(iter_records(str(tmp_path))) == []


def test_protocol_operations_have_no_trade_decision(tmp_path: Path) -> None:
    auditor = _auditor(tmp_path)
    supply = Order(
        operation_id="op-s",
        operation="supply",
        instrument_key="AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM",
        side="SUPPLY",
        amount=Decimal("100"),
    )
    assert auditor.decision(supply, "park cash") is None
    auditor.close()
    assert list(iter_records(str(tmp_path))) == []
