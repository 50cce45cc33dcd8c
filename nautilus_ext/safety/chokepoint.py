"""
The one door to a node's execution engine: every order passes the :class:`SafetyGate`.

NautilusTrader delivers every trading command to the execution engine through one message-bus
endpoint, ``ExecEngine.execute``: the ``RiskEngine`` forwards strategies' orders there, and
execution algorithms send their children there directly. :class:`GateChokepoint` takes that
endpoint over (the engine's own handler is kept and called after the gate allows), so no order
reaches an execution client, and so no venue, without a gate decision (seed 001: "nothing may
reach a venue except through this layer"):

* an order the gate already released (:meth:`UnifiedExecutionStrategy.submit_unified` checks it
  with its ``client_order_id``) passes;
* a child an execution algorithm spawned from a released order is checked with ``child_of``:
  SAFE mode, kills, dirty positions, feed health, the risk matrix and rate limits apply; the
  LIVE confirmation is the parent's;
* any other order (a strategy calling ``submit_order`` itself) is turned into a unified
  :class:`~nautilus_ext.orders.Order` and fully checked, so in LIVE it needs an arm and a
  confirmation of its own hash like any other;
* a blocked order is DENIED (``OrderDenied`` with the taxonomy code and the rule) and never sent;
* cancels always pass and are recorded for the flip-flop detector.

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
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import PositionChanged
from nautilus_trader.model.events import PositionClosed
from nautilus_trader.model.events import PositionOpened
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.orders import Order as NautilusOrder

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.messages import FEED_STATUS_TOPIC
from nautilus_ext.messages import FILL_GAPS_TOPIC
from nautilus_ext.messages import VENUE_POSITIONS_TOPIC
from nautilus_ext.messages import FillGap
from nautilus_ext.messages import VenuePositionSnapshot
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.decision import Decision
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
        for topic in _DATA_TOPICS:
            self._msgbus.subscribe(topic, self._on_data)
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
        for topic in _DATA_TOPICS:
            self._msgbus.unsubscribe(topic, self._on_data)
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
        """Judge ``command``: forward it, or deny its orders."""
        if isinstance(command, SubmitOrder):
            orders = [command.order]
        elif isinstance(command, SubmitOrderList):
            orders = list(command.order_list.orders)
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
            return Decision()
        parent = order.exec_spawn_id
        parent_asset = None if parent is None else self._gate.released_asset(parent.value)
        asset = self._child_asset(order, parent_asset) or self.asset_for(order.instrument_id)
        try:
            unified = self._unified(order, asset)
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
        if context_parent(parent, parent_asset) is None and self._gate.auto_confirmable(unified):
            # a direct order in LIVE: an armed auto-confirm policy (named strategies, size
            # limit) confirms it like any staged intent; otherwise it needs a human and is denied
            self._gate.stage(unified)
        context = GateContext(
            venue=self._venue_of(asset, order.instrument_id),
            asset=asset,
            client_order_id=cid,
            child_of=context_parent(parent, parent_asset),
        )
        return self._gate.check(unified, context)

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
            self._gate.on_fill(fill_of(event, self._fill_asset(event), betting=betting))

    def _fill_asset(self, event: OrderFilled) -> str:
        return self._fill_asset_of(event.client_order_id.value, event.instrument_id)

    def _fill_asset_of(self, client_order_id: str, instrument_id: InstrumentId) -> str:
        released = self._gate.released_asset(client_order_id)
        if released is not None:
            return released
        order = self._cache.order(ClientOrderId(client_order_id))
        if order is not None and order.exec_spawn_id is not None:
            parent = self._child_asset(order, self._gate.released_asset(order.exec_spawn_id.value))
            if parent is not None:
                return parent
        return self.asset_for(instrument_id)

    def _child_asset(self, order: NautilusOrder, parent_asset: str | None) -> str | None:
        # a child trades its parent's asset unless it is on another instrument (a hedge leg)
        if parent_asset is None or order.exec_spawn_id is None:
            return None
        parent = self._cache.order(order.exec_spawn_id)
        if parent is not None and parent.instrument_id != order.instrument_id:
            return None
        return parent_asset

    @_serialized
    def _on_position_event(self, event: Any) -> None:
        # in simulated modes the simulated venue is the truth: its positions confirm fills.
        # In LIVE, Nautilus computes positions from the same fills: only the venue's own
        # snapshots (VenuePositionSnapshot) may confirm (seed 001, section 4.7.2).
        if self._gate.mode is Mode.LIVE:
            return
        if isinstance(event, PositionOpened | PositionChanged | PositionClosed):
            betting = is_betting(self._cache, event.instrument_id)
            self._gate.on_position_update(
                self.asset_for(event.instrument_id), signed_position(event, betting=betting)
            )

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
                self._gate.check_cancel(self.asset_for(order.instrument_id), order.client_order_id.value)
        else:
            return
        for cancel in cancels:
            self._gate.check_cancel(self.asset_for(cancel.instrument_id), cancel.client_order_id.value)

    def _unified(self, order: NautilusOrder, asset: str) -> Order:
        price = order.price.as_decimal() if order.has_price else None
        instrument = self._cache.instrument(order.instrument_id)
        if isinstance(instrument, BettingInstrument):
            return self._unified_bet(order, asset, instrument, price)
        return Order(
            operation_id=order.client_order_id.value,
            operation="trade",
            instrument_key=asset,
            venue=self._venue_of(asset, order.instrument_id),
            side="BUY" if order.side == OrderSide.BUY else "SELL",
            amount=order.quantity.as_decimal(),
            price=price,
            strategy_id=order.strategy_id.value,
        )

    def _unified_bet(
        self, order: NautilusOrder, asset: str, instrument: BettingInstrument, odds: Decimal | None
    ) -> Order:
        # NautilusTrader's Betfair convention: SELL is a BACK, BUY a LAY; the price is the odds
        # (a bet without odds is refused by the Order's own rules: no market bets)
        return Order(
            operation_id=order.client_order_id.value,
            operation="bet",
            instrument_key=asset,
            venue=self._venue_of(asset, order.instrument_id),
            side="LAY" if order.side == OrderSide.BUY else "BACK",
            amount=order.quantity.as_decimal(),
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


def context_parent(parent: Any, parent_asset: str | None) -> str | None:
    """Return the released parent's client order id of a child, else ``None``."""
    return None if parent_asset is None or parent is None else str(parent.value)


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
