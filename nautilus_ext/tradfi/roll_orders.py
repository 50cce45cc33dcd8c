"""
Rolling a held futures position: the unified orders of a roll and what the roll cost (pure).

:func:`roll_orders` turns a signed position in the expiring contract into two unified orders:
close it, and open the same size in the next contract. For ``CALENDAR_SPREAD`` both orders
share an ``atomic_group_id`` (the execution service sends them as one atomic group, the close
first); for ``TWO_LEGS`` they are independent and sent one after the other. Both go through the
normal unified path, so the safety gate judges each leg.

:func:`roll_report` prices a roll from its legs' fills: the *spread paid* (new contract's fill
minus the old one's, per unit) and the *roll cost* in the quote currency, which is what the
fills paid against each leg's arrival mid (times the contract multiplier) plus fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders.model import Order
from nautilus_ext.tradfi.front import ListedContract
from nautilus_ext.tradfi.rolls import RollMethod

_ZERO: Final = Decimal(0)


def roll_orders(
    position: Decimal,
    old: ListedContract,
    new: ListedContract,
    method: RollMethod,
    *,
    operation_id: str,
    created_at: datetime,
    strategy_id: str | None = None,
    depth_check: bool = True,
) -> tuple[Order, Order]:
    """
    Return ``(close, open)``: the unified orders rolling ``position`` from ``old`` to ``new``.

    ``depth_check`` asks the calendar spread's algorithm to check displayed depth on both legs
    first (turn it off when the node has no order books, only quotes or trades).

    Raises
    ------
    InvalidOrder
        If the position is zero, or the contracts are the same or of different roots.
    """
    if position == 0:
        raise InvalidOrder(f"roll {operation_id}: there is no position in {old.key} to roll")
    if old.key == new.key or old.root != new.root:
        raise InvalidOrder(f"roll {operation_id}: cannot roll {old.key} into {new.key}")
    long = position > 0
    size = abs(position)
    group = f"{operation_id}-spread" if method is RollMethod.CALENDAR_SPREAD else None
    meta: dict[str, object] = {"roll": {"from": str(old.key), "to": str(new.key), "method": str(method)}}
    if group is not None:
        meta["depth_check"] = depth_check

    def leg(suffix: str, key: object, side: str, delta: Decimal, seq: int) -> Order:
        return Order(
            operation_id=f"{operation_id}-{suffix}",
            operation="trade",
            instrument_key=key,
            venue=old.key.venue,
            side=side,
            amount=size,
            expected_deltas={key: delta},
            atomic_group_id=group,
            sequence_in_group=seq if group is not None else None,
            strategy_id=strategy_id,
            strategy_intent="roll",
            created_at=created_at,
            metadata=meta,
        )

    close = leg("close", old.key, "SELL" if long else "BUY", -position, 0)
    open_ = leg("open", new.key, "BUY" if long else "SELL", position, 1)
    return close, open_


@dataclass(frozen=True, slots=True)
class RollLeg:
    """One filled leg of a roll: signed filled quantity (BUY +), average price, arrival mid, fees."""

    filled: Decimal
    avg_price: Decimal | None
    arrival_mid: Decimal | None
    fees: Decimal


@dataclass(frozen=True, slots=True)
class RollReport:
    """
    What one roll did and cost.

    Parameters
    ----------
    roll_date : date
        The trade date of the roll.
    from_key, to_key : str
        The contracts.
    method : RollMethod
        How it was executed.
    quantity : Decimal
        The signed position rolled (as filled on the open leg).
    spread_paid : Decimal or None
        Open leg's average price minus close leg's, per unit (what the calendar spread traded at).
    cost : Decimal or None
        Slippage against both legs' arrival mids times the multiplier, plus fees (quote currency;
        positive is a cost).
    complete : bool
        Whether both legs filled in full.
    """

    roll_date: date
    from_key: str
    to_key: str
    method: RollMethod
    quantity: Decimal
    spread_paid: Decimal | None
    cost: Decimal | None
    complete: bool


def _slippage(leg: RollLeg, multiplier: Decimal) -> Decimal | None:
    if leg.avg_price is None or leg.arrival_mid is None:
        return None
    # a buy above the mid or a sell below it is a cost
    return (leg.avg_price - leg.arrival_mid) * leg.filled * multiplier


def roll_report(
    roll_date: date,
    close: tuple[str, RollLeg],
    open_: tuple[str, RollLeg],
    method: RollMethod,
    multiplier: Decimal,
    target: Decimal,
) -> RollReport:
    """Return the :class:`RollReport` of a roll from its legs (``(key, leg)`` each) and its target size."""
    (from_key, c), (to_key, o) = close, open_
    spread = None if c.avg_price is None or o.avg_price is None else o.avg_price - c.avg_price
    slips = [_slippage(c, multiplier), _slippage(o, multiplier)]
    cost = None if None in slips else sum((s for s in slips if s is not None), _ZERO) + c.fees + o.fees
    return RollReport(
        roll_date=roll_date,
        from_key=from_key,
        to_key=to_key,
        method=method,
        quantity=o.filled,
        spread_paid=spread,
        cost=cost,
        complete=o.filled == target and c.filled == -target,
    )


__all__ = ["RollLeg", "RollReport", "roll_orders", "roll_report"]
