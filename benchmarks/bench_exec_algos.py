"""
Implementation shortfall (bps) of each execution algorithm versus an immediate market order and
versus NautilusTrader's example TWAP, for parent sizes relative to the displayed depth.

One ``BacktestEngine`` run per (algorithm, size) over the same synthetic L2 market: a seeded
random-walk mid (0.5 steps), three ask/bid levels of 0.5/1/2 BTC refreshed every second (a
resilient book), and one 0.5 BTC trade print a second. Shortfall is measured against the
arrival mid, buy side, including the opportunity cost of any unfilled part at the final mid;
fees are shown separately. Synthetic data: the real Tardis samples in ``../shared/data`` span
under a second, too short for time-sliced algorithms (they are used for correctness tests).

Run: ``.venv/bin/python benchmarks/bench_exec_algos.py``
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm as NautilusTWAP
from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithmConfig as NautilusTWAPConfig
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
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm
from nautilus_ext.execution_algos.pov import POVExecAlgorithm
from nautilus_ext.execution_algos.shortfall import ISExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
from nautilus_ext.execution_algos.vwap import VWAPExecAlgorithm
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.model import Order

KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
START_NS = 1_709_251_200_000_000_000
SECOND = 1_000_000_000
SECONDS = 420
SUBMIT_AT = 2
LEVELS = (Decimal("0.5"), Decimal("1.0"), Decimal("2.0"))
LEVEL_STEP = Decimal("5.0")  # USDT between levels (~0.8 bps): walking the book costs something
SEEDS = (1, 2, 3, 4, 5)
DEPTH = sum(LEVELS, Decimal(0))
HORIZON = 300
ALGO_PARAMS: dict[str, dict[str, str]] = {
    "TWAP": {"horizon_secs": str(HORIZON), "interval_secs": "30"},
    "VWAP": {"horizon_secs": str(HORIZON)},
    "IS": {"horizon_secs": str(HORIZON), "interval_secs": "30"},
    "POV": {"participation": "0.1", "max_duration_secs": str(HORIZON), "final_policy": "SWEEP"},
    "LIMIT_THEN_MARKET": {"timeout_secs": "30"},
}


def market(inst: Any, seed: int = 7) -> tuple[list[Any], list[Decimal]]:
    rng = random.Random(seed)
    data: list[Any] = []
    mids = []
    mid = Decimal("60000.0")
    for s in range(SECONDS):
        ts = START_NS + s * SECOND
        mid += Decimal("0.5") * rng.choice((-1, 0, 1))
        mids.append(mid)
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
                TradeId(f"B-{s}"),
                ts + 1,
                ts + 1,
            )
        )
    return data, mids


class UnifiedOnceConfig(UnifiedExecutionConfig, frozen=True):
    order_json: str = ""


class UnifiedOnce(UnifiedExecutionStrategy):
    def __init__(self, config: UnifiedOnceConfig) -> None:
        super().__init__(config)
        self._order = Order.from_json(config.order_json)

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START_NS + SUBMIT_AT * SECOND, self._go)

    def _go(self, event: TimeEvent) -> None:
        self.submit_unified(self._order)


class NautilusTWAPOnceConfig(StrategyConfig, frozen=True):
    instrument_id: str = ""
    quantity: str = ""


class NautilusTWAPOnce(Strategy):  # type: ignore[misc]
    def __init__(self, config: NautilusTWAPOnceConfig) -> None:
        super().__init__(config)
        self._cfg = config

    def on_start(self) -> None:
        self.subscribe_order_book_deltas(self.cache.instruments()[0].id)
        self.clock.set_time_alert_ns("go", START_NS + SUBMIT_AT * SECOND, self._go)

    def _go(self, event: TimeEvent) -> None:
        inst = self.cache.instruments()[0]
        order = self.order_factory.market(
            inst.id,
            OrderSide.BUY,
            inst.make_qty(Decimal(self._cfg.quantity)),
            exec_algorithm_id=ExecAlgorithmId("NT_TWAP"),
            exec_algorithm_params={"horizon_secs": HORIZON, "interval_secs": 30},
        )
        self.submit_order(order)


def run_one(name: str, qty: Decimal, inst: Any, data: list[Any], mids: list[Decimal]) -> dict[str, Any]:
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(100_000_000, USDT)],
        book_type=BookType.L2_MBP,
        fee_model=MakerTakerFeeModel(),
        liquidity_consumption=True,
        trade_execution=True,
    )
    engine.add_instrument(inst)
    engine.add_data(data)
    if name == "NT example TWAP":
        engine.add_strategy(
            NautilusTWAPOnce(NautilusTWAPOnceConfig(instrument_id=str(inst.id), quantity=str(qty)))
        )
        engine.add_exec_algorithm(
            NautilusTWAP(NautilusTWAPConfig(exec_algorithm_id=ExecAlgorithmId("NT_TWAP")))
        )
    else:
        smart = name != "MARKET"
        order: dict[str, Any] = {
            "operation_id": "bench",
            "operation": "trade",
            "instrument_key": KEY,
            "venue": "BINANCE-FUTURES",
            "side": "BUY",
            "amount": str(qty),
            "smart_execution_enabled": smart,
        }
        if smart:
            order["metadata"] = {"algorithm": name, "algo_params": ALGO_PARAMS[name]}
            algo = {
                "TWAP": TWAPExecAlgorithm,
                "VWAP": VWAPExecAlgorithm,
                "IS": ISExecAlgorithm,
                "POV": POVExecAlgorithm,
                "LIMIT_THEN_MARKET": LimitThenMarketExecAlgorithm,
            }[name]()
            engine.add_exec_algorithm(algo)
        cfg = UnifiedOnceConfig(instrument_ids=(str(inst.id),), order_json=Order(**order).to_json())
        engine.add_strategy(UnifiedOnce(cfg))
    started = time.perf_counter()
    engine.run()
    elapsed = time.perf_counter() - started
    filled = Decimal(0)
    notional = Decimal(0)
    fees = Decimal(0)
    for o in engine.cache.orders():
        for event in o.events:
            if isinstance(event, OrderFilled):
                filled += event.last_qty.as_decimal()
                notional += event.last_qty.as_decimal() * event.last_px.as_decimal()
                fees += event.commission.as_decimal()
    arrival, final = mids[SUBMIT_AT], mids[-1]
    shortfall = (notional - filled * arrival + (qty - filled) * (final - arrival)) / (qty * arrival) * 10_000
    orders = len(engine.cache.orders())
    engine.dispose()
    return {
        "filled_pct": filled / qty * 100,
        "is_bps": shortfall,
        "fees_bps": fees / (qty * arrival) * 10_000,
        "secs": elapsed,
        "overfill": filled > qty,
        "orders": orders,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    seeds = SEEDS[:1] if args.smoke else SEEDS
    # pandas 3 deprecations raised from inside Nautilus's engine, not from this script
    warnings.filterwarnings("ignore", message=".*is deprecated and will be removed.*")
    registry = InstrumentRegistry.default()
    inst = build_instrument(registry.get(KEY), registry)
    markets = [market(inst, seed) for seed in seeds]
    names = ["MARKET", "NT example TWAP", "TWAP", "VWAP", "IS", "POV", "LIMIT_THEN_MARKET"]
    ratios = [Decimal("2")] if args.smoke else [Decimal("0.5"), Decimal("2"), Decimal("5")]
    print(
        "Implementation shortfall vs arrival mid, buy side, in bps (unfilled part valued at the final mid;"
        " fees apart), mean of"
        f" {len(seeds)} seeded random-walk markets. Displayed ask depth {DEPTH} BTC in 3 levels"
        f" {LEVEL_STEP} USDT apart, refreshed every second; 0.5 BTC printed per second; horizon {HORIZON}s."
    )
    print(f"{'algorithm':<20}" + "".join(f"{f'{r}x depth ({(r * DEPTH):.3f} BTC)':>34}" for r in ratios))
    print(f"{'':<20}" + "".join(f"{'IS bps / filled % / fee bps':>34}" for _ in ratios))
    cpu: dict[str, tuple[float, int]] = {}
    for name in names:
        cells = []
        for r in ratios:
            qty = (r * DEPTH).quantize(Decimal("0.001"))
            runs = [run_one(name, qty, inst, data, mids) for data, mids in markets]
            n = Decimal(len(runs))
            is_bps = sum((o["is_bps"] for o in runs), Decimal(0)) / n
            filled = sum((o["filled_pct"] for o in runs), Decimal(0)) / n
            fees = sum((o["fees_bps"] for o in runs), Decimal(0)) / n
            flag = " OVERFILL" if any(o["overfill"] for o in runs) else ""
            cells.append(f"{is_bps:>10.2f} / {filled:>6.1f} / {fees:>5.2f}{flag}")
            secs, orders = cpu.get(name, (0.0, 0))
            cpu[name] = (secs + sum(o["secs"] for o in runs), orders + sum(o["orders"] for o in runs))
        print(f"{name:<20}" + "".join(f"{c:>34}" for c in cells))
    print()
    print(
        "Backtest wall time per order (parent + children), all runs above,"
        " including each run's fixed engine cost:"
    )
    print(f"{'algorithm':<20}{'orders':>10}{'wall s':>10}{'ms/order':>10}")
    for name, (secs, orders) in cpu.items():
        print(f"{name:<20}{orders:>10}{secs:>10.2f}{secs / orders * 1000:>10.1f}")


if __name__ == "__main__":
    main()
