"""
A real ``BacktestEngine`` (simulated BINANCE with an L2 book, trades, maker/taker fees) running
the unified execution strategy with the project's ExecAlgorithms.

Books: bids/asks on a fixed grid around a mid that may drift; trade prints of a given size
every second, except in zero-volume windows.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.events import TimeEvent

from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.orders.model import Order

START_NS = 1_709_251_200_000_000_000  # 2024-03-01T00:00:00Z
SECOND = 1_000_000_000
KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"


@dataclass
class Market:
    """Synthetic market around a mid (Decimal strings, one book per second)."""

    seconds: int = 600
    mid: str = "60000.0"
    half_spread: str = "0.5"
    level_step: str = "0.5"
    level_sizes: Sequence[str] = ("0.500", "1.000", "2.000")
    drift_per_sec: str = "0"  # mid moves by this every second
    trade_size: str = "0.010"
    zero_volume: Sequence[tuple[int, int]] = ()  # [start, end) seconds without trades
    trade_every_secs: int = 1


class SubmitAtStrategyConfig(UnifiedExecutionConfig, frozen=True):
    orders_json: tuple[str, ...] = ()
    submit_at_ns: int = START_NS + 2 * SECOND
    later_json: tuple[tuple[int, str], ...] = ()  # (ts_ns, order) submitted at that time


class SubmitAtStrategy(UnifiedExecutionStrategy):
    """
    Submit the configured unified orders once, ``submit_at_secs`` after the start (and any later
    ones at their times); record every position event as ``(side name, quantity)`` and every
    fill, in the order the strategy saw them, as ``(client order id, side name, quantity)``.
    """

    def __init__(self, config: SubmitAtStrategyConfig) -> None:
        super().__init__(config)
        self._orders = [Order.from_json(o) for o in config.orders_json]
        self._at = config.submit_at_ns
        self._later = [(ts, Order.from_json(o)) for ts, o in config.later_json]
        self.position_log: list[tuple[str, Decimal]] = []
        self.fill_log: list[tuple[str, str, Decimal]] = []

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("submit", self._at, self._submit)
        for i, (ts, _) in enumerate(self._later):
            self.clock.set_time_alert_ns(f"later-{i}", ts, self._submit_later)

    def _submit(self, event: TimeEvent) -> None:
        for order in self._orders:
            self.submit_unified(order)

    def _submit_later(self, event: TimeEvent) -> None:
        self.submit_unified(self._later[int(event.name.split("-")[1])][1])

    def on_order_filled(self, event: Any) -> None:
        super().on_order_filled(event)
        self.fill_log.append(
            (event.client_order_id.value, event.order_side.name, event.last_qty.as_decimal())
        )

    def on_position_event(self, event: Any) -> None:
        self.position_log.append((event.side.name, event.quantity.as_decimal()))


@dataclass
class Run:
    """What a run left behind."""

    strategy: Any
    algorithms: dict[str, Any]
    engine: Any

    def result(self, op: str) -> Any:
        return self.strategy.results[op]

    def children(self, op: str) -> list[Any]:
        """Return the spawned children of a unified order, in submission order."""
        primary = self.result(op).client_order_id
        kids = [
            o
            for o in self.engine.cache.orders()
            if o.exec_spawn_id is not None
            and o.exec_spawn_id.value == primary
            and o.client_order_id.value != primary
        ]
        return sorted(kids, key=lambda o: o.ts_init)

    def report(self, op: str) -> Any:
        from nautilus_trader.model.identifiers import ClientOrderId

        primary = ClientOrderId(self.result(op).client_order_id)
        for algo in self.algorithms.values():
            rep = algo.report(primary)
            if rep is not None:
                return rep
        return None


def build_data(inst: Any, market: Market) -> list[Any]:
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.enums import RecordFlag
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    data: list[Any] = []
    half, step, drift = Decimal(market.half_spread), Decimal(market.level_step), Decimal(market.drift_per_sec)
    for s in range(market.seconds):
        ts = START_NS + s * SECOND
        mid = Decimal(market.mid) + drift * s
        data.append(OrderBookDelta.clear(inst.id, 0, ts, ts))
        n = len(market.level_sizes)
        for i, size in enumerate(market.level_sizes):
            for side, px in ((OrderSide.BUY, mid - half - step * i), (OrderSide.SELL, mid + half + step * i)):
                last = i == n - 1 and side == OrderSide.SELL
                order = BookOrder(
                    side, Price(px, inst.price_precision), Quantity(Decimal(size), inst.size_precision), 0
                )
                data.append(
                    OrderBookDelta(
                        inst.id, BookAction.ADD, order, RecordFlag.F_LAST if last else 0, 0, ts, ts
                    )
                )
        quiet = any(a <= s < b for a, b in market.zero_volume)
        if not quiet and s % market.trade_every_secs == 0:
            data.append(
                TradeTick(
                    inst.id,
                    Price(mid, inst.price_precision),
                    Quantity(Decimal(market.trade_size), inst.size_precision),
                    AggressorSide.BUYER if s % 2 else AggressorSide.SELLER,
                    TradeId(f"T-{s}"),
                    ts + 1,
                    ts + 1,
                )
            )
    return data


def run_orders(
    orders: Sequence[dict[str, Any]],
    market: Market | None = None,
    algorithms: Sequence[Any] = (),
    submit_at_secs: int = 2,
    data: list[Any] | None = None,
    instrument: Any = None,
    submit_at_ns: int | None = None,
    later: Sequence[tuple[int, dict[str, Any]]] = (),
) -> Run:
    """
    Run unified orders (dicts for ``Order``) submitted ``submit_at_secs`` after the start, and
    ``later`` ones at ``(ts_ns, order)``.
    """
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.models import MakerTakerFeeModel
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USDT
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    inst = instrument or build_instrument(registry.get(KEY), registry)
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(10_000_000, USDT)],
        book_type=BookType.L2_MBP,
        fee_model=MakerTakerFeeModel(),
        liquidity_consumption=True,
        trade_execution=True,
    )
    engine.add_instrument(inst)
    engine.add_data(data if data is not None else build_data(inst, market or Market()))
    import json

    strategy = SubmitAtStrategy(
        SubmitAtStrategyConfig(
            instrument_ids=(str(inst.id),),
            orders_json=tuple(json.dumps(o) for o in orders),
            submit_at_ns=START_NS + submit_at_secs * SECOND if submit_at_ns is None else submit_at_ns,
            later_json=tuple((ts, json.dumps(o)) for ts, o in later),
        )
    )
    engine.add_strategy(strategy)
    algos = {}
    for algo in algorithms:
        engine.add_exec_algorithm(algo)
        algos[algo.algorithm_name] = algo
    engine.run()
    return Run(strategy=strategy, algorithms=algos, engine=engine)


def run_venues(
    orders: Sequence[dict[str, Any]],
    books: dict[str, Market],
    algorithms: Sequence[Any],
    submit_at_secs: int = 2,
    strategy: Any = None,
    instruments: dict[str, Any] | None = None,
    insert_latency_secs: dict[str, int] | None = None,
    use_message_queue: bool = True,
) -> Run:
    """
    Run unified orders over several spot venues (CASH accounts, USDT and BTC), one Market each.

    ``use_message_queue=False`` makes each venue execute a command on arrival, as a recorded
    DRY_RUN node and its REPLAY do: a child's fill reaches the algorithm inside its submission.
    """
    import json

    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.models import MakerTakerFeeModel
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import BTC
    from nautilus_trader.model.currencies import USDT
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.objects import Money

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    ids = []
    data: list[Any] = []
    for key, market in books.items():
        inst = (instruments or {}).get(key) or build_instrument(registry.get(key), registry)
        from nautilus_trader.backtest.models import LatencyModel

        delay = (insert_latency_secs or {}).get(key)
        engine.add_venue(
            inst.id.venue,
            latency_model=None if delay is None else LatencyModel(insert_latency_nanos=delay * SECOND),
            oms_type=OmsType.NETTING,
            account_type=AccountType.CASH,
            starting_balances=[Money(10_000_000, USDT), Money(100, BTC)],
            book_type=BookType.L2_MBP,
            fee_model=MakerTakerFeeModel(),
            liquidity_consumption=True,
            trade_execution=True,
            use_message_queue=use_message_queue,
        )
        engine.add_instrument(inst)
        data.extend(build_data(inst, market))
        ids.append(str(inst.id))
    engine.add_data(sorted(data, key=lambda d: d.ts_init))
    strategy = strategy or SubmitAtStrategy(
        SubmitAtStrategyConfig(
            instrument_ids=tuple(ids),
            orders_json=tuple(json.dumps(o) for o in orders),
            submit_at_ns=START_NS + submit_at_secs * SECOND,
        )
    )
    engine.add_strategy(strategy)
    algos = {}
    for algo in algorithms:
        engine.add_exec_algorithm(algo)
        algos[algo.algorithm_name] = algo
    engine.run()
    return Run(strategy=strategy, algorithms=algos, engine=engine)


@pytest.fixture
def run_multi_venue() -> Callable[..., Run]:
    return run_venues


@pytest.fixture
def run_algo() -> Callable[..., Run]:
    return run_orders


@pytest.fixture
def market() -> type[Market]:
    return Market


def order_dict(op: str, amount: str, side: str = "BUY", **extra: Any) -> dict[str, Any]:
    base = {
        "operation_id": op,
        "operation": "trade",
        "instrument_key": KEY,
        "venue": "BINANCE-FUTURES",
        "side": side,
        "amount": amount,
        "smart_execution_enabled": True,
    }
    base.update(extra)
    return base


@pytest.fixture
def make_order() -> Callable[..., dict[str, Any]]:
    return order_dict
