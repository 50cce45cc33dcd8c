"""The chokepoint in a real BacktestEngine feeds fills and simulated positions to the gate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.safety import SafetyEvent

from .test_executor_gate import KEY
from .test_executor_gate import _order
from .test_executor_gate import _run


@pytest.mark.slow
def test_fills_mark_dirty_and_simulated_positions_confirm(tmp_path: Path) -> None:
    events: list[SafetyEvent] = []
    orders = [_order("ok", "0.1", 10), _order("ok-2", "0.2", 30), _order("ok-3", "0.3", 50)]
    strategy, _, gate = _run(tmp_path, Mode.BACKTEST, orders, events, chokepoint=True)
    assert all(strategy.results[o].status is ExecutionStatus.FILLED for o in ("ok", "ok-2", "ok-3"))
    assert gate.oms.position(KEY) == Decimal("0.6")
    assert gate.oms.dirty_since(KEY) is None
    kinds = [e.safeguard for e in events if e.safeguard is not None]
    assert kinds.count(SafeguardKind.DIRTY) == 3
    assert kinds.count(SafeguardKind.CLEAN) == 3
    assert gate.safe is None


@pytest.mark.slow
def test_position_limit_uses_the_fed_running_sum(tmp_path: Path) -> None:
    events: list[SafetyEvent] = []
    orders = [_order(f"o{i}", "0.4", 10 + 10 * i) for i in range(3)]
    strategy, _, gate = _run(tmp_path, Mode.BACKTEST, orders, events, chokepoint=True)
    assert strategy.results["o0"].status is ExecutionStatus.FILLED
    assert strategy.results["o1"].status is ExecutionStatus.FILLED
    # 0.8 + 0.4 > max_position 1: blocked by the gate, known only because fills were fed
    assert strategy.results["o2"].status is ExecutionStatus.REJECTED
    assert strategy.results["o2"].reason.startswith("RISK_BLOCKED: ")
    assert "beyond the limit" in strategy.results["o2"].reason
    assert gate.oms.position(KEY) == Decimal("0.8")
