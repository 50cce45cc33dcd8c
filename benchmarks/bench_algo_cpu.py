"""
CPU cost per child order of each execution algorithm inside a backtest, versus a strategy that
submits the identical child orders itself at the same times.

For each algorithm, one ``BacktestEngine`` run over a seeded synthetic L2 market: the unified
execution strategy submits parents staggered over the run and the algorithm spawns children.
Every child is then recorded (instrument, side, quantity, type, price, time in force,
post-only, submit time, cancel time) and a plain Nautilus strategy replays exactly those
children, at the same times, in a second run over the same data. Two more runs without any
order (the unified strategy, the plain strategy) give each side's fixed cost of processing
the data, which is subtracted:

    us/child (algorithm) = (CPU(algorithm run) - CPU(unified, no orders)) / children
    us/child (direct)    = (CPU(direct run)    - CPU(plain, no orders))   / children

The algorithm side includes what the algorithm costs beyond the orders themselves: its
timers and data handlers, its ledger, and the unified executor's bookkeeping of the children's
events. CPU is ``time.process_time`` around ``engine.run()``; each figure is the median of 3
runs, alternating the four kinds so drift hits them alike. The direct replay fills about the
same way but not bit-identically (the algorithm reacted to its own fills; the replay cannot),
which the fill counts printed beside show.

Run: ``.venv/bin/python benchmarks/bench_algo_cpu.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderPendingCancel
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithmConfig
from nautilus_ext.execution_algos.pov import POVExecAlgorithm
from nautilus_ext.execution_algos.pov import POVExecAlgorithmConfig
from nautilus_ext.execution_algos.shortfall import ISExecAlgorithm
from nautilus_ext.execution_algos.sor import SORExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithm
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithmConfig
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.model import Order

START_NS = 1_709_251_200_000_000_000
SECOND = 1_000_000_000
SECONDS = 900
LEVELS = (Decimal("0.5"), Decimal("1.0"), Decimal("2.0"))
LEVEL_STEP = Decimal("5.0")
PERP = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
SPOTS = ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", "BYBIT:SPOT_PAIR:BTC-USDT")


@dataclass(frozen=True)
class Case:
    """One algorithm's workload: parents of ``amount`` every ``every_secs``, with these params."""

    name: str
    algorithm: Any
    params: dict[str, str]
    amount: str
    parents: int
    every_secs: int
    keys: tuple[str, ...] = (PERP,)


CASES = [
    Case("TWAP", TWAPExecAlgorithm, {"horizon_secs": "60", "interval_secs": "2"}, "1.500", 20, 40),
    Case(
        "VWAP",
        lambda: VWAPExecAlgorithm(VWAPExecAlgorithmConfig(bucket_secs=2)),
        {"horizon_secs": "60"},
        "1.500",
        20,
        40,
    ),
    Case(
        "POV",
        lambda: POVExecAlgorithm(POVExecAlgorithmConfig(interval_secs=2)),
        {"participation": "0.2", "max_duration_secs": "60"},
        "3.000",
        20,
        40,
    ),
    Case("IS", ISExecAlgorithm, {"horizon_secs": "60", "interval_secs": "2"}, "1.500", 20, 40),
    Case(
        "LIMIT_THEN_MARKET",
        lambda: LimitThenMarketExecAlgorithm(LimitThenMarketExecAlgorithmConfig(reprice_interval_secs=1)),
        {"timeout_secs": "6", "max_reprices": "5"},
        "0.200",
        200,
        4,
    ),
    Case("SOR_CEFI", SORExecAlgorithm, {"max_rounds": "5"}, "1.200", 200, 4, SPOTS),
]


def market(inst: Any, seed: int) -> list[Any]:
    """A random-walk mid, three levels a side refreshed every second, one trade print a second."""
    rng = random.Random(seed)
    data: list[Any] = []
    mid = Decimal("60000.0")
    for s in range(SECONDS):
        ts = START_NS + s * SECOND
        mid += Decimal("0.5") * rng.choice((-1, 0, 1))
        data.append(OrderBookDelta.clear(inst.id, 0, ts, ts))
        for i, size in enumerate(LEVELS):
            off = Decimal("0.5") + LEVEL_STEP * i
            for side, px in ((OrderSide.BUY, mid - off), (OrderSide.SELL, mid + off)):
                last = i == len(LEVELS) - 1 and side == OrderSide.SELL
                order = BookOrder(
                    side, Price(px, inst.price_precision), Quantity(size, inst.size_precision), 0
                )
                data.append(
                    OrderBookDelta(
                        inst.id, BookAction.ADD, order, RecordFlag.F_LAST if last else 0, 0, ts, ts
                    )
                )
        data.append(
            TradeTick(
                inst.id,
                Price(mid, inst.price_precision),
                Quantity(Decimal("0.5"), inst.size_precision),
                AggressorSide.BUYER if s % 2 else AggressorSide.SELLER,
                TradeId(f"{inst.id.venue}-{s}"),
                ts + 1,
                ts + 1,
            )
        )
    return data


