"""POV in a real BacktestEngine: participation of printed volume, zero-volume pauses, clips, end."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.pov import POVExecAlgorithm
from nautilus_ext.execution_algos.pov import POVExecAlgorithmConfig

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


SECOND = 1_000_000_000
START_NS = 1_709_251_200_000_000_000


def _secs(order: Any) -> int:
    return int((order.ts_init - START_NS) // SECOND)


def test_medium_urgency_routes_to_pov_and_follows_volume_through_a_quiet_period(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # one 0.010 print a second except during [20, 60): 50% participation of it
    quiet = market(seconds=200, zero_volume=[(20, 60)])
    order = make_order("p1", "0.200", urgency="medium")
    algo = POVExecAlgorithm(POVExecAlgorithmConfig(participation="0.5"))
    run = run_algo([order], quiet, [algo])
    result = run.result("p1")
    assert result.algorithm_requested == "POV"
    assert result.algorithm_used == "POV"
    kids = run.children("p1")
    times = [_secs(k) for k in kids]
    # decisions every 10 s from 12 s; at 22 s the volume of 2..19 s is owed; nothing new until 62 s
    assert times[:2] == [12, 22]
    assert not [t for t in times if 23 <= t < 62]
    # cumulative children never exceed 50% of the volume printed before each decision
    sent = Decimal(0)
    for kid in kids:
        sent += kid.quantity.as_decimal()
        t = _secs(kid)
        printed = Decimal("0.010") * sum(1 for s in range(2, t) if not 20 <= s < 60)
        assert sent <= printed * Decimal("0.5")
    assert result.filled_quantity == Decimal("0.200")
    assert result.status is ExecutionStatus.FILLED
    assert run.report("p1").stop_reason is StopReason.COMPLETED


def test_max_child_clips_and_duration_end_leaves_the_rest(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    meta = {
        "algorithm": "POV",
        "algo_params": {"participation": "1", "max_child": "0.004", "max_duration_secs": "45"},
    }
    order = make_order("p2", "1.000", metadata=meta)
    run = run_algo([order], market(seconds=200), [POVExecAlgorithm()])
    kids = run.children("p2")
    assert kids
    assert all(k.quantity.as_decimal() == Decimal("0.004") for k in kids)
    assert len(kids) == 4  # decisions at 12, 22, 32, 42 s; the 45 s end stops it
    result = run.result("p2")
    assert result.filled_quantity == Decimal("0.016")
    assert result.status is ExecutionStatus.PARTIAL
    assert result.reason.startswith("LEFT_REMAINING")


def test_no_volume_at_all_sends_nothing_and_the_sweep_policy_takes_the_parent(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    silent = market(seconds=100, zero_volume=[(0, 100)])
    meta = {"algorithm": "POV", "algo_params": {"max_duration_secs": "30", "final_policy": "SWEEP"}}
    order = make_order("p3", "0.300", side="SELL", metadata=meta)
    run = run_algo([order], silent, [POVExecAlgorithm()])
    kids = run.children("p3")
    assert len(kids) == 1
    assert _secs(kids[0]) == 32
    assert run.result("p3").filled_quantity == Decimal("0.300")
