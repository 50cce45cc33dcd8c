"""
What the chokepoint needs to judge amends and algorithm children (seed 001: every external
effect passes the gate).

* :func:`amend_adds_risk` says whether a ``ModifyOrder`` adds risk to a working order: more
  size, a more aggressive price (a buy higher, a sell lower: for a Betfair LAY, which
  NautilusTrader sends as a ``BUY``, higher odds mean more liability; for a BACK, a ``SELL``,
  lower odds match sooner), or any change of a trigger price (a moved trigger can fire sooner).
  Such an amend is judged like a new order; one that only shrinks or backs off passes, even in
  SAFE mode.
* :class:`ChildLedger` keeps, per released parent, what its execution algorithm has spawned on
  the parent's own instrument and side, so the children together never exceed the size the gate
  released; the unfilled rest of a child that is closed (cancelled, rejected, expired, denied)
  goes back to the parent.
* :func:`cancel_commands` builds the execution engine's own ``CancelOrder`` for every working
  order of a kill's scope; :func:`modify_rejected`, :func:`refusal` and :func:`audit_amend` are
  the events of refused and allowed amends and children.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.orders import Order as NautilusOrder

from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.decision import Decision
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.gate import SafetyGate


def amend_adds_risk(order: NautilusOrder, command: ModifyOrder) -> bool:
    """
    Return whether ``command`` makes the working ``order`` riskier (see the module docstring).

    Parameters
    ----------
    order : Order
        The working order as the cache holds it (before the amend).
    command : ModifyOrder
        The amend: ``None`` fields stay as they are.
    """
    if command.quantity is not None and command.quantity > order.quantity:
        return True
    if command.price is not None:
        if not order.has_price:
            return True  # a price the order never had: judged in full
        if order.side == OrderSide.BUY and command.price > order.price:
            return True
        if order.side == OrderSide.SELL and command.price < order.price:
            return True
    return command.trigger_price is not None and (
        not order.has_trigger_price or command.trigger_price != order.trigger_price
    )


@dataclass
class _Parent:
    cap: Decimal
    spent: Decimal = Decimal(0)
    children: dict[str, Decimal] = field(default_factory=dict)


class ChildLedger:
    """
    Per released parent: the size its children (and the primary itself) have taken.

    Only orders on the parent's instrument and side count: they are what the parent's release
    covers. Exit legs and hedges (the other side, another instrument) are judged by the gate
    on their own merits.
    """

    def __init__(self) -> None:
        self._parents: dict[str, _Parent] = {}
        self._parent_of: dict[str, str] = {}

    def room(self, parent_id: str, cap: Decimal) -> Decimal:
        """Return how much more the children of ``parent_id`` may take (its cap set on first use)."""
        parent = self._parents.setdefault(parent_id, _Parent(cap=cap))
        return parent.cap - parent.spent

    def spent(self, parent_id: str) -> Decimal:
        """Return what the children of ``parent_id`` have taken so far."""
        parent = self._parents.get(parent_id)
        return Decimal(0) if parent is None else parent.spent

    def tracks(self, child_id: str) -> bool:
        """Return whether ``child_id`` counts toward a parent."""
        return child_id in self._parent_of

    def take(self, parent_id: str, child_id: str, quantity: Decimal) -> None:
        """Count ``quantity`` of ``child_id`` toward ``parent_id`` (after the gate allowed it)."""
        parent = self._parents[parent_id]
        parent.spent += quantity - parent.children.get(child_id, Decimal(0))
        parent.children[child_id] = quantity
        self._parent_of[child_id] = parent_id

    def resize_room(self, child_id: str, new_quantity: Decimal) -> Decimal | None:
        """Return the room left if ``child_id`` became ``new_quantity`` (``None``: not tracked)."""
        parent_id = self._parent_of.get(child_id)
        if parent_id is None:
            return None
        parent = self._parents[parent_id]
        return parent.cap - parent.spent + parent.children[child_id] - new_quantity

    def resize(self, child_id: str, new_quantity: Decimal) -> None:
        """Record an allowed amend of a tracked child to ``new_quantity``."""
        parent_id = self._parent_of.get(child_id)
        if parent_id is not None:
            self.take(parent_id, child_id, new_quantity)

    def close(self, child_id: str, unfilled: Decimal) -> None:
        """Give the ``unfilled`` rest of a closed child back to its parent."""
        parent_id = self._parent_of.pop(child_id, None)
        if parent_id is None:
            return
        parent = self._parents[parent_id]
        parent.spent -= min(unfilled, parent.children.pop(child_id, Decimal(0)))


def modify_rejected(order: NautilusOrder, reason: str, ts_ns: int) -> OrderModifyRejected:
    """Return the ``OrderModifyRejected`` NautilusTrader's RiskEngine would send for ``order``."""
    return OrderModifyRejected(
        trader_id=order.trader_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        account_id=order.account_id,
        reason=reason,
        event_id=UUID4(),
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


def refusal(gate: SafetyGate, unified: Order, asset: str, error: NautilusExtError) -> Decision:
    """Audit a refusal decided before the gate's own check (as the gate audits its own) and return it."""
    gate.record(
        SafetyEvent(
            ts_ns=gate.clock.timestamp_ns(),
            risk_action=RiskAction.BLOCK,
            rule=str(error.details.get("rule", "unknown")),
            code=str(error.code),
            strategy_id=unified.strategy_id,
            asset=asset,
            venue=unified.venue,
            message=error.message,
            details={"operation_id": unified.operation_id},
        )
    )
    return Decision(error=error, details=dict(error.details))


def audit_amend(
    gate: SafetyGate, command: ModifyOrder, error: NautilusExtError | None, asset: str | None = None
) -> None:
    """Audit an amend allowed without the full check (it adds no risk) or refused before it."""
    changes = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("quantity", command.quantity),
            ("price", command.price),
            ("trigger", command.trigger_price),
        )
        if value is not None
    )
    gate.record(
        SafetyEvent(
            ts_ns=gate.clock.timestamp_ns(),
            risk_action=RiskAction.ALLOW if error is None else RiskAction.BLOCK,
            rule="amend_reduces" if error is None else str(error.details.get("rule", "invalid")),
            code=None if error is None else str(error.code),
            strategy_id=command.strategy_id.value,
            asset=asset,
            message=(
                f"amend of order {command.client_order_id} ({changes or 'no change'}) "
                + ("adds no risk: allowed" if error is None else f"refused: {error.message}")
            ),
            details={"client_order_id": command.client_order_id.value},
        )
    )


