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
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.orders import Order as NautilusOrder


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
    if command.trigger_price is not None:
        if not order.has_trigger_price or command.trigger_price != order.trigger_price:
            return True
    return False


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


__all__ = ["ChildLedger", "amend_adds_risk"]
