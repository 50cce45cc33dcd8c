"""
TPSL in a real ``BacktestEngine``: entry, take-profit ladder, (trailing) stop, resizing behind the
position, end of data; synthetic price paths where the real Tardis rows are too short to move.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.tpsl import TPSLExecAlgorithm
from nautilus_ext.execution_algos.tpsl_plan import trail_trigger

RunAlgo = Callable[..., Any]  # the run_algo fixture (conftest.run_orders)
MakeOrder = Callable[..., dict[str, Any]]  # the make_order fixture

START_NS = 1_709_251_200_000_000_000  # conftest.START_NS
SECOND = 1_000_000_000
HALF_SPREAD = Decimal("0.5")


def mids(*points: tuple[int, str]) -> list[Decimal]:
    """Per-second mids, linear between ``(second, mid)`` points."""
    out: list[Decimal] = []
    for (s0, m0), (s1, m1) in itertools.pairwise(points):
        a, b = Decimal(m0), Decimal(m1)
        out += [a + (b - a) * (s - s0) / (s1 - s0) for s in range(s0, s1)]
    out.append(Decimal(points[-1][1]))
    return [m.quantize(Decimal("0.1")) for m in out]


def path_data(inst: Any, path: Sequence[Decimal]) -> list[Any]:
    """One L2 book per second around each mid (3 levels of 0.5/1/2 a side, 0.5 apart), no trades."""
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.enums import RecordFlag
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    data: list[Any] = []
    sizes = ("0.500", "1.000", "2.000")
    for s, mid in enumerate(path):
        ts = START_NS + s * SECOND
        data.append(OrderBookDelta.clear(inst.id, 0, ts, ts))
        for i, size in enumerate(sizes):
            for side, px in (
                (OrderSide.BUY, mid - HALF_SPREAD - Decimal("0.5") * i),
                (OrderSide.SELL, mid + HALF_SPREAD + Decimal("0.5") * i),
            ):
                last = i == len(sizes) - 1 and side == OrderSide.SELL
                book_order = BookOrder(
                    side, Price(px, inst.price_precision), Quantity(Decimal(size), inst.size_precision), 0
                )
                data.append(
                    OrderBookDelta(
                        inst.id, BookAction.ADD, book_order, RecordFlag.F_LAST if last else 0, 0, ts, ts
                    )
                )
    return data


def instrument() -> Any:
    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    return build_instrument(registry.get("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"), registry)


def run_path(run_algo: RunAlgo, orders: list[dict[str, Any]], path: Sequence[Decimal], **kw: Any) -> Any:
    inst = instrument()
    return run_algo(
        orders, algorithms=[TPSLExecAlgorithm()], data=path_data(inst, path), instrument=inst, **kw
    )


def exits(run: Any, op: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for e in run.report(op).exits:
        out.setdefault(e["kind"], []).append(e)
    return out


def filled(rows: list[dict[str, str]]) -> Decimal:
    return sum((Decimal(r["filled"]) for r in rows), Decimal(0))


def quantity_at(run: Any, client_order_id: str, second: int) -> Decimal:
    """Return an order's quantity after every event up to ``second`` after the start."""
    from nautilus_trader.model.events import OrderUpdated
    from nautilus_trader.model.identifiers import ClientOrderId

    order = run.engine.cache.order(ClientOrderId(client_order_id))
    qty = order.init_event.quantity.as_decimal()
    for event in order.events:
        if isinstance(event, OrderUpdated) and event.ts_event <= START_NS + second * SECOND:
            qty = event.quantity.as_decimal()
    return qty


def assert_never_flipped(run: Any, long: bool = True) -> None:
    wrong = "SHORT" if long else "LONG"
    assert run.strategy.position_log, "no position event was seen"
    assert all(side != wrong for side, _ in run.strategy.position_log), run.strategy.position_log


