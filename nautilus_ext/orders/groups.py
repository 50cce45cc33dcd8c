"""Atomic groups: orders sharing an ``atomic_group_id`` that must succeed or fail together."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders.model import Order


@dataclass(frozen=True, slots=True)
class AtomicGroup:
    """
    The orders of one atomic group, in ``sequence_in_group`` order.

    Sequences must be ``0..n-1`` or ``1..n`` without gaps or duplicates.
    Build with :meth:`from_orders` (one group) or :func:`group_orders` (many).
    """

    group_id: str
    orders: tuple[Order, ...]

    @classmethod
    def from_orders(cls, orders: Iterable[Order]) -> AtomicGroup:
        """
        Check and sort the orders of one group.

        Raises
        ------
        InvalidOrder
            If the orders are empty, belong to different groups, lack a group, or their
            sequences have gaps or duplicates.
        """
        items = list(orders)
        if not items:
            raise InvalidOrder("atomic group is empty")
        group_ids = {o.atomic_group_id for o in items}
        if None in group_ids:
            missing = [o.operation_id for o in items if o.atomic_group_id is None]
            raise InvalidOrder(f"atomic_group_id: missing on orders {missing}")
        if len(group_ids) != 1:
            raise InvalidOrder(
                f"atomic_group_id: orders belong to several groups {sorted(map(str, group_ids))}"
            )
        group_id = str(items[0].atomic_group_id)
        sequences = [o.sequence_in_group for o in items]
        seq_values = [s for s in sequences if s is not None]
        if len(seq_values) != len(items):  # pragma: no cover - Order validation guarantees it
            raise InvalidOrder(f"atomic group {group_id}: every order needs sequence_in_group")
        duplicates = sorted({s for s in seq_values if seq_values.count(s) > 1})
        if duplicates:
            raise InvalidOrder(f"atomic group {group_id}: duplicate sequence_in_group {duplicates}")
        start = min(seq_values)
        expected = set(range(start, start + len(items)))
        if start not in (0, 1) or set(seq_values) != expected:
            raise InvalidOrder(
                f"atomic group {group_id}: sequence_in_group must be 0..{len(items) - 1} or "
                f"1..{len(items)} without gaps, got {sorted(seq_values)}",
            )
        ordered = tuple(sorted(items, key=lambda o: o.sequence_in_group or 0))
        return cls(group_id=group_id, orders=ordered)

    def __iter__(self) -> Iterator[Order]:
        return iter(self.orders)

    def __len__(self) -> int:
        return len(self.orders)


def group_orders(orders: Iterable[Order]) -> tuple[list[Order], list[AtomicGroup]]:
    """
    Split orders into standalone orders and checked atomic groups (in first-seen order).

    Raises
    ------
    InvalidOrder
        If any group is malformed.
    """
    singles: list[Order] = []
    buckets: dict[str, list[Order]] = {}
    for order in orders:
        if order.atomic_group_id is None:
            singles.append(order)
        else:
            buckets.setdefault(order.atomic_group_id, []).append(order)
    return singles, [AtomicGroup.from_orders(members) for members in buckets.values()]
