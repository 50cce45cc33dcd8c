"""
The perp/perp spread strategy in a BacktestEngine over two venues' books (Hyperliquid BTC quoted
in USDC, Bybit BTC quoted in USDT; the generated books of the execution-algorithm tests).

TAKER: Bybit trades 100 USD above Hyperliquid for 20 s: the strategy buys Hyperliquid and sells
Bybit through ATOMIC_LEGS (IOC limits, sized by depth and the position cap), then unwinds when
the gap closes. MAKER: a bid rests on Hyperliquid at the price that pays against Bybit's bid;
Hyperliquid's book falls through it, the fill is hedged at once by an IOC sell on Bybit.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.config import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Money
from sqlalchemy import select

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithm
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.strategies.perp_spread import PerpSpreadConfig
from nautilus_ext.strategies.perp_spread import PerpSpreadStrategy
from tests.integration.execution_algos.conftest import SECOND
from tests.integration.execution_algos.conftest import START_NS
from tests.integration.execution_algos.conftest import Market
from tests.integration.execution_algos.conftest import build_data

KEYS = ("HYPERLIQUID:PERPETUAL:BTC-USDC@LIN", "BYBIT:PERPETUAL:BTC-USDT@LIN")
SECONDS = 40


def _engine(b_market: list[tuple[int, Market]], a_market: Market) -> tuple[BacktestEngine, list[Any]]:
    registry = InstrumentRegistry.default()
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    insts = [build_instrument(registry.get(k), registry) for k in KEYS]
    data: list[Any] = []
    for inst, currency in zip(insts, (USDC, USDT), strict=True):
        engine.add_venue(
            inst.id.venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=[Money(1_000_000, currency)],
            base_currency=None,
            book_type=BookType.L2_MBP,
            fee_model=MakerTakerFeeModel(),
            liquidity_consumption=True,
        )
        engine.add_instrument(inst)
    hl, bybit = insts
    data.extend(build_data(hl, a_market))
    # Bybit's book: piecewise markets, each from its start second on
    bounds = [start for start, _ in b_market] + [SECONDS]
    for (start, market), end in zip(b_market, bounds[1:], strict=True):
        data.extend(
            d
            for d in build_data(bybit, market)
            if START_NS + start * SECOND <= d.ts_init < START_NS + end * SECOND
        )
    engine.add_data(sorted(data, key=lambda d: d.ts_init))
    return engine, insts


def _config(insts: list[Any], **fields: Any) -> PerpSpreadConfig:
    return PerpSpreadConfig(
        instrument_ids=tuple(str(i.id) for i in insts),
        trade_data=False,
        interval_ms=500,
        quote_usd_prices={"USDT": "1", "USDC": "1"},
        taker_fee_a="0.00045",
        maker_fee_a="0.00015",
        max_position_usd="6000",
        max_total_usd="6000",
        **fields,
    )


def _rows(database: Database) -> list[StrategyPosition]:
    with database.session() as session:
        rows = list(session.execute(select(StrategyPosition)).scalars())
        session.expunge_all()
    return rows


def _net(engine: BacktestEngine, inst: Any) -> Decimal:
    return sum(
        (
            o.filled_qty.as_decimal() * (1 if o.side == OrderSide.BUY else -1)
            for o in engine.cache.orders(instrument_id=inst.id)
            if o.exec_spawn_id is None or o.client_order_id != o.exec_spawn_id
        ),
        Decimal(0),
    )


def test_taker_enters_on_the_gap_and_unwinds_when_it_closes(tmp_path: Path) -> None:
    hl_market = Market(
        seconds=SECONDS, mid="60000", half_spread="1", level_step="1", level_sizes=("1.00000", "2.00000")
    )
    rich = Market(seconds=SECONDS, mid="60100.0", level_sizes=("1.000", "2.000"))
    flat = Market(seconds=SECONDS, mid="60000.0", level_sizes=("1.000", "2.000"))
    engine, insts = _engine([(0, rich), (20, flat)], hl_market)
    database = Database.open(f"sqlite:///{tmp_path / 'bt.db'}")
    strategy = PerpSpreadStrategy(_config(insts), repository=StrategyRepository(database))
    engine.add_strategy(strategy)
    engine.add_exec_algorithm(AtomicLegsExecAlgorithm())
    try:
        engine.run()
        groups = [g for g in strategy.groups.values() if g.status.value != "REJECTED"]
        entry, exit_ = groups
        assert entry.group_id.startswith("perp_spread-entry")
        assert entry.status.value == exit_.status.value == "HEDGED"
        assert entry.target_quantity == Decimal("0.1")  # the 6000 USD cap at the 60000 mid
        # bought the cheap Hyperliquid, sold the rich Bybit
        long_op, short_op = entry.legs
        assert strategy.results[long_op].instrument_key == KEYS[0]
        assert strategy.results[long_op].side == "BUY"
        assert strategy.results[short_op].instrument_key == KEYS[1]
        assert strategy.positions == {}
        (row,) = _rows(database)
        assert (row.status, row.exit_reason) == ("closed", "SPREAD_CLOSED")
        assert (row.long_venue, row.short_venue) == ("HYPERLIQUID", "BYBIT")
        assert row.entry_divergence > Decimal("0.0005")  # the edge after fees, a fraction
        assert row.closed_at is not None
        assert all(_net(engine, inst) == 0 for inst in insts)
        # the round trip made money: sold Bybit near 60100, bought it back near 60000
        sold = strategy.results[short_op].avg_fill_price
        bought = strategy.results[exit_.legs[1]].avg_fill_price
        assert sold is not None
        assert bought is not None
        assert sold - bought > 90
    finally:
        engine.dispose()
        database.close()


def test_maker_bid_filled_on_hyperliquid_is_hedged_on_bybit(tmp_path: Path) -> None:
    # Hyperliquid's book falls 20 USD a second from 60000 through the resting bid
    hl_market = Market(
        seconds=SECONDS,
        mid="60000",
        half_spread="1",
        level_step="1",
        level_sizes=("1.00000", "2.00000"),
        drift_per_sec="-20",
    )
    bybit = Market(seconds=SECONDS, mid="60000.0", level_sizes=("1.000", "2.000"))
    engine, insts = _engine([(0, bybit)], hl_market)
    database = Database.open(f"sqlite:///{tmp_path / 'bt.db'}")
    strategy = PerpSpreadStrategy(
        _config(
            insts, execution="MAKER", maker_quantity="0.010", max_inventory="0.010", exit_spread_bps="-1000"
        ),
        repository=StrategyRepository(database),
    )
    engine.add_strategy(strategy)
    engine.add_exec_algorithm(AtomicLegsExecAlgorithm())
    try:
        engine.run()
        hedges = strategy.hedges
        assert hedges, list(strategy.results.values())
        assert sum((h.filled for h in hedges), Decimal(0)) == Decimal("0.010")
        assert all(h.side == "SELL" for h in hedges)
        assert strategy.unhedged == 0
        hl, bybit_inst = insts
        assert _net(engine, hl) == Decimal("0.010")
        assert _net(engine, bybit_inst) == Decimal("-0.010")
        # the bid paid against Bybit's bid after Bybit's taker fee, the maker fee and the edge
        maker = [r for op, r in strategy.results.items() if "-maker-" in op and r.fills]
        (filled,) = maker
        assert filled.limit_price is not None
        assert filled.limit_price <= Decimal("59999.5") * (1 - Decimal("0.00055") - Decimal("0.0001")) / (
            1 + Decimal("0.00015") + Decimal("0.0002")
        )
        # a backtest has no latency: the hedge is acknowledged and filled at the fill's time
        assert all(h.time_to_fill_ms is not None and h.time_to_fill_ms >= 0 for h in hedges)
        (row,) = _rows(database)
        assert row.status == "open"
        state = strategy.repository.get_state("perp_spread", "hedge:1")
        assert state["side"] == "SELL"
    finally:
        engine.dispose()
        database.close()