# -- the two strategies ----------------------------------------------------------------------------


class UnifiedScheduleConfig(UnifiedExecutionConfig, frozen=True):
    orders_json: tuple[str, ...] = ()
    every_secs: int = 10


class UnifiedSchedule(UnifiedExecutionStrategy):
    """Submit the unified parents one every ``every_secs`` from 2 s on."""

    def __init__(self, config: UnifiedScheduleConfig) -> None:
        super().__init__(config)
        self._orders = [Order.from_json(o) for o in config.orders_json]
        self._every = config.every_secs

    def on_start(self) -> None:
        super().on_start()
        for n in range(len(self._orders)):
            self.clock.set_time_alert_ns(f"p{n}", START_NS + (2 + n * self._every) * SECOND, self._go)

    def _go(self, event: TimeEvent) -> None:
        self.submit_unified(self._orders[int(event.name[1:])])


class DirectReplayConfig(StrategyConfig, frozen=True):
    instrument_ids: tuple[str, ...] = ()
    children_json: str = "[]"


class DirectReplay(Strategy):  # type: ignore[misc]
    """Submit (and cancel) the recorded children at their recorded times."""

    def __init__(self, config: DirectReplayConfig) -> None:
        super().__init__(config)
        self._ids = [InstrumentId.from_str(i) for i in config.instrument_ids]
        self._children = json.loads(config.children_json)
        self._sent: dict[int, ClientOrderId] = {}

    def on_start(self) -> None:
        for iid in self._ids:
            self.subscribe_order_book_deltas(iid)
            self.subscribe_trade_ticks(iid)
        for n, child in enumerate(self._children):
            self.clock.set_time_alert_ns(f"s{n}", child["ts"], self._submit)
            if child["cancel_ts"] is not None:
                self.clock.set_time_alert_ns(f"c{n}", child["cancel_ts"], self._cancel)

    def _submit(self, event: TimeEvent) -> None:
        n = int(event.name[1:])
        c = self._children[n]
        inst = self.cache.instrument(InstrumentId.from_str(c["instrument_id"]))
        side = OrderSide[c["side"]]
        qty = inst.make_qty(Decimal(c["quantity"]))
        tif = TimeInForce[c["tif"]]
        if c["price"] is None:
            order = self.order_factory.market(inst.id, side, qty, time_in_force=tif)
        else:
            order = self.order_factory.limit(
                inst.id,
                side,
                qty,
                inst.make_price(Decimal(c["price"])),
                time_in_force=tif,
                post_only=c["post_only"],
            )
        self._sent[n] = order.client_order_id
        self.submit_order(order)

    def _cancel(self, event: TimeEvent) -> None:
        cid = self._sent.get(int(event.name[1:]))
        order = None if cid is None else self.cache.order(cid)
        if order is not None and order.is_open and not order.is_pending_cancel:
            self.cancel_order(order)

    def on_stop(self) -> None:
        # as the unified strategy does at the end: nothing left working
        for iid in self._ids:
            self.cancel_all_orders(iid)


# -- runs --------------------------------------------------------------------------------------------


def _engine(instruments: list[Any], data: list[Any]) -> BacktestEngine:
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    for inst in instruments:
        engine.add_venue(
            inst.id.venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=[Money(1_000_000_000, USDT)],
            book_type=BookType.L2_MBP,
            fee_model=MakerTakerFeeModel(),
            liquidity_consumption=True,
            trade_execution=True,
        )
        engine.add_instrument(inst)
    engine.add_data(data)
    return engine


def _timed(engine: BacktestEngine) -> float:
    started = time.process_time()
    engine.run()
    return time.process_time() - started


def _fills(engine: BacktestEngine) -> int:
    return sum(1 for o in engine.cache.orders() for e in o.events if isinstance(e, OrderFilled))


