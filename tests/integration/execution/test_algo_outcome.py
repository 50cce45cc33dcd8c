"""Algorithm outcomes reach the strategy as typed messages on the bus, not JSON in the cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.execution_algos import AlgoOutcome
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos import outcome_topic
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm

RunAlgo = Callable[..., Any]
MakeOrder = Callable[..., dict[str, Any]]


def _twap(**params: str) -> dict[str, object]:
    return {"algorithm": "TWAP", "algo_params": params}


def test_an_early_stop_arrives_as_a_typed_outcome_and_becomes_the_reason(
    run_algo: RunAlgo, market: Any, make_order: MakeOrder
) -> None:
    order = make_order("bad", "1.000", metadata=_twap(horizon_secs="5", interval_secs="10"))
    run = run_algo([order], market(seconds=30), [TWAPExecAlgorithm()])
    result = run.result("bad")
    outcome = run.strategy.algo_outcome(result.client_order_id)
    assert isinstance(outcome, AlgoOutcome)
    assert outcome.algorithm == "TWAP"
    assert outcome.primary_id == result.client_order_id
    assert outcome.stop_reason is StopReason.INVALID_PARAMS
    assert outcome.filled_quantity == 0
    assert result.reason == outcome.early_stop_reason
    assert result.reason.startswith("INVALID_PARAMS: ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.detail = "changed"  # type: ignore[misc]
    # nothing is left as a JSON string in the cache any more
    assert run.engine.cache.get(f"exec_algo_report:{result.client_order_id}") is None


def test_a_completed_parent_publishes_its_final_numbers(
    run_algo: RunAlgo, market: Any, make_order: MakeOrder
) -> None:
    order = make_order("ok", "1.000", metadata=_twap(horizon_secs="30", interval_secs="10"))
    run = run_algo([order], market(seconds=120), [TWAPExecAlgorithm()])
    result = run.result("ok")
    outcome = run.strategy.algo_outcome(result.client_order_id)
    assert outcome.stop_reason is StopReason.COMPLETED
    assert outcome.early_stop_reason == ""
    assert outcome.filled_quantity == result.filled_quantity == Decimal("1.000")
    assert len(outcome.children) == len(run.children("ok"))
    assert result.reason == ""


def test_the_outcome_topic_names_the_strategy() -> None:
    assert outcome_topic("S-001") == "nautilus_ext.exec_algo.outcome.S-001"
