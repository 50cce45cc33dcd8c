"""
The runtime shared by every algorithm: child bookkeeping, the ``max_slippage`` guard, finishing.

A parent (the *primary* order a strategy submits with ``exec_algorithm_id``) is never sent to
the venue. Children are spawned with ``reduce_primary=False`` and tracked in an own ledger:
``remaining = parent - filled - working``, so an IOC child that comes back unfilled returns its
quantity to the ledger and a later child catches up; a child is never larger than
``remaining``, so the parent never over-fills. When the parent is done (or stopped), the
primary is cancelled locally and an :class:`~nautilus_ext.execution_algos.common.AlgoOutcome` is
published on the message bus under ``outcome_topic(<primary's strategy id>)``: the strategy
learns how its order ended from a typed message (the live ledger stays in :meth:`report`).

On an exchange with trading hours (a CME future or futures option whose root has a session
calendar, :mod:`nautilus_ext.tradfi.sessions`), no child is sent while the market is closed
(the daily maintenance halt, a weekend, a holiday): the child is skipped as *paused*, and
schedule-following algorithms count only open-market time, so they resume at the reopen
(:mod:`~nautilus_ext.execution_algos.scheduled`). ``trading_hours=False`` turns that off.

With ``max_slippage`` set, every taker child is an IOC *limit* at the cap price
(``arrival * (1 +/- max_slippage)`` rounded inward to the tick), so no fill can be beyond it;
and when the touch is already beyond the cap, the child is skipped (``PAUSE``) or the parent
is stopped with reason ``MAX_SLIPPAGE`` (``STOP``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.algorithm import ExecAlgorithm
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.orders import Order as NautilusOrder

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.common import AlgoReport
from nautilus_ext.execution_algos.common import SlippageAction
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import beyond_cap
from nautilus_ext.execution_algos.common import outcome_topic
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import round_to_lot
from nautilus_ext.execution_algos.common import slippage_cap_price
from nautilus_ext.tradfi.sessions import SessionCalendar
from nautilus_ext.tradfi.sessions import TradingHours


class SmartExecAlgorithmConfig(ExecAlgorithmConfig, frozen=True):
    """
    Settings every algorithm shares (each algorithm's config extends this one).

    Parameters
    ----------
    slippage_action : str, default "PAUSE"
        ``PAUSE`` or ``STOP`` when the touch is beyond ``max_slippage`` from arrival.
    max_child_rejects : int, default 3
        Stop the parent with ``CHILD_REJECTED`` after this many refused children.
    trading_hours : bool, default True
        Pause children while the instrument's exchange is closed (instruments with a session
        calendar only).
    """

    slippage_action: str = "PAUSE"
    max_child_rejects: int = 3
    trading_hours: bool = True

    def __post_init__(self) -> None:
        if self.slippage_action not in SlippageAction.__members__:
            raise InvalidConfig(f"slippage_action must be PAUSE or STOP, got {self.slippage_action!r}")
        if self.max_child_rejects < 1:
            raise InvalidConfig(f"max_child_rejects must be >= 1, got {self.max_child_rejects}")


@dataclass(slots=True)
class Parent:
    """The algorithm's ledger for one primary order."""

    primary: NautilusOrder
    instrument: Instrument
    buy: bool
    total: Decimal
    lot: Decimal
    min_size: Decimal
    tick: Decimal
    report: AlgoReport
    slippage_action: SlippageAction
    cap: Decimal | None = None
    filled: Decimal = Decimal(0)
    working: dict[ClientOrderId, Decimal] = field(default_factory=dict)
    rejects: int = 0
    timers: list[str] = field(default_factory=list)
    done: bool = False
    state: dict[str, Any] = field(default_factory=dict)  # algorithm-specific fields

    @property
    def remaining(self) -> Decimal:
        """Return the quantity neither filled nor working (what a new child may take)."""
        return self.total - self.filled - sum(self.working.values(), Decimal(0))


