"""
Pure checks and arithmetic for atomic groups executed as two legs by ``ATOMIC_LEGS``.

:meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_group` uses these before
anything is submitted, so a bad group is refused whole and never half-sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side

NEUTRALISE_POLICIES: Final = frozenset({"CLOSE_EXCESS", "COMPLETE_HEDGE"})


@dataclass(frozen=True, slots=True)
class GroupOptions:
    """How the pair is executed (from leg A's ``metadata``)."""

    neutralise_policy: str | None = None  # None: the algorithm's configured default
    depth_check: bool = True
    max_slippage: Decimal | None = None  # legs as IOC limits this far from their arrival mids


def check_pair(group: AtomicGroup) -> tuple[Order, Order]:
    """
    Return legs A and B of a group ``ATOMIC_LEGS`` can execute.

    Raises
    ------
    InvalidOrder
        Unless the group has exactly two market legs trading opposite sides (BUY/SELL) of the
        same amount, without limit price, ``max_slippage`` or take-profit/stop-loss (the
        algorithm sends IOC market children and cannot honour them).
    """
    gid = group.group_id
    if len(group) != 2:
        raise InvalidOrder(f"atomic group {gid}: ATOMIC_LEGS executes exactly two legs, got {len(group)}")
    a, b = group.orders
    for leg in (a, b):
        op = leg.operation_id
        if leg.side not in (Side.BUY, Side.SELL):
            raise InvalidOrder(f"atomic group {gid}: leg {op} side must be BUY or SELL, got {leg.side}")
        if leg.price is not None:
            raise InvalidOrder(
                f"atomic group {gid}: leg {op} has a limit price; ATOMIC_LEGS sends market legs only",
                order_id=op,
            )
        if leg.max_slippage is not None:
            raise InvalidOrder(
                f"atomic group {gid}: leg {op} sets max_slippage, which ATOMIC_LEGS cannot enforce",
                order_id=op,
            )
        if leg.take_profit_price is not None or leg.stop_loss_price is not None:
            raise InvalidOrder(
                f"atomic group {gid}: leg {op} sets take-profit/stop-loss, not supported on a leg",
                order_id=op,
            )
    if a.side == b.side:
        raise InvalidOrder(
            f"atomic group {gid}: legs {a.operation_id} and {b.operation_id} both {a.side}; "
            "ATOMIC_LEGS trades them opposite",
        )
    if a.amount != b.amount:
        raise InvalidOrder(
            f"atomic group {gid}: leg amounts differ ({a.operation_id} {a.amount}, "
            f"{b.operation_id} {b.amount}); ATOMIC_LEGS hedges the same quantity",
        )
    return a, b


def group_options(leg_a: Order) -> GroupOptions:
    """
    Read ``neutralise_policy``, ``depth_check`` and ``max_slippage`` from leg A's metadata.

    ``max_slippage`` (a fraction, ``"0.001"`` = 10 bp) makes both legs IOC limits at their arrival
    mids +/- the bound instead of IOC market orders (seed 004: "IOC limit order types for taking").

    Raises
    ------
    InvalidOrder
        If any is present with a value outside its set.
    """
    meta = leg_a.metadata or {}
    policy = meta.get("neutralise_policy")
    if policy is not None and (not isinstance(policy, str) or policy.upper() not in NEUTRALISE_POLICIES):
        raise InvalidOrder(
            f"order {leg_a.operation_id}: metadata.neutralise_policy must be CLOSE_EXCESS or "
            f"COMPLETE_HEDGE, got {policy!r}",
            order_id=leg_a.operation_id,
        )
    depth = meta.get("depth_check", True)
    if isinstance(depth, str) and depth.lower() in ("true", "false"):
        depth = depth.lower() == "true"
    if not isinstance(depth, bool):
        raise InvalidOrder(
            f"order {leg_a.operation_id}: metadata.depth_check must be true or false, got {depth!r}",
            order_id=leg_a.operation_id,
        )
    raw = meta.get("max_slippage")
    slippage: Decimal | None = None
    if raw is not None:
        try:
            slippage = Decimal(str(raw))
        except ArithmeticError:
            slippage = None
        if slippage is None or not slippage.is_finite() or slippage < 0 or isinstance(raw, bool | float):
            raise InvalidOrder(
                f"order {leg_a.operation_id}: metadata.max_slippage must be a non-negative decimal "
                f"fraction (a string), got {raw!r}",
                order_id=leg_a.operation_id,
            )
    return GroupOptions(
        neutralise_policy=None if policy is None else policy.upper(),
        depth_check=depth,
        max_slippage=slippage,
    )


def neutralisation_cost(
    *, buy: bool, price: Decimal, quantity: Decimal, mid: Decimal, fee: Decimal
) -> Decimal:
    """
    Return what one neutralising fill cost against the leg's arrival mid, fee included
    (quote currency; the algorithm's own rollback-cost formula).
    """
    paid = (price - mid) * quantity if buy else (mid - price) * quantity
    return paid + fee
