"""
Pure pieces shared by every execution algorithm: lot arithmetic, the ``max_slippage`` guard,
parameter parsing and the per-parent report.

Nothing here imports the Nautilus runtime, so schedules and guards are tested as plain
functions and reused by benchmarks and the live path alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_CEILING
from decimal import ROUND_DOWN
from decimal import ROUND_FLOOR
from decimal import Decimal
from decimal import InvalidOperation
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder

ALGO_OUTCOME_TOPIC: Final = "nautilus_ext.exec_algo.outcome"
"""Message-bus topic prefix of :class:`AlgoOutcome` messages (``<prefix>.<strategy id>``)."""

EXIT_TAG: Final = "TPSL_EXIT"
"""Tag on exit orders an algorithm spawns (take-profit, stop): their fills close a position, so
they are not fills of the entry (the parent); the algorithm reports them per exit instead."""


@unique
class StopReason(StrEnum):
    """Why an algorithm stopped working a parent order."""

    COMPLETED = "COMPLETED"  # the parent quantity filled exactly
    LEFT_REMAINING = "LEFT_REMAINING"  # horizon over, the leave-remaining policy kept the rest unfilled
    SWEEP_INCOMPLETE = "SWEEP_INCOMPLETE"  # the final sweep could not fill everything (book too thin)
    MAX_SLIPPAGE = "MAX_SLIPPAGE"  # the touch moved beyond max_slippage from arrival: stopped
    INVALID_PARAMS = "INVALID_PARAMS"  # the order's algorithm parameters were refused
    NO_MARKET_DATA = "NO_MARKET_DATA"  # no book, quote or trade to price the order
    BELOW_MIN_SIZE = "BELOW_MIN_SIZE"  # what remains is smaller than the venue's minimum size
    CHILD_REJECTED = "CHILD_REJECTED"  # the venue or risk engine refused a child order
    END_OF_DATA = "END_OF_DATA"  # the node stopped before the algorithm finished
    INSUFFICIENT_DEPTH = "INSUFFICIENT_DEPTH"  # pre-flight: a book does not show the quantity
    ROLLED_BACK = "ROLLED_BACK"  # two legs: an imbalance was neutralised (see the detail)
    UNHEDGED = "UNHEDGED"  # two legs: the imbalance could not be neutralised (residual in detail)
    POSITION_CLOSED = "POSITION_CLOSED"  # exits: the position was closed outside the algorithm
    EXITS_CANCELLED = "EXITS_CANCELLED"  # exits: cancelled outside the algorithm, the rest unprotected


@unique
class SlippageAction(StrEnum):
    """What the ``max_slippage`` guard does when the touch is beyond the allowed price."""

    PAUSE = "PAUSE"  # skip this child; later children catch up if the price comes back
    STOP = "STOP"  # stop the parent with reason MAX_SLIPPAGE


@unique
class FinalPolicy(StrEnum):
    """What a scheduled algorithm does with an unfilled remainder at the end of its horizon."""

    SWEEP = "SWEEP"  # send the remainder as one IOC child (still capped by max_slippage)
    LEAVE = "LEAVE"  # stop and leave the remainder unfilled (reason LEFT_REMAINING)


# -- lots -------------------------------------------------------------------------------------------


def to_units(quantity: Decimal, lot: Decimal) -> int:
    """
    Return ``quantity`` as a whole number of lots.

    Raises
    ------
    InvalidOrder
        If ``quantity`` is not a positive multiple of ``lot``.
    """
    if lot <= 0:
        raise InvalidConfig(f"lot size must be positive, got {lot}")
    units = quantity / lot
    if quantity <= 0 or units != units.to_integral_value():
        raise InvalidOrder(f"quantity {quantity} is not a positive multiple of the lot size {lot}")
    return int(units)


def round_to_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    """Round a quantity down to the lot grid (never up: an algorithm must not over-fill)."""
    if quantity <= 0:
        return Decimal(0)
    return (quantity / lot).to_integral_value(rounding=ROUND_DOWN) * lot


def min_units(lot: Decimal, min_size: Decimal | None) -> int:
    """Return the smallest child size in lots (at least one lot, at least ``min_size``)."""
    if min_size is None or min_size <= lot:
        return 1
    return int((min_size / lot).to_integral_value(rounding=ROUND_CEILING))


def allocate_units(total_units: int, weights: Sequence[Decimal], min_child_units: int) -> list[int]:
    """
    Split ``total_units`` lots across buckets in proportion to ``weights``.

    Largest-remainder rounding keeps the sum exact. Buckets that would get fewer than
    ``min_child_units`` lots are merged forward into the next non-empty bucket (the last one
    backward), so every non-zero allocation is tradable. Zero-weight buckets get zero.

    Raises
    ------
    InvalidConfig
        If no weight is positive or a weight is negative.
    """
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise InvalidConfig("weights must be non-negative with at least one positive")
    total_weight = sum(weights, Decimal(0))
    raw = [Decimal(total_units) * w / total_weight for w in weights]
    alloc = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    short = total_units - sum(alloc)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - alloc[i]), i))
    for i in order[:short]:
        alloc[i] += 1
    # merge untradeable slivers forward so each non-zero child is at least the minimum
    carry = 0
    for i in range(len(alloc)):
        alloc[i] += carry
        carry = 0
        if 0 < alloc[i] < min_child_units:
            carry, alloc[i] = alloc[i], 0
    if carry:
        for i in reversed(range(len(alloc))):
            if alloc[i] > 0:
                alloc[i] += carry
                break
        else:
            alloc[-1] = carry
    return alloc


# -- the max_slippage guard -------------------------------------------------------------------------


def slippage_cap_price(arrival: Decimal, max_slippage: Decimal, *, buy: bool, tick: Decimal) -> Decimal:
    """
    Return the worst price a child may fill at: ``arrival * (1 +/- max_slippage)`` on the tick grid.

    Rounded inward (down for a buy, up for a sell), so a fill at the cap is never beyond it.
    """
    if max_slippage < 0:
        raise InvalidOrder(f"max_slippage must be non-negative, got {max_slippage}")
    if buy:
        raw = arrival * (1 + max_slippage)
        return (raw / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    raw = arrival * (1 - max_slippage)
    return (raw / tick).to_integral_value(rounding=ROUND_CEILING) * tick


def beyond_cap(price: Decimal, cap: Decimal, *, buy: bool) -> bool:
    """Return True when ``price`` is worse than the cap for the order's side."""
    return price > cap if buy else price < cap