def run_algorithm(
    case: Case, instruments: list[Any], data: list[Any], with_orders: bool
) -> tuple[float, list[dict[str, Any]], int]:
    """Run the unified strategy (parents through the algorithm, or none); return CPU, children, fills."""
    engine = _engine(instruments, data)
    orders = []
    for n in range(case.parents if with_orders else 0):
        orders.append(
            Order(
                operation_id=f"p{n}",
                operation="trade",
                instrument_key=case.keys[0],
                venue=None if len(case.keys) > 1 else case.keys[0].split(":")[0],
                side="BUY" if n % 2 == 0 else "SELL",
                amount=Decimal(case.amount),
                smart_execution_enabled=True,
                metadata={"algorithm": case.name, "algo_params": case.params},
            ).to_json()
        )
    strategy = UnifiedSchedule(
        UnifiedScheduleConfig(
            instrument_ids=tuple(str(i.id) for i in instruments),
            orders_json=tuple(orders),
            every_secs=case.every_secs,
        )
    )
    engine.add_strategy(strategy)
    if with_orders:
        engine.add_exec_algorithm(case.algorithm())
    cpu = _timed(engine)
    children = []
    for o in engine.cache.orders():
        if o.exec_spawn_id is None or o.exec_spawn_id == o.client_order_id:
            continue
        cancel = next((e.ts_event for e in o.events if isinstance(e, OrderPendingCancel)), None)
        children.append(
            {
                "ts": o.ts_init,
                "instrument_id": str(o.instrument_id),
                "side": o.side.name,
                "quantity": str(o.quantity),
                "price": None if o.order_type == OrderType.MARKET else str(o.price),
                "tif": o.time_in_force.name,
                "post_only": bool(getattr(o, "is_post_only", False)),
                "cancel_ts": cancel,
            }
        )
    fills = _fills(engine)
    engine.dispose()
    return cpu, sorted(children, key=lambda c: c["ts"]), fills


def run_direct(instruments: list[Any], data: list[Any], children: list[dict[str, Any]]) -> tuple[float, int]:
    """Run the plain strategy replaying ``children`` (or none); return CPU and fills."""
    engine = _engine(instruments, data)
    engine.add_strategy(
        DirectReplay(
            DirectReplayConfig(
                instrument_ids=tuple(str(i.id) for i in instruments), children_json=json.dumps(children)
            )
        )
    )
    cpu = _timed(engine)
    fills = _fills(engine)
    engine.dispose()
    return cpu, fills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    if args.smoke:
        global SECONDS
        args.repeats, SECONDS = 1, 300
    warnings.filterwarnings("ignore", message=".*is deprecated and will be removed.*")
    registry = InstrumentRegistry.default()
    print(
        f"CPU per child order (time.process_time, median of {args.repeats}), {SECONDS} s synthetic L2 "
        "market, fixed data-processing cost of an order-less run subtracted on each side."
    )
    header = (
        f"{'algorithm':<19}{'parents':>8}{'children':>9}{'fills a/d':>11}"
        f"{'algo us/child':>15}{'direct us/child':>17}{'ratio':>8}{'algo run s':>12}{'direct run s':>14}"
    )
    print(header)
    for case in CASES:
        instruments = [build_instrument(registry.get(k), registry) for k in case.keys]
        data = sorted(
            (d for n, inst in enumerate(instruments) for d in market(inst, 7 + n)), key=lambda d: d.ts_init
        )
        # the children come from the first algorithm run; every repeat replays the same list
        _, children, _ = run_algorithm(case, instruments, data, with_orders=True)
        algo, base_u, direct, base_d = [], [], [], []
        fills_a = fills_d = 0
        for _ in range(args.repeats):
            cpu, again, fills_a = run_algorithm(case, instruments, data, with_orders=True)
            if len(again) != len(children):
                raise RuntimeError(
                    f"{case.name}: the algorithm is not deterministic ({len(again)} != {len(children)})"
                )
            algo.append(cpu)
            base_u.append(run_algorithm(case, instruments, data, with_orders=False)[0])
            cpu, fills_d = run_direct(instruments, data, children)
            direct.append(cpu)
            base_d.append(run_direct(instruments, data, [])[0])
        n = len(children)
        a_us = (statistics.median(algo) - statistics.median(base_u)) / n * 1e6
        d_us = (statistics.median(direct) - statistics.median(base_d)) / n * 1e6
        print(
            f"{case.name:<19}{case.parents:>8}{n:>9}{f'{fills_a}/{fills_d}':>11}"
            f"{a_us:>15.1f}{d_us:>17.1f}{a_us / d_us:>8.2f}"
            f"{statistics.median(algo):>12.3f}{statistics.median(direct):>14.3f}"
        )
    print(
        "fills a/d: fill events in the algorithm run / the direct replay (the replay cannot react to its own "
        "fills, so counts may differ a little)."
    )


if __name__ == "__main__":
    main()
