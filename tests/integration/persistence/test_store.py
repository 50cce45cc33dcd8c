"""The SQL store on SQLite and PostgreSQL: migrations, exact decimals, UTC, idempotent upserts."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.funding import FundingRateSample
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database
from nautilus_ext.persistence.models import FundTransfer
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.repository import StrategyRepository

T0 = 1_735_689_600 * 1_000_000_000  # 2025-01-01T00:00:00Z
HOUR = 3_600 * 1_000_000_000
TABLES = [
    "fund_transfers",
    "funding_payments",
    "funding_rates",
    "position_fills",
    "position_marks",
    "strategy_positions",
    "strategy_state",
    "symbols",
    "venue_margins",
    "venues",
]


def _sample(
    venue: str = "BINANCE", ts_ns: int = T0, rate: str = "0.000123456789012345", **kw: object
) -> FundingRateSample:
    fields: dict[str, object] = {
        "venue": venue,
        "instrument_key": f"{venue}:PERPETUAL:BTC-USDT@LIN",
        "base": "BTC",
        "quote": "USDT",
        "rate": Decimal(rate),
        "interval_hours": Decimal(8),
        "ts_ns": ts_ns,
        "next_funding_ns": ts_ns + 8 * HOUR,
        "mark_price": Decimal("97123.456789012345"),
        "index_price": Decimal("97120.5"),
        "open_interest": Decimal("81234.123"),
        "volume_24h": Decimal("12345678901.25"),
    }
    fields.update(kw)
    return FundingRateSample(**fields)  # type: ignore[arg-type]


def test_migrations_up_and_down(db_url: str) -> None:
    database = Database.open(db_url)
    try:
        assert database.current_revision() == "0002"
        assert [t for t in database.table_names() if t != "alembic_version"] == TABLES
        database.downgrade("base")
        assert [t for t in database.table_names() if t != "alembic_version"] == []
        database.upgrade()
        assert database.current_revision() == "0002"
    finally:
        database.close()


def test_rates_round_trip_exactly_and_in_utc(database: Database) -> None:
    repo = FundingRepository(database)
    sample = _sample()
    assert repo.upsert_rates([sample]) == 1
    (back,) = repo.latest_rates()
    assert back == sample
    assert back.rate == Decimal("0.000123456789012345")
    assert back.mark_price == Decimal("97123.456789012345")


def test_recollecting_the_same_timestamp_never_duplicates(database: Database) -> None:
    repo = FundingRepository(database)
    repo.upsert_rates([_sample(), _sample(ts_ns=T0 + 8 * HOUR)])
    repo.upsert_rates([_sample(rate="0.0002"), _sample(ts_ns=T0 + 8 * HOUR)])
    assert repo.count() == 2
    history = repo.history("binance", "btc")
    assert [s.ts_ns for s in history] == [T0, T0 + 8 * HOUR]
    assert history[0].rate == Decimal("0.0002")  # the re-collected value replaced the first


def test_a_key_repeated_in_one_write_keeps_its_last_sample(database: Database) -> None:
    repo = FundingRepository(database)
    written = repo.upsert_rates([_sample(rate="0.0001"), _sample(ts_ns=T0 + HOUR), _sample(rate="0.0003")])
    assert written == 3
    assert repo.count() == 2
    assert [s.rate for s in repo.history("BINANCE", "BTC")] == [
        Decimal("0.0003"),
        Decimal("0.000123456789012345"),
    ]


def test_usdt_and_usdc_perps_of_one_venue_are_kept_apart(database: Database) -> None:
    repo = FundingRepository(database)
    usdc = _sample(quote="USDC", instrument_key="BINANCE:PERPETUAL:BTC-USDC@LIN", rate="-0.0001")
    repo.upsert_rates([_sample(), usdc])
    latest = {s.quote: s.rate for s in repo.latest_rates()}
    assert latest == {"USDT": Decimal("0.000123456789012345"), "USDC": Decimal("-0.0001")}


def test_latest_rates_per_venue(database: Database) -> None:
    repo = FundingRepository(database)
    repo.upsert_rates(
        [_sample(ts_ns=T0), _sample(ts_ns=T0 + HOUR, rate="0.0003"), _sample(venue="BYBIT", rate="0.0001")]
    )
    latest = {s.venue: (s.ts_ns, s.rate) for s in repo.latest_rates()}
    assert latest == {"BINANCE": (T0 + HOUR, Decimal("0.0003")), "BYBIT": (T0, Decimal("0.0001"))}
    assert [s.venue for s in repo.latest_rates(venues=["bybit"])] == ["BYBIT"]
    assert [s.ts_ns for s in repo.history("BINANCE", "BTC", since_ns=T0 + 1)] == [T0 + HOUR]


def test_venue_fees_are_fractions(database: Database) -> None:
    repo = FundingRepository(database)
    repo.upsert_venue("bybit", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.00055"))
    repo.upsert_venue("bybit", maker_fee_rate=Decimal("0.0001"), taker_fee_rate=Decimal("0.00055"))
    fees = repo.venue_fees()["BYBIT"]
    assert (fees.maker, fees.taker) == (Decimal("0.0001"), Decimal("0.00055"))
    with pytest.raises(InvalidConfig, match="taker_fee_rate"):
        repo.upsert_venue("bybit", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.055"))


def test_positions_payments_state_and_transfers(database: Database) -> None:
    repo = StrategyRepository(database)
    opened = datetime(2025, 1, 1, 8, tzinfo=timezone(timedelta(hours=2)))
    position_id = repo.add_position(
        StrategyPosition(
            strategy_name="carry",
            symbol="BTC",
            long_venue="BYBIT",
            short_venue="BINANCE",
            size_usd=Decimal("10000"),
            entry_long_rate=Decimal("0.0001"),
            entry_short_rate=Decimal("0.0004"),
            entry_divergence=Decimal("0.0003"),
            opened_at=opened,
        )
    )
    (position,) = repo.open_positions("carry")
    assert position.opened_at == opened
    assert position.opened_at.tzinfo is UTC
    paid = datetime(2025, 1, 1, 8, tzinfo=UTC)
    payment = {
        "position_id": position_id, "venue": "binance", "symbol": "BTC", "funding_rate": Decimal("0.0004"),
        "amount": Decimal("4.000000000001"), "currency": "USDT", "payment_time": paid,
    }  # fmt: skip
    assert repo.record_funding_payment(**payment) is True
    assert repo.record_funding_payment(**payment) is False  # a restart re-reading history
    assert repo.record_funding_payment(**{**payment, "payment_time": paid + timedelta(hours=8)}) is True
    assert repo.cumulative_funding(position_id) == Decimal("8.000000000002")
    (position,) = repo.open_positions("carry")
    assert position.cumulative_funding == Decimal("8.000000000002")
    repo.update_position(position_id, status="closed", exit_reason="FUNDING_FLIP", closed_at=paid)
    assert repo.open_positions("carry") == []
    with pytest.raises(InvalidConfig, match="unknown strategy position fields"):
        repo.update_position(position_id, colour="red")

    repo.set_state("carry", "cursor", {"last": 1})
    repo.set_state("carry", "cursor", {"last": 2})
    assert repo.get_state("carry", "cursor") == {"last": 2}
    assert repo.get_state("carry", "missing", default=0) == 0
    transfer_id = repo.record_transfer(
        FundTransfer(
            from_venue="BINANCE", to_venue="WALLET", asset="ETH", amount=Decimal("1.5"), initiated_at=paid
        )
    )
    assert isinstance(transfer_id, uuid.UUID)


@pytest.mark.parametrize(
    "bad",
    [0.1, Decimal("NaN"), Decimal("1e-19"), Decimal("1e30")],
)
def test_money_columns_refuse_inexact_values(database: Database, bad: object) -> None:
    repo = StrategyRepository(database)
    with pytest.raises(InvalidConfig):
        repo.record_transfer(
            FundTransfer(
                from_venue="A",
                to_venue="B",
                asset="USDT",
                amount=bad,
                initiated_at=datetime.now(UTC),  # type: ignore[arg-type]
            )
        )


def test_naive_timestamps_are_refused(database: Database) -> None:
    repo = StrategyRepository(database)
    with pytest.raises(InvalidConfig, match="timezone-aware"):
        repo.record_transfer(
            FundTransfer(
                from_venue="A",
                to_venue="B",
                asset="USDT",
                amount=Decimal(1),
                initiated_at=datetime(2025, 1, 1),
            )
        )


def test_bad_urls_are_typed_errors_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig, match="mysql"):
        Database.open("mysql://u:hunter2@localhost/x")
    with pytest.raises(InvalidConfig, match="does not exist"):
        Database.open(f"sqlite:///{tmp_path}/missing/dir/store.db")
    with pytest.raises(InvalidConfig):
        Database.open("not a url")
    with pytest.raises(VenueUnavailable) as info:
        Database.open("postgresql://u:hunter2@127.0.0.1:1/x")
    assert info.value.code is ErrorCode.VENUE_UNAVAILABLE
    assert "hunter2" not in str(info.value)


def test_the_finder_reads_the_store(database: Database) -> None:
    from nautilus_ext.funding.finder import OpportunityFilter
    from nautilus_ext.funding.finder import OpportunityFinder

    repo = FundingRepository(database)
    repo.upsert_venue("BINANCE", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.0005"))
    repo.upsert_venue("BYBIT", maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.00055"))
    repo.upsert_rates([_sample(rate="0.0008"), _sample(venue="BYBIT", rate="-0.00008")])
    finder = OpportunityFinder(repo, quote_prices={"USDT": Decimal(1)})
    (best,) = finder.find(OpportunityFilter()).opportunities
    assert (best.long.venue, best.short.venue) == ("BYBIT", "BINANCE")
    assert best.divergence_per_hour == Decimal("0.00011")
    assert best.fee_cost == Decimal("0.0021")
