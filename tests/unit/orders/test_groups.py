"""Atomic groups: sequences 0..n-1 or 1..n, no gaps, no duplicates, one group id."""

from __future__ import annotations

from typing import Any

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext.orders import group_orders


def _leg(valid: dict[str, dict[str, Any]], seq: int | None, group: str | None = "lev-1", n: int = 0) -> Order:
    data = valid["supply"] | {"operation_id": f"leg-{group}-{seq}-{n}", "atomic_group_id": group}
    data["sequence_in_group"] = seq
    return Order(**data)


@pytest.mark.parametrize("sequences", [[0], [1], [0, 1, 2], [1, 2, 3], [2, 0, 1], [3, 1, 2]])
def test_accepted_sequences_are_sorted(valid: dict[str, dict[str, Any]], sequences: list[int]) -> None:
    group = AtomicGroup.from_orders(_leg(valid, s) for s in sequences)
    assert group.group_id == "lev-1"
    assert len(group) == len(sequences)
    assert [o.sequence_in_group for o in group] == sorted(sequences)
    assert list(group) == list(group.orders)


@pytest.mark.parametrize(
    ("sequences", "words"),
    [
        ([0, 2], "without gaps"),
        ([1, 3], "without gaps"),
        ([2, 3], "without gaps"),
        ([5], "without gaps"),
        ([0, 1, 1], "duplicate sequence_in_group [1]"),
        ([1, 1], "duplicate"),
    ],
)
def test_rejected_sequences(valid: dict[str, dict[str, Any]], sequences: list[int], words: str) -> None:
    with pytest.raises(InvalidOrder) as info:
        AtomicGroup.from_orders(_leg(valid, s, n=i) for i, s in enumerate(sequences))
    assert info.value.code is ErrorCode.INVALID_ORDER
    assert words in info.value.message
    assert "lev-1" in info.value.message


def test_empty_and_mixed_groups_are_rejected(valid: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(InvalidOrder, match="empty"):
        AtomicGroup.from_orders([])
    with pytest.raises(InvalidOrder, match="several groups"):
        AtomicGroup.from_orders([_leg(valid, 0, "a"), _leg(valid, 1, "b")])
    with pytest.raises(InvalidOrder, match="missing on orders"):
        AtomicGroup.from_orders([_leg(valid, 0), Order(**valid["withdraw"])])


def test_group_orders_splits_singles_and_groups(valid: dict[str, dict[str, Any]]) -> None:
    single = Order(**valid["withdraw"])
    orders = [_leg(valid, 1, "b"), single, _leg(valid, 0, "a"), _leg(valid, 0, "b"), _leg(valid, 1, "a")]
    singles, groups = group_orders(orders)
    assert singles == [single]
    assert [g.group_id for g in groups] == ["b", "a"]  # first-seen order
    assert [[o.sequence_in_group for o in g] for g in groups] == [[0, 1], [0, 1]]
    with pytest.raises(InvalidOrder, match="gaps"):
        group_orders([_leg(valid, 0, "c"), _leg(valid, 2, "c")])
