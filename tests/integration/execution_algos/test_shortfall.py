"""Implementation shortfall (Almgren-Chriss) in a real BacktestEngine: urgency front-loads children."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.shortfall import ISExecAlgorithm

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


def test_high_urgency_front_loads_and_low_urgency_is_near_even(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    meta = {"algorithm": "IS", "algo_params": {"horizon_secs": "300", "interval_secs": "30"}}
    orders = [
        make_order("hi", "1.000", urgency="high", metadata=meta),
        make_order("lo", "1.000", side="SELL", urgency="low", metadata=meta),
    ]
    run = run_algo(orders, market(seconds=400), [ISExecAlgorithm()])
    hi = [k.quantity.as_decimal() for k in run.children("hi")]
    lo = [k.quantity.as_decimal() for k in run.children("lo")]
    assert len(hi) == len(lo) == 10
    assert hi == sorted(hi, reverse=True)
    assert hi[0] > lo[0] > Decimal("0.100") > lo[-1] > hi[-1]
    for op in ("hi", "lo"):
        result = run.result(op)
        assert result.algorithm_used == "IS"
        assert result.filled_quantity == Decimal("1.000")
        assert result.status is ExecutionStatus.FILLED
        assert run.report(op).stop_reason is StopReason.COMPLETED
        assert result.slippage_bps is not None