# -- parameters -------------------------------------------------------------------------------------


def param_decimal(params: Mapping[str, Any] | None, name: str, default: Decimal | None) -> Decimal | None:
    """
    Read a Decimal parameter given as a string, int or Decimal (never a float).

    Raises
    ------
    InvalidOrder
        If the value is a float or not a number.
    """
    if not params or name not in params or params[name] is None:
        return default
    value = params[name]
    if isinstance(value, float | bool):
        raise InvalidOrder(f"algorithm parameter {name} must be a decimal string, got {value!r}")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise InvalidOrder(f"algorithm parameter {name} is not a number: {value!r}") from None
    if not out.is_finite():
        raise InvalidOrder(f"algorithm parameter {name} must be finite, got {value!r}")
    return out


def param_int(params: Mapping[str, Any] | None, name: str, default: int) -> int:
    """
    Read a whole-number parameter (``"30"``, ``30``; ``"30.5"`` is refused, not truncated).

    Raises
    ------
    InvalidOrder
        If the value is not a whole number.
    """
    value = param_decimal(params, name, None)
    if value is None:
        return default
    if value != value.to_integral_value():
        raise InvalidOrder(f"algorithm parameter {name} must be a whole number, got {value}")
    return int(value)


def param_str(params: Mapping[str, Any] | None, name: str, default: str) -> str:
    """Read a string parameter (upper-cased enums are compared by the caller)."""
    if not params or name not in params or params[name] is None:
        return default
    return str(params[name])


def require_positive(name: str, value: Decimal | int | None) -> None:
    """Raise :class:`InvalidOrder` unless ``value`` is positive."""
    if value is None or value <= 0:
        raise InvalidOrder(f"algorithm parameter {name} must be positive, got {value}")


