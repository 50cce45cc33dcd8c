"""
The funding collector: poll every configured venue at a cadence and write the store.

:class:`FundingCollector` polls each venue's :class:`~nautilus_ext.funding.sources.CcxtFundingSource`
concurrently, retries retryable failures (network, timeouts, rate limits) with the ccxt
adapter's pure :func:`~nautilus_ext.adapters.ccxt.errors.should_retry` and full-jitter
:func:`~nautilus_ext.adapters.ccxt.errors.backoff_delay`, reports the venues that still failed,
and writes what it got with :meth:`FundingRepository.upsert_rates`.

**Idempotent polls.** An indicative sample is stamped with the start of its poll bucket
(``poll_interval_secs``), not the wall clock, so polling twice within one bucket (a restarted
service, ``collect --once`` run twice) updates the same rows instead of adding near-duplicates;
settled history is keyed by the funding time itself.

:meth:`FundingCollector.backfill` reads each venue's history endpoint over a time range and
reports the gaps left in the store afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from nautilus_ext.adapters.ccxt.errors import backoff_delay
from nautilus_ext.adapters.ccxt.errors import should_retry
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.funding.config import FundingCollectorConfig
from nautilus_ext.funding.history import FundingGap
from nautilus_ext.funding.history import detect_gaps
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.sources import CcxtFundingSource
from nautilus_ext.funding.sources import FundingMarket
from nautilus_ext.funding.store import FundingRepository

log = logging.getLogger(__name__)


class FundingSource(Protocol):
    """What the collector needs from a venue (``CcxtFundingSource`` is the implementation)."""

    venue: str

    async def markets(self) -> list[FundingMarket]: ...

    async def current(self, ts_ns: int) -> list[FundingRateSample]: ...

    async def history(
        self,
        market: FundingMarket,
        since_ns: int,
        until_ns: int,
        *,
        on_page: Callable[[int], None] | None = None,
    ) -> list[FundingRateSample]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class VenuePoll:
    """What one venue gave in one poll."""

    venue: str
    written: int
    attempts: int
    error: NautilusExtError | None = None


@dataclass(frozen=True, slots=True)
class PollReport:
    """One poll of every venue."""

    ts_ns: int
    venues: list[VenuePoll]
    elapsed_secs: float

    @property
    def written(self) -> int:
        """Samples written to the store."""
        return sum(v.written for v in self.venues)

    @property
    def failed(self) -> list[VenuePoll]:
        """The venues that failed after their retries."""
        return [v for v in self.venues if v.error is not None]


@dataclass(frozen=True, slots=True)
class SeriesBackfill:
    """The backfill of one perpetual."""

    venue: str
    symbol: str
    written: int


@dataclass(slots=True)
class BackfillReport:
    """A backfill over a time range: rows written per perpetual and the gaps left."""

    since_ns: int
    until_ns: int
    series: list[SeriesBackfill] = field(default_factory=list)
    gaps: list[FundingGap] = field(default_factory=list)
    errors: list[tuple[str, NautilusExtError]] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Settled samples written."""
        return sum(s.written for s in self.series)


