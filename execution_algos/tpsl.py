"""
TP/SL: execute an entry, then protect the position it opened with take-profit tranches and a stop.

The entry (the primary) is one child: a GTC limit at the order's price when the unified Order has
one, else an IOC taker (an IOC limit at the ``max_slippage`` cap when the Order has one, else an
IOC market). Entry is never split over time: an order with TP/SL prices is routed here instead of
the urgency's algorithm, because the exits must follow the entry's fills one for one.

From the first entry fill on, the algorithm keeps these exits working (all ``reduce_only`` by
default, opposite side, GTC, tagged :data:`~nautilus_ext.execution_algos.common.EXIT_TAG`):

- take-profit limit tranches ``TP1..TPn`` at ``take_profit_prices`` (the Order's
  ``take_profit_price`` alone gives one tranche), sized by ``take_profit_fractions`` of the entry
  fill in whole lots, each at least the venue's minimum size (:func:`~tpsl_plan.split_tranches`);
- one protective stop for everything still open: ``STOP_MARKET`` at ``stop_loss_price``, or
  ``TRAILING_STOP_MARKET`` with ``trailing_offset`` (price units), whose first trigger is the
  tighter of ``stop_loss_price`` and ``reference - offset`` (:func:`~tpsl_plan.trail_trigger`).

**Contingency is managed here, not by Nautilus ``contingency_type``/``linked_order_ids``.** In 1.231
the ``SimulatedExchange`` implements OUO by resizing every linked order to the *filled order's*
leaves, and OCO by cancelling them: right for a 1:1 bracket, wrong for a ladder of take-profits
sharing one stop (TP1 filling would cancel or shrink the stop to TP1's leaves). In a live
``TradingNode``, contingencies of orders that are not emulated are honoured only by venues whose
adapter implements them, and ``ExecAlgorithm.submit_order`` refuses emulated orders (so the
``OrderEmulator``/``OrderManager`` cannot manage them either). The algorithm therefore sizes every
exit itself from one pure function (:func:`~tpsl_plan.exit_targets`), the same in a backtest and live:

- the *protected* quantity is ``entry filled - exits filled``, capped by the strategy's net
  position in the entry's direction (less what older TP/SL parents on the same instrument
  protect); it is re-read at every position event, so a partial close by the strategy shrinks
  the exits, and a close beyond it cancels them (``POSITION_CLOSED``);
- the stop always covers the protected quantity; take-profit tranches are trimmed from the
  farthest one inward so that together they never exceed it (:func:`~tpsl_plan.trim_to_cap`);
- resizes are ``ModifyOrder`` commands (the trailing stop keeps its trigger); an exit whose target
  drops to zero is cancelled.

``reduce_only`` on the exits is the venue-side backstop against a flip when two exits fill in the
same instant. The 1.231 ``SimulatedExchange`` also re-syncs every open reduce-only order of a
position to the position size after each fill (meant for single brackets); the algorithm puts its
own sizes back on the next event. Spot venues that refuse reduce-only orders need
``reduce_only=false``.

The parent ends when the protected quantity reaches zero: ``COMPLETED`` when the exits closed it,
``POSITION_CLOSED`` when it was closed outside, ``EXITS_CANCELLED`` when all exits were cancelled
by someone else with quantity still open, ``END_OF_DATA`` when the node stopped first. The report
lists every exit (kind, type, price, quantity, filled, average price, status).

Per-order parameters: ``take_profit_price``, ``stop_loss_price`` (from the Order),
``take_profit_prices``, ``take_profit_fractions``, ``trailing_offset``, ``stop_trigger_type``,
``reduce_only``, ``max_slippage``, ``slippage_action``, ``arrival_price``. ``urgency`` does not
change anything here (the entry is a single order).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TrailingOffsetType
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.events import PositionEvent
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.model.orders import Order as NautilusOrder
from nautilus_trader.model.orders import StopMarketOrder
from nautilus_trader.model.orders import TrailingStopMarketOrder

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import EXIT_TAG
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.tpsl_plan import ExitPlan
from nautilus_ext.execution_algos.tpsl_plan import check_fractions
from nautilus_ext.execution_algos.tpsl_plan import exit_targets
from nautilus_ext.execution_algos.tpsl_plan import parse_decimals
from nautilus_ext.execution_algos.tpsl_plan import parse_exit_plan
from nautilus_ext.execution_algos.tpsl_plan import protected_quantity
from nautilus_ext.execution_algos.tpsl_plan import trail_trigger

STOP: Final = "STOP"
_TRIGGER_TYPES: Final = ("DEFAULT", "BID_ASK", "LAST_PRICE", "MARK_PRICE")
_WORKING: Final = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.TRIGGERED})


class TPSLExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`TPSLExecAlgorithm` (defaults; each order may override them).

    Parameters
    ----------
    take_profit_fractions : str, default ""
        Comma-separated fractions of the entry per take-profit price (summing to 1); empty
        splits evenly across the prices.
    trailing_offset : str, default ""
        Trailing distance of the stop in price units; empty for a fixed ``STOP_MARKET``.
    stop_trigger_type : str, default "DEFAULT"
        Nautilus ``TriggerType`` of the stop: ``DEFAULT``, ``BID_ASK``, ``LAST_PRICE`` or
        ``MARK_PRICE``.
    reduce_only : bool, default True
        Send exits as reduce-only (spot venues that refuse it need False).
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("TPSL")
    take_profit_fractions: str = ""
    trailing_offset: str = ""
    stop_trigger_type: str = "DEFAULT"
    reduce_only: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.stop_trigger_type not in _TRIGGER_TYPES:
            allowed = ", ".join(_TRIGGER_TYPES)
            raise InvalidConfig(f"stop_trigger_type must be one of {allowed}, got {self.stop_trigger_type!r}")
        try:
            if self.take_profit_fractions:
                check_fractions(parse_decimals(self.take_profit_fractions, "take_profit_fractions"))
            if self.trailing_offset and Decimal(self.trailing_offset) <= 0:
                raise InvalidOrder(f"trailing_offset must be positive, got {self.trailing_offset}")
        except (InvalidOrder, ArithmeticError) as e:
            raise InvalidConfig(f"invalid TPSL config: {e}") from None


# -- the algorithm ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ExitLeg:
    """One exit order slot: a take-profit tranche or the stop (a slot may be re-filled by a new order)."""

    kind: str  # TP1..TPn or STOP
    price: Decimal | None  # limit price (TP) or first trigger (stop)
    order_id: ClientOrderId | None = None
    filled: Decimal = Decimal(0)
    live: bool = True  # False once cancelled or refused outside the algorithm's own resizing
    cancel_requested: bool = False
    orders: list[ClientOrderId] = field(default_factory=list)
    notional: dict[ClientOrderId, Decimal] = field(default_factory=dict)  # per order: sum(qty * px)


@dataclass(slots=True)
class TPSLState:
    """Everything the algorithm knows about one parent beyond the entry ledger."""

    plan: ExitPlan
    reduce_only: bool
    trigger_type: TriggerType
    legs: list[ExitLeg]
    seq: int = 0
    position_gap: Decimal = Decimal(0)
    entry_open: bool = True

    @property
    def exits_filled(self) -> Decimal:
        """Return the quantity all exits filled so far."""
        return sum((leg.filled for leg in self.legs), Decimal(0))


class TPSLExecAlgorithm(SmartExecAlgorithm):
    """Entry, then take-profit tranches and a (trailing) stop sized to the position (module docstring)."""

    algorithm_name = "TPSL"
    primary_order_types = frozenset({OrderType.MARKET, OrderType.LIMIT})

    def __init__(self, config: TPSLExecAlgorithmConfig | None = None) -> None:
        config = config or TPSLExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config
        self._exit_of: dict[ClientOrderId, tuple[ClientOrderId, ExitLeg]] = {}

    # -- entry ----------------------------------------------------------------------------------

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        d = self._defaults
        primary = parent.primary
        limit = primary.price.as_decimal() if primary.order_type == OrderType.LIMIT else None
        # a market entry is checked against the arrival mid: exits on the wrong side of it would
        # fill (or trigger) at once
        entry = limit if limit is not None else parent.report.arrival_price
        plan = parse_exit_plan(
            params,
            buy=parent.buy,
            tick=parent.tick,
            default_fractions=d.take_profit_fractions,
            default_trailing_offset=d.trailing_offset,
            entry_price=entry,
        )
        trigger = param_str(params, "stop_trigger_type", d.stop_trigger_type).upper()
        if trigger not in _TRIGGER_TYPES:
            raise InvalidOrder(
                f"stop_trigger_type must be one of {', '.join(_TRIGGER_TYPES)}, got {trigger!r}"
            )
        reduce_only = param_str(params, "reduce_only", str(d.reduce_only)).lower()
        if reduce_only not in ("true", "false"):
            raise InvalidOrder(f"reduce_only must be true or false, got {reduce_only!r}")
        legs = [ExitLeg(kind=f"TP{i + 1}", price=px) for i, (px, _) in enumerate(plan.take_profits)]
        if plan.has_stop:
            legs.append(ExitLeg(kind=STOP, price=plan.stop_price))
        parent.state["tpsl"] = TPSLState(
            plan=plan,
            reduce_only=reduce_only == "true",
            trigger_type=getattr(TriggerType, trigger),
            legs=legs,
        )
        if limit is not None:
            # the Order's own limit price is the entry's price bound: no max_slippage cap applies
            child = self.spawn_limit(
                primary=primary,
                quantity=parent.instrument.make_qty(parent.total),
                price=primary.price,
                time_in_force=TimeInForce.GTC,
                reduce_primary=False,
            )
            self._track(parent, child, parent.total)
        elif not self.send_taker(parent, parent.total) and not parent.done:
            stop = StopReason.MAX_SLIPPAGE if parent.report.paused_children else StopReason.BELOW_MIN_SIZE
            self.finish(parent, stop, f"entry not sent: {parent.report.detail or 'nothing tradable'}")

    def _state(self, parent: Parent) -> TPSLState:
        state: TPSLState = parent.state["tpsl"]
        return state

    def _progress(self, parent: Parent) -> None:
        # called by the base after every entry fill or entry child close: never "complete" on the
        # entry alone, the exits decide when the parent ends
        if parent.done or "tpsl" not in parent.state:
            return
        state = self._state(parent)
        if not parent.working:
            state.entry_open = False
            if parent.filled == 0:
                self.finish(parent, StopReason.SWEEP_INCOMPLETE, "the entry filled nothing: no exits placed")
                return
        self._reconcile(parent)

    # -- exit events ----------------------------------------------------------------------------

    def _exit(self, client_order_id: ClientOrderId) -> tuple[Parent, ExitLeg] | None:
        found = self._exit_of.get(client_order_id)
        if found is None:
            return None
        parent = self.parents.get(found[0])
        return None if parent is None else (parent, found[1])

    def on_order_filled(self, event: OrderFilled) -> None:
        found = self._exit(event.client_order_id)
        if found is None:
            super().on_order_filled(event)
            return
        parent, leg = found
        qty = event.last_qty.as_decimal()
        leg.filled += qty
        cid = event.client_order_id
        leg.notional[cid] = leg.notional.get(cid, Decimal(0)) + qty * event.last_px.as_decimal()
        self._after_exit_event(parent)

    def _exit_closed(self, client_order_id: ClientOrderId, rejected: bool) -> bool:
        found = self._exit(client_order_id)
        if found is None:
            return False
        parent, leg = found
        if leg.order_id == client_order_id:
            leg.order_id = None
            if not leg.cancel_requested:
                leg.live = False  # cancelled, expired or refused by someone else: not re-placed
                if rejected:
                    parent.rejects += 1
        leg.cancel_requested = False
        self._after_exit_event(parent)
        return True

    def _after_exit_event(self, parent: Parent) -> None:
        if parent.done:
            self._publish_report(parent)  # a late exit fill after the stop: keep the report true
            return
        self._reconcile(parent)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        if not self._exit_closed(event.client_order_id, rejected=False):
            super().on_order_canceled(event)

    def on_order_expired(self, event: OrderExpired) -> None:
        if not self._exit_closed(event.client_order_id, rejected=False):
            super().on_order_expired(event)

    def on_order_rejected(self, event: OrderRejected) -> None:
        if not self._exit_closed(event.client_order_id, rejected=True):
            super().on_order_rejected(event)

    def on_order_denied(self, event: OrderDenied) -> None:
        if not self._exit_closed(event.client_order_id, rejected=True):
            super().on_order_denied(event)

    def on_order_accepted(self, event: OrderAccepted) -> None:
        found = self._exit(event.client_order_id)
        if found is not None and not found[0].done:
            self._reconcile(found[0])  # resizes wait for acceptance

    def on_order_updated(self, event: OrderUpdated) -> None:
        found = self._exit(event.client_order_id)
        if found is not None and not found[0].done:
            self._reconcile(found[0])  # the venue may have resized it: put the plan's size back

    def on_position_event(self, event: PositionEvent) -> None:
        for parent in list(self.parents.values()):
            if (
                not parent.done
                and "tpsl" in parent.state
                and parent.primary.instrument_id == event.instrument_id
                and parent.primary.strategy_id == event.strategy_id
            ):
                self._measure_gap(parent)
                self._reconcile(parent)

    # -- sizing -----------------------------------------------------------------------------------

    def _measure_gap(self, parent: Parent) -> None:
        # position events arrive after the fill that caused them, so the position and the books
        # agree here; between events the gap is carried unchanged
        state = self._state(parent)
        net = Decimal(0)
        for pos in self.cache.positions_open(
            instrument_id=parent.primary.instrument_id, strategy_id=parent.primary.strategy_id
        ):
            qty = pos.quantity.as_decimal()
            net += qty if pos.side == PositionSide.LONG else -qty
        available = max(net, Decimal(0)) if parent.buy else max(-net, Decimal(0))
        for other in self._older_siblings(parent):
            other_state = self._state(other)
            available -= max(other.filled - other_state.exits_filled - other_state.position_gap, Decimal(0))
        state.position_gap = max(parent.filled - state.exits_filled - max(available, Decimal(0)), Decimal(0))

    def _older_siblings(self, parent: Parent) -> list[Parent]:
        out = []
        for other in self.parents.values():
            if other is parent:
                break
            if (
                not other.done
                and "tpsl" in other.state
                and other.buy == parent.buy
                and other.primary.instrument_id == parent.primary.instrument_id
                and other.primary.strategy_id == parent.primary.strategy_id
            ):
                out.append(other)
        return out

    def _reconcile(self, parent: Parent) -> None:
        if parent.done:
            return
        state = self._state(parent)
        protected = protected_quantity(parent.filled, state.exits_filled, state.position_gap, parent.lot)
        if parent.filled > 0 and protected <= 0 and not state.entry_open:
            self._end(parent)
            return
        if parent.rejects >= self._max_child_rejects:
            self.finish(parent, StopReason.CHILD_REJECTED, f"{parent.rejects} orders refused")
            return
        tp_legs = [leg for leg in state.legs if leg.kind != STOP]
        targets = exit_targets(
            entry_filled=parent.filled,
            tp_filled=[leg.filled for leg in tp_legs],
            tp_live=[leg.live for leg in tp_legs],
            fractions=state.plan.fractions,
            protected=protected,
            lot=parent.lot,
            min_size=parent.min_size,
        )
        for leg, target in zip(tp_legs, targets, strict=True):
            self._apply(parent, leg, target)
        for leg in state.legs:
            if leg.kind == STOP:
                self._apply(parent, leg, protected if protected >= parent.min_size else Decimal(0))
        if not state.entry_open and not any(self._is_open(leg) for leg in state.legs):
            # nothing left working: every exit is gone (cancelled outside) or the rest is dust
            self._end(parent)
            return
        self._publish_report(parent)

    def _is_open(self, leg: ExitLeg) -> bool:
        order = None if leg.order_id is None else self.cache.order(leg.order_id)
        return order is not None and not order.is_closed

    def _apply(self, parent: Parent, leg: ExitLeg, leaves: Decimal) -> None:
        if not leg.live:
            return
        order = None if leg.order_id is None else self.cache.order(leg.order_id)
        if order is None or order.is_closed:
            if leaves >= parent.min_size and leaves > 0:
                self._place(parent, leg, leaves)
            return
        if order.status not in _WORKING or leg.cancel_requested:
            return  # in flight: the acceptance or update event reconciles again
        current = order.leaves_qty.as_decimal()
        if leaves <= 0:
            leg.cancel_requested = True
            self.cancel_order(order)
        elif leaves != current:
            self.modify_order(
                order, quantity=parent.instrument.make_qty(order.filled_qty.as_decimal() + leaves)
            )

    def _place(self, parent: Parent, leg: ExitLeg, quantity: Decimal) -> None:
        state = self._state(parent)
        primary = parent.primary
        state.seq += 1
        cid = ClientOrderId(f"{primary.client_order_id.value}-X{state.seq}")
        side = OrderSide.SELL if parent.buy else OrderSide.BUY
        common: dict[str, Any] = {
            "trader_id": primary.trader_id,
            "strategy_id": primary.strategy_id,
            "instrument_id": primary.instrument_id,
            "client_order_id": cid,
            "order_side": side,
            "quantity": parent.instrument.make_qty(quantity),
            "init_id": UUID4(),
            "ts_init": self.clock.timestamp_ns(),
            "time_in_force": TimeInForce.GTC,
            "reduce_only": state.reduce_only,
            "exec_algorithm_id": self.id,
            "exec_spawn_id": primary.client_order_id,
            "tags": [EXIT_TAG, f"{EXIT_TAG}:{leg.kind}"],
        }
        order: NautilusOrder
        if leg.kind != STOP:
            assert leg.price is not None  # take-profit legs always have a price
            order = LimitOrder(price=parent.instrument.make_price(leg.price), post_only=False, **common)
        elif state.plan.trailing_offset is not None:
            offset = state.plan.trailing_offset
            reference = self._reference(parent)
            first = state.plan.stop_price
            if leg.orders:  # a re-placed trailing stop never starts looser than the last one
                last = self.cache.order(leg.orders[-1])
                if last is not None and last.trigger_price is not None:
                    prev = last.trigger_price.as_decimal()
                    first = prev if first is None else (max if parent.buy else min)(first, prev)
            if reference is not None:
                first = trail_trigger(first, reference, offset, parent.tick, long=parent.buy)
            leg.price = first
            order = TrailingStopMarketOrder(
                trigger_price=None if first is None else parent.instrument.make_price(first),
                trigger_type=state.trigger_type,
                trailing_offset=offset,
                trailing_offset_type=TrailingOffsetType.PRICE,
                **common,
            )
        else:
            assert leg.price is not None
            order = StopMarketOrder(
                trigger_price=parent.instrument.make_price(leg.price),
                trigger_type=state.trigger_type,
                **common,
            )
        leg.order_id = cid
        leg.orders.append(cid)
        leg.cancel_requested = False
        self._exit_of[cid] = (primary.client_order_id, leg)
        parent.report.children.append(cid.value)
        self.submit_order(order)
        sent = self.cache.order(cid)
        if sent is not None and sent.status == OrderStatus.DENIED and leg.order_id == cid:
            # a denial inside submit_order can precede the subscription to the strategy's events
            self._exit_closed(cid, rejected=True)

    def _reference(self, parent: Parent) -> Decimal | None:
        # where a new trailing stop trails from: the touch it would trigger on (bid for a long)
        bid, ask = self.touch(parent.primary.instrument_id, buy=parent.buy)
        near = bid if parent.buy else ask
        return near if near is not None else self.mid_price(parent.primary.instrument_id)

    # -- ending and reporting ---------------------------------------------------------------------

    def _end(self, parent: Parent) -> None:
        state = self._state(parent)
        closed_by_exits = state.exits_filled
        gap = state.position_gap
        left = protected_quantity(parent.filled, state.exits_filled, gap, parent.lot)
        summary = self._summary(parent, state)
        left_txt, by_exits = self._qty(parent, left), self._qty(parent, closed_by_exits)
        if 0 < left < parent.min_size:
            reason = StopReason.BELOW_MIN_SIZE
            detail = (
                f"{left_txt} left is below the minimum size {parent.min_size}: no exit for it ({summary})"
            )
        elif left > 0:
            reason = StopReason.EXITS_CANCELLED
            detail = f"{left_txt} of the position left without exits ({summary})"
        elif gap > 0:
            reason = StopReason.POSITION_CLOSED
            detail = f"{self._qty(parent, gap)} closed outside the algorithm, {by_exits} by exits ({summary})"
        else:
            reason = StopReason.COMPLETED
            detail = f"exits closed {by_exits} ({summary})"
        for leg in state.legs:
            leg.cancel_requested = leg.order_id is not None
        self._cancel_exits(state)
        self.finish(parent, reason, detail)

    def _cancel_exits(self, state: TPSLState) -> None:
        for leg in state.legs:
            order = None if leg.order_id is None else self.cache.order(leg.order_id)
            if order is not None and order.is_open and not order.is_pending_cancel:
                leg.cancel_requested = True
                self.cancel_order(order)

    @staticmethod
    def _qty(parent: Parent, quantity: Decimal) -> str:
        return str(parent.instrument.make_qty(max(quantity, Decimal(0))))

    def _summary(self, parent: Parent, state: TPSLState) -> str:
        return ", ".join(f"{leg.kind} filled {self._qty(parent, leg.filled)}" for leg in state.legs)

    def _publish_report(self, parent: Parent) -> None:
        state = parent.state.get("tpsl")
        if state is not None:
            exits = []
            for leg in state.legs:
                for cid in leg.orders:
                    order = self.cache.order(cid)
                    if order is None:
                        continue
                    filled = order.filled_qty.as_decimal()
                    px = order.price if order.has_price else order.trigger_price
                    notional = leg.notional.get(cid, Decimal(0))
                    # average fill price to 2 more decimals than the tick, in Decimal
                    places = Decimal(10) ** -(parent.instrument.price_precision + 2)
                    avg = (
                        (notional / filled).quantize(places, rounding=ROUND_HALF_EVEN).normalize()
                        if filled > 0
                        else None
                    )
                    exits.append(
                        {
                            "id": cid.value,
                            "kind": leg.kind,
                            "order_type": order.order_type.name,
                            "price": "" if px is None else str(px),
                            "quantity": str(order.quantity),
                            "filled": str(order.filled_qty),
                            "avg_price": "" if avg is None else f"{avg:f}",
                            "status": order.status.name,
                        }
                    )
            parent.report.exits = exits
        super()._publish_report(parent)

    def on_stop(self) -> None:
        # exits stay at the venue (GTC, reduce-only): the strategy or the node decides on them
        for parent in self.parents.values():
            state = parent.state.get("tpsl")
            if parent.done or state is None:
                continue
            parent.done = True
            parent.report.stop_reason = StopReason.END_OF_DATA
            left = protected_quantity(parent.filled, state.exits_filled, state.position_gap, parent.lot)
            entry = f"{self._qty(parent, parent.filled)}/{self._qty(parent, parent.total)}"
            parent.report.detail = (
                f"node stopped with entry {entry} filled and {self._qty(parent, left)} still "
                f"protected by open exits ({self._summary(parent, state)})"
            )
            self._publish_report(parent)
        self.clock.cancel_timers()

    def on_reset(self) -> None:
        super().on_reset()
        self._exit_of.clear()