def held_by_algorithms(cache: Cache, strategy_id: str | None) -> list[str]:
    """
    Name the primaries of ``strategy_id`` (``None``: all) an execution algorithm still works.

    A primary is not a venue order (its children are): a kill cannot cancel it at a venue, and
    while the kill lasts the gate refuses its children's new risk (a child that reduces the
    position still passes). The kill reports them as not cancelled.
    """
    held: list[str] = []
    for order in cache.orders():
        if strategy_id is not None and order.strategy_id.value != strategy_id:
            continue
        if order.exec_algorithm_id is None or order.exec_spawn_id != order.client_order_id:
            continue
        if order.status in (OrderStatus.INITIALIZED, OrderStatus.RELEASED):
            held.append(
                f"algorithm parent {order.client_order_id} {order.instrument_id} "
                f"({order.exec_algorithm_id}): not a venue order; its children's new risk is refused"
            )
    return sorted(held)


def cancel_commands(
    cache: Cache, strategy_id: str | None, ts_ns: int, venue: str | None = None
) -> tuple[list[tuple[str, CancelOrder]], list[str]]:
    """
    Return a ``CancelOrder`` per working order of ``strategy_id`` (``None``: all), by name.

    ``venue`` (a Nautilus venue name such as ``BYBIT``) narrows it to that venue's orders.

    Working means open at the venue or in flight to it. Orders already pending cancel get no
    second cancel: they are returned as the second list, already being cancelled.
    """
    working = {o.client_order_id: o for o in cache.orders_open()}
    working |= {o.client_order_id: o for o in cache.orders_inflight()}
    commands: list[tuple[str, CancelOrder]] = []
    pending: list[str] = []
    for order in sorted(working.values(), key=lambda o: o.client_order_id.value):
        if strategy_id is not None and order.strategy_id.value != strategy_id:
            continue
        if venue is not None and order.instrument_id.venue.value != venue:
            continue
        where = f"order {order.client_order_id} {order.instrument_id}"
        if order.is_pending_cancel:
            pending.append(f"{where}: cancel already pending")
            continue
        command = CancelOrder(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            command_id=UUID4(),
            ts_init=ts_ns,
            client_id=cache.client_id(order.client_order_id),
        )
        commands.append((where, command))
    return commands, pending


__all__ = [
    "ChildLedger",
    "amend_adds_risk",
    "audit_amend",
    "cancel_commands",
    "held_by_algorithms",
    "modify_rejected",
    "refusal",
]
