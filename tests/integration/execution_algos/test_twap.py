"""TWAP in a real BacktestEngine: schedule, catch-up, slippage guard, final policy, exact totals."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithmConfig

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


SECOND = 1_000_000_000


def _twap(**params: str) -> dict[str, object]:
    return {"algorithm": "TWAP", "algo_params": params}


def test_twap_splits_evenly_and_fills_exactly_the_parent(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    order = make_order("t1", "1.000", metadata=_twap(horizon_secs="60", interval_secs="10"))
    run = run_algo([order], market(seconds=120), [TWAPExecAlgorithm()])
    result = run.result("t1")
    assert result.algorithm_used == "TWAP"
    assert result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == Decimal("1.000")
    kids = run.children("t1")
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.167")] * 4 + [Decimal("0.166")] * 2
    gaps = {(b.ts_init - a.ts_init) // SECOND for a, b in itertools.pairwise(kids)}
    assert gaps == {10}
    assert sum(f.quantity for f in result.fills) == Decimal("1.000")
    report = run.report("t1")
    assert report.stop_reason is StopReason.COMPLETED
    assert report.taker_quantity == Decimal("1.000")


def test_twap_never_overfills_when_children_are_partially_filled_and_catches_up(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # a thin book (0.05 at each of 3 levels): children walk it and the IOC remainder is cancelled
    thin = market(seconds=120, level_sizes=("0.050", "0.050", "0.050"))
    order = make_order("t2", "0.600", metadata=_twap(horizon_secs="40", interval_secs="10"))
    run = run_algo([order], thin, [TWAPExecAlgorithm()])
    result = run.result("t2")
    kids = run.children("t2")
    assert kids[0].quantity.as_decimal() == Decimal("0.150")
    assert result.filled_quantity <= Decimal("0.600")
    # every child was fully matched against the 0.15 displayed, so the schedule is followed
    assert result.filled_quantity == Decimal("0.600")
    assert result.status is ExecutionStatus.FILLED


def test_twap_partial_child_is_caught_up_by_later_slices(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    thin = market(seconds=120, level_sizes=("0.050", "0.050"))  # 0.1 displayed per second
    order = make_order(
        "t3", "0.400", metadata=_twap(horizon_secs="20", interval_secs="10", final_policy="LEAVE")
    )
    run = run_algo([order], thin, [TWAPExecAlgorithm()])
    result = run.result("t3")
    kids = run.children("t3")
    # two slices of 0.2, each only 0.1 fillable: the second slice asks for its own 0.2 plus 0.1 behind
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.200"), Decimal("0.300")]
    assert result.filled_quantity == Decimal("0.200")
    assert result.status is ExecutionStatus.PARTIAL
    assert result.reason.startswith("LEFT_REMAINING")
    assert run.report("t3").stop_reason is StopReason.LEFT_REMAINING


def test_twap_final_sweep_takes_the_remainder(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    thin = market(seconds=120, level_sizes=("0.050", "0.050"))
    order = make_order("t4", "0.400", metadata=_twap(horizon_secs="20", interval_secs="10"))
    run = run_algo([order], thin, [TWAPExecAlgorithm()])
    kids = run.children("t4")
    assert [k.quantity.as_decimal() for k in kids] == [Decimal("0.200"), Decimal("0.300"), Decimal("0.200")]
    result = run.result("t4")
    assert result.filled_quantity == Decimal("0.300")
    assert result.reason.startswith("SWEEP_INCOMPLETE")


def test_max_slippage_caps_every_fill_and_stops_with_a_reason(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # the market runs away at 1.0 per second: 5 bps from 60000 is 30.0, reached after ~30 s
    running = market(seconds=200, drift_per_sec="1.0")
    meta = _twap(horizon_secs="100", interval_secs="10", slippage_action="STOP")
    order = make_order("t5", "1.000", max_slippage="0.0005", metadata=meta)
    run = run_algo([order], running, [TWAPExecAlgorithm()])
    result = run.result("t5")
    cap = result.arrival_mid * (1 + Decimal("0.0005"))
    assert result.fills
    assert all(f.price <= cap for f in result.fills)
    assert Decimal(0) < result.filled_quantity < Decimal("1.000")
    assert result.reason.startswith("MAX_SLIPPAGE")
    report = run.report("t5")
    assert report.stop_reason is StopReason.MAX_SLIPPAGE
    assert report.cap_price is not None
    assert report.cap_price <= cap


def test_max_slippage_pause_skips_children_while_the_touch_is_beyond_the_cap(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    running = market(seconds=200, drift_per_sec="1.0")
    meta = _twap(horizon_secs="100", interval_secs="10", final_policy="LEAVE")
    order = make_order("t6", "1.000", max_slippage="0.0005", metadata=meta)
    run = run_algo([order], running, [TWAPExecAlgorithm(TWAPExecAlgorithmConfig(slippage_action="PAUSE"))])
    result = run.result("t6")
    report = run.report("t6")
    assert report.paused_children > 0
    assert all(f.price <= report.cap_price for f in result.fills)
    assert report.stop_reason is StopReason.LEFT_REMAINING


def test_end_of_data_before_the_horizon_is_reported(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    order = make_order("t7", "1.000", metadata=_twap(horizon_secs="600", interval_secs="10"))
    run = run_algo([order], market(seconds=35), [TWAPExecAlgorithm()])
    result = run.result("t7")
    assert Decimal(0) < result.filled_quantity < Decimal("1.000")
    assert run.report("t7").stop_reason is StopReason.END_OF_DATA
    assert result.status is ExecutionStatus.PARTIAL


def test_bad_parameters_stop_the_parent_without_trading(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    order = make_order("t8", "1.000", metadata=_twap(horizon_secs="5", interval_secs="10"))
    run = run_algo([order], market(seconds=30), [TWAPExecAlgorithm()])
    result = run.result("t8")
    assert result.filled_quantity == 0
    assert result.reason.startswith("INVALID_PARAMS")
    assert run.children("t8") == []


def test_the_cap_holds_inside_a_child_that_would_walk_the_book(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # levels at +0.5, +1.0, +1.5 from mid; 0.1 bps over 60000 is 0.6: only the first level is allowed
    thin = market(seconds=60, level_sizes=("0.050", "0.050", "0.050"))
    meta = _twap(horizon_secs="10", interval_secs="10", final_policy="LEAVE")
    order = make_order("t9", "0.150", max_slippage="0.00001", metadata=meta)
    run = run_algo([order], thin, [TWAPExecAlgorithm()])
    result = run.result("t9")
    assert result.filled_quantity == Decimal("0.050")
    assert {f.price for f in result.fills} == {result.arrival_mid + Decimal("0.5")}


def test_children_denied_by_the_risk_engine_stop_the_parent_with_a_reason(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # an instrument whose maximum order size is 0.1: the risk engine denies every 0.167 child
    from nautilus_trader.model.instruments import CryptoPerpetual

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    raw = CryptoPerpetual.to_dict(
        build_instrument(registry.get("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"), registry)
    )
    raw["max_quantity"] = "0.100"
    capped = CryptoPerpetual.from_dict(raw)
    order = make_order("t10", "1.000", metadata=_twap(horizon_secs="60", interval_secs="10"))
    run = run_algo([order], market(seconds=120), [TWAPExecAlgorithm()], instrument=capped)
    result = run.result("t10")
    assert result.filled_quantity == 0
    assert len(run.children("t10")) == 3  # max_child_rejects
    assert result.reason.startswith("CHILD_REJECTED")
    assert result.status is ExecutionStatus.UNFILLED


def test_without_the_algorithm_in_the_node_the_order_executes_directly_and_says_so(
    run_algo: RunAlgo, market: Market, make_order: MakeOrder
) -> None:
    order = make_order("t11", "0.100", metadata=_twap(horizon_secs="60", interval_secs="10"))
    run = run_algo([order], market(seconds=30), [])
    result = run.result("t11")
    assert result.algorithm_requested == "TWAP"
    assert result.algorithm_used == "DIRECT"
    assert result.filled_quantity == Decimal("0.100")
    assert run.children("t11") == []