class FundingCollector:
    """
    Poll venues for funding rates and write them to the store.

    Parameters
    ----------
    config : FundingCollectorConfig
        Venues, cadence and retry policy.
    repository : FundingRepository
        The store to write.
    sources : dict[str, FundingSource], optional
        Sources by exchange id (default: a :class:`CcxtFundingSource` per configured venue).
    clock_ns : Callable[[], int], optional
        Wall clock in UNIX ns (injected in tests; default ``time.time_ns``).
    sleep : Callable[[float], Awaitable[None]], optional
        Sleeps between retries and polls (default ``asyncio.sleep``).
    random_fn : Callable[[], float], optional
        Jitter source for the backoff (default ``random.random``).
    """

    def __init__(
        self,
        config: FundingCollectorConfig,
        repository: FundingRepository,
        *,
        sources: dict[str, FundingSource] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random_fn: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.repository = repository
        self.sources: dict[str, FundingSource] = sources or {
            v.exchange_id: CcxtFundingSource(v) for v in config.venues
        }
        self._clock_ns = clock_ns
        self._sleep = sleep
        self._random = random_fn
        self._bucket_ns = int(config.poll_interval_secs * 1_000_000_000)

    async def close(self) -> None:
        """Close every venue session."""
        for source in self.sources.values():
            await source.close()

    async def __aenter__(self) -> FundingCollector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- polling ------------------------------------------------------------------------------

    async def poll_once(self) -> PollReport:
        """Poll every venue once (concurrently) and write the samples; never raises for a venue."""
        started = time.perf_counter()
        now = self._clock_ns()
        ts = now - now % self._bucket_ns
        results = await asyncio.gather(*(self._poll_venue(s, ts) for s in self.sources.values()))
        samples = [sample for _, batch in results for sample in batch]
        if samples:
            await asyncio.to_thread(self.repository.upsert_rates, samples)
        report = PollReport(ts, [r for r, _ in results], time.perf_counter() - started)
        for failed in report.failed:
            log.warning(
                "Funding poll of %s failed after %d attempts: %s",
                failed.venue,
                failed.attempts,
                failed.error,
                extra={"venue": failed.venue, "code": str(failed.error.code) if failed.error else None},
            )
        return report

    async def _poll_venue(
        self, source: FundingSource, ts_ns: int
    ) -> tuple[VenuePoll, list[FundingRateSample]]:
        attempt = 0
        while True:
            attempt += 1
            try:
                samples = await source.current(ts_ns)
            except NautilusExtError as e:
                if isinstance(e, InvalidConfig) or not should_retry(e, attempt, self.config.max_retries):
                    return VenuePoll(source.venue, 0, attempt, e), []
                delay = backoff_delay(
                    attempt, self.config.backoff_initial_ms, self.config.backoff_max_ms, self._random
                )
                log.info("Retrying %s in %.2fs after: %s", source.venue, delay, e)
                await self._sleep(delay)
                continue
            return VenuePoll(source.venue, len(samples), attempt), samples

    async def run(
        self, *, stop: asyncio.Event | None = None, max_polls: int | None = None
    ) -> list[PollReport]:
        """
        Poll at the configured cadence until ``stop`` is set or ``max_polls`` polls are done.

        Returns the reports of every poll.
        """
        reports: list[PollReport] = []
        stop = stop or asyncio.Event()
        log.info(
            "Funding collector: %d venues, every %.1fs",
            len(self.sources),
            self.config.poll_interval_secs,
            extra={"venues": sorted(self.sources)},
        )
        while not stop.is_set() and (max_polls is None or len(reports) < max_polls):
            reports.append(await self.poll_once())
            if max_polls is not None and len(reports) >= max_polls:
                break
            wait = self._bucket_ns - self._clock_ns() % self._bucket_ns
            sleeper = asyncio.ensure_future(self._sleep(wait / 1e9))
            stopper = asyncio.ensure_future(stop.wait())
            _, pending = await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return reports

    # -- history ------------------------------------------------------------------------------

    async def backfill(
        self,
        since_ns: int,
        until_ns: int,
        *,
        on_page: Callable[[int], None] | None = None,
    ) -> BackfillReport:
        """
        Read every configured perpetual's settled history in ``[since_ns, until_ns]`` into the
        store, then report the gaps the store still has over that range.

        A venue that fails is reported in ``errors`` and the others go on.

        Raises
        ------
        InvalidConfig
            If ``since_ns`` is not before ``until_ns``.
        """
        if since_ns >= until_ns:
            raise InvalidConfig(f"backfill range is empty: since {since_ns} >= until {until_ns}")
        report = BackfillReport(since_ns, until_ns)
        for source in self.sources.values():
            try:
                await self._backfill_venue(source, report, on_page)
            except NautilusExtError as e:
                report.errors.append((source.venue, e))
        return report

    async def _backfill_venue(
        self, source: FundingSource, report: BackfillReport, on_page: Callable[[int], None] | None
    ) -> None:
        markets = await source.markets()
        # the current poll teaches the source each symbol's interval (history rows lack it)
        await source.current(self._clock_ns())
        for market in markets:
            samples = await source.history(market, report.since_ns, report.until_ns, on_page=on_page)
            written = await asyncio.to_thread(self.repository.upsert_rates, samples) if samples else 0
            report.series.append(SeriesBackfill(source.venue, market.symbol, written))
            stored = await asyncio.to_thread(
                self.repository.history,
                source.venue,
                market.base,
                since_ns=report.since_ns,
                until_ns=report.until_ns + 1,
            )
            report.gaps += detect_gaps(s for s in stored if s.quote == market.quote)


__all__ = [
    "BackfillReport",
    "FundingCollector",
    "FundingSource",
    "PollReport",
    "SeriesBackfill",
    "VenuePoll",
]