def ladder(make_order: MakeOrder, op: str = "t1", **params: str) -> dict[str, Any]:
    algo_params = {"take_profit_prices": "60100.0,60150.0", "take_profit_fractions": "0.5,0.5", **params}
    return make_order(
        op,
        "1.000",
        take_profit_price="60100.0",
        stop_loss_price="59900.0",
        metadata={"algorithm": "TPSL", "algo_params": algo_params},
    )


def test_tp1_then_tp2_close_the_position_and_cancel_the_stop(
    run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    run = run_path(
        run_algo, [ladder(make_order)], mids((0, "60000"), (5, "60000"), (65, "60200"), (80, "60200"))
    )
    result = run.result("t1")
    assert result.algorithm_used == "TPSL"
    # the entry result holds the entry only (1.0 walks the 60000.5 and 60001.0 asks), not the exits
    assert result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == Decimal("1.000")
    assert {f.price for f in result.fills} == {Decimal("60000.5"), Decimal("60001.0")}
    report = run.report("t1")
    assert report.stop_reason is StopReason.COMPLETED
    legs = exits(run, "t1")
    assert [(r["price"], r["quantity"], r["filled"], r["avg_price"]) for r in legs["TP1"]] == [
        ("60100.0", "0.500", "0.500", "60100")
    ]
    assert [(r["price"], r["filled"], r["status"]) for r in legs["TP2"]] == [("60150.0", "0.500", "FILLED")]
    (stop,) = legs["STOP"]
    assert stop["order_type"] == "STOP_MARKET"
    assert stop["filled"] == "0.000"
    assert stop["status"] == "CANCELED"
    # the stop was resized down as the take-profits filled, never above the open position
    assert Decimal(stop["quantity"]) <= Decimal("0.500")
    assert run.engine.cache.positions()[0].is_closed
    assert_never_flipped(run)


def test_stop_after_tp1_closes_only_the_remainder(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    path = mids((0, "60000"), (20, "60120"), (30, "60120"), (60, "59800"), (70, "59800"))
    run = run_path(run_algo, [ladder(make_order)], path)
    legs = exits(run, "t1")
    assert filled(legs["TP1"]) == Decimal("0.500")
    assert filled(legs["TP2"]) == 0
    assert legs["TP2"][0]["status"] == "CANCELED"
    (stop,) = legs["STOP"]
    # resized to what TP1 left open, then triggered: it closed exactly that
    assert (stop["quantity"], stop["filled"], stop["status"]) == ("0.500", "0.500", "FILLED")
    assert Decimal(stop["avg_price"]) <= Decimal("59900")
    assert run.report("t1").stop_reason is StopReason.COMPLETED
    assert run.engine.cache.positions()[0].is_closed
    assert_never_flipped(run)


def test_trailing_stop_follows_the_bid_then_triggers(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    order = make_order(
        "t2",
        "1.000",
        stop_loss_price="59900.0",
        metadata={"algorithm": "TPSL", "algo_params": {"trailing_offset": "30.0"}},
    )
    path = mids((0, "60000"), (40, "60200"), (50, "60200"), (80, "60100"), (90, "60100"))
    run = run_path(run_algo, [order], path)
    (stop,) = exits(run, "t2")["STOP"]
    assert stop["order_type"] == "TRAILING_STOP_MARKET"
    assert stop["status"] == "FILLED"
    assert stop["filled"] == "1.000"
    # the oracle: the trigger trails the best bid by 30 and never loosens; the peak bid 60199.5
    trigger = Decimal("59900.0")
    for mid in path[2:]:
        trigger = trail_trigger(trigger, mid - HALF_SPREAD, Decimal("30.0"), Decimal("0.1"), long=True)
    assert trigger == Decimal("60169.5")
    assert Decimal(stop["price"]) == trigger
    # it fired on the way down, at the bid just below the trail, far above the fixed 59900 stop
    assert Decimal("60160") < Decimal(stop["avg_price"]) <= trigger
    assert run.report("t2").stop_reason is StopReason.COMPLETED
    assert_never_flipped(run)


def test_partial_close_by_the_strategy_resizes_the_exits(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    close = make_order("c1", "0.400", side="SELL", smart_execution_enabled=False)
    path = mids((0, "60000"), (30, "60000"), (60, "59800"), (70, "59800"))
    run = run_path(run_algo, [ladder(make_order)], path, later=[(START_NS + 10 * SECOND, close)])
    assert run.result("c1").filled_quantity == Decimal("0.400")
    legs = exits(run, "t1")
    # 0.6 left after the close at 10 s: TP1 keeps 0.5, TP2 is trimmed to 0.1 (farthest first),
    # the stop covers 0.6
    at_20s = {kind: quantity_at(run, rows[0]["id"], 20) for kind, rows in legs.items()}
    assert at_20s == {"TP1": Decimal("0.5"), "TP2": Decimal("0.1"), "STOP": Decimal("0.6")}
    (stop,) = legs["STOP"]
    assert (stop["quantity"], stop["filled"]) == ("0.600", "0.600")
    # after the stop's first 0.5 fill the last 0.1 take-profit is cut to the 0.1 still open
    assert legs["TP1"][0]["quantity"] == "0.100"
    assert legs["TP1"][0]["status"] == "CANCELED"
    report = run.report("t1")
    assert report.stop_reason is StopReason.POSITION_CLOSED
    assert "0.400 closed outside the algorithm" in report.detail
    assert run.engine.cache.positions()[0].is_closed
    assert_never_flipped(run)


def test_close_beyond_the_exits_cancels_them(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    close = make_order("c2", "1.000", side="SELL", smart_execution_enabled=False)
    path = mids((0, "60000"), (30, "60000"))
    run = run_path(run_algo, [ladder(make_order)], path, later=[(START_NS + 10 * SECOND, close)])
    legs = exits(run, "t1")
    assert all(r["status"] == "CANCELED" and r["filled"] == "0.000" for rows in legs.values() for r in rows)
    assert run.report("t1").stop_reason is StopReason.POSITION_CLOSED
    assert_never_flipped(run)


def test_end_of_data_with_exits_open(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    run = run_path(run_algo, [ladder(make_order)], mids((0, "60000"), (20, "60010")))
    report = run.report("t1")
    assert report.stop_reason is StopReason.END_OF_DATA
    assert "1.000 still protected" in report.detail
    legs = exits(run, "t1")
    assert [r["quantity"] for r in legs["TP1"] + legs["TP2"] + legs["STOP"]] == ["0.500", "0.500", "1.000"]
    assert filled([r for rows in legs.values() for r in rows]) == 0
    assert run.result("t1").filled_quantity == Decimal("1.000")


def test_limit_entry_rests_and_exits_follow_its_fill(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    # buy limit at 59950: fills when the ask comes down to it; then TP at 60050 fills on the way up
    order = make_order("t3", "1.000", price="59950.0", take_profit_price="60050.0", stop_loss_price="59800.0")
    path = mids((0, "60000"), (20, "59940"), (60, "60100"), (70, "60100"))
    run = run_path(run_algo, [order], path)
    result = run.result("t3")
    assert (result.algorithm_used, result.order_type) == ("TPSL", "LIMIT")
    assert result.filled_quantity == Decimal("1.000")
    assert all(f.price <= Decimal("59950.0") for f in result.fills)
    legs = exits(run, "t3")
    assert filled(legs["TP1"]) == Decimal("1.000")
    assert run.report("t3").stop_reason is StopReason.COMPLETED
    assert_never_flipped(run)


def test_short_entry_mirrors_the_exits(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    order = make_order(
        "t4",
        "1.000",
        side="SELL",
        take_profit_price="59900.0",
        stop_loss_price="60100.0",
        metadata={"algorithm": "TPSL", "algo_params": {"take_profit_prices": "59900.0,59850.0"}},
    )
    path = mids((0, "60000"), (20, "59880"), (30, "59880"), (50, "60200"), (60, "60200"))
    run = run_path(run_algo, [order], path)
    legs = exits(run, "t4")
    assert filled(legs["TP1"]) == Decimal("0.500")
    assert filled(legs["TP2"]) == 0
    assert (legs["STOP"][0]["quantity"], legs["STOP"][0]["filled"]) == ("0.500", "0.500")
    assert_never_flipped(run, long=False)


def test_routing_selects_tpsl_from_the_order_fields(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    # no metadata.algorithm: take_profit_price/stop_loss_price alone route the order to TPSL
    order = make_order("t5", "0.500", take_profit_price="60100.0", stop_loss_price="59900.0", urgency="low")
    run = run_path(run_algo, [order], mids((0, "60000"), (40, "60150")))
    result = run.result("t5")
    assert result.algorithm_requested == "TWAP"  # what the urgency alone would have chosen
    assert result.algorithm_used == "TPSL"
    assert filled(exits(run, "t5")["TP1"]) == Decimal("0.500")
    assert run.report("t5").stop_reason is StopReason.COMPLETED


def test_exits_on_the_wrong_side_of_the_market_are_refused(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    # a long's stop above the 60000 arrival mid would trigger at once: nothing is bought
    order = make_order("t6", "1.000", stop_loss_price="60010.0", metadata={"algorithm": "TPSL"})
    run = run_path(run_algo, [order], mids((0, "60000"), (10, "60000")))
    report = run.report("t6")
    assert report.stop_reason is StopReason.INVALID_PARAMS
    assert "below the entry price" in report.detail
    assert run.result("t6").filled_quantity == 0


def test_bad_exit_parameters_stop_the_parent(run_algo: RunAlgo, make_order: MakeOrder) -> None:
    order = ladder(make_order, take_profit_fractions="0.5,0.6")
    run = run_path(run_algo, [order], mids((0, "60000"), (10, "60000")))
    report = run.report("t1")
    assert report.stop_reason is StopReason.INVALID_PARAMS
    assert "sum to 1" in report.detail
    assert run.result("t1").filled_quantity == 0
    assert "INVALID_PARAMS" in run.result("t1").reason


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a whole backtest
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(st.integers(-40, 40), min_size=4, max_size=8),
    close_lots=st.integers(0, 1200),
    close_at=st.integers(4, 30),
    trailing=st.booleans(),
    reduce_only=st.booleans(),
)
def test_random_paths_never_over_close(
    run_algo: RunAlgo,
    make_order: MakeOrder,
    moves: list[int],
    close_lots: int,
    close_at: int,
    trailing: bool,
    reduce_only: bool,
) -> None:
    # a random walk in 10 s legs, an outside partial (or over-) close at a random time
    points = [(0, "60000"), (3, "60000")]
    for i, move in enumerate(moves):
        points.append((3 + 10 * (i + 1), str(Decimal(points[-1][1]) + Decimal(move) * 5)))
    # without reduce_only the venue does not clip: the algorithm's own sizing is what is tested
    extra = {"trailing_offset": "40.0"} if trailing else {}
    extra["reduce_only"] = str(reduce_only).lower()
    later = []
    if close_lots:
        close = make_order("c", str(Decimal(close_lots) / 1000), side="SELL", smart_execution_enabled=False)
        later = [(START_NS + close_at * SECOND, close)]
    run = run_path(run_algo, [ladder(make_order, **extra)], mids(*points), later=later)
    exit_ids = {r["id"] for rows in exits(run, "t1").values() for r in rows}
    # replay every fill in the order the strategy saw it: an exit never sells more than is long
    # (the outside close may flip the position itself: it is a plain sell, not the algorithm's)
    net = Decimal(0)
    for client_order_id, side, qty in run.strategy.fill_log:
        if client_order_id in exit_ids:
            assert side == "SELL"
            assert qty <= net, (client_order_id, qty, net, run.strategy.fill_log)
        net += qty if side == "BUY" else -qty
    assert filled([r for rows in exits(run, "t1").values() for r in rows]) <= run.result("t1").filled_quantity
    report = run.report("t1")
    assert report.stop_reason in {
        StopReason.COMPLETED,
        StopReason.POSITION_CLOSED,
        StopReason.END_OF_DATA,
    }


SNAPSHOTS = "nautilus_trader/tests/test_data/tardis/binance-futures_book_snapshot_5_BTCUSDT.csv"
SUBMIT_NS = 1_598_918_403_900_000_000  # after the first real snapshot


@pytest.fixture(scope="module")
def tardis(shared_data: Path) -> tuple[Any, list[Any]]:
    """The real BTCUSDT snapshots as book deltas, on a 0.01-tick instrument (as test_real_tardis_data)."""
    from nautilus_trader.adapters.tardis.loaders import TardisCSVDataLoader
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import RecordFlag
    from nautilus_trader.model.instruments import CryptoPerpetual

    raw = CryptoPerpetual.to_dict(instrument())
    raw.update(price_precision=2, price_increment="0.01")
    inst = CryptoPerpetual.from_dict(raw)
    snaps = TardisCSVDataLoader(price_precision=2, size_precision=3, instrument_id=inst.id).load_depth10(
        shared_data / SNAPSHOTS, levels=5
    )
    data: list[Any] = []
    for snap in snaps:
        data.append(OrderBookDelta.clear(snap.instrument_id, 0, snap.ts_event, snap.ts_init))
        levels = [o for o in [*snap.bids, *snap.asks] if o.size.as_decimal() > 0]
        for i, order in enumerate(levels):
            flags = RecordFlag.F_LAST if i == len(levels) - 1 else 0
            data.append(
                OrderBookDelta(
                    snap.instrument_id, BookAction.ADD, order, flags, 0, snap.ts_event, snap.ts_init
                )
            )
    return inst, data


def test_real_snapshots_entry_at_the_real_ask_and_exits_rest_to_the_end(
    tardis: tuple[Any, list[Any]], run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    inst, data = tardis
    order = make_order(
        "r1",
        "1.000",
        take_profit_price="11670.00",
        stop_loss_price="11640.00",
        metadata={
            "algorithm": "TPSL",
            "algo_params": {"take_profit_prices": "11670.00,11680.00", "take_profit_fractions": "0.3,0.7"},
        },
    )
    run = run_algo(
        [order], algorithms=[TPSLExecAlgorithm()], data=data, instrument=inst, submit_at_ns=SUBMIT_NS
    )
    result = run.result("r1")
    # 1.0 of the real 1.476 shown at the 11657.08 ask
    assert [(f.price, f.quantity) for f in result.fills] == [(Decimal("11657.08"), Decimal("1.000"))]
    legs = exits(run, "r1")
    assert [(r["price"], r["quantity"]) for r in legs["TP1"] + legs["TP2"] + legs["STOP"]] == [
        ("11670.00", "0.300"),
        ("11680.00", "0.700"),
        ("11640.00", "1.000"),
    ]
    assert run.report("r1").stop_reason is StopReason.END_OF_DATA


def test_real_snapshots_trailing_stop_trails_the_real_bid(
    tardis: tuple[Any, list[Any]], run_algo: RunAlgo, make_order: MakeOrder
) -> None:
    inst, data = tardis
    order = make_order(
        "r2",
        "0.500",
        side="SELL",
        stop_loss_price="11700.00",
        metadata={"algorithm": "TPSL", "algo_params": {"trailing_offset": "0.50"}},
    )
    run = run_algo(
        [order], algorithms=[TPSLExecAlgorithm()], data=data, instrument=inst, submit_at_ns=SUBMIT_NS
    )
    (stop,) = exits(run, "r2")["STOP"]
    assert (stop["order_type"], stop["quantity"], stop["filled"]) == (
        "TRAILING_STOP_MARKET",
        "0.500",
        "0.000",
    )
    # a short's stop trails the real best ask (11657.08 throughout) by 0.50: 11657.58, far
    # tighter than the 11700 given, and it never moved back up
    assert Decimal(stop["price"]) == trail_trigger(
        Decimal("11700.00"), Decimal("11657.08"), Decimal("0.50"), Decimal("0.01"), long=False
    )
    assert stop["price"] == "11657.58"
