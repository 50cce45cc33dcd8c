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
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.repository import FundingRepository

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
