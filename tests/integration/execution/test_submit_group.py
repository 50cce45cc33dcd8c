"""Unified atomic groups through ``submit_group`` to ATOMIC_LEGS, in a real BacktestEngine."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.enums import OrderSide

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupStatus
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithm
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order

RunMulti = Callable[..., Any]
START_NS = 1_709_251_200_000_000_000
SECOND = 1_000_000_000
SPOT = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
HEDGE = "BYBIT:SPOT_PAIR:BTC-USDT"
ETH = "BINANCE-SPOT:SPOT_PAIR:ETH-USDT"
A_ID, B_ID = "BTCUSDT.BINANCE", "BTCUSDT-SPOT.BYBIT"
LOT = Decimal("0.00001")  # the coarser lot of the two legs (Binance spot BTC)


def leg(
    op: str, key: str, side: str, seq: int, amount: str = "0.300", group: str = "g1", **kw: Any
) -> dict[str, Any]:
    return {
        "operation_id": op,
        "operation": "trade",
        "instrument_key": key,
        "venue": key.split(":")[0],
        "side": side,
        "amount": amount,
        "atomic_group_id": group,
        "sequence_in_group": seq,
        **kw,
    }


class GroupsConfig(UnifiedExecutionConfig, frozen=True):
    groups_json: tuple[str, ...] = ()  # each: a JSON list of order dicts
    singles_json: tuple[str, ...] = ()


class GroupsStrategy(UnifiedExecutionStrategy):
    """Submit the configured groups (and single orders) at 2 s."""

    def __init__(self, config: GroupsConfig) -> None:
        super().__init__(config)
        self._groups = [[Order(**o) for o in json.loads(g)] for g in config.groups_json]
        self._singles = [Order(**json.loads(o)) for o in config.singles_json]

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START_NS + 2 * SECOND, self._go)

    def _go(self, event: TimeEvent) -> None:
        for orders in self._groups:
            self.submit_group(AtomicGroup.from_orders(orders))
        for order in self._singles:
            self.submit_unified(order)


def _net(run: Any, iid: str) -> Decimal:
    net = Decimal(0)
    for order in run.engine.cache.orders():
        if str(order.instrument_id) == iid:
            sign = 1 if order.side == OrderSide.BUY else -1
            net += sign * order.filled_qty.as_decimal()
    return net


def _capped(max_qty: str) -> Any:
    from nautilus_trader.model.instruments import CurrencyPair

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    raw = CurrencyPair.to_dict(build_instrument(registry.get(HEDGE), registry))
    raw["max_quantity"] = max_qty
    return CurrencyPair.from_dict(raw)


def _run(
    run_multi_venue: RunMulti,
    market: Any,
    groups: list[list[dict[str, Any]]],
    a: tuple[str, ...] = ("0.500",),
    b: tuple[str, ...] = ("0.500",),
    algorithms: tuple[Any, ...] | None = None,
    singles: tuple[dict[str, Any], ...] = (),
    **kw: Any,
) -> tuple[Any, GroupsStrategy]:
    books = {SPOT: market(seconds=30, level_sizes=a), HEDGE: market(seconds=30, mid="60001.0", level_sizes=b)}
    strategy = GroupsStrategy(
        GroupsConfig(
            instrument_ids=(A_ID, B_ID),
            groups_json=tuple(json.dumps(g) for g in groups),
            singles_json=tuple(json.dumps(o) for o in singles),
        )
    )
    algos = [AtomicLegsExecAlgorithm()] if algorithms is None else list(algorithms)
    run = run_multi_venue([], books, algos, strategy=strategy, **kw)
    return run, strategy


def _rollback_from_report(run: Any, strategy: GroupsStrategy, gid: str) -> Decimal:
    from nautilus_trader.model.identifiers import ClientOrderId

    report = run.algorithms["ATOMIC_LEGS"].report(ClientOrderId(strategy.groups[gid].client_order_id))
    return Decimal(report.detail.rsplit("rollback cost ", 1)[1])


def test_both_legs_fill_and_the_group_is_hedged(run_multi_venue: RunMulti, market: Any) -> None:
    run, strategy = _run(run_multi_venue, market, [[leg("a", SPOT, "BUY", 0), leg("b", HEDGE, "SELL", 1)]])
    group = strategy.groups["g1"]
    assert group.status is GroupStatus.HEDGED
    assert group.algo_stop_reason == "COMPLETED"
    assert group.rollback_cost == 0
    assert group.neutralisation_fills == []
    a, b = strategy.results["a"], strategy.results["b"]
    assert (a.status, b.status) == (ExecutionStatus.FILLED, ExecutionStatus.FILLED)
    assert a.avg_fill_price == Decimal("60000.5")  # bought the Binance ask
    assert b.avg_fill_price == Decimal("60000.5")  # sold the Bybit bid
    assert (a.venue, b.venue) == ("BINANCE-SPOT", "BYBIT")
    assert a.arrival_mid == Decimal("60000.0")
    assert b.arrival_mid == Decimal("60001.0")
    assert a.algorithm_used == b.algorithm_used == "ATOMIC_LEGS"
    assert _net(run, A_ID) == Decimal("0.300")
    assert _net(run, B_ID) == Decimal("-0.300")
    assert group.net_exposure == 0


def test_a_rejected_hedge_leg_is_neutralised_to_zero_exposure(run_multi_venue: RunMulti, market: Any) -> None:
    # the hedge instrument refuses more than 0.1: leg B is denied, leg A is sold back
    run, strategy = _run(
        run_multi_venue,
        market,
        [[leg("a", SPOT, "BUY", 0), leg("b", HEDGE, "SELL", 1)]],
        instruments={HEDGE: _capped("0.100")},
    )
    group = strategy.groups["g1"]
    assert group.status is GroupStatus.NEUTRALISED
    assert group.algo_stop_reason == "ROLLED_BACK"
    net_a, net_b = _net(run, A_ID), _net(run, B_ID)
    assert abs(net_a + net_b) < LOT
    assert net_a == 0
    assert group.net == {"a": Decimal(0), "b": Decimal(0)}
    a, b = strategy.results["a"], strategy.results["b"]
    assert a.filled_quantity == Decimal("0.300")
    assert a.unwound_quantity == Decimal("0.300")
    assert a.net_filled_quantity == 0
    # sold back: no BTC is left on Binance, and the round trip cost USDT (prices and fees)
    (back,) = group.neutralisation_fills
    assert {f.fee_currency for f in a.fills} == {back.fee_currency} == {"USDT"}
    bought = sum((f.price * f.quantity + f.fee for f in a.fills), Decimal(0))
    round_trip = back.price * back.quantity - back.fee - bought
    assert a.actual_deltas == {"BINANCE-SPOT:SPOT_ASSET:USDT": round_trip}
    assert round_trip < 0
    assert b.status is ExecutionStatus.REJECTED
    assert "NEUTRALISED" in b.reason
    assert [f.side for f in group.neutralisation_fills] == ["SELL"]
    # the executor's own rollback cost is the algorithm's, to its 6 reported places
    assert group.rollback_cost > 0
    assert group.rollback_cost.quantize(Decimal("0.000001")) == _rollback_from_report(run, strategy, "g1")


def test_a_partly_filled_leg_is_neutralised(run_multi_venue: RunMulti, market: Any) -> None:
    # Bybit shows 0.1 on the bid: leg B sells 0.1 of 0.3, 0.2 of leg A is sold back
    run, strategy = _run(
        run_multi_venue,
        market,
        [[leg("a", SPOT, "BUY", 0, metadata={"depth_check": "false"}), leg("b", HEDGE, "SELL", 1)]],
        b=("0.100",),
    )
    group = strategy.groups["g1"]
    assert group.status is GroupStatus.NEUTRALISED
    net_a, net_b = _net(run, A_ID), _net(run, B_ID)
    assert net_a == Decimal("0.100")
    assert net_b == Decimal("-0.100")
    assert abs(group.net_exposure) < LOT
    assert group.net == {"a": Decimal("0.100"), "b": Decimal("0.100")}
    assert strategy.results["b"].status is ExecutionStatus.PARTIAL
    assert strategy.results["a"].unwound_quantity == Decimal("0.200")
    assert group.rollback_cost.quantize(Decimal("0.000001")) == _rollback_from_report(run, strategy, "g1")


def test_complete_hedge_policy_from_leg_metadata(run_multi_venue: RunMulti, market: Any) -> None:
    run, strategy = _run(
        run_multi_venue,
        market,
        [
            [
                leg(
                    "a",
                    SPOT,
                    "BUY",
                    0,
                    metadata={"depth_check": False, "neutralise_policy": "complete_hedge"},
                ),
                leg("b", HEDGE, "SELL", 1),
            ]
        ],
        b=("0.100",),
    )
    group = strategy.groups["g1"]
    assert group.neutralise_policy == "COMPLETE_HEDGE"
    assert abs(_net(run, A_ID) + _net(run, B_ID)) < LOT
    # the top-ups sold more of leg B: they are leg B's own fills and neutralising fills both
    assert any(f.along for f in group.neutralisation_fills)
    assert strategy.results["b"].filled_quantity > Decimal("0.100")


def test_bad_groups_are_refused_whole_and_nothing_is_sent(run_multi_venue: RunMulti, market: Any) -> None:
    groups = [
        [leg("s1", SPOT, "BUY", 0, group="same-side"), leg("s2", HEDGE, "BUY", 1, group="same-side")],
        [leg("m1", SPOT, "BUY", 0, group="amounts"), leg("m2", HEDGE, "SELL", 1, "0.200", group="amounts")],
        [
            leg("t1", SPOT, "BUY", 0, group="three"),
            leg("t2", HEDGE, "SELL", 1, group="three"),
            leg("t3", HEDGE, "SELL", 2, group="three"),
        ],
        [
            leg("l1", SPOT, "BUY", 0, price="60000.0", group="limit"),
            leg("l2", HEDGE, "SELL", 1, group="limit"),
        ],
        [leg("e1", SPOT, "BUY", 0, group="eth"), leg("e2", ETH, "SELL", 1, group="eth")],
        [
            leg("x1", SPOT, "BUY", 0, "0.000005", group="lot"),
            leg("x2", HEDGE, "SELL", 1, "0.000005", group="lot"),
        ],
        [
            leg("p1", SPOT, "BUY", 0, group="policy", metadata={"neutralise_policy": "HOPE"}),
            leg("p2", HEDGE, "SELL", 1, group="policy"),
        ],
        [leg("d1", SPOT, "BUY", 0, group="dup"), leg("d2", HEDGE, "SELL", 1, group="dup")],
        [leg("d3", SPOT, "BUY", 0, group="dup"), leg("d4", HEDGE, "SELL", 1, group="dup")],
    ]
    single = leg("lone", SPOT, "BUY", 0, group="lone")
    run, strategy = _run(
        run_multi_venue,
        market,
        groups,
        # no ATOMIC_LEGS in this node: even the well-formed "dup" group cannot run atomically
        algorithms=(),
        singles=(single,),
    )
    assert run.engine.cache.orders() == []  # nothing half-submitted
    expect = {
        "same-side": ("INVALID_ORDER", "both BUY"),
        "amounts": ("INVALID_ORDER", "amounts differ"),
        "three": ("INVALID_ORDER", "exactly two legs"),
        "limit": ("INVALID_ORDER", "limit price"),
        "eth": ("NO_ROUTE", "no candidate instrument is loaded"),
        "lot": ("INVALID_ORDER", "lot size"),
        "policy": ("INVALID_ORDER", "neutralise_policy"),
        "dup": ("NO_ROUTE", "ATOMIC_LEGS is not registered"),
    }
    for gid, (code, text) in expect.items():
        group = strategy.groups[gid]
        assert group.status is GroupStatus.REJECTED, gid
        assert group.reason.startswith(code), group.reason
        assert text in group.reason, group.reason
        for op in group.legs:
            assert strategy.results[op].status is ExecutionStatus.REJECTED
            assert strategy.results[op].reason == group.reason
    dups = [k for k in strategy.groups if k.startswith("dup#dup@")]
    assert len(dups) == 1
    assert "duplicate atomic_group_id" in strategy.groups[dups[0]].reason
    lone = strategy.results["lone"]
    assert lone.status is ExecutionStatus.REJECTED
    assert "submit_group" in lone.reason


def test_base_assets_must_match(run_multi_venue: RunMulti, market: Any) -> None:
    books = {
        HEDGE: market(seconds=10, level_sizes=("0.500",)),
        ETH: market(seconds=10, mid="3000.0", level_sizes=("5.000",)),
    }
    strategy = GroupsStrategy(
        GroupsConfig(
            instrument_ids=(B_ID,),
            groups_json=(json.dumps([leg("a", HEDGE, "BUY", 0), leg("b", ETH, "SELL", 1)]),),
        )
    )
    run = run_multi_venue([], books, [AtomicLegsExecAlgorithm()], strategy=strategy)
    group = strategy.groups["g1"]
    assert group.status is GroupStatus.REJECTED
    assert "different base assets" in group.reason
    assert run.engine.cache.orders() == []


@pytest.mark.parametrize("bad", [{"depth_check": "maybe"}, {"depth_check": 1}])
def test_depth_check_option_is_validated(bad: dict[str, Any]) -> None:
    from nautilus_ext.errors import InvalidOrder
    from nautilus_ext.execution.atomic_groups import group_options

    with pytest.raises(InvalidOrder, match="depth_check"):
        group_options(Order(**leg("a", SPOT, "BUY", 0, metadata=bad)))


def test_max_slippage_makes_both_legs_ioc_limits_that_never_walk_past_the_bound(
    run_multi_venue: RunMulti, market: Any
) -> None:
    # leg A's asks: 0.1 at 60000.5, 0.5 at 60001.0; a 0.1 bp bound caps the buy at 60000.60, so
    # only 0.1 fills; leg B sells all 0.3 inside its bound and 0.2 of it is bought back (market)
    run, strategy = _run(
        run_multi_venue,
        market,
        [[leg("a", SPOT, "BUY", 0, metadata={"max_slippage": "0.00001"}), leg("b", HEDGE, "SELL", 1)]],
        a=("0.100", "0.500"),
    )
    group = strategy.groups["g1"]
    a, b = strategy.results["a"], strategy.results["b"]
    assert (a.order_type, b.order_type) == ("LIMIT", "LIMIT")
    legs = {
        o.client_order_id.value[-2:]: o
        for o in run.engine.cache.orders()
        if o.exec_spawn_id is not None and o.client_order_id != o.exec_spawn_id
    }
    assert legs["A1"].order_type.name == "LIMIT"
    assert legs["A1"].time_in_force.name == "IOC"
    assert legs["A1"].price.as_decimal() == Decimal("60000.60")
    assert legs["B2"].price.as_decimal() == Decimal("60000.40")
    assert legs["B3"].order_type.name == "MARKET"  # neutralising: must not stall on a bound
    assert all(f.price <= Decimal("60000.60") for f in a.fills)
    assert a.filled_quantity == Decimal("0.100")
    assert group.status is GroupStatus.NEUTRALISED
    assert group.net == {"a": Decimal("0.100"), "b": Decimal("0.100")}
    assert _net(run, A_ID) + _net(run, B_ID) == 0


@pytest.mark.parametrize("bad", ["-0.001", "lots", 0.001, True])
def test_a_bad_max_slippage_refuses_the_group(run_multi_venue: RunMulti, market: Any, bad: Any) -> None:
    run, strategy = _run(
        run_multi_venue,
        market,
        [[leg("a", SPOT, "BUY", 0, metadata={"max_slippage": bad}), leg("b", HEDGE, "SELL", 1)]],
    )
    group = strategy.groups["g1"]
    assert group.status is GroupStatus.REJECTED
    assert "max_slippage" in group.reason
    assert list(run.engine.cache.orders()) == []
