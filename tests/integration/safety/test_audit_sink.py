"""Safety events land in the real append-only audit store (hash-chained, verifiable)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from nautilus_trader.common.component import TestClock

from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.events import AuditSink

from .test_executor_gate import _config


def test_commands_decisions_and_safeguards_are_audited(tmp_path: Path) -> None:
    clock = TestClock()
    clock.set_time(1_709_251_200 * 1_000_000_000)
    context = AuditContext(
        mode=Mode.LIVE,
        strategy_id="GLOBAL",
        version_hash="a" * 64,
        config_hash="b" * 64,
        clock=clock,
        wall_clock=clock,
    )
    with AuditStore(AuditStoreConfig(root=str(tmp_path), fsync=False)) as store:
        gate = SafetyGate(_config(Mode.LIVE), clock, sink=AuditSink(store.append, context))
        order = Order(
            operation_id="op-1",
            operation="trade",
            instrument_key="BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN",
            venue="BINANCE-FUTURES",
            side="BUY",
            amount=Decimal("0.1"),
        )
        gate.on_market_data(str(order.instrument_key))
        gate.on_ws_message("BINANCE-FUTURES")
        gate.arm(60, "alice")
        gate.confirm(gate.stage(order).intent_hash, "alice")
        assert gate.check(order).allowed
        gate.kill("alice", None, "drill")
        store.flush()
    assert verify_log(str(tmp_path)).ok
    events = [r.event for r in iter_records(str(tmp_path))]
    kinds = [(e["event_type"], e.get("command") or e.get("action") or e.get("kind")) for e in events]
    assert ("COMMAND", "ARM") in kinds
    assert ("COMMAND", "CONFIRM") in kinds
    assert ("RISK", "ALLOW") in kinds
    assert ("COMMAND", "KILL") in kinds
    assert ("SAFEGUARD", "SAFE_MODE_ENTER") in kinds
    # the ALLOW decision is recorded before the kill: the log tells the order of things
    assert kinds.index(("RISK", "ALLOW")) < kinds.index(("COMMAND", "KILL"))
