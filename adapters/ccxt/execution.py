"""
The ccxt execution client.

Orders go out over ccxt REST with the Nautilus client order id as the venue's client id (a
deterministic hash on Hyperliquid), so a retried request after a timeout or 429 cannot open a
second order: the venue refuses the duplicate id and the client looks the first one up. Order
updates and fills arrive over ccxt.pro streams; a REST poll of fills and open orders backs them
up, so a dropped socket loses nothing, and fills are deduplicated by trade id so nothing is
applied twice. Every venue failure is translated once (:mod:`nautilus_ext.adapters.ccxt.errors`); an order
that cannot be sent is denied or rejected with a reason code and never raised into the engine.

The safety layer plugs in at :meth:`CcxtExecutionClient.set_pre_submit_check`: the check sees
every order before anything is sent and can deny it with a reason code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.orders import Order

from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.constants import MARKET_BUY_BASE_SIZE
from nautilus_ext.adapters.ccxt.constants import MODIFY_NOT_SUPPORTED
from nautilus_ext.adapters.ccxt.constants import NO_PRIVATE_STREAM_EXCHANGES
from nautilus_ext.adapters.ccxt.constants import ORDER_NOT_FOUND
from nautilus_ext.adapters.ccxt.constants import PLACEHOLDER_ORDER_IDS
from nautilus_ext.adapters.ccxt.constants import PRE_SUBMIT_BLOCKED
from nautilus_ext.adapters.ccxt.constants import REDUCE_ONLY_NOT_SUPPORTED
from nautilus_ext.adapters.ccxt.constants import UNKNOWN_INSTRUMENT
from nautilus_ext.adapters.ccxt.constants import UNSUPPORTED_ORDER_TYPE
from nautilus_ext.adapters.ccxt.constants import UNSUPPORTED_TIME_IN_FORCE
from nautilus_ext.adapters.ccxt.errors import backoff_delay
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.errors import is_duplicate_order
from nautilus_ext.adapters.ccxt.errors import should_retry
from nautilus_ext.adapters.ccxt.latency import LatencyRecorder
from nautilus_ext.adapters.ccxt.parsing.instruments import currency
from nautilus_ext.adapters.ccxt.parsing.orders import CLIENT_ID_PARAM
from nautilus_ext.adapters.ccxt.parsing.orders import NON_UNIQUE_CLIENT_ID_EXCHANGES
from nautilus_ext.adapters.ccxt.parsing.orders import TIF_OUT
from nautilus_ext.adapters.ccxt.parsing.orders import client_id_param
from nautilus_ext.adapters.ccxt.parsing.orders import edit_refusal
from nautilus_ext.adapters.ccxt.parsing.orders import fill_report
from nautilus_ext.adapters.ccxt.parsing.orders import liquidity_side
from nautilus_ext.adapters.ccxt.parsing.orders import order_status
from nautilus_ext.adapters.ccxt.parsing.orders import order_status_report
from nautilus_ext.adapters.ccxt.parsing.orders import position_status_report
from nautilus_ext.adapters.ccxt.parsing.orders import rejection_reason
from nautilus_ext.adapters.ccxt.parsing.orders import trade_commission
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import fill_from_order_update
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_order
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_position
from nautilus_ext.adapters.ccxt.providers import CcxtInstrumentProvider
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.safety.chokepoint import FillGap
from nautilus_ext.safety.chokepoint import VenuePositionSnapshot
from nautilus_ext.safety.chokepoint import publish_venue_positions
from nautilus_ext.safety.chokepoint import watched_instruments

# ccxt emulates market orders with a slippage-bounded IOC limit on these venues
MARKET_ORDERS_NEED_PRICE: Final = frozenset({"hyperliquid"})

PreSubmitCheck = Callable[[Order], str | None]
"""A safety check: return ``None`` to let the order through, or a reason code to deny it."""

_SEEN_TRADES_MAX: Final = 50_000
# bound on per-order status queries per poll cycle (venues page open orders, e.g. 50 on Bybit)
_MAX_REFRESH_PER_POLL: Final = 10
# the venue's fill history may lag its order state: look again this long after a shortfall
# before reporting fills as lost
_FILL_GAP_RECHECK_SECS: Final = 0.3
_SUPPORTED_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
_CLIENT_ID_INFO_KEYS: Final = ("orderLinkId", "cloid", "clientOrderId", "clOrdId", "text", "label")


class CcxtExecutionClient(LiveExecutionClient):
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
        self._pre_submit_check: PreSubmitCheck | None = None
        self._client_ids: dict[str, ClientOrderId] = {}
        self._venue_ids: dict[str, ClientOrderId] = {}
        self._seen_trades: OrderedDict[str, None] = OrderedDict()
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._confirm_tasks: set[asyncio.Task[None]] = set()
        self._fill_gap_checked: set[ClientOrderId] = set()
        self._poll_now = asyncio.Event()
        # spot fills move wallets the margin account does not model: re-read the venue's
        # balances after them (one refresh task at a time, re-run while more fills arrive)
        self._account_dirty = False
        self._account_refresh: asyncio.Task[None] | None = None
        self.latency = LatencyRecorder()
        self.duplicate_fills_ignored = 0
        self.stream_errors = 0
        self._log.info(
            f"exchange_id={config.exchange_id} use_websocket={config.use_websocket} "
            f"max_retries={config.max_retries} fill_poll_interval_ms={config.fill_poll_interval_ms}"
            f" rest_url_override={config.rest_url_override} credentials=<redacted>"
        )

    # -- safety seam ------------------------------------------------------------------------

    def set_pre_submit_check(self, check: PreSubmitCheck | None) -> None:
        """Install the check every order passes before it is sent (the safety layer's seam)."""
        self._pre_submit_check = check

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def _venue_name(self) -> str:
        return self.venue.value if self.venue is not None else self._exchange_id.upper()

    async def _call(self, operation: str, factory: Callable[[], Any], order_id: str | None = None) -> Any:
        return await ccxt_call(
            factory,
            venue=self._venue_name,
            operation=operation,
            timeout_secs=self._cfg.ack_timeout_secs,
            order_id=order_id,
        )

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

    async def _disconnect(self) -> None:
        tasks, self._stream_tasks = self._stream_tasks + list(self._confirm_tasks), []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._exchange.close(), 5.0)

    async def _update_account_state(self) -> None:
        try:
            balance = await self._call("fetch_balance", self._exchange.fetch_balance)
        except NautilusExtError as e:
            self._log.error(f"Cannot fetch balance: {e}")
            return
        balances: list[AccountBalance] = []
        for code, amounts in (balance.get("total") or {}).items():
            total = Decimal(str(amounts or 0))
            used = Decimal(str((balance.get("used") or {}).get(code) or 0))
            if total <= 0:
                continue
            cur = currency(str(code))
            used = min(max(used, Decimal(0)), total)
            # round both to the currency's precision before subtracting: Nautilus requires
            # total - locked == free exactly (a spot hold of limit notional plus fee has more
            # decimals than USD, and rounding three amounts separately can miss by a cent)
            total_money, used_money = Money(total, cur), Money(used, cur)
            free_money = Money(total_money.as_decimal() - used_money.as_decimal(), cur)
            balances.append(AccountBalance(total_money, used_money, free_money))
        if balances:
            self.generate_account_state(balances, [], True, self._clock.timestamp_ns())

    # -- identifiers ------------------------------------------------------------------------

    def _remember(self, client_order_id: ClientOrderId, venue_order_id: VenueOrderId | None) -> None:
        self._client_ids[venue_client_id(self._exchange_id, client_order_id)] = client_order_id
        if venue_order_id is not None:
            self._venue_ids[venue_order_id.value] = client_order_id

    def _resolve(self, payload: dict[str, Any]) -> ClientOrderId | None:
        venue_id = payload.get("order") if "order" in payload else payload.get("id")
        if venue_id is not None and str(venue_id) in self._venue_ids:
            return self._venue_ids[str(venue_id)]
        info = payload.get("info") or {}
        candidates = [payload.get("clientOrderId")]
        candidates += [info.get(k) for k in _CLIENT_ID_INFO_KEYS if isinstance(info, dict)]
        if isinstance(info, dict) and isinstance(info.get("order"), dict):
            candidates.append(info["order"].get("cloid"))
        for candidate in candidates:
            if candidate and str(candidate) in self._client_ids:
                client_order_id = self._client_ids[str(candidate)]
                if venue_id is not None:
                    self._venue_ids[str(venue_id)] = client_order_id
                return client_order_id
        return None

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
        if self._pre_submit_check is not None:
            reason = self._pre_submit_check(order)
            if reason:
                return f"{PRE_SUBMIT_BLOCKED}: {reason}"
        return None

    def _is_spot(self, instrument_id: InstrumentId) -> bool:
        return isinstance(self._provider.find(instrument_id), CurrencyPair)

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
        attempt = 0
        while True:
            attempt += 1
            try:
                result: dict[str, Any] = await self._call(
                    "create_order",
                    lambda: self._exchange.create_order(symbol, kind, side, amount, price, dict(params)),
                    order_id=coid,
                )
                return result
            except NautilusExtError as e:
                error = e
            # an earlier attempt may have reached the venue: look the order up by client id
            if is_duplicate_order(error) or (error.retryable and (attempt > 1 or lookup_first)):
                found = await self._find_venue_order(symbol, wire_id)
                if found is not None:
                    return found
            if should_retry(error, attempt, self._cfg.max_retries):
                self._log.warning(f"Order {coid} attempt {attempt} failed ({error}); retrying")
                await asyncio.sleep(
                    backoff_delay(attempt, self._cfg.retry_delay_initial_ms, self._cfg.retry_delay_max_ms)
                )
                continue
            if error.retryable:
                found = await self._find_venue_order(symbol, wire_id)
                if found is not None:
                    return found
            self._log.warning(f"Order {coid} rejected: {error}")
            self._reject(
                order,
                f"{error.code}: {error.message}",
                due_post_only="post only" in error.message.lower(),
            )
            return None

    def _reject(self, order: Order, reason: str, due_post_only: bool = False) -> None:
        cached = self._cache.order(order.client_order_id)
        if cached is not None and cached.status is OrderStatus.SUBMITTED:
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

    async def _find_venue_order(self, symbol: str, client_id: str) -> dict[str, Any] | None:
        ex = self._exchange
        fetchers: list[tuple[str, Callable[[], Any]]] = [
            ("fetch_open_orders", lambda: ex.fetch_open_orders(symbol))
        ]
        if ex.has.get("fetchClosedOrders"):
            fetchers.append(("fetch_closed_orders", lambda: ex.fetch_closed_orders(symbol)))
        for operation, fetch in fetchers:
            try:
                orders = await self._call(operation, fetch)
            except NautilusExtError as e:
                self._log.warning(f"Cannot look up order {client_id}: {e}")
                return None
            for venue_order in orders:
                info = venue_order.get("info") or {}
                ids = {
                    venue_order.get("clientOrderId"),
                    info.get("orderLinkId"),
                    info.get("cloid"),
                    info.get("label"),
                }
                if client_id in ids:
                    return dict(venue_order)
        return None

    def _accept_if_submitted(self, client_order_id: ClientOrderId, venue_order_id: VenueOrderId) -> None:
        order = self._cache.order(client_order_id)
        if order is not None and order.status is OrderStatus.SUBMITTED:
            self.generate_order_accepted(
                order.strategy_id,
                order.instrument_id,
                client_order_id,
                venue_order_id,
                self._clock.timestamp_ns(),
            )

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
        task = self.create_task(
            self._confirm_closed(client_order_id), log_msg=f"confirm_cancel_{client_order_id}"
        )
        if task is not None:
            self._confirm_tasks.add(task)
            task.add_done_callback(self._confirm_tasks.discard)

    async def _confirm_closed(self, client_order_id: ClientOrderId) -> None:
        deadline = self._clock.timestamp_ns() + int(self._cfg.ack_timeout_secs * 1e9)
        while self._clock.timestamp_ns() < deadline:
            order = self._cache.order(client_order_id)
            if order is None or order.is_closed:
                return
            await asyncio.sleep(0.05)
        order = self._cache.order(client_order_id)
        if order is not None and order.is_open:
            await self._refresh_order(order)

    async def _refresh_order(self, order: Order) -> None:
        symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
        if order.venue_order_id is not None and self._exchange.has.get("fetchOrder"):
            # one order by id covers every terminal state (ccxt's closed-orders lists often
            # leave canceled orders out)
            params = {"acknowledged": True} if self._exchange_id == "bybit" else {}
            venue_id = order.venue_order_id.value
            try:
                fetched = await self._call(
                    "fetch_order",
                    lambda: self._exchange.fetch_order(venue_id, symbol, params),
                    order_id=order.client_order_id.value,
                )
            except NautilusExtError as e:
                self._log.warning(f"Cannot fetch order {order.client_order_id}: {e}")
            else:
                await self._apply_order_update(dict(fetched))
                return
        found = await self._find_venue_order(
            symbol, venue_client_id(self._exchange_id, order.client_order_id)
        )
        if found is not None:
            await self._apply_order_update(found)

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

    # -- streams and polling ----------------------------------------------------------------

    async def _stream(self, method: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        failures = 0
        while True:
            try:
                items = await ccxt_call(
                    lambda: asyncio.shield(getattr(self._exchange, method)()),
                    venue=self._venue_name,
                    operation=method,
                    timeout_secs=max(self._cfg.ack_timeout_secs, 30.0),
                )
                failures = 0
            except asyncio.CancelledError:
                raise
            except NautilusExtError as e:
                if isinstance(e.__cause__, TimeoutError):
                    continue  # quiet account: nothing to report
                failures += 1
                self.stream_errors += 1
                self._log.warning(f"Stream {method} failed ({e}); reconnecting")
                self._poll_now.set()  # recover anything missed while down
                await asyncio.sleep(
                    backoff_delay(
                        failures,
                        self._cfg.reconnect_delay_initial_ms,
                        self._cfg.reconnect_delay_max_ms,
                    )
                )
                continue
            for item in items or []:
                result = handler(item)
                if asyncio.iscoroutine(result):
                    await result

    async def _poll_loop(self) -> None:
        interval = self._cfg.fill_poll_interval_ms / 1000
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), interval)
            self._poll_now.clear()
            try:
                await self._poll_once()
            except NautilusExtError as e:
                self._log.warning(f"Fill/order poll failed: {e}")

    async def _poll_once(self) -> None:
        open_orders = self._cache.orders_open(venue=self.venue)
        instruments = {o.instrument_id for o in open_orders}
        for instrument_id in instruments:
            symbol = self._provider.ccxt_symbol(instrument_id)
            if symbol is None:
                continue
            trades = await self._call("fetch_my_trades", partial(self._exchange.fetch_my_trades, symbol))
            for trade in sorted(trades, key=lambda t: t.get("timestamp") or 0):
                self._on_trade(trade)
            venue_open = await self._call(
                "fetch_open_orders", partial(self._exchange.fetch_open_orders, symbol)
            )
            listed = {self._resolve(o) for o in venue_open}
            stale = [
                o
                for o in open_orders
                if o.instrument_id == instrument_id
                and o.client_order_id not in listed
                and o.status is not OrderStatus.SUBMITTED  # the request is still in flight
            ]
            for order in stale[:_MAX_REFRESH_PER_POLL]:
                await self._refresh_order(order)

    # -- venue updates ----------------------------------------------------------------------

    async def _on_order_update(self, venue_order: dict[str, Any]) -> None:
        venue_order = normalize_order(self._exchange_id, venue_order)
        # a venue whose order updates carry the fill (Backpack's orderFill): apply it now
        trade = fill_from_order_update(self._exchange_id, venue_order)
        if trade is not None:
            self._on_trade(trade)
        await self._apply_order_update(venue_order)

    async def _apply_order_update(self, venue_order: dict[str, Any]) -> None:
        client_order_id = self._resolve(venue_order)
        if client_order_id is None:
            return
        order = self._cache.order(client_order_id)
        if order is None or order.is_closed:
            return
        venue_order_id = VenueOrderId(str(venue_order["id"]))
        self._remember(client_order_id, venue_order_id)
        status = order_status(venue_order)
        # a venue may acknowledge first and reject after its risk checks (Paradex: NEW, then
        # CLOSED with NOT_ENOUGH_MARGIN): an accepted order with no fills is rejected too
        if status is OrderStatus.REJECTED and (
            order.status is OrderStatus.SUBMITTED
            or (order.status is OrderStatus.ACCEPTED and order.filled_qty.as_decimal() == 0)
        ):
            self.generate_order_rejected(
                order.strategy_id,
                order.instrument_id,
                client_order_id,
                rejection_reason(self._exchange_id, venue_order),
                self._clock.timestamp_ns(),
            )
            return
        self._accept_if_submitted(client_order_id, venue_order_id)
        if status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            return
        # terminal at the venue: apply any fill we have not seen before closing the order
        venue_filled = Decimal(str(venue_order.get("filled") or 0))
        if venue_filled > order.filled_qty.as_decimal():
            await self._catch_up_fills(order)
        order = self._cache.order(client_order_id)
        if order is None or order.is_closed:
            return
        if venue_filled > order.filled_qty.as_decimal() and client_order_id not in self._fill_gap_checked:
            self._fill_gap_checked.add(client_order_id)
            task = self.create_task(
                self._check_fill_gap(client_order_id, venue_filled), log_msg=f"fill_gap_{client_order_id}"
            )
            if task is not None:
                self._confirm_tasks.add(task)
                task.add_done_callback(self._confirm_tasks.discard)
        if status in (OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED):
            if venue_filled > order.filled_qty.as_decimal():
                self._log.warning(
                    f"Order {client_order_id} closed at venue with fills not yet seen; "
                    "leaving it open until they arrive"
                )
                self._poll_now.set()
                return
            self.generate_order_canceled(
                order.strategy_id,
                order.instrument_id,
                client_order_id,
                venue_order_id,
                self._clock.timestamp_ns(),
            )
        elif status is OrderStatus.FILLED:
            self._poll_now.set()

    async def _catch_up_fills(self, order: Order) -> bool:
        # return whether the venue's fill history was read
        symbol = self._provider.ccxt_symbol(order.instrument_id) or ""
        try:
            trades = await self._call("fetch_my_trades", lambda: self._exchange.fetch_my_trades(symbol))
        except NautilusExtError as e:
            self._log.warning(f"Cannot fetch fills for {order.client_order_id}: {e}")
            return False
        for trade in sorted(trades, key=lambda t: t.get("timestamp") or 0):
            self._on_trade(trade)
        return True

    async def _check_fill_gap(self, client_order_id: ClientOrderId, venue_filled: Decimal) -> None:
        """
        Publish a :class:`FillGap` if the venue still lists fewer fills than it reports filled.

        Bybit's execution ``seq`` is a cross sequence shared by every account (not a count of
        this account's fills), so a lost fill shows instead as an order filled beyond its listed
        fills. Only a successful read of the fill history can prove the gap.
        """
        await asyncio.sleep(_FILL_GAP_RECHECK_SECS)
        order = self._cache.order(client_order_id)
        if order is None or venue_filled <= order.filled_qty.as_decimal():
            return
        if not await self._catch_up_fills(order):
            return
        order = self._cache.order(client_order_id)
        if order is None:
            return
        seen = order.filled_qty.as_decimal()
        if venue_filled <= seen:
            return
        self._log.error(
            f"Order {client_order_id}: the venue reports {venue_filled} filled but lists fills "
            f"for {seen} only; fills are missing"
        )
        gap = FillGap(
            venue=self.venue.value,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id.value,
            venue_filled=venue_filled,
            seen_filled=seen,
            ts_ns=self._clock.timestamp_ns(),
        )
        self._msgbus.publish(f"nautilus_ext.fill_gaps.{self.venue.value}", gap)

    def _on_trade(self, trade: dict[str, Any]) -> None:
        trade_id = str(trade.get("id"))
        # trade ids are unique per market only on some venues (Backpack numbers each symbol's
        # trades from 1): the same id in two markets is two fills
        seen_key = f"{trade.get('symbol')}|{trade_id}"
        if seen_key in self._seen_trades:
            self.duplicate_fills_ignored += 1
            return
        client_order_id = self._resolve(trade)
        if client_order_id is None:
            return  # not ours (or not yet known): the poll will bring it back
        order = self._cache.order(client_order_id)
        if order is None:
            return
        instrument = self._cache.instrument(order.instrument_id)
        if instrument is None:
            return
        qty = instrument.make_qty(Decimal(str(trade["amount"])))
        if order.is_closed or order.filled_qty + qty > order.quantity:
            self._log.error(
                f"Ignoring fill {trade_id} of {qty} for {client_order_id}: order "
                f"{order.status.name} with {order.filled_qty}/{order.quantity} filled"
            )
            self._seen_trades[seen_key] = None
            return
        self._seen_trades[seen_key] = None
        if len(self._seen_trades) > _SEEN_TRADES_MAX:
            self._seen_trades.popitem(last=False)
        venue_order_id = VenueOrderId(str(trade.get("order")))
        self._accept_if_submitted(client_order_id, venue_order_id)
        self.latency.fill(client_order_id.value, self._clock.timestamp_ns())
        self._emit_fill(order, instrument, trade, venue_order_id, TradeId(trade_id))
        if isinstance(instrument, CurrencyPair):
            self._refresh_account_soon()

    def _refresh_account_soon(self) -> None:
        self._account_dirty = True
        if self._account_refresh is not None and not self._account_refresh.done():
            return
        task = self.create_task(self._refresh_account(), log_msg="ccxt_account_refresh")
        if task is not None:
            self._account_refresh = task
            self._confirm_tasks.add(task)
            task.add_done_callback(self._confirm_tasks.discard)

    async def _refresh_account(self) -> None:
        while self._account_dirty:
            self._account_dirty = False
            await self._update_account_state()

    def _emit_fill(
        self,
        order: Order,
        instrument: Instrument,
        trade: dict[str, Any],
        venue_order_id: VenueOrderId,
        trade_id: TradeId,
    ) -> None:
        ts_event = int(trade.get("timestamp") or 0) * 1_000_000 or self._clock.timestamp_ns()
        self.generate_order_filled(
            order.strategy_id,
            order.instrument_id,
            order.client_order_id,
            venue_order_id,
            None,
            trade_id,
            order.side,
            order.order_type,
            instrument.make_qty(Decimal(str(trade["amount"]))),
            instrument.make_price(Decimal(str(trade["price"]))),
            instrument.quote_currency,
            trade_commission(trade, instrument),
            liquidity_side(trade),
            ts_event,
        )

    # -- reconciliation reports -------------------------------------------------------------

    def _symbols(self, instrument_id: Any = None) -> list[str]:
        if instrument_id is not None:
            symbol = self._provider.ccxt_symbol(instrument_id)
            return [symbol] if symbol else []
        return [s for i in self._provider.list_all() if (s := self._provider.ccxt_symbol(i.id))]

    def _instrument_for(self, symbol: str | None) -> Instrument | None:
        instrument_id = self._provider.instrument_id_for_symbol(str(symbol))
        return self._provider.find(instrument_id) if instrument_id is not None else None

    async def generate_order_status_report(
        self,
        command: GenerateOrderStatusReport,
    ) -> OrderStatusReport | None:
        """Return the venue's view of one order (by client or venue order id)."""
        symbols = self._symbols(command.instrument_id)
        wanted_client = (
            venue_client_id(self._exchange_id, command.client_order_id) if command.client_order_id else None
        )
        operations = ["fetch_open_orders"]
        if self._exchange.has.get("fetchClosedOrders"):
            operations.append("fetch_closed_orders")
        for symbol in symbols:
            for operation in operations:
                try:
                    orders = await self._call(operation, partial(getattr(self._exchange, operation), symbol))
                except NautilusExtError as e:
                    self._log.warning(f"Cannot fetch order status: {e}")
                    return None
                for venue_order in orders:
                    info = venue_order.get("info") or {}
                    client_ids = {
                        venue_order.get("clientOrderId"),
                        info.get("orderLinkId"),
                        info.get("cloid"),
                        info.get("label"),
                    }
                    match_venue = (
                        command.venue_order_id is not None
                        and str(venue_order.get("id")) == command.venue_order_id.value
                    )
                    if match_venue or (wanted_client is not None and wanted_client in client_ids):
                        report = self._order_report(venue_order)
                        if report is not None:
                            return report
        return None

    def _order_report(self, venue_order: dict[str, Any]) -> OrderStatusReport | None:
        instrument = self._instrument_for(venue_order.get("symbol"))
        if instrument is None:
            return None
        return order_status_report(
            venue_order,
            account_id=self.account_id,
            instrument=instrument,
            client_order_id=self._resolve(venue_order),
            ts_init=self._clock.timestamp_ns(),
        )

    async def generate_order_status_reports(
        self,
        command: GenerateOrderStatusReports,
    ) -> list[OrderStatusReport]:
        """Return the venue's open orders (for reconciliation at start)."""
        reports: list[OrderStatusReport] = []
        for symbol in self._symbols(command.instrument_id):
            try:
                orders = await self._call(
                    "fetch_open_orders", partial(self._exchange.fetch_open_orders, symbol)
                )
            except NautilusExtError as e:
                self._log.error(f"Cannot fetch open orders for {symbol}: {e}")
                continue
            for venue_order in orders:
                report = self._order_report(venue_order)
                if report is not None:
                    reports.append(report)
        return reports

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        """Return the venue's recent fills (for reconciliation at start)."""
        reports: list[FillReport] = []
        since = command.start.value // 1_000_000 if command.start is not None else None
        for symbol in self._symbols(command.instrument_id):
            try:
                trades = await self._call(
                    "fetch_my_trades",
                    partial(self._exchange.fetch_my_trades, symbol, since),
                )
            except NautilusExtError as e:
                self._log.error(f"Cannot fetch fills for {symbol}: {e}")
                continue
            instrument = self._instrument_for(symbol)
            if instrument is None:
                continue
            for trade in trades:
                if (
                    command.venue_order_id is not None
                    and str(trade.get("order")) != command.venue_order_id.value
                ):
                    continue
                reports.append(
                    fill_report(
                        trade,
                        account_id=self.account_id,
                        instrument=instrument,
                        client_order_id=self._resolve(trade),
                        ts_init=self._clock.timestamp_ns(),
                    )
                )
        return reports

    async def _fetch_positions(self, symbols: list[str]) -> list[dict[str, Any]]:
        # some venues (Bybit linear) refuse several symbols at once: fall back to one each
        try:
            positions: list[dict[str, Any]] = await self._call(
                "fetch_positions", lambda: self._exchange.fetch_positions(symbols or None)
            )
            return [normalize_position(self._exchange_id, p) for p in positions]
        except NautilusExtError as e:
            if e.details.get("ccxt_error") not in ("ArgumentsRequired", "BadRequest"):
                raise
        result: list[dict[str, Any]] = []
        for symbol in symbols:
            result += await self._call("fetch_positions", partial(self._exchange.fetch_positions, [symbol]))
        return [normalize_position(self._exchange_id, p) for p in result]

    async def _position_poll_loop(self) -> None:
        interval = self._cfg.position_poll_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.publish_position_snapshot()
            except NautilusExtError as e:
                self._log.warning(f"Position poll failed: {e}")

    async def publish_position_snapshot(self) -> VenuePositionSnapshot | None:
        """
        Fetch the venue's positions and publish them for the safety layer; return the snapshot.

        Every instrument this venue has orders or positions for is included, flat ones as zero,
        so a position closed or opened behind the system's back shows as a mismatch. Nothing is
        published while there is nothing to watch.
        """
        # spot holdings are wallet balances, not positions: only derivatives are compared
        watched = {i for i in watched_instruments(self._cache, self.venue) if not self._is_spot(i)}
        symbols = [s for s in (self._provider.ccxt_symbol(i) for i in sorted(watched, key=str)) if s]
        if not symbols:
            return None
        positions = await self._fetch_positions(symbols)
        reported: dict[InstrumentId, Decimal] = {}
        for position in positions:
            instrument = self._instrument_for(position.get("symbol"))
            if instrument is None:
                continue
            contracts = Decimal(str(position.get("contracts") or 0))
            short = str(position.get("side") or "").lower() == "short"
            reported[instrument.id] = reported.get(instrument.id, Decimal(0)) + (
                -contracts if short else contracts
            )
        return publish_venue_positions(
            self._msgbus, self.venue, watched, reported, self._clock.timestamp_ns()
        )

    async def generate_position_status_reports(
        self,
        command: GeneratePositionStatusReports,
    ) -> list[PositionStatusReport]:
        """Return the venue's open positions (for reconciliation at start; none on spot)."""
        symbols = [
            s
            for s in self._symbols(command.instrument_id)
            if not isinstance(self._instrument_for(s), CurrencyPair)
        ]
        if not symbols:
            return []
        try:
            positions = await self._fetch_positions(symbols)
        except NautilusExtError as e:
            self._log.error(f"Cannot fetch positions: {e}")
            return []
        reports: list[PositionStatusReport] = []
        for position in positions:
            instrument = self._instrument_for(position.get("symbol"))
            if instrument is None or not position.get("contracts"):
                continue
            reports.append(
                position_status_report(
                    position,
                    account_id=self.account_id,
                    instrument_id=instrument.id,
                    size_precision=instrument.size_precision,
                    ts_init=self._clock.timestamp_ns(),
                )
            )
        return reports


__all__ = ["CcxtExecutionClient", "PreSubmitCheck"]
