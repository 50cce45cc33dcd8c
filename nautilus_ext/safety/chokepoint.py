"""
The one door to a node's execution engine: every order passes the :class:`SafetyGate`.

NautilusTrader delivers every trading command to the execution engine through one message-bus
endpoint, ``ExecEngine.execute``: the ``RiskEngine`` forwards strategies' orders there, and
execution algorithms send their children there directly. :class:`GateChokepoint` takes that
endpoint over (the engine's own handler is kept and called after the gate allows), so no order
reaches an execution client, and so no venue, without a gate decision (seed 001: "nothing may
reach a venue except through this layer"):

* an order the gate already released (:meth:`UnifiedExecutionStrategy.submit_unified` checks it
  with its ``client_order_id``) passes, once and up to the released size (another order under
  the same id is judged as an order of its own);
* a child an execution algorithm spawned from a released order is checked with ``child_of``:
  SAFE mode, kills, dirty positions, feed health, the risk matrix and rate limits apply; the
  LIVE confirmation is the parent's, and holds only while the arm that released the parent
  does (after a disarm or an expiry a child may only reduce the position). A child is bound to
  its parent by the cache's records, never by a field alone: it carries the parent's
  ``exec_algorithm_id``, the parent is a primary order in the cache of the same strategy with
  that algorithm, the algorithm is registered on the bus, and the gate released the parent.
  The children on the parent's instrument and side (and the primary itself, when its algorithm
  finally submits it) never exceed the size the gate released
  (:class:`~nautilus_ext.safety.amends.ChildLedger`);
* any other order (a strategy calling ``submit_order`` itself, or one with a forged
  ``exec_spawn_id``) is turned into a unified :class:`~nautilus_ext.orders.Order` and fully
  checked, so in LIVE it needs an arm and a confirmation of its own hash like any other;
* a blocked order is DENIED (``OrderDenied`` with the taxonomy code and the rule) and never sent;
* an amend (``ModifyOrder``) that adds risk (:func:`~nautilus_ext.safety.amends.amend_adds_risk`)
  is judged like a new order of the amended size and price (in LIVE: a confirmation of its own
  hash, or an armed auto-confirm policy that covers it); one that only reduces risk passes,
  even in SAFE mode. A refused amend gets ``OrderModifyRejected`` with the taxonomy code and
  never reaches the venue;
* cancels always pass; they are audited and recorded for the flip-flop detector;
* a kill (:meth:`SafetyGate.kill_and_cancel`) cancels every working order of its scope through
  the execution engine's own ``CancelOrder`` commands, which pass this door like any other.

The chokepoint also feeds the gate what the node sees: market data and feed health (data
topics, the ccxt adapter's ``nautilus_ext.feed_status.*``), fills (``events.order.*``), fills
the venue reported but never delivered (``nautilus_ext.fill_gaps.*``), venue position snapshots
(``nautilus_ext.venue_positions.*``) and, in simulated modes, Nautilus'
position events. :meth:`tick` evaluates time-based transitions and mirrors the gate into the
``RiskEngine``'s ``TradingState`` (SAFE is ``REDUCING``, LIVE unarmed is ``HALTED``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import PositionChanged
from nautilus_trader.model.events import PositionClosed
from nautilus_trader.model.events import PositionOpened
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.orders import Order as NautilusOrder

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.messages import FEED_STATUS_TOPIC
from nautilus_ext.messages import FILL_GAPS_TOPIC
from nautilus_ext.messages import FORCED_REDUCTIONS_TOPIC
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import FillGap
from nautilus_ext.messages import ForcedReduction
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.mode import Mode
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.amends import ChildLedger
from nautilus_ext.safety.amends import amend_adds_risk
from nautilus_ext.safety.amends import audit_amend
from nautilus_ext.safety.amends import cancel_commands
from nautilus_ext.safety.amends import held_by_algorithms
from nautilus_ext.safety.amends import modify_rejected
from nautilus_ext.safety.amends import refusal
from nautilus_ext.safety.decision import Decision
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked
from nautilus_ext.safety.flatten import flatten_commands
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.oms import Fill

logger = logging.getLogger(__name__)

ENDPOINT: Final = "ExecEngine.execute"
_DATA_TOPICS: Final = ("data.quotes.*", "data.trades.*", "data.book.deltas.*", "data.book.depth.*")


def is_betting(cache: Cache, instrument_id: InstrumentId) -> bool:
    """
    Return whether ``instrument_id`` is a betting selection (its Nautilus signs are reversed).

    NautilusTrader's Betfair convention makes a BACK a ``SELL`` and a LAY a ``BUY``, while a
    unified :class:`~nautilus_ext.orders.Order` counts a BACK as adding to the position
    (:attr:`Order.signed_amount`); the gate works in the Order's convention, so fills,
    position events and venue positions of betting instruments are negated on the way in.
    """
    return isinstance(cache.instrument(instrument_id), BettingInstrument)


def fill_of(event: OrderFilled, asset: str, *, betting: bool = False) -> Fill:
    """
    Return the OMS :class:`Fill` of a Nautilus ``OrderFilled`` (signed: BUY +, SELL -).

    With ``betting`` the signs follow the unified Order instead: BACK (``SELL``) +, LAY -.
    """
    qty = event.last_qty.as_decimal()
    signed = qty if event.order_side == OrderSide.BUY else -qty
    return Fill(
        fill_id=event.trade_id.value,
        venue=event.instrument_id.venue.value,
        asset=asset,
        quantity=-signed if betting else signed,
    )


def signed_position(
    event: PositionOpened | PositionChanged | PositionClosed, *, betting: bool = False
) -> Decimal:
    """
    Return a position event's exact quantity, signed by side (``signed_qty`` is a float).

    With ``betting`` the sign follows the unified Order (a net BACK is positive).
    """
    qty: Decimal = event.quantity.as_decimal()
    signed = -qty if event.side == PositionSide.SHORT else qty
    return -signed if betting else signed


def _serialized[R](method: Callable[..., R]) -> Callable[..., R]:
    """Run ``method`` holding the chokepoint's lock (see :attr:`GateChokepoint.lock`)."""

    @functools.wraps(method)
    def wrapper(self: GateChokepoint, *args: Any, **kwargs: Any) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper


