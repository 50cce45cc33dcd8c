"""
The same funding carry strategy in a BacktestEngine over two perpetual venues' books and funding
updates: it enters on the divergence (both legs through ATOMIC_LEGS), records nothing it did not
see settle, and exits on the flip. Funding settlement in backtests is another issue's work.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.config import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Money

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithm
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.records import PositionRecords
from nautilus_ext.persistence.repository import StrategyRepository
from nautilus_ext.strategies.funding_carry import FundingCarryConfig
from nautilus_ext.strategies.funding_carry import FundingCarryStrategy
from tests.integration.execution_algos.conftest import SECOND
from tests.integration.execution_algos.conftest import START_NS
from tests.integration.execution_algos.conftest import Market
from tests.integration.execution_algos.conftest import build_data

KEYS = ("BYBIT:PERPETUAL:BTC-USDT@LIN", "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
HOUR_NS = 3600 * SECOND


def test_backtest_enters_on_divergence_and_exits_on_the_flip(tmp_path: Path) -> None:
    registry = InstrumentRegistry.default()
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    data: list[object] = []
    insts = [build_instrument(registry.get(k), registry) for k in KEYS]
    for inst in insts:
        engine.add_venue(
            inst.id.venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=[Money(1_000_000, USDT)],
            base_currency=None,
            book_type=BookType.L2_MBP,
            fee_model=MakerTakerFeeModel(),
            liquidity_consumption=True,
        )
        engine.add_instrument(inst)
        data.extend(build_data(inst, Market(seconds=40, mid="60000.0", level_sizes=("1.000", "2.000"))))
    bybit, binance = insts
    next_ns = START_NS + 8 * HOUR_NS

    def rate(inst: object, value: str, at_secs: int) -> FundingRateUpdate:
        ts = START_NS + at_secs * SECOND
        return FundingRateUpdate(inst.id, Decimal(value), ts, ts, next_funding_ns=next_ns, interval=480)  # type: ignore[attr-defined]

    data += [rate(bybit, "0.0003", 1), rate(binance, "0.00001", 1), rate(bybit, "0", 20)]
    engine.add_data(sorted(data, key=lambda d: d.ts_init))  # type: ignore[attr-defined]
    database = Database.open(f"sqlite:///{tmp_path / 'bt.db'}")
    repository = StrategyRepository(database)
    strategy = FundingCarryStrategy(
        FundingCarryConfig(
            instrument_ids=tuple(str(i.id) for i in insts),
            trade_data=False,
            interval_secs=1,
            max_position_usd="6000",
            quote_usd_prices={"USDT": "1"},
        ),
        repository=repository,
    )
    engine.add_strategy(strategy)
    engine.add_exec_algorithm(AtomicLegsExecAlgorithm())
    try:
        engine.run()
        entry, exit_ = (g for g in strategy.groups.values() if g.status.value != "REJECTED")
        assert entry.group_id.startswith("funding_carry-entry")
        assert entry.status.value == exit_.status.value == "HEDGED"
        assert entry.target_quantity == Decimal("0.1")  # 6000 USDT cap at 60000
        assert strategy.positions == {}
        (row,) = _positions(database)
        assert (row.status, row.exit_reason) == ("closed", "FUNDING_FLIP")
        assert row.long_venue == "BINANCE-FUTURES"
        assert row.short_venue == "BYBIT"
        assert row.cumulative_funding == 0  # no funding time passed in these 40 s
        # the carry report's records: both legs' fills of the entry and the exit, a mark per cycle
        history = PositionRecords(database).history(["funding_carry"])
        assert sorted((f.intent, f.leg, f.side) for f in history.fills) == [
            ("ENTRY", "LONG", "BUY"),
            ("ENTRY", "SHORT", "SELL"),
            ("EXIT", "LONG", "SELL"),
            ("EXIT", "SHORT", "BUY"),
        ]
        assert {f.quantity for f in history.fills} == {Decimal("0.1")}
        assert history.marks
        assert {m.venue for m in history.margins} == {"BINANCE-FUTURES", "BYBIT"}
        for inst in insts:
            net = sum(
                (o.filled_qty.as_decimal() * (1 if o.side == OrderSide.BUY else -1))
                for o in engine.cache.orders(instrument_id=inst.id)
                if o.exec_spawn_id is not None and o.client_order_id != o.exec_spawn_id
            )
            assert net == 0
    finally:
        engine.dispose()
        database.close()


def _positions(database: Database) -> list[Any]:
    from sqlalchemy import select

    from nautilus_ext.persistence.models import StrategyPosition

    with database.session() as session:
        rows = list(session.execute(select(StrategyPosition)).scalars())
        session.expunge_all()
    return rows
