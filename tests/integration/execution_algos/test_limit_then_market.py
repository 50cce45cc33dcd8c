"""Limit-then-market in a real BacktestEngine: maker fills, reprice, timeout cross, maker/taker split."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture
Market = Any  # the conftest Market dataclass (fixture ``market``)


def test_urgency_high_routes_here_posts_inside_the_touch_then_crosses(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    # no algorithm named: a HIGH urgency CEX order routes to LIMIT_THEN_MARKET
    order = make_order("l1", "0.100", urgency="high")
    run = run_algo([order], market(seconds=120), [LimitThenMarketExecAlgorithm()])
    result = run.result("l1")
    assert result.algorithm_requested == "LIMIT_THEN_MARKET"
    assert result.algorithm_used == "LIMIT_THEN_MARKET"
    kids = run.children("l1")
    maker = kids[0]
    assert maker.order_type == OrderType.LIMIT
    assert maker.is_post_only
    # book: bid 59999.5 / ask 60000.5, tick 0.1 -> one tick inside the ask
    assert maker.price.as_decimal() == Decimal("60000.4")
    report = run.report("l1")
    # trade prints of 0.010 at the mid every second (sellers every other second) fill the maker
    assert report.maker_quantity > 0
    assert report.maker_quantity + report.taker_quantity == result.filled_quantity
    assert result.filled_quantity == Decimal("0.100")
    assert result.status is ExecutionStatus.FILLED
    makers = {f.liquidity for f in result.fills}
    assert "MAKER" in makers


def test_timeout_cancels_the_maker_and_crosses_with_ioc(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    meta = {"algorithm": "LIMIT_THEN_MARKET", "algo_params": {"timeout_secs": "10"}}
    order = make_order("l2", "1.000", side="SELL", metadata=meta)
    run = run_algo([order], market(seconds=120), [LimitThenMarketExecAlgorithm()])
    result = run.result("l2")
    report = run.report("l2")
    assert result.filled_quantity == Decimal("1.000")
    assert report.stop_reason is StopReason.COMPLETED
    assert Decimal(0) < report.maker_quantity < Decimal("0.100")  # ~5 buyer prints of 0.010 in 10 s
    assert report.taker_quantity == Decimal("1.000") - report.maker_quantity
    cross = run.children("l2")[-1]
    assert cross.order_type == OrderType.MARKET
    assert cross.time_in_force == TimeInForce.IOC
    assert (cross.ts_init - run.children("l2")[0].ts_init) // 1_000_000_000 == 10


def test_reprices_follow_a_moving_touch(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    meta = {
        "algorithm": "LIMIT_THEN_MARKET",
        "algo_params": {"timeout_secs": "30", "reprice_interval_secs": "5", "max_reprices": "3"},
    }
    order = make_order("l3", "0.500", metadata=meta)
    # the market runs away upward: a resting bid is left behind and must chase
    run = run_algo([order], market(seconds=120, drift_per_sec="0.7"), [LimitThenMarketExecAlgorithm()])
    kids = run.children("l3")
    makers = [k for k in kids if k.order_type == OrderType.LIMIT]
    assert len(makers) == 4  # the first post and three reprices, then it waits
    prices = [m.price.as_decimal() for m in makers]
    assert prices == sorted(prices)
    assert len(set(prices)) == 4
    assert run.result("l3").filled_quantity == Decimal("0.500")


def test_cross_is_capped_by_max_slippage(
    run_algo: RunAlgo, market: type[Market], make_order: MakeOrder
) -> None:
    thin = market(seconds=60, level_sizes=("0.050", "0.050", "0.050"))
    meta = {"algorithm": "LIMIT_THEN_MARKET", "algo_params": {"timeout_secs": "5"}}
    order = make_order("l4", "0.300", max_slippage="0.00001", metadata=meta)
    run = run_algo([order], thin, [LimitThenMarketExecAlgorithm()])
    result = run.result("l4")
    report = run.report("l4")
    assert all(f.price <= report.cap_price for f in result.fills)
    assert result.filled_quantity < Decimal("0.300")
    assert report.stop_reason is StopReason.SWEEP_INCOMPLETE
    assert result.reason.startswith("SWEEP_INCOMPLETE")
