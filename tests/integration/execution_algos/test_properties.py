"""Property test in a real BacktestEngine: whatever the book and parameters, no parent over-fills,
every fill is attributed to its parent, and a deep-enough book with a sweep finishes exactly."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm
from nautilus_ext.execution_algos.pov import POVExecAlgorithm
from nautilus_ext.execution_algos.shortfall import ISExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithm

RunAlgo = Callable[..., Any]
MakeOrder = Callable[..., dict[str, Any]]

ALGOS: dict[str, tuple[Any, dict[str, str]]] = {
    "TWAP": (
        TWAPExecAlgorithm,
        {"horizon_secs": "40", "interval_secs": "10", "size_jitter": "0.3", "seed": "3"},
    ),
    "VWAP": (VWAPExecAlgorithm, {"horizon_secs": "60"}),
    "IS": (ISExecAlgorithm, {"horizon_secs": "40", "interval_secs": "10", "urgency": "HIGH"}),
    "POV": (POVExecAlgorithm, {"participation": "0.5", "max_duration_secs": "40", "final_policy": "SWEEP"}),
    "LIMIT_THEN_MARKET": (LimitThenMarketExecAlgorithm, {"timeout_secs": "10"}),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(ALGOS)),
    lots=st.integers(min_value=1, max_value=3_000),
    level=st.sampled_from(["0.010", "0.100", "1.000"]),
    side=st.sampled_from(["BUY", "SELL"]),
    data_secs=st.sampled_from([30, 120]),
)
def test_no_algorithm_overfills_and_sweeps_finish_exactly(
    run_algo: RunAlgo,
    market: Any,
    make_order: MakeOrder,
    name: str,
    lots: int,
    level: str,
    side: str,
    data_secs: int,
) -> None:
    cls, params = ALGOS[name]
    amount = Decimal(lots) / 1000
    order = make_order("p", str(amount), side=side, metadata={"algorithm": name, "algo_params": params})
    run = run_algo([order], market(seconds=data_secs, level_sizes=(level, level, level)), [cls()])
    result = run.result("p")
    kids = run.children("p")
    assert result.filled_quantity <= amount
    assert sum(k.filled_qty.as_decimal() for k in kids) == result.filled_quantity
    assert all(k.quantity.as_decimal() % Decimal("0.001") == 0 for k in kids)
    primary = run.engine.cache.order(kids[0].exec_spawn_id) if kids else None
    assert primary is None or primary.filled_qty.as_decimal() == 0  # the parent itself never trades
    displayed_per_sec = Decimal(level) * 3
    if data_secs == 120 and amount <= displayed_per_sec:
        # every child (and the sweep) fits in one second of displayed depth: done exactly
        assert result.filled_quantity == amount
