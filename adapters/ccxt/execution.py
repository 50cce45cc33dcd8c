"""
The ccxt execution client: the order commands (submit, cancel, cancel-all, modify).

Orders go out over ccxt REST with the Nautilus client order id as the venue's client id (a
deterministic hash on Hyperliquid), so a retried request after a timeout or 429 cannot open a
second order: the venue refuses the duplicate id and the client looks the first one up. Every
venue failure is translated once (:mod:`nautilus_ext.adapters.ccxt.errors`) and retried by the
adapter's one :class:`~nautilus_ext.adapters.ccxt.retry.RetryPolicy`; an order that cannot be
sent is denied or rejected with a reason code and never raised into the engine. Every order
reaches this client through the safety layer's chokepoint at the execution engine.

The client is split the way NautilusTrader's Polymarket adapter is: these command hooks, order
and fill synchronisation with gap detection (:mod:`nautilus_ext.adapters.ccxt.order_sync`), and
reconciliation reports with venue positions (:mod:`nautilus_ext.adapters.ccxt.reports`).
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
from collections import OrderedDict
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.orders import Order

from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.constants import MARKET_BUY_BASE_SIZE
from nautilus_ext.adapters.ccxt.constants import MODIFY_NOT_SUPPORTED
from nautilus_ext.adapters.ccxt.constants import NO_PRIVATE_STREAM_EXCHANGES
from nautilus_ext.adapters.ccxt.constants import ORDER_NOT_FOUND
from nautilus_ext.adapters.ccxt.constants import PLACEHOLDER_ORDER_IDS
from nautilus_ext.adapters.ccxt.constants import REDUCE_ONLY_NOT_SUPPORTED
from nautilus_ext.adapters.ccxt.constants import UNKNOWN_INSTRUMENT
from nautilus_ext.adapters.ccxt.constants import UNSUPPORTED_ORDER_TYPE
from nautilus_ext.adapters.ccxt.constants import UNSUPPORTED_TIME_IN_FORCE
from nautilus_ext.adapters.ccxt.errors import is_duplicate_order
from nautilus_ext.adapters.ccxt.latency import LatencyRecorder
from nautilus_ext.adapters.ccxt.order_sync import CcxtOrderSync
from nautilus_ext.adapters.ccxt.parsing.orders import CLIENT_ID_PARAM
from nautilus_ext.adapters.ccxt.parsing.orders import NON_UNIQUE_CLIENT_ID_EXCHANGES
from nautilus_ext.adapters.ccxt.parsing.orders import TIF_OUT
from nautilus_ext.adapters.ccxt.parsing.orders import client_id_param
from nautilus_ext.adapters.ccxt.parsing.orders import edit_refusal
from nautilus_ext.adapters.ccxt.parsing.orders import order_status
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider
from nautilus_ext.adapters.ccxt.retry import RetryPolicy
from nautilus_ext.errors import NautilusExtError

# ccxt emulates market orders with a slippage-bounded IOC limit on these venues
MARKET_ORDERS_NEED_PRICE: Final = frozenset({"hyperliquid"})

_SUPPORTED_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})


# order states in which this client's own rejection of its submit still applies
_REJECTABLE: Final = frozenset({OrderStatus.INITIALIZED, OrderStatus.RELEASED, OrderStatus.SUBMITTED})


class CcxtExecutionClient(CcxtOrderSync):
    """
    Execute orders on any ccxt.pro exchange (netting, margin account).

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop.
    exchange : ccxt.pro.Exchange
        The ccxt exchange with credentials (owned by this client, closed on disconnect).
    msgbus : MessageBus
        The message bus.
    cache : Cache
        The cache.
    clock : LiveClock
        The clock.
    instrument_provider : CcxtInstrumentProvider
        The instrument provider.
    config : CcxtExecClientConfig
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
        config: CcxtExecClientConfig,
        venue: str,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or venue),
            venue=Venue(venue),
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=None,
            instrument_provider=instrument_provider,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        self._exchange = exchange
        self._provider = instrument_provider
        self._cfg = config
        self._exchange_id = config.exchange_id
        self._set_account_id(AccountId(f"{venue}-CCXT"))
        self._client_ids: dict[str, ClientOrderId] = {}
        self._venue_ids: dict[str, ClientOrderId] = {}
        self._seen_trades: OrderedDict[str, None] = OrderedDict()
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._background_tasks: set[asyncio.Task[None]] = set()
        self._fill_gap_checked: set[ClientOrderId] = set()
        self._forced_seen: set[str] = set()  # venue forced closes already published
        self._margin_published_ns = 0  # when the last VenueMargin went out
        self._funding_seen: set[str] = set()  # funding history rows already published
        self._poll_now = asyncio.Event()
        # spot fills move wallets the margin account does not model: re-read the venue's
        # balances after them (one refresh task at a time, re-run while more fills arrive)
        self._account_dirty = False
        self._account_refresh: asyncio.Task[None] | None = None
        self._order_retry = RetryPolicy(
            initial_ms=config.retry_delay_initial_ms,
            max_ms=config.retry_delay_max_ms,
            max_retries=config.max_retries,
        )
        self._reconnect = RetryPolicy(
            initial_ms=config.reconnect_delay_initial_ms, max_ms=config.reconnect_delay_max_ms
        )
        self.latency = LatencyRecorder()
        self.duplicate_fills_ignored = 0
        self.stream_errors = 0
        self._log.info(
            f"exchange_id={config.exchange_id} use_websocket={config.use_websocket} "
            f"max_retries={config.max_retries} fill_poll_interval_ms={config.fill_poll_interval_ms}"
            f" rest_url_override={config.rest_url_override} credentials=<redacted>"
        )

    # -- lifecycle --------------------------------------------------------------------------

    async def _connect(self) -> None:
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            self._cache.add_instrument(instrument)
        for order in self._cache.orders(venue=self.venue):
            self._remember(order.client_order_id, order.venue_order_id)
        await self._update_account_state()
        streams = self._cfg.use_websocket and self._exchange_id not in NO_PRIVATE_STREAM_EXCHANGES
        if self._cfg.use_websocket and not streams:
            self._log.info(f"{self._exchange_id}: ccxt's private streams are unusable; polling REST")
        if streams and self._exchange.has.get("watchOrders"):
            self._stream_tasks.append(
                self.create_task(
                    self._stream("watch_orders", self._on_order_update), log_msg="ccxt_watch_orders"
                )
            )
        if streams and self._exchange.has.get("watchMyTrades"):
            self._stream_tasks.append(
                self.create_task(
                    self._stream("watch_my_trades", self._on_trade), log_msg="ccxt_watch_my_trades"
                )
            )
        if self._cfg.fill_poll_interval_ms > 0:
            self._stream_tasks.append(self.create_task(self._poll_loop(), log_msg="ccxt_fill_poll"))
        if self._cfg.position_poll_interval_ms > 0:
            self._stream_tasks.append(
                self.create_task(self._position_poll_loop(), log_msg="ccxt_position_poll")
            )
        if self._cfg.funding_poll_interval_ms > 0:
            self._stream_tasks.append(
                self.create_task(self._funding_poll_loop(), log_msg="ccxt_funding_poll")
            )

    async def _disconnect(self) -> None:
        tasks, self._stream_tasks = self._stream_tasks + list(self._background_tasks), []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._exchange.close(), 5.0)

    # -- submit -----------------------------------------------------------------------------

    def _deny_reason(self, order: Order) -> str | None:
        if order.order_type not in _SUPPORTED_TYPES:
            return f"{UNSUPPORTED_ORDER_TYPE}: {order.order_type.name}"
        if order.time_in_force not in TIF_OUT:
            return f"{UNSUPPORTED_TIME_IN_FORCE}: {order.time_in_force.name}"
        if order.order_type is OrderType.MARKET and order.is_post_only:
            return f"{UNSUPPORTED_ORDER_TYPE}: post-only MARKET"
        if self._provider.ccxt_symbol(order.instrument_id) is None:
            return f"{UNKNOWN_INSTRUMENT}: {order.instrument_id}"
        if order.is_reduce_only and self._is_spot(order.instrument_id):
            return f"{REDUCE_ONLY_NOT_SUPPORTED}: spot market {order.instrument_id} has no position"
        return None

    def _order_params(self, order: Order) -> dict[str, Any]:
        params: dict[str, Any] = {
            client_id_param(self._exchange_id): venue_client_id(self._exchange_id, order.client_order_id),
        }
        if (
            self._exchange_id in MARKET_BUY_BASE_SIZE
            and order.order_type is OrderType.MARKET
            and order.side is OrderSide.BUY
        ):
            # ccxt would spend amount * price of quote; Coinbase's market IOC also takes the
            # base size, which fills exactly the ordered quantity
            symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
            with decimal.localcontext():  # ccxt mutates the decimal context it formats in
                base_size = self._exchange.amount_to_precision(symbol, float(order.quantity))
            params["createMarketBuyOrderRequiresPrice"] = False
            params["order_configuration"] = {"market_market_ioc": {"base_size": base_size}}
        if order.order_type is OrderType.LIMIT:
            params["timeInForce"] = TIF_OUT[order.time_in_force]
            if order.is_post_only:
                # ccxt picks the venue's post-only flavour (Bybit PostOnly, Hyperliquid Alo)
                params["postOnly"] = True
                params.pop("timeInForce")
        if order.is_reduce_only:
            params["reduceOnly"] = True
        return params

    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        now = self._clock.timestamp_ns()
        reason = self._deny_reason(order)
        if reason is not None:
            self._log.warning(f"Cannot submit order {order.client_order_id}: {reason}")
            self.generate_order_denied(
                order.strategy_id, order.instrument_id, order.client_order_id, reason, now
            )
            return
        self._remember(order.client_order_id, None)
        self.generate_order_submitted(order.strategy_id, order.instrument_id, order.client_order_id, now)
        self.latency.request(order.client_order_id.value, self._clock.timestamp_ns())
        try:
            result = await self._place(order)
            if result is not None and not result.get("id"):
                raise ValueError("venue acknowledged without an order id")
        except Exception as e:
            # a bug or an unexpected response, never raised into the engine: the request may
            # have reached the venue, so look the order up by client id before rejecting
            self._log.error(f"Unexpected failure submitting {order.client_order_id}: {e!r}")
            symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
            result = await self._find_venue_order(
                symbol, venue_client_id(self._exchange_id, order.client_order_id)
            )
            if result is None:
                self._reject(order, f"ORDER_REJECTED: unexpected failure: {e!r}")
                return
        if result is None:
            return
        if str(result.get("id")) == PLACEHOLDER_ORDER_IDS.get(self._exchange_id):
            # the venue acknowledged the order before naming it (GRVT): learn its id by client id
            symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
            result = await self._find_by_client_id(symbol, order)
            if result is None:
                return  # the order updates (stream or poll) accept it once the venue lists it
            if order_status(result) is OrderStatus.REJECTED:
                await self._apply_order_update(result)
                return
        venue_order_id = VenueOrderId(str(result["id"]))
        self.latency.ack(order.client_order_id.value, self._clock.timestamp_ns())
        self._remember(order.client_order_id, venue_order_id)
        self._accept_if_submitted(order.client_order_id, venue_order_id)
        self._poll_now.set()

    async def _place(self, order: Order) -> dict[str, Any] | None:
        symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
        side = "buy" if order.side is OrderSide.BUY else "sell"
        kind = "market" if order.order_type is OrderType.MARKET else "limit"
        price = float(order.price) if order.has_price else None
        if price is None and self._exchange_id in MARKET_ORDERS_NEED_PRICE:
            price = await self._reference_price(order, symbol)
            if price is None:
                self._reject(order, "ORDER_REJECTED: no reference price for a market order")
                return None
        amount = float(order.quantity)
        params = self._order_params(order)
        coid = order.client_order_id.value
        wire_id = venue_client_id(self._exchange_id, order.client_order_id)
        # without a venue-side duplicate check, look the order up before every retry
        lookup_first = self._exchange_id in NON_UNIQUE_CLIENT_ID_EXCHANGES

        async def create() -> dict[str, Any]:
            result: dict[str, Any] = await self._call(
                "create_order",
                lambda: self._exchange.create_order(symbol, kind, side, amount, price, dict(params)),
                order_id=coid,
            )
            return result

        async def recover(error: NautilusExtError, attempt: int, final: bool) -> dict[str, Any] | None:
            # an earlier attempt (or this one, if it timed out) may have reached the venue:
            # look the order up by client id before retrying or rejecting
            if is_duplicate_order(error) or (error.retryable and (attempt > 1 or lookup_first or final)):
                return await self._find_venue_order(symbol, wire_id)
            return None

        def on_retry(error: NautilusExtError, attempt: int, delay: float) -> None:
            self._log.warning(f"Order {coid} attempt {attempt} failed ({error}); retrying in {delay:.2f}s")

        try:
            return await self._order_retry.call(create, recover=recover, on_retry=on_retry)
        except NautilusExtError as error:
            self._log.warning(f"Order {coid} rejected: {error}")
            self._reject(
                order,
                f"{error.code}: {error.message}",
                due_post_only="post only" in error.message.lower(),
            )
            return None

    def _reject(self, order: Order, reason: str, due_post_only: bool = False) -> None:
        cached = self._cache.order(order.client_order_id)
        # a venue may refuse faster than the engine applies our OrderSubmitted (still queued: the
        # cached order is INITIALIZED or RELEASED); the rejection queues behind it, in order.
        # Dropping it left the order SUBMITTED for ever (an atomic leg timed out, then stuck in
        # PENDING_CANCEL)
        if cached is not None and cached.status in _REJECTABLE:
            self.generate_order_rejected(
                order.strategy_id,
                order.instrument_id,
                order.client_order_id,
                reason,
                self._clock.timestamp_ns(),
                due_post_only=due_post_only,
            )

    async def _find_by_client_id(self, symbol: str, order: Order) -> dict[str, Any] | None:
        wire_id = venue_client_id(self._exchange_id, order.client_order_id)
        try:
            found = await self._call(
                "fetch_order",
                lambda: self._exchange.fetch_order(None, symbol, {"clientOrderId": wire_id}),
                order_id=order.client_order_id.value,
            )
        except NautilusExtError as e:
            self._log.warning(f"Cannot look up order {order.client_order_id} by client id: {e}")
            return None
        return dict(found) if found and found.get("id") else None

    async def _reference_price(self, order: Order, symbol: str) -> float | None:
        # venues that emulate market orders with an aggressive IOC limit (Hyperliquid) need a
        # reference price; ccxt applies its slippage bound (default 5%) around it
        quote = self._cache.quote_tick(order.instrument_id)
        if quote is not None:
            return float(quote.ask_price if order.side is OrderSide.BUY else quote.bid_price)
        try:
            ticker = await self._call("fetch_ticker", lambda: self._exchange.fetch_ticker(symbol))
        except NautilusExtError as e:
            self._log.warning(f"Cannot fetch a reference price for {symbol}: {e}")
            return None
        for field in ("ask" if order.side is OrderSide.BUY else "bid", "last", "close"):
            value = ticker.get(field)
            if value:
                return float(value)
        info = ticker.get("info") or {}
        mark = info.get("markPx") if isinstance(info, dict) else None
        return float(mark) if mark else None

    # -- cancel / modify --------------------------------------------------------------------

    async def _cancel_order(self, command: CancelOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None or order.is_closed:
            self.generate_order_cancel_rejected(
                command.strategy_id,
                command.instrument_id,
                command.client_order_id,
                command.venue_order_id,
                f"{ORDER_NOT_FOUND}: not open",
                self._clock.timestamp_ns(),
            )
            return
        await self._cancel(order)

    async def _cancel(self, order: Order) -> None:
        symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
        venue_id = order.venue_order_id.value if order.venue_order_id else None
        params: dict[str, Any] = {}
        if venue_id is None:
            params["clientOrderId"] = venue_client_id(self._exchange_id, order.client_order_id)
        try:
            await self._call(
                "cancel_order",
                lambda: self._exchange.cancel_order(venue_id, symbol, params),
                order_id=order.client_order_id.value,
            )
        except NautilusExtError as e:
            self._log.warning(f"Cannot cancel order {order.client_order_id}: {e}")
            self.generate_order_cancel_rejected(
                order.strategy_id,
                order.instrument_id,
                order.client_order_id,
                order.venue_order_id,
                f"{e.code}: {e.message}",
                self._clock.timestamp_ns(),
            )
            return
        # The venue's order update (stream or poll) emits the cancel once every fill before it
        # has been applied; confirm it actively if the stream is late.
        self._spawn_confirm(order.client_order_id)

    def _spawn_confirm(self, client_order_id: ClientOrderId) -> None:
        self._spawn(self._confirm_closed(client_order_id), f"confirm_cancel_{client_order_id}")

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        open_orders = [
            o
            for o in self._cache.orders_open(venue=self.venue, instrument_id=command.instrument_id)
            if command.order_side in (OrderSide.NO_ORDER_SIDE, o.side)
        ]
        use_bulk = self._exchange.has.get("cancelAllOrders") and command.order_side is OrderSide.NO_ORDER_SIDE
        if not use_bulk:
            for order in open_orders:
                await self._cancel(order)
            return
        symbol = self._provider.ccxt_symbol(command.instrument_id) or ""
        try:
            await self._call("cancel_all_orders", lambda: self._exchange.cancel_all_orders(symbol))
        except NautilusExtError as e:
            self._log.warning(f"Cannot cancel all orders on {command.instrument_id}: {e}")
            for order in open_orders:
                self.generate_order_cancel_rejected(
                    order.strategy_id,
                    order.instrument_id,
                    order.client_order_id,
                    order.venue_order_id,
                    f"{e.code}: {e.message}",
                    self._clock.timestamp_ns(),
                )
            return
        for order in open_orders:
            self._spawn_confirm(order.client_order_id)

    def _edit_params(self, order: Order) -> dict[str, Any]:
        # Deribit's edit keeps the order's label and takes none; ccxt would forward it verbatim
        if self._exchange_id in CLIENT_ID_PARAM:
            return {}
        return {"clientOrderId": venue_client_id(self._exchange_id, order.client_order_id)}

    async def _modify_order(self, command: ModifyOrder) -> None:
        order = self._cache.order(command.client_order_id)
        now = self._clock.timestamp_ns()
        if order is None or order.is_closed or order.venue_order_id is None:
            self.generate_order_modify_rejected(
                command.strategy_id,
                command.instrument_id,
                command.client_order_id,
                command.venue_order_id,
                f"{ORDER_NOT_FOUND}: not open",
                now,
            )
            return
        # only a native edit: ccxt's "emulated" editOrder (Backpack, GRVT) is cancel + create, which is
        # not atomic, re-sends the full quantity after partial fills, and whose cancel event
        # would close the Nautilus order
        if self._exchange.has.get("editOrder") is not True or order.order_type is not OrderType.LIMIT:
            self.generate_order_modify_rejected(
                order.strategy_id,
                order.instrument_id,
                order.client_order_id,
                order.venue_order_id,
                MODIFY_NOT_SUPPORTED,
                now,
            )
            return
        symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
        quantity = command.quantity or order.quantity
        price = command.price or order.price
        side = "buy" if order.side is OrderSide.BUY else "sell"
        venue_id = order.venue_order_id.value
        try:
            result = await self._call(
                "edit_order",
                lambda: self._exchange.edit_order(
                    venue_id,
                    symbol,
                    "limit",
                    side,
                    float(quantity),
                    float(price),
                    self._edit_params(order),
                ),
                order_id=order.client_order_id.value,
            )
        except NautilusExtError as e:
            self.generate_order_modify_rejected(
                order.strategy_id,
                order.instrument_id,
                order.client_order_id,
                order.venue_order_id,
                f"{e.code}: {e.message}",
                self._clock.timestamp_ns(),
            )
            return
        refusal = edit_refusal(result)
        if refusal is not None:
            self.generate_order_modify_rejected(
                order.strategy_id,
                order.instrument_id,
                order.client_order_id,
                order.venue_order_id,
                f"ORDER_REJECTED: {refusal}",
                self._clock.timestamp_ns(),
            )
            return
        new_id = VenueOrderId(str(result.get("id") or venue_id))
        self._remember(order.client_order_id, new_id)
        self.generate_order_updated(
            order.strategy_id,
            order.instrument_id,
            order.client_order_id,
            new_id,
            quantity,
            price,
            None,
            self._clock.timestamp_ns(),
            venue_order_id_modified=new_id != order.venue_order_id,
        )


__all__ = ["CcxtExecutionClient"]