class SmartExecAlgorithm(ExecAlgorithm):  # type: ignore[misc]
    """
    Base of the project's algorithms: subclasses implement :meth:`begin` (and optionally
    :meth:`on_child_closed`) and use :meth:`send_taker`, :meth:`send_maker` and :meth:`finish`.
    """

    algorithm_name = "SMART"
    # the primary order types this algorithm works (others stop with INVALID_PARAMS)
    primary_order_types: frozenset[OrderType] = frozenset({OrderType.MARKET})

    def __init__(self, config: SmartExecAlgorithmConfig) -> None:
        super().__init__(config)
        self._slippage_action = SlippageAction(config.slippage_action)
        self._max_child_rejects = config.max_child_rejects
        self.parents: dict[ClientOrderId, Parent] = {}
        self._parent_of: dict[ClientOrderId, ClientOrderId] = {}
        self._use_hours = config.trading_hours
        self._hours: TradingHours | None = None
        self._listening: set[StrategyId] = set()

    # -- hooks ----------------------------------------------------------------------------------

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        """Plan and start working ``parent`` (raise :class:`InvalidOrder` for bad params)."""
        raise NotImplementedError(f"{type(self).__name__} must implement begin()")

    def on_child_closed(self, parent: Parent) -> None:
        """React to a child that filled or closed while the parent is still live."""

    # -- entry ----------------------------------------------------------------------------------

    def on_order(self, order: NautilusOrder) -> None:
        # NautilusTrader subscribes an algorithm to a strategy's order events only after it has
        # handled that strategy's first order: on a venue that executes on arrival (a recorded
        # DRY_RUN, its REPLAY) the first parent's children fill inside ``on_order`` and those
        # events would never arrive. Listen ourselves for the duration of that first order.
        strategy = order.strategy_id
        if strategy in self._listening:
            self._on_order(order)
            return
        self._listening.add(strategy)
        topic = f"events.order.{strategy.value}"
        self.msgbus.subscribe(topic=topic, handler=self._early_event)
        try:
            self._on_order(order)
        finally:
            self.msgbus.unsubscribe(topic=topic, handler=self._early_event)

    def _early_event(self, event: Any) -> None:
        order = self.cache.order(event.client_order_id)
        if order is None or order.exec_algorithm_id != self.id:
            return
        handler = {
            OrderFilled: self.on_order_filled,
            OrderCanceled: self.on_order_canceled,
            OrderExpired: self.on_order_expired,
            OrderRejected: self.on_order_rejected,
            OrderDenied: self.on_order_denied,
        }.get(type(event))
        if handler is not None:
            handler(event)

    def _on_order(self, order: NautilusOrder) -> None:
        instrument = self.cache.instrument(order.instrument_id)
        report = AlgoReport(
            algorithm=self.algorithm_name,
            primary_id=order.client_order_id.value,
            parent_quantity=order.quantity.as_decimal(),
        )
        if instrument is None:
            self.log.error(f"Cannot execute order {order.client_order_id}: instrument not in cache")
            return
        params = dict(order.exec_algorithm_params or {})
        min_qty = instrument.min_quantity
        parent = Parent(
            primary=order,
            instrument=instrument,
            buy=order.side == OrderSide.BUY,
            total=order.quantity.as_decimal(),
            lot=instrument.size_increment.as_decimal(),
            min_size=instrument.size_increment.as_decimal() if min_qty is None else min_qty.as_decimal(),
            tick=instrument.price_increment.as_decimal(),
            report=report,
            slippage_action=self._slippage_action,
        )
        self.parents[order.client_order_id] = parent
        if order.order_type not in self.primary_order_types:
            allowed = "/".join(sorted(t.name for t in self.primary_order_types))
            self.finish(
                parent, StopReason.INVALID_PARAMS, f"only {allowed} primaries, got {order.order_type}"
            )
            return
        try:
            action = param_str(params, "slippage_action", str(self._slippage_action)).upper()
            if action not in SlippageAction.__members__:
                raise InvalidOrder(f"slippage_action must be PAUSE or STOP, got {action!r}")
            parent.slippage_action = SlippageAction(action)
            arrival = param_decimal(params, "arrival_price", None) or self.mid_price(order.instrument_id)
            report.arrival_price = arrival
            max_slippage = param_decimal(params, "max_slippage", None)
            if max_slippage is not None:
                if arrival is None:
                    self.finish(parent, StopReason.NO_MARKET_DATA, "no arrival price for max_slippage")
                    return
                parent.cap = slippage_cap_price(arrival, max_slippage, buy=parent.buy, tick=parent.tick)
                report.cap_price = parent.cap
            self.begin(parent, params)
        except InvalidOrder as e:
            self.finish(parent, StopReason.INVALID_PARAMS, e.message)

    # -- trading hours --------------------------------------------------------------------------

    def session_of(self, parent: Parent) -> SessionCalendar | None:
        """Return the session calendar of the parent's instrument (``None``: always open)."""
        if not self._use_hours:
            return None
        if "session" not in parent.state:
            if self._hours is None:
                self._hours = TradingHours.default()
            parent.state["session"] = self._hours.calendar_for_instrument(parent.instrument)
        session: SessionCalendar | None = parent.state["session"]
        return session

    def market_open(self, parent: Parent) -> bool:
        """Return whether the parent's market takes orders now (no calendar: always)."""
        session = self.session_of(parent)
        if session is None:
            return True
        try:
            return session.is_open(self.clock.timestamp_ns())
        except InvalidConfig:
            return False  # no trading hours known for this time: send nothing

    def _paused_closed(self, parent: Parent) -> None:
        parent.report.paused_children += 1
        session = self.session_of(parent)
        closed = "market closed" if session is None else session.describe(self.clock.timestamp_ns())
        parent.report.detail = f"paused: {closed}"

    # -- market view ----------------------------------------------------------------------------

    def touch(self, instrument_id: InstrumentId, *, buy: bool) -> tuple[Decimal | None, Decimal | None]:
        """Return (best bid, best ask) from the book, else the last quote (None when unknown)."""
        book = self.cache.order_book(instrument_id)
        if book is not None:
            bid, ask = book.best_bid_price(), book.best_ask_price()
            if bid is not None and ask is not None:
                return bid.as_decimal(), ask.as_decimal()
        quote = self.cache.quote_tick(instrument_id)
        if quote is not None:
            return quote.bid_price.as_decimal(), quote.ask_price.as_decimal()
        return None, None

    def mid_price(self, instrument_id: InstrumentId) -> Decimal | None:
        """Return the mid from the book or quote, else the last trade price."""
        bid, ask = self.touch(instrument_id, buy=True)
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        trade = self.cache.trade_tick(instrument_id)
        return None if trade is None else trade.price.as_decimal()

    # -- children -------------------------------------------------------------------------------

    def send_taker(self, parent: Parent, quantity: Decimal) -> bool:
        """
        Send an IOC child for up to ``quantity`` (capped by ``remaining``, rounded to the lot).

        Return False when nothing was sent (too small, paused or stopped by the guard).
        """
        qty = round_to_lot(min(quantity, parent.remaining), parent.lot)
        if parent.done or qty <= 0 or qty < parent.min_size:
            return False
        if not self.market_open(parent):
            self._paused_closed(parent)
            return False
        primary = parent.primary
        if parent.cap is not None:
            bid, ask = self.touch(primary.instrument_id, buy=parent.buy)
            price = ask if parent.buy else bid
            if price is not None and beyond_cap(price, parent.cap, buy=parent.buy):
                return self._guard_tripped(parent, price)
            child = self.spawn_limit(
                primary=primary,
                quantity=parent.instrument.make_qty(qty),
                price=parent.instrument.make_price(parent.cap),
                time_in_force=TimeInForce.IOC,
                reduce_primary=False,
            )
        else:
            child = self.spawn_market(
                primary=primary,
                quantity=parent.instrument.make_qty(qty),
                time_in_force=TimeInForce.IOC,
                reduce_primary=False,
            )
        self._track(parent, child, qty)
        return True

    def send_maker(self, parent: Parent, quantity: Decimal, price: Decimal) -> ClientOrderId | None:
        """Post a GTC post-only limit child; return its id (None when nothing was sent)."""
        qty = round_to_lot(min(quantity, parent.remaining), parent.lot)
        if parent.done or qty <= 0 or qty < parent.min_size:
            return None
        if not self.market_open(parent):
            self._paused_closed(parent)
            return None
        if parent.cap is not None and beyond_cap(price, parent.cap, buy=parent.buy):
            self._guard_tripped(parent, price)
            return None
        child = self.spawn_limit(
            primary=parent.primary,
            quantity=parent.instrument.make_qty(qty),
            price=parent.instrument.make_price(price),
            time_in_force=TimeInForce.GTC,
            post_only=True,
            reduce_primary=False,
        )
        self._track(parent, child, qty)
        return child.client_order_id

    def _track(self, parent: Parent, child: NautilusOrder, qty: Decimal) -> None:
        parent.working[child.client_order_id] = qty
        parent.report.children.append(child.client_order_id.value)
        self._parent_of[child.client_order_id] = parent.primary.client_order_id
        self.submit_order(child)
        # a denial inside submit_order can precede this algorithm's subscription to the
        # strategy's order events (Nautilus subscribes after the first command): settle it here
        sent = self.cache.order(child.client_order_id)
        if sent is not None and sent.status == OrderStatus.DENIED and child.client_order_id in parent.working:
            self._closed(child.client_order_id, rejected=True, why="denied on submission")

    def submit_on_venue(self, parent: Parent, child: NautilusOrder, qty: Decimal) -> None:
        """Submit a child built for any instrument (another venue), tracked like a spawned one."""
        # ExecAlgorithm.submit_order gives a spawned child its primary's position id, which
        # becomes the first venue's position once a child fills there, and a NETTING venue
        # refuses it for another instrument: submit the same way, letting each venue's engine
        # assign the position
        parent.working[child.client_order_id] = qty
        parent.report.children.append(child.client_order_id.value)
        self._parent_of[child.client_order_id] = parent.primary.client_order_id
        self.cache.add_order(child, None, None)
        self.msgbus.publish(topic=f"events.order.{child.strategy_id.value}", msg=child.init_event)
        command = SubmitOrder(
            trader_id=self.trader_id,
            strategy_id=child.strategy_id,
            order=child,
            command_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
        )
        self.msgbus.send(endpoint="RiskEngine.execute", msg=command)
        sent = self.cache.order(child.client_order_id)
        if sent is not None and sent.status == OrderStatus.DENIED and child.client_order_id in parent.working:
            self._closed(child.client_order_id, rejected=True, why="denied on submission")

    def _guard_tripped(self, parent: Parent, price: Decimal) -> bool:
        arrival = parent.report.arrival_price
        why = f"touch {price} is beyond the max_slippage cap {parent.cap} (arrival {arrival})"
        if parent.slippage_action is SlippageAction.STOP:
            self.finish(parent, StopReason.MAX_SLIPPAGE, why)
        else:
            parent.report.paused_children += 1
            parent.report.detail = f"paused: {why}"
        return False

    def cancel_working(self, parent: Parent) -> None:
        """Cancel every working child of ``parent`` that the venue holds."""
        for cid in list(parent.working):
            order = self.cache.order(cid)
            if order is not None and order.is_open and not order.is_pending_cancel:
                self.cancel_order(order)

    # -- finishing ------------------------------------------------------------------------------

    def finish(self, parent: Parent, reason: StopReason, detail: str = "") -> None:
        """Stop working ``parent``: cancel its timers and children, publish the outcome, close the primary."""
        if parent.done:
            return
        parent.done = True
        for name in parent.timers:
            if name in self.clock.timer_names:
                self.clock.cancel_timer(name)
        self.cancel_working(parent)
        parent.report.stop_reason = reason
        if detail:
            parent.report.detail = detail
        self._publish_report(parent)
        primary = self.cache.order(parent.primary.client_order_id) or parent.primary
        if not primary.is_closed:
            self.execute(
                CancelOrder(
                    trader_id=primary.trader_id,
                    strategy_id=primary.strategy_id,
                    instrument_id=primary.instrument_id,
                    client_order_id=primary.client_order_id,
                    venue_order_id=None,
                    command_id=UUID4(),
                    ts_init=self.clock.timestamp_ns(),
                ),
            )
        log = self.log.info if reason is StopReason.COMPLETED else self.log.warning
        log(
            f"{self.algorithm_name} {primary.client_order_id} stopped: {reason} "
            f"filled {parent.filled}/{parent.total} {parent.report.detail}",
        )

    def _publish_report(self, parent: Parent) -> None:
        # the strategy that owns the primary receives the outcome before the primary's cancel
        parent.report.filled_quantity = parent.filled
        topic = outcome_topic(parent.primary.strategy_id.value)
        self.msgbus.publish(topic, parent.report.outcome(), external_pub=False)

    def report(self, primary_id: ClientOrderId) -> AlgoReport | None:
        """Return the report of a parent (live while running, final once stopped)."""
        parent = self.parents.get(primary_id)
        if parent is None:
            return None
        parent.report.filled_quantity = parent.filled
        return parent.report

    def on_stop(self) -> None:
        for parent in self.parents.values():
            if not parent.done:
                parent.done = True
                parent.report.stop_reason = StopReason.END_OF_DATA
                parent.report.detail = f"node stopped with {parent.total - parent.filled} unfilled"
                self._publish_report(parent)
        self.clock.cancel_timers()

    def on_reset(self) -> None:
        self.parents.clear()
        self._parent_of.clear()

    # -- child events ---------------------------------------------------------------------------

    def _parent_for(self, client_order_id: ClientOrderId) -> Parent | None:
        pid = self._parent_of.get(client_order_id)
        return None if pid is None else self.parents.get(pid)

    def on_order_filled(self, event: OrderFilled) -> None:
        parent = self._parent_for(event.client_order_id)
        if parent is None:
            return
        qty = event.last_qty.as_decimal()
        parent.filled += qty
        if event.liquidity_side == LiquiditySide.MAKER:
            parent.report.maker_quantity += qty
        else:
            parent.report.taker_quantity += qty
        left = parent.working.get(event.client_order_id, Decimal(0)) - qty
        if left > 0:
            parent.working[event.client_order_id] = left
        else:
            parent.working.pop(event.client_order_id, None)
        if parent.done:  # a late fill of a child cancelled at the stop: keep the report true
            self._publish_report(parent)
            return
        self._progress(parent)

    def _closed(self, client_order_id: ClientOrderId, rejected: bool, why: str = "") -> None:
        parent = self._parent_for(client_order_id)
        if parent is None or parent.working.pop(client_order_id, None) is None:
            return
        if rejected:
            parent.rejects += 1
            if parent.rejects >= self._max_child_rejects and not parent.done:
                self.finish(parent, StopReason.CHILD_REJECTED, f"{parent.rejects} children refused: {why}")
                return
        self._progress(parent)

    def _progress(self, parent: Parent) -> None:
        if parent.done:
            return
        if parent.filled >= parent.total:
            self.finish(parent, StopReason.COMPLETED)
            return
        self.on_child_closed(parent)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        self._closed(event.client_order_id, rejected=False)

    def on_order_expired(self, event: OrderExpired) -> None:
        self._closed(event.client_order_id, rejected=False)

    def on_order_rejected(self, event: OrderRejected) -> None:
        self._closed(event.client_order_id, rejected=True, why=event.reason)

    def on_order_denied(self, event: OrderDenied) -> None:
        self._closed(event.client_order_id, rejected=True, why=event.reason)
