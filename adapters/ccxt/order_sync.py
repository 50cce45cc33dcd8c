"""
Order and fill synchronisation of the ccxt execution client, with fill-gap detection.

The middle of :class:`~nautilus_ext.adapters.ccxt.execution.CcxtExecutionClient`'s three layers:
order updates and fills arrive over ccxt.pro streams (reconnected by the adapter's one
:class:`~nautilus_ext.adapters.ccxt.retry.RetryPolicy`); a REST poll of fills and open orders
backs them up, so a dropped socket loses nothing, and fills are deduplicated by trade id so
nothing is applied twice. An order the venue reports filled beyond the fills it lists is
published as a :class:`~nautilus_ext.messages.FillGap`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Coroutine
from decimal import Decimal
from functools import partial
from typing import Any
from typing import Final

from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.orders import Order

from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.latency import LatencyRecorder
from nautilus_ext.adapters.ccxt.parsing.forced import forced_kind
from nautilus_ext.adapters.ccxt.parsing.instruments import currency
from nautilus_ext.adapters.ccxt.parsing.orders import liquidity_side
from nautilus_ext.adapters.ccxt.parsing.orders import order_status
from nautilus_ext.adapters.ccxt.parsing.orders import rejection_reason
from nautilus_ext.adapters.ccxt.parsing.orders import trade_commission
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import fill_from_order_update
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_order
from nautilus_ext.adapters.ccxt.reports import CcxtExecutionReports
from nautilus_ext.adapters.ccxt.retry import RetryPolicy
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.messages import FillGap
from nautilus_ext.messages import ForcedReduction
from nautilus_ext.messages import fill_gap_topic
from nautilus_ext.messages import forced_reduction_topic

_SEEN_TRADES_MAX: Final = 50_000
# bound on per-order status queries per poll cycle (venues page open orders, e.g. 50 on Bybit)
_MAX_REFRESH_PER_POLL: Final = 10
# the venue's fill history may lag its order state: look again this long after a shortfall
# before reporting fills as lost
_FILL_GAP_RECHECK_SECS: Final = 0.3


class CcxtOrderSync(CcxtExecutionReports):
    """
    Streams, polls, order updates, fills and fill gaps (see the module docstring).

    Not instantiated on its own: :class:`~nautilus_ext.adapters.ccxt.execution.CcxtExecutionClient`
    sets the attributes below in its constructor.
    """

    _seen_trades: OrderedDict[str, None]
    _background_tasks: set[asyncio.Task[None]]
    _fill_gap_checked: set[ClientOrderId]
    _forced_seen: set[str]
    _poll_now: asyncio.Event
    _account_dirty: bool
    _account_refresh: asyncio.Task[None] | None
    _reconnect: RetryPolicy
    latency: LatencyRecorder
    duplicate_fills_ignored: int
    stream_errors: int

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
        # every task this client creates is kept and cancelled on disconnect
        task = self.create_task(coro, log_msg=name)
        if task is not None:
            self._background_tasks.add(task)
            task.add_done_callback(self._background_tasks.discard)
        return task

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

    # -- streams and polling ----------------------------------------------------------------

    async def _stream(self, method: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        async def step() -> None:
            try:
                items = await ccxt_call(
                    lambda: asyncio.shield(getattr(self._exchange, method)()),
                    venue=self._venue_name,
                    operation=method,
                    timeout_secs=max(self._cfg.ack_timeout_secs, 30.0),
                )
            except NautilusExtError as e:
                if isinstance(e.__cause__, TimeoutError):
                    return  # quiet account: nothing to report
                raise
            for item in items or []:
                result = handler(item)
                if asyncio.iscoroutine(result):
                    await result

        def on_failure(error: NautilusExtError, failures: int) -> None:
            self.stream_errors += 1
            self._log.warning(f"Stream {method} failed ({error}); reconnecting")
            self._poll_now.set()  # recover anything missed while down

        await self._reconnect.repeat(step, on_failure=on_failure)

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
            self._check_forced(venue_order)
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
            self._spawn(self._check_fill_gap(client_order_id, venue_filled), f"fill_gap_{client_order_id}")
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
        self._msgbus.publish(fill_gap_topic(self.venue.value), gap)

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
            self._check_forced(trade)
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

    def _check_forced(self, structure: dict[str, Any]) -> None:
        # an order or execution no order of ours caused: the venue's ADL or liquidation is
        # published once per venue order (its trade and its order update name the same id)
        kind = forced_kind(structure)
        if kind is None:
            return
        instrument = self._instrument_for(structure.get("symbol"))
        if instrument is None:
            return
        venue_order_id = str(structure.get("order") or structure.get("id") or "")
        key = f"{instrument.id}|{venue_order_id}"
        if key in self._forced_seen:
            return
        self._forced_seen.add(key)
        is_order = "filled" in structure and "order" not in structure
        quantity = Decimal(str((structure.get("filled") if is_order else structure.get("amount")) or 0))
        raw_price = structure.get("average") or structure.get("price")
        reduction = ForcedReduction(
            venue=self.venue.value,
            instrument_id=instrument.id,
            kind=kind,
            side=str(structure.get("side") or "").upper(),
            quantity=quantity,
            price=None if raw_price is None else Decimal(str(raw_price)),
            venue_order_id=venue_order_id,
            ts_ns=self._clock.timestamp_ns(),
        )
        self._log.error(
            f"Venue {kind} on {instrument.id}: {reduction.side} {quantity} (order {venue_order_id})"
        )
        self._msgbus.publish(forced_reduction_topic(self.venue.value), reduction)

    def _refresh_account_soon(self) -> None:
        self._account_dirty = True
        if self._account_refresh is not None and not self._account_refresh.done():
            return
        self._account_refresh = self._spawn(self._refresh_account(), "ccxt_account_refresh")

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


__all__ = ["CcxtOrderSync"]