class GateChokepoint:
    """
    Own the ``ExecEngine.execute`` endpoint of a node (see the module docstring).

    Parameters
    ----------
    gate : SafetyGate
        The gate every order must pass.
    msgbus : MessageBus
        The node's message bus.
    cache : Cache
        The node's cache (orders and instruments).
    forward : callable
        The execution engine's ``execute`` (what the endpoint pointed at before).
    risk_engine : object, optional
        The node's ``RiskEngine``; its ``TradingState`` mirrors the gate on :meth:`tick`.
    registry : InstrumentRegistry, optional
        Canonical keys for instruments that carry none (default registry).
    """

    def __init__(
        self,
        gate: SafetyGate,
        *,
        msgbus: MessageBus,
        cache: Cache,
        forward: Callable[[Any], None],
        risk_engine: Any = None,
        registry: InstrumentRegistry | None = None,
    ) -> None:
        self._gate = gate
        self._msgbus = msgbus
        self._cache = cache
        self._forward = forward
        self._risk_engine = risk_engine
        self._registry = registry or InstrumentRegistry.default()
        # instrument -> the position key last used for it (a unified order's key wins)
        self._assets: dict[InstrumentId, str] = {}
        self._installed = False
        # NautilusTrader 1.231's LiveClock runs timer callbacks (execution algorithms' child
        # spawns, the safety actor's tick) on its own thread while data and events arrive on
        # the node's loop: every entry into the gate holds this lock, so the gate's state
        # changes one caller at a time (re-entrant: a denial's events come back on the same
        # thread). Forwarding to the execution engine happens outside it.
        self.lock = threading.RLock()
        self.denied: list[tuple[str, str]] = []  # (client order id, reason), newest last
        self.forwarded = 0
        # per released parent: what its algorithm's children have taken of its size
        self._children = ChildLedger()
        # released orders that went through: a release lets one order of its size pass, once
        self._passed: set[str] = set()

    @property
    def gate(self) -> SafetyGate:
        """Return the gate."""
        return self._gate

    # -- lifecycle ----------------------------------------------------------------------------

    def install(self) -> None:
        """Take the endpoint over and subscribe to the feeds (idempotent)."""
        if self._installed:
            return
        self._msgbus.deregister(ENDPOINT, self._forward)
        self._msgbus.register(ENDPOINT, self.execute)
        self._msgbus.subscribe("events.order.*", self._on_order_event)
        self._msgbus.subscribe("events.position.*", self._on_position_event)
        self._msgbus.subscribe(FEED_STATUS_TOPIC, self._on_feed_status)
        self._msgbus.subscribe(VENUE_POSITIONS_TOPIC, self._on_venue_positions)
        self._msgbus.subscribe(FILL_GAPS_TOPIC, self._on_fill_gap)
        self._msgbus.subscribe(FORCED_REDUCTIONS_TOPIC, self._on_forced_reduction)
        for topic in _DATA_TOPICS:
            self._msgbus.subscribe(topic, self._on_data)
        self._gate.add_kill_listener(self, self.cancel_working)
        self._gate.add_cancel_listener(self, self.cancel_working)
        self._gate.add_flatten_listener(self, self.flatten)
        self._installed = True
        logger.info("Safety chokepoint installed on %s (mode %s)", ENDPOINT, self._gate.mode)

    def uninstall(self) -> None:
        """Give the endpoint back to the execution engine and unsubscribe."""
        if not self._installed:
            return
        self._msgbus.deregister(ENDPOINT, self.execute)
        self._msgbus.register(ENDPOINT, self._forward)
        self._msgbus.unsubscribe("events.order.*", self._on_order_event)
        self._msgbus.unsubscribe("events.position.*", self._on_position_event)
        self._msgbus.unsubscribe(FEED_STATUS_TOPIC, self._on_feed_status)
        self._msgbus.unsubscribe(VENUE_POSITIONS_TOPIC, self._on_venue_positions)
        self._msgbus.unsubscribe(FILL_GAPS_TOPIC, self._on_fill_gap)
        self._msgbus.unsubscribe(FORCED_REDUCTIONS_TOPIC, self._on_forced_reduction)
        for topic in _DATA_TOPICS:
            self._msgbus.unsubscribe(topic, self._on_data)
        self._gate.remove_kill_listener(self)
        self._gate.remove_cancel_listener(self)
        self._gate.remove_flatten_listener(self)
        self._installed = False

    @_serialized
    def tick(self) -> None:
        """Evaluate time-based transitions and mirror the gate into the RiskEngine."""
        self._gate.tick()
        if self._risk_engine is not None:
            state = self._gate.trading_state()
            if self._risk_engine.trading_state != state:
                self._risk_engine.set_trading_state(state)

    # -- the endpoint -------------------------------------------------------------------------

    def execute(self, command: Any) -> None:
        """Judge ``command``: forward it, or deny its orders (refuse its amend)."""
        if isinstance(command, SubmitOrder):
            orders = [command.order]
        elif isinstance(command, SubmitOrderList):
            orders = list(command.order_list.orders)
        elif isinstance(command, ModifyOrder):
            amend = self.judge_modify(command)
            if not amend.allowed:
                self._reject_modify(command, amend.reason)
                return
            self.forwarded += 1
            self._forward(command)
            return
        else:
            self._record_cancels(command)
            self.forwarded += 1
            self._forward(command)
            return
        for order in orders:
            decision = self.judge(order)
            if not decision.allowed:
                # one refusal refuses the whole list: nothing is half-sent
                for each in orders:
                    self._deny(each, decision.reason if each is order else f"list refused: {decision.reason}")
                return
        self.forwarded += 1
        self._forward(command)

    @_serialized
    def judge(self, order: NautilusOrder) -> Decision:
        """Return the gate's decision for one Nautilus order (committing it when allowed)."""
        cid = order.client_order_id.value
        released = self._gate.released_asset(cid)
        if released is not None:
            self._assets[order.instrument_id] = released
            if order.exec_algorithm_id is not None:
                # a primary its execution algorithm submits later (a TWAP's remainder): judged
                # like its children, so SAFE mode, kills and a disarm since its release apply
                return self._judge_child(order, order, released)
            amount = self._gate.released_amount(cid)
            if cid not in self._passed and amount is not None and order.quantity.as_decimal() <= amount:
                self._passed.add(cid)
                return Decision()  # the unified order the gate released as it was submitted
            # the same id again, or more than the gate released: judged as an order of its own
        parent = self._parent_of(order)
        if parent is not None:
            parent_asset = self._gate.released_asset(parent.client_order_id.value)
            assert parent_asset is not None  # _parent_of checked it
            return self._judge_child(order, parent, parent_asset)
        # a direct order, or one whose exec_spawn_id names no released parent (forged): its own
        asset = self.asset_for(order.instrument_id)
        unified = self._unified_or_refusal(order, asset)
        if isinstance(unified, Decision):
            return unified
        if self._gate.auto_confirmable(unified):
            # a direct order in LIVE: an armed auto-confirm policy (named strategies, size
            # limit) confirms it like any staged intent; otherwise it needs a human and is denied
            self._gate.stage(unified)
        context = GateContext(
            venue=self._venue_of(asset, order.instrument_id), asset=asset, client_order_id=cid
        )
        return self._gate.check(unified, context)

    def _parent_of(self, order: NautilusOrder) -> NautilusOrder | None:
        # the released primary an execution algorithm spawned ``order`` from, by the cache's
        # and the bus's records (a field the strategy sets proves nothing on its own)
        spawn = order.exec_spawn_id
        algorithm = order.exec_algorithm_id
        if spawn is None or algorithm is None or spawn == order.client_order_id:
            return None
        parent = self._cache.order(spawn)
        if (
            parent is None
            or parent.exec_algorithm_id != algorithm
            or parent.exec_spawn_id != parent.client_order_id  # a primary, not another child
            or parent.strategy_id != order.strategy_id
            or self._gate.released_asset(spawn.value) is None
            or f"{algorithm.value}.execute" not in self._msgbus.endpoints()
        ):
            return None
        return parent

    def _judge_child(self, order: NautilusOrder, parent: NautilusOrder, parent_asset: str) -> Decision:
        # a child (or the primary itself) rides on the parent's release, within its size
        parent_id = parent.client_order_id.value
        same_leg = order.instrument_id == parent.instrument_id and order.side == parent.side
        asset = (
            parent_asset
            if order.instrument_id == parent.instrument_id
            else self.asset_for(order.instrument_id)
        )
        unified = self._unified_or_refusal(order, asset)
        if isinstance(unified, Decision):
            return unified
        quantity = order.quantity.as_decimal()
        if same_leg:
            room = self._children.room(parent_id, self._released_size(parent))
            if quantity > room:
                return refusal(
                    self._gate,
                    unified,
                    asset,
                    risk_blocked(
                        Rule.CHILD_EXCEEDS_PARENT,
                        f"order {order.client_order_id} of {quantity} exceeds what is left of its "
                        f"parent {parent_id} ({room} of {self._released_size(parent)} released)",
                    ),
                )
        context = GateContext(
            venue=self._venue_of(asset, order.instrument_id),
            asset=asset,
            client_order_id=order.client_order_id.value,
            child_of=parent_id,
        )
        decision = self._gate.check(unified, context)
        if decision.allowed and same_leg:
            self._children.take(parent_id, order.client_order_id.value, quantity)
        return decision

    def _released_size(self, parent: NautilusOrder) -> Decimal:
        # the smaller of the size the gate released and the primary's size when it was created
        # (an algorithm shrinks the primary as it spawns: its first event keeps the original)
        size: Decimal = parent.init_event.quantity.as_decimal()
        amount = self._gate.released_amount(parent.client_order_id.value)
        return size if amount is None else min(size, amount)

    def children_taken(self, parent_id: str) -> Decimal:
        """Return how much of released parent ``parent_id`` its children have taken so far."""
        return self._children.spent(parent_id)

    @_serialized
    def judge_modify(self, command: ModifyOrder) -> Decision:
        """
        Return the gate's decision for an amend (see the module docstring); audited either way.

        An amend that adds risk is judged as the order it would leave working: its amended
        size less what already filled, at its amended price. The amend of an algorithm's child
        is judged as a child (within its parent's size, under the arm that released the parent).
        """
        order = self._cache.order(command.client_order_id)
        if order is None:
            error = InvalidOrder(
                f"cannot amend order {command.client_order_id}: it is not in the cache",
                order_id=command.client_order_id.value,
            )
            audit_amend(self._gate, command, error)
            return Decision(error=error, details=dict(error.details))
        asset = self._fill_asset_of(order.client_order_id.value, order.instrument_id)
        if not amend_adds_risk(order, command):
            audit_amend(self._gate, command, None, self.asset_for(order.instrument_id))
            if command.quantity is not None:
                self._children.resize(order.client_order_id.value, command.quantity.as_decimal())
            return Decision()
        quantity = (command.quantity or order.quantity).as_decimal()
        remaining = quantity - order.filled_qty.as_decimal()
        price = command.price if command.price is not None else (order.price if order.has_price else None)
        try:
            unified = self._unified(
                order,
                asset,
                amount=remaining,
                price=None if price is None else price.as_decimal(),
                operation_id=f"{order.client_order_id.value}~amend",
            )
        except NautilusExtError as e:
            audit_amend(self._gate, command, e, self.asset_for(order.instrument_id))
            return Decision(error=e, details=dict(e.details))
        cid = order.client_order_id.value
        room = self._children.resize_room(cid, quantity)
        if room is not None and room < 0:
            return refusal(
                self._gate,
                unified,
                asset,
                risk_blocked(
                    Rule.CHILD_EXCEEDS_PARENT,
                    f"amending order {cid} to {quantity} exceeds what is left of its parent",
                ),
            )
        # a genuine child's amend rides on its parent's release, like a new child would (an
        # algorithm repricing or trailing its child); any other amend needs its own confirmation
        parent = self._parent_of(order)
        child_of = None if parent is None else parent.client_order_id.value
        if child_of is None and self._gate.mode is Mode.LIVE and self._gate.arming.is_armed():
            # staged so a human can confirm this exact amend (or an armed policy confirms it)
            self._gate.stage(unified)
        context = GateContext(
            venue=self._venue_of(asset, order.instrument_id), asset=asset, child_of=child_of
        )
        decision = self._gate.check(unified, context)
        if decision.allowed:
            self._children.resize(cid, quantity)
        return decision

    def _unified_or_refusal(self, order: NautilusOrder, asset: str) -> Order | Decision:
        try:
            return self._unified(order, asset)
        except InvalidOrder as invalid:
            error = invalid
            if asset == order.instrument_id.value:
                # no canonical key: per-asset limits cannot be applied, so the order is refused
                error = InvalidOrder(
                    f"{asset} has no canonical instrument key: the safety gate cannot apply its "
                    "per-asset limits to it and refuses it (trade it through a unified Order, or "
                    "load the instrument from a provider that names it)",
                    order_id=order.client_order_id.value,
                )
            return Decision(error=error, details=dict(error.details))
        except NautilusExtError as e:
            return Decision(error=e, details=dict(e.details))

    # -- kill ---------------------------------------------------------------------------------

    def cancel_working(
        self, strategy_id: str | None, venue: str | None = None
    ) -> tuple[list[str], list[str]]:
        """
        Cancel every working order of ``strategy_id`` (``None``: all) at ``venue`` (``None``: every venue).

        Each cancel is the execution engine's own ``CancelOrder``, sent through this door (so it
        is audited) to the engine, which routes it to the order's venue; the venue's
        ``OrderCanceled`` confirms it later. Returns (cancels sent, what could not be cancelled:
        a cancel that could not be sent, a primary an execution algorithm still works).
        """
        with self.lock:
            commands, cancelled = cancel_commands(
                self._cache, strategy_id, self._gate.clock.timestamp_ns(), venue
            )
            failed = [] if venue is not None else held_by_algorithms(self._cache, strategy_id)
        for where, command in commands:
            try:
                self.execute(command)
            except Exception as e:  # reported, and the other orders are still cancelled
                failed.append(f"{where}: cancel could not be sent ({type(e).__name__}: {e})")
                continue
            cancelled.append(f"{where}: cancel sent")
        return cancelled, failed

    def flatten(self, strategy_id: str, actor: str) -> tuple[list[str], list[str]]:
        """
        Close every open position of ``strategy_id`` with reduce-only market orders, judged here.

        In LIVE, ``actor``'s command confirms exactly these orders' intents (an arm is still
        needed). Returns (orders sent, what was not sent and why).
        """
        with self.lock:
            commands = flatten_commands(self._cache, strategy_id, self._gate.clock.timestamp_ns())
        sent: list[str] = []
        failed: list[str] = []
        for where, command in commands:
            order = command.order
            unified = self._unified_or_refusal(order, self.asset_for(order.instrument_id))
            if isinstance(unified, Decision):
                failed.append(f"{where}: {unified.reason}")
                continue
            if self._gate.mode is Mode.LIVE:
                with self.lock:
                    intent = self._gate.stage(unified)
                    if intent.confirmed_by is None and self._gate.arming.is_armed():
                        self._gate.confirm(intent.intent_hash, actor)
            self._cache.add_order(order, command.position_id)
            self.execute(command)
            denied = [r for cid, r in self.denied if cid == order.client_order_id.value]
            if denied:
                failed.append(f"{where}: denied: {denied[-1]}")
            else:
                sent.append(f"{where}: closing order {order.client_order_id} sent")
        return sent, failed

    # -- feeds --------------------------------------------------------------------------------

    def asset_for(self, instrument_id: InstrumentId) -> str:
        """Return the position key of ``instrument_id`` (its canonical key when it has one)."""
        asset = self._assets.get(instrument_id)
        if asset is not None:
            return asset
        instrument = self._cache.instrument(instrument_id)
        asset = instrument_id.value
        if instrument is not None:
            # no canonical form: the Nautilus id is the key (judge refuses such direct orders)
            with contextlib.suppress(NautilusExtError):
                asset = str(key_for_instrument(instrument, self._registry))
        self._assets[instrument_id] = asset
        return asset

    def _venue_of(self, asset: str, instrument_id: InstrumentId) -> str:
        # the canonical venue of the key (what unified orders name), else the Nautilus venue
        try:
            return str(InstrumentKey.parse(asset).venue)
        except NautilusExtError:
            return str(instrument_id.venue.value)

    def _venue_names(self, instrument_id: InstrumentId) -> set[str]:
        return {instrument_id.venue.value, self._venue_of(self.asset_for(instrument_id), instrument_id)}

    @_serialized
    def _on_data(self, data: Any) -> None:
        instrument_id = data.instrument_id
        self._gate.on_market_data(self.asset_for(instrument_id))
        for venue in self._venue_names(instrument_id):
            self._gate.on_ws_message(venue)

    @_serialized
    def _on_feed_status(self, status: Any) -> None:
        for venue in self._venue_names(status.instrument_id):
            if status.stale:
                self._gate.on_ws_disconnect(venue)
            else:
                self._gate.on_ws_message(venue)

    @_serialized
    def _on_order_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            betting = is_betting(self._cache, event.instrument_id)
            asset = self._fill_asset(event)
            self._gate.on_fill(fill_of(event, asset, betting=betting))
            if betting:  # the market's liability: the matched part at its odds
                self._gate.on_bet_fill(
                    asset,
                    event.client_order_id.value,
                    event.last_px.as_decimal(),
                    event.last_qty.as_decimal(),
                )
        elif isinstance(event, OrderCanceled | OrderRejected | OrderExpired | OrderDenied):
            cid = event.client_order_id.value
            if is_betting(self._cache, event.instrument_id):
                self._gate.on_bet_closed(self._fill_asset_of(cid, event.instrument_id), cid)
            if self._children.tracks(cid):
                # the unfilled rest of a closed child goes back to its parent
                order = self._cache.order(event.client_order_id)
                unfilled = Decimal(0) if order is None else order.leaves_qty.as_decimal()
                if order is not None and isinstance(event, OrderRejected | OrderDenied):
                    unfilled = order.quantity.as_decimal() - order.filled_qty.as_decimal()
                self._children.close(cid, unfilled)

    def _fill_asset(self, event: OrderFilled) -> str:
        return self._fill_asset_of(event.client_order_id.value, event.instrument_id)

    def _fill_asset_of(self, client_order_id: str, instrument_id: InstrumentId) -> str:
        released = self._gate.released_asset(client_order_id)
        if released is not None:
            return released
        order = self._cache.order(ClientOrderId(client_order_id))
        parent = None if order is None else self._parent_of(order)
        if parent is not None and order is not None and parent.instrument_id == order.instrument_id:
            # a genuine child trades its parent's asset (unless it is a hedge leg elsewhere)
            parent_asset = self._gate.released_asset(parent.client_order_id.value)
            if parent_asset is not None:
                return parent_asset
        return self.asset_for(instrument_id)

    @_serialized
    def _on_position_event(self, event: Any) -> None:
        # in simulated modes the simulated venue is the truth: its positions confirm fills.
        # In LIVE, Nautilus computes positions from the same fills: only the venue's own
        # snapshots (VenuePositionSnapshot) may confirm (seed 001, section 4.7.2).
        if self._gate.mode is Mode.LIVE:
            return
        if isinstance(event, PositionOpened | PositionChanged | PositionClosed):
            betting = is_betting(self._cache, event.instrument_id)
            asset = self.asset_for(event.instrument_id)
            if betting:
                # a betting market's runners share one position key, as their fills do: the
                # simulated venue's view is the sum over the market's runners
                self._gate.on_position_update(asset, self._market_position(asset))
                return
            self._gate.on_position_update(asset, signed_position(event, betting=betting))

    def _market_position(self, asset: str) -> Decimal:
        total = Decimal(0)
        for position in self._cache.positions_open():
            if self.asset_for(position.instrument_id) != asset:
                continue
            qty = position.quantity.as_decimal()
            # the Order's convention: a net BACK (NautilusTrader's SHORT) counts positive
            total += qty if position.side == PositionSide.SHORT else -qty
        return total

    @_serialized
    def _on_venue_positions(self, snapshot: VenuePositionSnapshot) -> None:
        # several instruments may share one position key (a betting market's selections), as
        # fills do: the venue's view is their sum, compared once per key
        by_asset: dict[str, Decimal] = {}
        for instrument_id, quantity in snapshot.positions.items():
            asset = self.asset_for(instrument_id)
            signed = -quantity if is_betting(self._cache, instrument_id) else quantity
            by_asset[asset] = by_asset.get(asset, Decimal(0)) + signed
        for asset, quantity in by_asset.items():
            if snapshot.source == "ws":
                self._gate.on_position_update(asset, quantity)
            else:
                self._gate.on_snapshot(asset, quantity)

    @_serialized
    def _on_fill_gap(self, gap: FillGap) -> None:
        self._gate.on_fill_gap(
            gap.venue,
            self._fill_asset_of(gap.client_order_id, gap.instrument_id),
            f"order {gap.client_order_id}: the venue reports {gap.venue_filled} filled, "
            f"only {gap.seen_filled} of fills can be obtained",
        )

    @_serialized
    def _on_forced_reduction(self, reduction: ForcedReduction) -> None:
        # the venue's ADL or liquidation is an execution of the account no order of ours made:
        # it counts in the running sum like any fill (else the position would disagree with the
        # venue for ever and the asset stay dirty, refusing even the orders that close it)
        if reduction.quantity <= 0 or reduction.side not in ("BUY", "SELL"):
            return
        if is_betting(self._cache, reduction.instrument_id):
            return
        signed = reduction.quantity if reduction.side == "BUY" else -reduction.quantity
        self._gate.on_fill(
            Fill(
                fill_id=f"{reduction.kind}:{reduction.venue_order_id}",
                venue=reduction.venue,
                asset=self.asset_for(reduction.instrument_id),
                quantity=signed,
            )
        )

    # -- internals ----------------------------------------------------------------------------

    @_serialized
    def _record_cancels(self, command: Any) -> None:
        if isinstance(command, CancelOrder):
            cancels = [command]
        elif isinstance(command, BatchCancelOrders):
            cancels = list(command.cancels)
        elif isinstance(command, CancelAllOrders):
            cancels = []
            for order in self._cache.orders_open(instrument_id=command.instrument_id):
                self._gate.check_cancel(
                    self.asset_for(order.instrument_id), order.client_order_id.value, order.strategy_id.value
                )
        else:
            return
        for cancel in cancels:
            self._gate.check_cancel(
                self.asset_for(cancel.instrument_id), cancel.client_order_id.value, cancel.strategy_id.value
            )

    def _unified(
        self,
        order: NautilusOrder,
        asset: str,
        *,
        amount: Decimal | None = None,
        price: Decimal | None = None,
        operation_id: str | None = None,
    ) -> Order:
        # the unified form of ``order`` (of an amend: its new size and price, its own id)
        if price is None and order.has_price:
            price = order.price.as_decimal()
        amount = order.quantity.as_decimal() if amount is None else amount
        operation_id = order.client_order_id.value if operation_id is None else operation_id
        instrument = self._cache.instrument(order.instrument_id)
        if isinstance(instrument, BettingInstrument):
            return self._unified_bet(order, asset, instrument, price, amount, operation_id)
        return Order(
            operation_id=operation_id,
            operation="trade",
            instrument_key=asset,
            venue=self._venue_of(asset, order.instrument_id),
            side="BUY" if order.side == OrderSide.BUY else "SELL",
            amount=amount,
            price=price,
            strategy_id=order.strategy_id.value,
        )

    def _unified_bet(
        self,
        order: NautilusOrder,
        asset: str,
        instrument: BettingInstrument,
        odds: Decimal | None,
        amount: Decimal,
        operation_id: str,
    ) -> Order:
        # NautilusTrader's Betfair convention: SELL is a BACK, BUY a LAY; the price is the odds
        # (a bet without odds is refused by the Order's own rules: no market bets)
        return Order(
            operation_id=operation_id,
            operation="bet",
            instrument_key=asset,
            venue=self._venue_of(asset, order.instrument_id),
            side="LAY" if order.side == OrderSide.BUY else "BACK",
            amount=amount,
            price=odds,
            odds=odds,
            selection=self._selection_of(asset, instrument),
            strategy_id=order.strategy_id.value,
        )

    def _selection_of(self, asset: str, instrument: BettingInstrument) -> str:
        # the registry's selection name (HOME/DRAW/AWAY ...) for the runner, else its name
        with contextlib.suppress(NautilusExtError):
            attrs = self._registry.find(InstrumentKey.parse(asset))
            if attrs is not None:
                for name, selection_id in attrs.selections.items():
                    if selection_id == instrument.selection_id:
                        return name
        return str(instrument.selection_name)

    def _deny(self, order: NautilusOrder, reason: str) -> None:
        self.denied.append((order.client_order_id.value, reason))
        logger.warning("Order %s DENIED by the safety gate: %s", order.client_order_id, reason)
        if order.status != OrderStatus.INITIALIZED:
            return  # already denied, or never a fresh submit: nothing to transition
        if not self._cache.order_exists(order.client_order_id):
            self._cache.add_order(order)
        denied = OrderDenied(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            reason=reason,
            event_id=UUID4(),
            ts_init=self._gate.clock.timestamp_ns(),
        )
        self._msgbus.send(endpoint="ExecEngine.process", msg=denied)

    def _reject_modify(self, command: ModifyOrder, reason: str) -> None:
        # as NautilusTrader's RiskEngine refuses an amend: OrderModifyRejected to the engine
        self.denied.append((command.client_order_id.value, reason))
        logger.warning("Amend of order %s REFUSED by the safety gate: %s", command.client_order_id, reason)
        order = self._cache.order(command.client_order_id)
        if order is None:
            return
        rejected = modify_rejected(order, reason, self._gate.clock.timestamp_ns())
        self._msgbus.send(endpoint="ExecEngine.process", msg=rejected)


def install_chokepoint(
    gate: SafetyGate,
    *,
    msgbus: MessageBus,
    cache: Cache,
    exec_engine: Any,
    risk_engine: Any = None,
    registry: InstrumentRegistry | None = None,
) -> GateChokepoint:
    """Install and return a :class:`GateChokepoint` in front of ``exec_engine``."""
    chokepoint = GateChokepoint(
        gate,
        msgbus=msgbus,
        cache=cache,
        forward=exec_engine.execute,
        risk_engine=risk_engine,
        registry=registry,
    )
    chokepoint.install()
    return chokepoint


# FillGap and VenuePositionSnapshot live in nautilus_ext.messages; re-exported for existing imports
__all__ = ["FillGap", "GateChokepoint", "VenuePositionSnapshot", "install_chokepoint", "is_betting"]
