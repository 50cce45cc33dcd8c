"""
The ccxt market data client: order books (snapshot + deltas), quotes, trades, mark prices and
funding rates over ccxt.pro WebSockets, with REST polling as the fallback and a stale-feed
signal.

Each subscription runs one task. ccxt.pro keeps the venue's book and reconnects (and
resubscribes) on the next ``watch_*`` call after a dropped socket; this client bounds every
wait, backs off between failures, polls REST while the stream is down, and diffs successive
books against the last levels it emitted, so Nautilus sees one snapshot and then consistent
deltas across reconnects. A stream silent for ``stale_after_secs`` is reported stale on the
message bus (topic ``nautilus_ext.feed_status.<VENUE>``) for the safety layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.data.messages import RequestInstrument
from nautilus_trader.data.messages import RequestInstruments
from nautilus_trader.data.messages import SubscribeFundingRates
from nautilus_trader.data.messages import SubscribeMarkPrices
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.data.messages import UnsubscribeFundingRates
from nautilus_trader.data.messages import UnsubscribeMarkPrices
from nautilus_trader.data.messages import UnsubscribeOrderBook
from nautilus_trader.data.messages import UnsubscribeQuoteTicks
from nautilus_trader.data.messages import UnsubscribeTradeTicks
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.adapters.ccxt.constants import FEED_STATUS_TOPIC
from nautilus_ext.adapters.ccxt.constants import MARK_PRICE_FROM_FUNDING_RATE
from nautilus_ext.adapters.ccxt.constants import MARK_PRICE_STREAM_EXCHANGES
from nautilus_ext.adapters.ccxt.constants import NO_PUBLIC_REST_TRADES
from nautilus_ext.adapters.ccxt.constants import WATCH_BOOK_LIMIT
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.parsing.market_data import Levels
from nautilus_ext.adapters.ccxt.parsing.market_data import book_levels
from nautilus_ext.adapters.ccxt.parsing.market_data import diff_deltas
from nautilus_ext.adapters.ccxt.parsing.market_data import funding_rate
from nautilus_ext.adapters.ccxt.parsing.market_data import mark_price
from nautilus_ext.adapters.ccxt.parsing.market_data import quote_from_book
from nautilus_ext.adapters.ccxt.parsing.market_data import snapshot_deltas
from nautilus_ext.adapters.ccxt.parsing.market_data import trade_tick
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider
from nautilus_ext.adapters.ccxt.retry import RetryPolicy
from nautilus_ext.errors import NautilusExtError

_SEEN_TRADES_MAX: Final = 10_000


@unique
class StreamKind(StrEnum):
    """One kind of market data subscription."""

    BOOK = "BOOK"  # order book deltas
    QUOTES = "QUOTES"  # top of book
    TRADES = "TRADES"  # public trades
    MARK = "MARK"  # mark price
    FUNDING = "FUNDING"  # funding rate (always REST polled)


@dataclass(frozen=True)
class FeedStatus:
    """
    A change of freshness of one stream, published on ``nautilus_ext.feed_status.<VENUE>``.

    Parameters
    ----------
    instrument_id : InstrumentId
        The subscribed instrument.
    stream : StreamKind
        Which stream.
    stale : bool
        ``True`` when the stream went silent (or failed), ``False`` when it recovered.
    reason : str
        ``NO_UPDATES``, ``STREAM_ERROR:<code>`` or ``RECOVERED``.
    ts_ns : int
        When the change was noticed (Nautilus clock).
    """

    instrument_id: InstrumentId
    stream: StreamKind
    stale: bool
    reason: str
    ts_ns: int


class CcxtDataClient(LiveMarketDataClient):
    """
    Provide market data from any ccxt.pro exchange.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop.
    exchange : ccxt.pro.Exchange
        The ccxt exchange (owned by this client, closed on disconnect).
    msgbus : MessageBus
        The message bus.
    cache : Cache
        The cache.
    clock : LiveClock
        The clock.
    instrument_provider : CcxtInstrumentProvider
        The instrument provider.
    config : CcxtDataClientConfig
        The configuration.
    venue : str
        The Nautilus venue name.
    name : str, optional
        The client id (defaults to the venue).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        exchange: Any,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: CcxtInstrumentProvider,
        config: CcxtDataClientConfig,
        venue: str,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or venue),
            venue=Venue(venue),
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._exchange = exchange
        self._provider = instrument_provider
        self._cfg = config
        self._reconnect = RetryPolicy(
            initial_ms=config.reconnect_delay_initial_ms, max_ms=config.reconnect_delay_max_ms
        )
        self._streams: dict[tuple[StreamKind, InstrumentId], asyncio.Task[None]] = {}
        self._last_update_ns: dict[tuple[StreamKind, InstrumentId], int] = {}
        self._stale: set[tuple[StreamKind, InstrumentId]] = set()
        self._books: dict[tuple[StreamKind, InstrumentId], tuple[Levels, Levels]] = {}
        self._last_quote: dict[InstrumentId, tuple[Any, ...]] = {}
        self._last_mark: dict[InstrumentId, Any] = {}
        self._last_funding: dict[InstrumentId, Any] = {}
        self._seen_trades: dict[InstrumentId, OrderedDict[str, None]] = {}
        self._trades_since_ms: dict[InstrumentId, int] = {}
        self._book_sequence = 0
        self._watchdog: asyncio.Task[None] | None = None
        self.stream_errors = 0
        self.feed_status_topic = f"{FEED_STATUS_TOPIC}.{venue}"
        self._log.info(
            f"exchange_id={config.exchange_id} use_websocket={config.use_websocket} "
            f"stale_after_secs={config.stale_after_secs} book_depth={config.book_depth} "
            f"rest_url_override={config.rest_url_override}"
        )

    # -- lifecycle --------------------------------------------------------------------------

    async def _connect(self) -> None:
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            self._handle_data(instrument)
        self._watchdog = self.create_task(self._watch_staleness(), log_msg="ccxt_stale_watchdog")

    async def _disconnect(self) -> None:
        tasks = list(self._streams.values())
        if self._watchdog is not None:
            tasks.append(self._watchdog)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5.0)
        self._streams.clear()
        self._watchdog = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._exchange.close(), 5.0)

    # -- freshness --------------------------------------------------------------------------

    def is_stale(self, instrument_id: InstrumentId, stream: StreamKind | None = None) -> bool:
        """Return whether a subscribed stream of ``instrument_id`` is currently stale."""
        return any(iid == instrument_id and (stream is None or kind is stream) for kind, iid in self._stale)

    def stale_streams(self) -> list[tuple[StreamKind, InstrumentId]]:
        """Return every stream currently reported stale."""
        return sorted(self._stale, key=str)

    def _set_stale(self, key: tuple[StreamKind, InstrumentId], stale: bool, reason: str) -> None:
        if stale == (key in self._stale):
            return
        if stale:
            self._stale.add(key)
            self._log.warning(f"Feed {key[0]} {key[1]} stale: {reason}")
        else:
            self._stale.discard(key)
            self._log.info(f"Feed {key[0]} {key[1]} recovered")
        status = FeedStatus(key[1], key[0], stale, reason, self._clock.timestamp_ns())
        self._msgbus.publish(self.feed_status_topic, status)

    def _touch(self, key: tuple[StreamKind, InstrumentId]) -> None:
        self._last_update_ns[key] = self._clock.timestamp_ns()
        self._set_stale(key, False, "RECOVERED")

    async def _watch_staleness(self) -> None:
        interval = min(self._cfg.stale_after_secs / 4, 1.0)
        limit_ns = int(self._cfg.stale_after_secs * 1e9)
        while True:
            await asyncio.sleep(interval)
            now = self._clock.timestamp_ns()
            for key in list(self._streams):
                last = self._last_update_ns.get(key)
                if last is not None and now - last > limit_ns:
                    self._set_stale(key, True, "NO_UPDATES")

    # -- subscriptions ----------------------------------------------------------------------

    def _open_stream(self, kind: StreamKind, instrument_id: InstrumentId) -> None:
        key = (kind, instrument_id)
        if key in self._streams:
            return
        if self._provider.ccxt_symbol(instrument_id) is None:
            self._log.error(f"Cannot subscribe {kind} {instrument_id}: instrument not loaded")
            return
        if (
            kind is StreamKind.TRADES
            and self._cfg.exchange_id in NO_PUBLIC_REST_TRADES
            and (not self._cfg.use_websocket or not self._exchange.has.get("watchTrades"))
        ):
            self._log.error(
                f"Cannot subscribe {kind} {instrument_id}: {self._cfg.exchange_id} has no "
                "public REST trades and streaming is disabled"
            )
            return
        self._last_update_ns[key] = self._clock.timestamp_ns()
        if kind is StreamKind.TRADES:
            # REST pages (fallback polls) carry history: only prints after subscribing are new
            self._trades_since_ms[instrument_id] = self._clock.timestamp_ns() // 1_000_000
        task = self.create_task(self._run_stream(kind, instrument_id), log_msg=f"ccxt_{kind}_{instrument_id}")
        if task is not None:
            self._streams[key] = task

    async def _close_stream(self, kind: StreamKind, instrument_id: InstrumentId) -> None:
        key = (kind, instrument_id)
        task = self._streams.pop(key, None)
        self._stale.discard(key)
        self._books.pop(key, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5.0)

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        self._open_stream(StreamKind.BOOK, command.instrument_id)

    async def _subscribe_order_book_depth(self, command: SubscribeOrderBook) -> None:
        self._open_stream(StreamKind.BOOK, command.instrument_id)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        self._open_stream(StreamKind.QUOTES, command.instrument_id)

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        self._open_stream(StreamKind.TRADES, command.instrument_id)

    async def _subscribe_mark_prices(self, command: SubscribeMarkPrices) -> None:
        self._open_stream(StreamKind.MARK, command.instrument_id)

    async def _subscribe_funding_rates(self, command: SubscribeFundingRates) -> None:
        self._open_stream(StreamKind.FUNDING, command.instrument_id)

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        await self._close_stream(StreamKind.BOOK, command.instrument_id)

    async def _unsubscribe_order_book_depth(self, command: UnsubscribeOrderBook) -> None:
        await self._close_stream(StreamKind.BOOK, command.instrument_id)

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        await self._close_stream(StreamKind.QUOTES, command.instrument_id)

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        await self._close_stream(StreamKind.TRADES, command.instrument_id)

    async def _unsubscribe_mark_prices(self, command: UnsubscribeMarkPrices) -> None:
        await self._close_stream(StreamKind.MARK, command.instrument_id)

    async def _unsubscribe_funding_rates(self, command: UnsubscribeFundingRates) -> None:
        await self._close_stream(StreamKind.FUNDING, command.instrument_id)

    async def _request_instrument(self, request: RequestInstrument) -> None:
        instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            self._log.error(f"Cannot find instrument {request.instrument_id}")
            return
        self._handle_instrument(instrument, request.id, request.start, request.end, request.params)

    async def _request_instruments(self, request: RequestInstruments) -> None:
        self._handle_instruments(
            request.venue, self._provider.list_all(), request.id, request.start, request.end, request.params
        )

    # -- stream loop ------------------------------------------------------------------------

    def _fetchers(
        self, kind: StreamKind, symbol: str
    ) -> tuple[Callable[[], Awaitable[Any]] | None, Callable[[], Awaitable[Any]]]:
        ex = self._exchange
        depth = self._cfg.book_depth
        has = ex.has
        if kind in (StreamKind.BOOK, StreamKind.QUOTES):
            limit = WATCH_BOOK_LIMIT.get(self._cfg.exchange_id, depth)
            ws = (lambda: ex.watch_order_book(symbol, limit)) if has.get("watchOrderBook") else None
            return ws, lambda: ex.fetch_order_book(symbol, depth)
        if kind is StreamKind.TRADES:
            ws = (lambda: ex.watch_trades(symbol)) if has.get("watchTrades") else None
            return ws, lambda: ex.fetch_trades(symbol)
        if kind is StreamKind.MARK and self._cfg.exchange_id in MARK_PRICE_FROM_FUNDING_RATE:
            return None, lambda: ex.fetch_funding_rate(symbol)
        if kind is StreamKind.MARK and self._cfg.exchange_id in MARK_PRICE_STREAM_EXCHANGES:
            ws = (lambda: ex.watch_mark_price(symbol)) if has.get("watchMarkPrice") else None
            return ws, lambda: ex.fetch_mark_price(symbol)
        if kind is StreamKind.MARK:
            # a venue's own mark-price stream where ccxt has one (Binance's 24h ticker has no
            # mark price); otherwise the ticker, which carries it on Bybit and Hyperliquid
            if has.get("watchMarkPrice") or has.get("fetchMarkPrice"):
                ws = (lambda: ex.watch_mark_price(symbol)) if has.get("watchMarkPrice") else None
                if not has.get("fetchMarkPrice") and has.get("fetchFundingRate"):
                    # no REST mark price (ccxt's Aster): the funding rate (premium index)
                    # carries it, so a silent stream still falls back to REST
                    return ws, lambda: ex.fetch_funding_rate(symbol)
                return ws, lambda: ex.fetch_mark_price(symbol)
            ws = (lambda: ex.watch_ticker(symbol)) if has.get("watchTicker") else None
            return ws, lambda: ex.fetch_ticker(symbol)
        return None, lambda: ex.fetch_funding_rate(symbol)

    async def _run_stream(self, kind: StreamKind, instrument_id: InstrumentId) -> None:
        key = (kind, instrument_id)
        symbol = self._provider.ccxt_symbol(instrument_id) or ""
        instrument = self._provider.find(instrument_id)
        if instrument is None:
            return
        watch, fetch = self._fetchers(kind, symbol)
        if not self._cfg.use_websocket:
            watch = None
        venue = self.venue.value if self.venue else ""
        timeout = self._cfg.stale_after_secs

        async def step() -> None:
            if watch is not None:
                # shield: ccxt shares one future per subscription; a timeout must not
                # cancel it. A silent stream is checked with one REST poll.
                try:
                    payload = await ccxt_call(
                        lambda w=watch: asyncio.shield(w()),  # type: ignore[misc]
                        venue=venue,
                        operation=f"watch_{kind.lower()}",
                        timeout_secs=timeout,
                    )
                except NautilusExtError as e:
                    if not isinstance(e.__cause__, TimeoutError):
                        raise
                    if kind is StreamKind.TRADES and self._cfg.exchange_id in NO_PUBLIC_REST_TRADES:
                        return  # a quiet tape; nothing to poll on this venue
                    payload = await ccxt_call(
                        fetch,
                        venue=venue,
                        operation=f"fetch_{kind.lower()}",
                        timeout_secs=timeout,
                    )
            else:
                payload = await ccxt_call(
                    fetch,
                    venue=venue,
                    operation=f"fetch_{kind.lower()}",
                    timeout_secs=timeout,
                )
                await asyncio.sleep(self._cfg.poll_interval_ms / 1000)
            self._touch(key)
            self._process(kind, instrument, payload)

        async def on_failure(error: NautilusExtError, failures: int) -> None:
            self.stream_errors += 1
            self._set_stale(key, True, f"STREAM_ERROR:{error.code}")
            self._log.warning(f"Stream {kind} {instrument_id} failed ({error}); retrying")
            await self._poll_once(kind, instrument, fetch, venue, timeout)

        await self._reconnect.repeat(step, on_failure=on_failure)

    async def _poll_once(
        self,
        kind: StreamKind,
        instrument: Instrument,
        fetch: Callable[[], Awaitable[Any]],
        venue: str,
        timeout: float,
    ) -> None:
        # REST fallback while the stream is down: keeps data flowing (and deduplicated)
        if kind is StreamKind.TRADES and self._cfg.exchange_id in NO_PUBLIC_REST_TRADES:
            return
        try:
            payload = await ccxt_call(
                fetch, venue=venue, operation=f"fetch_{kind.lower()}", timeout_secs=timeout
            )
        except NautilusExtError as e:
            self._log.warning(f"REST fallback for {kind} {instrument.id} failed: {e}")
            return
        self._process(kind, instrument, payload)

    # -- payload processing -----------------------------------------------------------------

    def _process(self, kind: StreamKind, instrument: Instrument, payload: Any) -> None:
        ts_init = self._clock.timestamp_ns()
        if kind is StreamKind.BOOK:
            self._process_book(instrument, payload, ts_init)
        elif kind is StreamKind.QUOTES:
            bids, asks = book_levels(payload, 1)
            ts_event = int(payload.get("timestamp") or 0) * 1_000_000 or ts_init
            quote = quote_from_book(instrument, bids, asks, ts_event, ts_init)
            if quote is not None:
                fingerprint = (quote.bid_price, quote.ask_price, quote.bid_size, quote.ask_size)
                if self._last_quote.get(instrument.id) != fingerprint:
                    self._last_quote[instrument.id] = fingerprint
                    self._handle_data(quote)
        elif kind is StreamKind.TRADES:
            seen = self._seen_trades.setdefault(instrument.id, OrderedDict())
            since_ms = self._trades_since_ms.get(instrument.id, 0)
            for trade in payload or []:
                trade_id = str(trade.get("id"))
                if trade_id in seen:
                    continue
                seen[trade_id] = None
                if len(seen) > _SEEN_TRADES_MAX:
                    seen.popitem(last=False)
                if int(trade.get("timestamp") or since_ms) < since_ms:
                    continue
                self._handle_data(trade_tick(instrument, trade, ts_init))
        elif kind is StreamKind.MARK:
            update = mark_price(instrument, payload, ts_init)
            if update is not None and self._last_mark.get(instrument.id) != update.value:
                self._last_mark[instrument.id] = update.value
                self._handle_data(update)
        else:
            funding = funding_rate(instrument, payload, ts_init)
            # a settlement moves the next funding time on even when the rate stays the same:
            # strategies that account funding per settlement must see it
            marker = None if funding is None else (funding.rate, funding.next_funding_ns)
            if funding is not None and self._last_funding.get(instrument.id) != marker:
                self._last_funding[instrument.id] = marker
                self._handle_data(funding)

    def _process_book(self, instrument: Instrument, payload: Any, ts_init: int) -> None:
        key = (StreamKind.BOOK, instrument.id)
        levels = book_levels(payload, self._cfg.book_depth)
        ts_event = int(payload.get("timestamp") or 0) * 1_000_000 or ts_init
        self._book_sequence += 1
        previous = self._books.get(key)
        self._books[key] = levels
        if previous is None:
            self._handle_data(
                snapshot_deltas(instrument, levels[0], levels[1], self._book_sequence, ts_event, ts_init)
            )
            return
        deltas = diff_deltas(instrument, previous, levels, self._book_sequence, ts_event, ts_init)
        if deltas is not None:
            self._handle_data(deltas)
