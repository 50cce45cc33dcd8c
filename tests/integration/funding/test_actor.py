"""The funding actor records streamed funding, mark and index updates from a real engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.actor import FundingCollectorActor
from nautilus_ext.funding.actor import FundingCollectorActorConfig
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database

T0 = 1_700_006_400_000_000_000


def test_actor_writes_every_funding_update_with_mark_and_index(tmp_path: Path) -> None:
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(10_000, USDT)],
        base_currency=None,
    )
    engine.add_instrument(instrument)
    data: list[object] = []
    for i in range(3):
        ts = T0 + i * 4 * NANOS_PER_HOUR
        data.append(MarkPriceUpdate(instrument.id, Price.from_str(f"{50_000 + i}.0"), ts, ts))
        data.append(IndexPriceUpdate(instrument.id, Price.from_str("49990.0"), ts, ts))
        # 4 h funding (interval in minutes); the rate alternates sign
        rate = Decimal("0.0001") * (i + 1) * (-1 if i == 1 else 1)
        data.append(
            FundingRateUpdate(
                instrument.id,
                rate,
                ts + 1_000,
                ts + 1_000,
                next_funding_ns=ts + 4 * NANOS_PER_HOUR,
                interval=240,
            )
        )
    engine.add_data(data)
    database = Database.open(f"sqlite:///{tmp_path / 'actor.db'}")
    repository = FundingRepository(database)
    actor = FundingCollectorActor(
        FundingCollectorActorConfig(instrument_ids=(str(instrument.id),), batch_size=2), repository=repository
    )
    engine.add_actor(actor)
    try:
        engine.run()
        engine.dispose()
        rows = repository.history("BINANCE", "BTC")
        assert actor.written == 3
        assert actor.rejected == 0
        assert [(r.rate, r.interval_hours) for r in rows] == [
            (Decimal("0.0001"), Decimal(4)),
            (Decimal("-0.0002"), Decimal(4)),
            (Decimal("0.0003"), Decimal(4)),
        ]
        assert [r.mark_price for r in rows] == [Decimal(50_000), Decimal(50_001), Decimal(50_002)]
        assert {(r.index_price, r.quote, r.instrument_key) for r in rows} == {
            (Decimal(49_990), "USDT", "BINANCE:PERPETUAL:BTC-USDT@LIN")
        }
        assert rows[0].next_funding_ns == T0 + 4 * NANOS_PER_HOUR
        assert rows[0].rate_per_hour == Decimal("0.000025")
    finally:
        database.close()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({}, "empty"),
        ({"instrument_ids": ("nope",)}, "instrument id"),
        ({"instrument_ids": ("BTCUSDT-PERP.BINANCE",), "batch_size": 0}, "batch_size"),
    ],
)
def test_actor_config_is_checked(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidConfig, match=needle):
        FundingCollectorActorConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_actor_in_a_trading_node_records_the_ccxt_adapters_funding_stream(tmp_path: Path) -> None:
    import asyncio

    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode

    from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
    from nautilus_ext.adapters.ccxt.factories import CcxtLiveDataClientFactory
    from nautilus_ext.testing.eventually import eventually
    from nautilus_ext_testkit.fake_exchange import FakeExchange
    from nautilus_ext_testkit.node_harness import NodeHarness

    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(lambda: ex.bybit.engine.funding.configure("BTCUSDT", rate=Decimal("0.00021"), interval_hours=4))
    ex.call(lambda: ex.bybit.engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")]))
    database = Database.open(f"sqlite:///{tmp_path / 'node.db'}")
    repository = FundingRepository(database)
    instrument_id = "BTCUSDT-LINEAR.BYBIT"

    def build(loop: asyncio.AbstractEventLoop) -> TradingNode:
        config = TradingNodeConfig(
            trader_id="FUNDING-001",
            logging=LoggingConfig(log_level="ERROR"),
            data_clients={
                "BYBIT": CcxtDataClientConfig(
                    exchange_id="bybit",
                    venue="BYBIT",
                    market_types=("linear",),
                    rest_url_override=ex.base_url,
                    ws_url_override=ex.ws_url,
                    enable_rate_limit=False,
                    poll_interval_ms=200,
                )
            },
            timeout_connection=20.0,
            timeout_disconnection=5.0,
            timeout_post_stop=0.5,
        )
        node = TradingNode(config=config, loop=loop)
        node.add_data_client_factory("BYBIT", CcxtLiveDataClientFactory)
        node.trader.add_actor(
            FundingCollectorActor(
                FundingCollectorActorConfig(instrument_ids=(instrument_id,), batch_size=1),
                repository=repository,
            )
        )
        node.build()
        return node

    harness = NodeHarness(build)
    try:
        harness.start()
        eventually(lambda: bool(repository.history("BYBIT", "BTC")), timeout_secs=20)
        [row] = repository.history("BYBIT", "BTC")[:1]
        assert (row.rate, row.interval_hours, row.quote) == (Decimal("0.00021"), Decimal(4), "USDT")
        assert row.instrument_key == "BYBIT:PERPETUAL:BTC-USDT@LIN"
        next_ms = ex.call(lambda: ex.bybit.engine.funding.state("BTCUSDT").next_funding_ms)
        assert row.next_funding_ns == next_ms * 1_000_000
    finally:
        harness.stop()
        database.close()
        ex.stop_thread()
