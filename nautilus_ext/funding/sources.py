"""
Funding data from any venue through ccxt: current rates with their context, and history.

:class:`CcxtFundingSource` asks a venue for, per perpetual: the funding rate
(``fetchFundingRates``, else ``fetchFundingRate`` per symbol), the interval (from the payload;
Binance's ``fetchFundingIntervals``), the next funding time, mark and index price, open
interest (from the ticker when the venue puts it there, else ``fetchOpenInterests`` /
``fetchOpenInterest``) and 24 h volume (ticker fields, else ``fetchTickers``), and turns them
into :class:`~nautilus_ext.funding.model.FundingRateSample` with
:mod:`~nautilus_ext.funding.normalise`. Every ccxt call goes through the ccxt adapter's one
error boundary (:func:`~nautilus_ext.adapters.ccxt.errors.ccxt_call`): failures arrive as
taxonomy errors with ``retryable`` set.

History is read in time windows of ``history_page_limit`` hours (no venue settles more often
than hourly, so a window never holds more rows than one page), which pages every venue's
endpoint the same way whatever order it answers in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any
from typing import Final

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.constants import venue_for
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.parsing.instruments import canonical_key
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.config import FundingVenueConfig
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.funding.normalise import NANOS_PER_MS
from nautilus_ext.funding.normalise import history_intervals
from nautilus_ext.funding.normalise import interval_hours_of
from nautilus_ext.funding.normalise import open_interest_from_ccxt
from nautilus_ext.funding.normalise import open_interest_from_info
from nautilus_ext.funding.normalise import positive_or_none
from nautilus_ext.funding.normalise import sample_from_ccxt
from nautilus_ext.funding.normalise import to_decimal
from nautilus_ext.funding.normalise import volume_from_info
from nautilus_ext.funding.normalise import volume_from_ticker

log = logging.getLogger(__name__)

MS_PER_HOUR: Final = 3_600_000
# ccxt market types that hold perpetuals, per exchange (others load everything)
_MARKET_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "bybit": ("linear",),
    "okx": ("swap",),
    "hyperliquid": ("swap",),
}


@dataclass(frozen=True, slots=True)
class FundingMarket:
    """One perpetual a source collects."""

    symbol: str  # ccxt unified symbol
    instrument_key: str
    base: str
    quote: str
    contract_size: Decimal


class CcxtFundingSource:
    """
    Funding rates of one venue through ccxt.

    Parameters
    ----------
    config : FundingVenueConfig
        The venue and the symbols to collect.
    exchange : Any, optional
        A ready ccxt exchange (tests and the node pass their own); default: built from ``config``.
    """

    def __init__(self, config: FundingVenueConfig, *, exchange: Any | None = None) -> None:
        self.config = config
        self.venue = config.venue
        self.exchange_id = config.exchange_id
        self._exchange = exchange or create_exchange(
            CcxtDataClientConfig(
                exchange_id=config.exchange_id,
                market_types=_MARKET_TYPES.get(config.exchange_id),
                testnet=config.testnet,
                rest_url_override=config.rest_url_override,
                ws_url_override=config.ws_url_override,
                timeout_ms=config.timeout_ms,
                enable_rate_limit=config.enable_rate_limit,
            )
        )
        self._timeout = config.timeout_ms / 1000 * 2
        self._markets: list[FundingMarket] | None = None
        self._intervals: dict[str, Decimal] = {}

    async def close(self) -> None:
        """Close the ccxt session."""
        await self._exchange.close()

    async def _call[T](self, operation: str, factory: Callable[[], Awaitable[T]]) -> T:
        return await ccxt_call(factory, venue=self.venue, operation=operation, timeout_secs=self._timeout)

    def _has(self, feature: str) -> bool:
        return bool(self._exchange.has.get(feature))

    # -- markets ------------------------------------------------------------------------------

    async def markets(self) -> list[FundingMarket]:
        """
        Return the configured perpetuals (loading the venue's markets once).

        Raises
        ------
        InvalidConfig
            If a configured symbol or base asset matches no perpetual on the venue.
        """
        if self._markets is not None:
            return self._markets
        loaded: dict[str, Any] = await self._call("load_markets", self._exchange.load_markets)
        key_venue = venue_for(self.exchange_id)
        perps: dict[str, FundingMarket] = {}
        for symbol, market in loaded.items():
            if not market.get("swap") or market.get("active") is False:
                continue
            key = canonical_key(market, key_venue)
            if key is None:
                continue
            perps[symbol] = FundingMarket(
                symbol=symbol,
                instrument_key=str(key),
                base=str(market["base"]).upper(),
                quote=str(market["quote"]).upper(),
                contract_size=to_decimal(market.get("contractSize")) or Decimal(1),
            )
        chosen: dict[str, FundingMarket] = {}
        for wanted in self.config.symbols:
            matches = (
                [perps[wanted]]
                if wanted in perps
                else [m for m in perps.values() if m.base == wanted.upper()]
            )
            if not matches:
                raise InvalidConfig(
                    f"{self.venue}: no perpetual matches {wanted!r} (a base asset or a ccxt symbol "
                    f"such as {next(iter(perps), 'BTC/USDT:USDT')!r})",
                    venue=self.venue,
                )
            chosen.update({m.symbol: m for m in matches})
        self._markets = list(chosen.values()) if self.config.symbols else list(perps.values())
        return self._markets

    # -- current rates ------------------------------------------------------------------------

    async def current(self, ts_ns: int) -> list[FundingRateSample]:
        """Return one indicative sample per configured perpetual, stamped ``ts_ns``."""
        markets = await self.markets()
        symbols = [m.symbol for m in markets]
        rates = await self._rates(symbols)
        intervals = await self._interval_table(symbols)
        infos = {s: (rates.get(s) or {}).get("info") or {} for s in symbols}
        oi = {s: open_interest_from_info(infos[s]) for s in symbols}
        volume = {s: volume_from_info(infos[s]) for s in symbols}
        if any(v is None for v in oi.values()):
            oi.update(await self._open_interest([m for m in markets if oi[m.symbol] is None]))
        if any(v is None for v in volume.values()):
            volume.update(await self._volumes([s for s in symbols if volume[s] is None]))
        no_mark = [s for s in symbols if (rates.get(s) or {}).get("markPrice") is None]
        marks = await self._marks(no_mark) if no_mark else {}
        samples: list[FundingRateSample] = []
        for m in markets:
            rate = rates.get(m.symbol)
            if rate is None:
                log.warning("%s %s: no funding rate in the venue's answer", self.venue, m.symbol)
                continue
            interval = intervals.get(m.symbol) or interval_hours_of(rate)
            if interval is not None:
                self._intervals[m.symbol] = interval
            samples.append(
                sample_from_ccxt(
                    venue=self.venue,
                    instrument_key=m.instrument_key,
                    base=m.base,
                    quote=m.quote,
                    rate=rate,
                    ts_ns=ts_ns,
                    interval_hours=interval,
                    open_interest=oi.get(m.symbol),
                    volume_24h=volume.get(m.symbol),
                    mark_price=marks.get(m.symbol),
                )
            )
        return samples

    async def _rates(self, symbols: list[str]) -> dict[str, dict[str, Any]]:
        if self._has("fetchFundingRates"):
            result: dict[str, dict[str, Any]] = await self._call(
                "fetch_funding_rates", lambda: self._exchange.fetch_funding_rates(symbols)
            )
            return result
        out: dict[str, dict[str, Any]] = {}
        for symbol in symbols:
            out[symbol] = await self._call(
                "fetch_funding_rate", partial(self._exchange.fetch_funding_rate, symbol)
            )
        return out

    async def _interval_table(self, symbols: list[str]) -> dict[str, Decimal]:
        # Binance publishes intervals on their own endpoint (fundingInfo), not with the rate
        if not self._has("fetchFundingIntervals"):
            return {}
        table: dict[str, dict[str, Any]] = await self._call(
            "fetch_funding_intervals", lambda: self._exchange.fetch_funding_intervals(symbols)
        )
        out: dict[str, Decimal] = {}
        for symbol, row in table.items():
            hours = interval_hours_of(row)
            if hours is not None:
                out[symbol] = hours
        return out

    async def _open_interest(self, markets: list[FundingMarket]) -> dict[str, Decimal | None]:
        out: dict[str, Decimal | None] = {}
        sizes = {m.symbol: m.contract_size for m in markets}
        if self._has("fetchOpenInterests"):
            table: dict[str, dict[str, Any]] = await self._call(
                "fetch_open_interests", lambda: self._exchange.fetch_open_interests(list(sizes))
            )
            for symbol, row in table.items():
                if symbol in sizes:
                    out[symbol] = open_interest_from_ccxt(row, sizes[symbol])
            return out
        if not self._has("fetchOpenInterest"):
            return out
        for symbol, size in sizes.items():
            row = await self._call("fetch_open_interest", partial(self._exchange.fetch_open_interest, symbol))
            out[symbol] = open_interest_from_ccxt(row, size)
        return out

    async def _marks(self, symbols: list[str]) -> dict[str, Decimal | None]:
        # OKX's funding payload has no mark price: its mark-price endpoint does
        if not self._has("fetchMarkPrices"):
            return {}
        tickers: dict[str, dict[str, Any]] = await self._call(
            "fetch_mark_prices", lambda: self._exchange.fetch_mark_prices(symbols)
        )
        return {s: positive_or_none(t.get("markPrice")) for s, t in tickers.items() if s in symbols}

    async def _volumes(self, symbols: list[str]) -> dict[str, Decimal | None]:
        if not self._has("fetchTickers"):
            return {}
        tickers: dict[str, dict[str, Any]] = await self._call(
            "fetch_tickers", lambda: self._exchange.fetch_tickers(symbols)
        )
        return {s: volume_from_ticker(self.exchange_id, t) for s, t in tickers.items() if s in symbols}

    # -- history ------------------------------------------------------------------------------

    async def history(
        self,
        market: FundingMarket,
        since_ns: int,
        until_ns: int,
        *,
        on_page: Callable[[int], None] | None = None,
    ) -> list[FundingRateSample]:
        """
        Return the settled rates of ``market`` with funding times in ``[since_ns, until_ns]``.

        ``on_page`` is called with the number of new rows after each page (progress bars).
        """
        if not self._has("fetchFundingRateHistory"):
            raise InvalidConfig(f"{self.venue}: ccxt has no funding-rate history for this venue")
        limit = self.config.history_page_limit
        window_ms = limit * MS_PER_HOUR
        cursor, until_ms = since_ns // NANOS_PER_MS, until_ns // NANOS_PER_MS
        rows: dict[int, Decimal] = {}
        while cursor <= until_ms:
            end = min(cursor + window_ms - 1, until_ms)
            page = await self._call(
                "fetch_funding_rate_history",
                partial(
                    self._exchange.fetch_funding_rate_history,
                    market.symbol,
                    cursor,
                    limit,
                    self._until_params(end),
                ),
            )
            new = 0
            for row in page:
                ts, rate = row.get("timestamp"), to_decimal(row.get("fundingRate"))
                if ts is None or rate is None or not cursor <= int(ts) <= end or int(ts) in rows:
                    continue
                rows[int(ts)] = rate
                new += 1
            if on_page is not None:
                on_page(new)
            cursor = end + 1
        times = sorted(rows)
        default = self._intervals.get(market.symbol) or convention_for(self.venue).default_interval_hours
        intervals = history_intervals([t * NANOS_PER_MS for t in times], default)
        return [
            FundingRateSample(
                venue=self.venue,
                instrument_key=market.instrument_key,
                base=market.base,
                quote=market.quote,
                rate=normalise_rate(self.venue, rows[t]),
                interval_hours=hours,
                ts_ns=t * NANOS_PER_MS,
                settled=True,
            )
            for t, hours in zip(times, intervals, strict=True)
        ]

    def _until_params(self, end_ms: int) -> dict[str, Any]:
        # OKX pages with ``after`` (records older than it); ccxt maps ``until`` for the others
        if self.exchange_id == "okx":
            return {"after": str(end_ms + 1)}
        return {"until": end_ms}

    async def interval_of(self, market: FundingMarket) -> Decimal:
        """Return the interval last seen for ``market`` (else the venue default)."""
        return self._intervals.get(market.symbol) or convention_for(self.venue).default_interval_hours


__all__ = ["CcxtFundingSource", "FundingMarket"]