# -- report -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class AlgoReport:
    """
    What an algorithm did with one parent order (stored as JSON in the Nautilus cache).

    Quantities are decimal strings in JSON; ``maker_quantity``/``taker_quantity`` split the
    filled quantity by liquidity side. ``exits`` lists, for algorithms that place exits (TPSL),
    one mapping of strings per exit order: ``id``, ``kind`` (``TP1``, ``TP2``..., ``STOP``),
    ``order_type``, ``price`` (limit or trigger), ``quantity``, ``filled``, ``avg_price`` and ``status``.
    """

    algorithm: str
    primary_id: str
    parent_quantity: Decimal
    arrival_price: Decimal | None = None
    cap_price: Decimal | None = None
    filled_quantity: Decimal = Decimal(0)
    maker_quantity: Decimal = Decimal(0)
    taker_quantity: Decimal = Decimal(0)
    children: list[str] = field(default_factory=list)
    paused_children: int = 0
    stop_reason: StopReason | None = None
    detail: str = ""
    exits: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> bytes:
        """Serialise with Decimals as strings."""
        raw = asdict(self)
        out = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in raw.items()}
        out["stop_reason"] = None if self.stop_reason is None else str(self.stop_reason)
        return json.dumps(out, sort_keys=True).encode()

    def outcome(self) -> AlgoOutcome:
        """Return a frozen snapshot of this report as the message strategies receive."""
        return AlgoOutcome(
            algorithm=self.algorithm,
            primary_id=self.primary_id,
            stop_reason=self.stop_reason,
            detail=self.detail,
            parent_quantity=self.parent_quantity,
            filled_quantity=self.filled_quantity,
            maker_quantity=self.maker_quantity,
            taker_quantity=self.taker_quantity,
            arrival_price=self.arrival_price,
            cap_price=self.cap_price,
            children=tuple(self.children),
            exits=tuple(tuple(sorted(e.items())) for e in self.exits),
        )

    @classmethod
    def from_json(cls, data: bytes) -> AlgoReport:
        """Read a report written by :meth:`to_json`."""
        raw = json.loads(data)
        for name in ("parent_quantity", "filled_quantity", "maker_quantity", "taker_quantity"):
            raw[name] = Decimal(raw[name])
        for name in ("arrival_price", "cap_price"):
            raw[name] = None if raw[name] is None else Decimal(raw[name])
        raw["stop_reason"] = None if raw["stop_reason"] is None else StopReason(raw["stop_reason"])
        return cls(**raw)


@dataclass(frozen=True, slots=True)
class AlgoOutcome:
    """
    How an algorithm ended (or last updated) one parent order: the message a strategy receives.

    Published on the message bus under :func:`outcome_topic` of the primary's strategy each
    time the algorithm stops a parent, and again when a late fill changes the numbers.
    ``exits`` holds, per exit order, its report fields as sorted ``(name, value)`` pairs.
    """

    algorithm: str
    primary_id: str
    stop_reason: StopReason | None
    detail: str
    parent_quantity: Decimal
    filled_quantity: Decimal
    maker_quantity: Decimal = Decimal(0)
    taker_quantity: Decimal = Decimal(0)
    arrival_price: Decimal | None = None
    cap_price: Decimal | None = None
    children: tuple[str, ...] = ()
    exits: tuple[tuple[tuple[str, str], ...], ...] = ()

    @property
    def early_stop_reason(self) -> str:
        """Return ``"<STOP_REASON>: detail"`` when the algorithm stopped short, else ``""``."""
        if self.stop_reason in (None, StopReason.COMPLETED):
            return ""
        return f"{self.stop_reason}: {self.detail}"

    @property
    def reason(self) -> str:
        """Return ``"<STOP_REASON>: detail"`` (or just the stop reason without a detail)."""
        if self.detail:
            return f"{self.stop_reason}: {self.detail}"
        return str(self.stop_reason)


def outcome_topic(strategy_id: str) -> str:
    """Return the message-bus topic of the :class:`AlgoOutcome` messages for ``strategy_id``."""
    return f"{ALGO_OUTCOME_TOPIC}.{strategy_id}"
