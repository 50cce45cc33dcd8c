"""The collector fills the store from the fake venues, idempotently, normalised, with backoff."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from decimal import Decimal

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.funding.collector import FundingCollector
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.store import FundingRepository
from nautilus_ext.persistence import Database
from nautilus_ext_testkit.fake_exchange import FakeExchange

from .conftest import GAP_AT
from .conftest import HISTORY
from .conftest import INDEX
from .conftest import MARK
from .conftest import OPEN_INTEREST
from .conftest import VOLUME
from .conftest import collector_config

T0 = 1_796_000_000_000_000_000  # a fixed poll time (the bucket start is derived from it)


def _collector(ex: FakeExchange, repository: FundingRepository, **overrides: object) -> FundingCollector:
    sleeps: list[float] = []

    async def sleep(secs: float) -> None:
        sleeps.append(secs)

    collector = FundingCollector(
        collector_config(ex, **overrides), repository, clock_ns=lambda: T0, sleep=sleep, random_fn=lambda: 0.5
    )
    collector.sleeps = sleeps  # type: ignore[attr-defined]
    return collector


async def _poll(
    ex: FakeExchange, repository: FundingRepository, **overrides: object
) -> tuple[object, list[float]]:
    async with _collector(ex, repository, **overrides) as collector:
        report = await collector.poll_once()
        return report, collector.sleeps  # type: ignore[attr-defined]


def test_collect_fills_the_store_and_is_idempotent(fake: FakeExchange, db_url: str) -> None:
    database = Database.open(db_url)
    repository = FundingRepository(database)
    try:
        report, _ = asyncio.run(_poll(fake, repository))
        assert report.failed == []  # type: ignore[attr-defined]
        assert report.written == 8  # type: ignore[attr-defined]  # 4 venues x BTC, ETH
        rows = {(s.venue, s.base): s for s in repository.latest_rates()}
        assert sorted(rows) == sorted(
            (v, b) for v in ("BYBIT", "BINANCE", "OKX", "HYPERLIQUID") for b in ("BTC", "ETH")
        )
        next_funding = {
            venue: fake.call(
                lambda v=venue: (
                    getattr(fake, v)
                    .engine.funding.state(next(iter(getattr(fake, v).engine.markets)))
                    .next_funding_ms
                )
            )
            for venue in ("bybit", "binance", "okx", "hyperliquid")
        }
        for (venue, _), s in rows.items():
            assert s.ts_ns == T0 - T0 % (60 * 10**9)
            assert not s.settled
            assert s.next_funding_ns == next_funding[venue.lower()] * 1_000_000
            assert s.mark_price == MARK
            assert s.open_interest == OPEN_INTEREST
            if venue != "OKX":  # OKX's funding and mark endpoints carry no index price
                assert s.index_price == INDEX
            assert s.volume_24h == VOLUME
        assert rows["BYBIT", "BTC"].instrument_key == "BYBIT:PERPETUAL:BTC-USDT@LIN"
        assert rows["HYPERLIQUID", "BTC"].quote == "USDC"
        assert rows["BINANCE", "BTC"].quote == "USDT"

        # the same poll again: the rows are updated in place, never duplicated
        fake.call(lambda: fake.bybit.engine.funding.configure("BTCUSDT", rate=Decimal("0.0003")))
        asyncio.run(_poll(fake, repository))
        assert repository.count() == 8
        latest = {(s.venue, s.base): s for s in repository.latest_rates()}
        assert latest["BYBIT", "BTC"].rate == Decimal("0.0003")
    finally:
        database.close()


def test_intervals_and_signs_are_normalised_per_venue(fake: FakeExchange, sqlite_url: str) -> None:
    def configure() -> None:
        # Hyperliquid: hourly; Binance: 8 h on BTC, 4 h on ETH (fundingInfo); Bybit ETH: 4 h
        fake.hyperliquid.engine.funding.configure("BTC", rate=Decimal("0.0000125"))
        fake.binance.engine.funding.configure("BTCUSDT", rate=Decimal("0.0001"))
        fake.binance.engine.funding.configure("ETHUSDT", rate=Decimal("-0.0002"), interval_hours=4)
        fake.bybit.engine.funding.configure("ETHUSDT", rate=Decimal("0.00005"), interval_hours=4)
        # OKX publishes the next period's predicted rate
        fake.okx.engine.funding.configure("BTC-USDT-SWAP", predicted_rate=Decimal("-0.00007"))

    fake.call(configure)
    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)
        asyncio.run(_poll(fake, repository))
        rows = {(s.venue, s.base): s for s in repository.latest_rates()}
        hl, bn = rows["HYPERLIQUID", "BTC"], rows["BINANCE", "BTC"]
        assert (hl.interval_hours, bn.interval_hours) == (Decimal(1), Decimal(8))
        # 0.00125% per hour vs 0.01% per 8 h: the same carry once normalised
        assert hl.rate_per_hour == bn.rate_per_hour == Decimal("0.0000125")
        assert hl.apr == bn.apr == Decimal("0.1095")
        eth = rows["BINANCE", "ETH"]
        assert eth.interval_hours == Decimal(4)
        assert eth.rate == Decimal("-0.0002")  # negative: shorts pay longs, kept as quoted
        assert eth.rate_per_hour == Decimal("-0.00005")
        assert rows["BYBIT", "ETH"].interval_hours == Decimal(4)
        assert rows["OKX", "BTC"].interval_hours == Decimal(8)
        assert rows["OKX", "BTC"].predicted_rate == Decimal("-0.00007")
        assert rows["BYBIT", "BTC"].predicted_rate is None
    finally:
        database.close()


def test_retryable_failures_back_off_and_a_dead_venue_is_reported(
    fake: FakeExchange, sqlite_url: str
) -> None:
    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)

        def rate_limit(n: int) -> None:
            fake.faults.fault_path_prefix = "/v5/market/tickers"
            fake.faults.http_429_next = n

        # two 429s on Bybit's tickers: retried with backoff, then collected
        fake.call(lambda: rate_limit(2))
        report, sleeps = asyncio.run(_poll(fake, repository, max_retries=3, backoff_initial_ms=100))
        bybit = next(v for v in report.venues if v.venue == "BYBIT")  # type: ignore[attr-defined]
        assert (bybit.attempts, bybit.error, bybit.written) == (3, None, 2)
        assert sleeps == [0.075, 0.15]  # full jitter at 0.5: 3/4 of 100 ms, then of 200 ms

        # Bybit keeps refusing: reported with a typed, retryable error; the others still land
        fake.call(lambda: rate_limit(50))
        report, sleeps = asyncio.run(_poll(fake, repository, max_retries=2, backoff_initial_ms=100))
        failed = report.failed  # type: ignore[attr-defined]
        assert [v.venue for v in failed] == ["BYBIT"]
        assert failed[0].attempts == 3
        assert failed[0].error.code is ErrorCode.RATE_LIMITED
        assert failed[0].error.retryable
        assert report.written == 6  # type: ignore[attr-defined]
        fake.call(lambda: rate_limit(0))
    finally:
        database.close()


def test_unknown_symbol_is_a_typed_error_not_a_retry(fake: FakeExchange, sqlite_url: str) -> None:
    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)
        config = collector_config(fake)
        bad = config.model_copy(
            update={"venues": [config.venues[0].model_copy(update={"symbols": ["NOPE"]}), *config.venues[1:]]}
        )
        collector = FundingCollector(bad, repository, clock_ns=lambda: T0)

        async def run() -> object:
            async with collector:
                return await collector.poll_once()

        report = asyncio.run(run())
        failed = report.failed  # type: ignore[attr-defined]
        assert [(v.venue, v.attempts, v.error.code) for v in failed] == [
            ("BYBIT", 1, ErrorCode.INVALID_CONFIG)
        ]
        assert "NOPE" in failed[0].error.message
    finally:
        database.close()


def test_backfill_reads_history_and_reports_the_gap(fake: FakeExchange, sqlite_url: str) -> None:
    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)
        states = fake.call(
            lambda: {
                v: getattr(fake, v).engine.funding.state(next(iter(getattr(fake, v).engine.markets)))
                for v in ("bybit", "binance", "okx", "hyperliquid")
            }
        )
        earliest = min(s.next_funding_ms - len(HISTORY) * s.interval_ms for s in states.values()) * 10**6
        latest = max(s.next_funding_ms for s in states.values()) * 10**6
        pages: list[int] = []

        async def run() -> object:
            async with FundingCollector(collector_config(fake), repository) as collector:
                return await collector.backfill(earliest, latest, on_page=pages.append)

        report = asyncio.run(run())
        assert report.errors == []  # type: ignore[attr-defined]
        settled = len(HISTORY) - 1  # one left out
        assert report.written == 8 * settled  # type: ignore[attr-defined]
        assert sum(pages) == report.written  # type: ignore[attr-defined]
        gaps = {(g.venue, g.base): g for g in report.gaps}  # type: ignore[attr-defined]
        assert len(gaps) == 8
        for venue, state in states.items():
            g = gaps[venue.upper(), "BTC"]
            first = state.next_funding_ms - len(HISTORY) * state.interval_ms
            assert g.missing == 1
            assert g.first_missing_ns == (first + GAP_AT * state.interval_ms) * 10**6
            assert g.interval_hours == Decimal(state.interval_hours)
        history = repository.history("HYPERLIQUID", "BTC")
        settled_rows = [s for s in history if s.settled]
        assert [s.rate for s in settled_rows] == [r for i, r in enumerate(HISTORY) if i != GAP_AT]
        assert {s.interval_hours for s in settled_rows} == {Decimal(1)}
        assert all(
            b.ts_ns - a.ts_ns in (NANOS_PER_HOUR, 2 * NANOS_PER_HOUR)
            for a, b in itertools.pairwise(settled_rows)
        )

        # a second backfill of the same range writes the same rows again, no duplicates
        count = repository.count()
        asyncio.run(run())
        assert repository.count() == count
    finally:
        database.close()


@pytest.mark.parametrize("since_offset", [0, 1])
def test_backfill_refuses_an_empty_range(fake: FakeExchange, sqlite_url: str, since_offset: int) -> None:
    from nautilus_ext.errors import InvalidConfig

    database = Database.open(sqlite_url)
    try:
        collector = FundingCollector(collector_config(fake), FundingRepository(database))

        async def run() -> None:
            async with collector:
                await collector.backfill(T0 + since_offset, T0)

        with pytest.raises(InvalidConfig, match="empty"):
            asyncio.run(run())
    finally:
        database.close()


def test_a_batch_with_one_key_twice_keeps_the_last(db_url: str) -> None:
    from nautilus_ext.funding.model import FundingRateSample

    def sample(rate: str, settled: bool = True) -> FundingRateSample:
        return FundingRateSample(
            venue="BYBIT",
            instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
            base="BTC",
            quote="USDT",
            rate=Decimal(rate),
            interval_hours=Decimal(8),
            ts_ns=T0,
            settled=settled,
        )

    database = Database.open(db_url)
    try:
        repository = FundingRepository(database)
        assert repository.upsert_rates([sample("0.0001"), sample("0.0004")]) == 2
        assert repository.upsert_rates([]) == 0
        assert [s.rate for s in repository.history("BYBIT", "BTC")] == [Decimal("0.0004")]
        # a poll that lands on the funding time does not overwrite the settled rate ...
        repository.upsert_rates([sample("0.0009", settled=False)])
        assert [(s.rate, s.settled) for s in repository.history("BYBIT", "BTC")] == [
            (Decimal("0.0004"), True)
        ]
        # ... while a settlement replaces an indicative rate stamped at its time
        later = dataclasses.replace(sample("0.0002", settled=False), ts_ns=T0 + 8 * NANOS_PER_HOUR)
        repository.upsert_rates([later])
        repository.upsert_rates([dataclasses.replace(later, rate=Decimal("0.0003"), settled=True)])
        assert [(s.rate, s.settled) for s in repository.history("BYBIT", "BTC")] == [
            (Decimal("0.0004"), True),
            (Decimal("0.0003"), True),
        ]
    finally:
        database.close()


def test_run_polls_at_the_cadence_until_told_to_stop(fake: FakeExchange, sqlite_url: str) -> None:
    clock = [T0]
    waits: list[float] = []

    async def sleep(secs: float) -> None:
        waits.append(secs)
        clock[0] += int(secs * 1e9)  # time passes only when the collector waits

    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)
        collector = FundingCollector(
            collector_config(fake), repository, clock_ns=lambda: clock[0] + 5 * 10**9, sleep=sleep
        )

        async def run() -> list[object]:
            async with collector:
                return await collector.run(max_polls=3)  # type: ignore[return-value]

        reports = asyncio.run(run())
        assert [r.written for r in reports] == [8, 8, 8]  # type: ignore[attr-defined]
        first_wait = (60 * 10**9 - (T0 + 5 * 10**9) % (60 * 10**9)) / 1e9
        assert waits == [first_wait, 60.0]  # to the next 60 s bucket boundary, then a full bucket
        buckets = sorted({s.ts_ns for s in repository.history("BYBIT", "BTC")})
        assert [b - buckets[0] for b in buckets] == [0, 60 * 10**9, 120 * 10**9]

        stop = asyncio.Event()
        stop.set()

        async def stopped() -> list[object]:
            return await collector.run(stop=stop)  # type: ignore[return-value]

        assert asyncio.run(stopped()) == []
    finally:
        database.close()


def test_aster_is_collected_and_backfilled_like_binance(fake: FakeExchange, sqlite_url: str) -> None:
    def seed() -> None:
        engine = fake.aster.engine
        engine.funding.configure("BTCUSDT", rate=Decimal("0.00009"), interval_hours=4, mark_price=MARK)
        engine.funding.seed_history("BTCUSDT", HISTORY)

    fake.call(seed)
    config = collector_config(fake).model_copy(
        update={
            "venues": [
                collector_config(fake)
                .venues[0]
                .model_copy(
                    update={
                        "exchange_id": "aster",
                        "symbols": ["BTC/USDT:USDT"],
                        "rest_url_override": fake.base_url + "/aster",
                        "ws_url_override": fake.ws_url + "/aster",
                    }
                )
            ]
        }
    )
    database = Database.open(sqlite_url)
    try:
        repository = FundingRepository(database)
        state = fake.call(lambda: fake.aster.engine.funding.state("BTCUSDT"))

        async def run() -> object:
            async with FundingCollector(config, repository, clock_ns=lambda: T0) as collector:
                await collector.poll_once()
                return await collector.backfill(
                    (state.next_funding_ms - 10 * state.interval_ms) * 10**6, state.next_funding_ms * 10**6
                )

        report = asyncio.run(run())
        assert report.errors == []  # type: ignore[attr-defined]
        assert report.written == len(HISTORY)  # type: ignore[attr-defined]
        rows = repository.history("ASTER", "BTC")
        current = [r for r in rows if not r.settled]
        assert [(r.rate, r.interval_hours, r.mark_price) for r in current] == [
            (Decimal("0.00009"), Decimal(4), MARK)
        ]
        assert [r.rate for r in rows if r.settled] == HISTORY
        assert {r.interval_hours for r in rows if r.settled} == {Decimal(4)}
    finally:
        database.close()
