"""
The TP/SL exit plan as pure functions (no Nautilus runtime): parsing and checking the exit
parameters, splitting a position into take-profit tranches, trimming them to what is open, and
trailing-stop arithmetic, all in Decimal. :mod:`nautilus_ext.execution_algos.tpsl` runs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Any

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.common import allocate_units
from nautilus_ext.execution_algos.common import min_units
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import round_to_lot


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """Where the exits go: take-profit ``(price, fraction)`` tranches, nearest first, and the stop."""

    take_profits: tuple[tuple[Decimal, Decimal], ...]
    stop_price: Decimal | None
    trailing_offset: Decimal | None

    @property
    def fractions(self) -> list[Decimal]:
        """Return the take-profit fractions, nearest tranche first."""
        return [f for _, f in self.take_profits]

    @property
    def has_stop(self) -> bool:
        """Return True when the plan has a protective stop (fixed or trailing)."""
        return self.stop_price is not None or self.trailing_offset is not None


def parse_decimals(text: str, name: str) -> list[Decimal]:
    """Read a comma-separated list of decimals (``"0.5,0.5"``); raise :class:`InvalidOrder` if bad."""
    out = []
    for part in text.split(","):
        value = param_decimal({name: part.strip()}, name, None)
        if value is None:
            raise InvalidOrder(f"algorithm parameter {name} has an empty element: {text!r}")
        out.append(value)
    return out


def check_fractions(fractions: Sequence[Decimal]) -> None:
    """Raise :class:`InvalidOrder` unless every fraction is positive and they sum to 1."""
    if not fractions or any(f <= 0 for f in fractions):
        raise InvalidOrder(f"take_profit_fractions must all be positive, got {list(map(str, fractions))}")
    if sum(fractions, Decimal(0)) != 1:
        raise InvalidOrder(f"take_profit_fractions must sum to 1, got {sum(fractions, Decimal(0))}")


def _param_list(params: Mapping[str, Any], name: str, default: str) -> str:
    if isinstance(params.get(name), float):
        raise InvalidOrder(f"algorithm parameter {name} must be a decimal string, got {params[name]!r}")
    return param_str(params, name, default)


def _on_grid(name: str, price: Decimal, tick: Decimal) -> None:
    if price <= 0 or (price / tick) != (price / tick).to_integral_value():
        raise InvalidOrder(f"{name} {price} is not a positive price on the tick grid {tick}")


def parse_exit_plan(
    params: Mapping[str, Any],
    *,
    buy: bool,
    tick: Decimal,
    default_fractions: str = "",
    default_trailing_offset: str = "",
    entry_price: Decimal | None = None,
) -> ExitPlan:
    """
    Build the exit plan of an entry on ``buy`` side from the order's parameters.

    ``take_profit_prices`` (comma-separated) is the whole ladder, nearest first; when the Order
    also gives ``take_profit_price`` it must be the ladder's first price. Prices move away from
    the entry (up for a long), the stop is on the losing side of every take-profit and of
    ``entry_price`` (a limit entry's price, or a market entry's arrival mid) when known; TP1 is
    beyond it.

    Raises
    ------
    InvalidOrder
        If a price is off the tick grid, the ladder is not monotone, fractions do not sum to 1,
        the stop is on the wrong side, or neither a take-profit nor a stop is given.
    """
    tp = param_decimal(params, "take_profit_price", None)
    ladder_text = _param_list(params, "take_profit_prices", "")
    ladder = parse_decimals(ladder_text, "take_profit_prices") if ladder_text else ([tp] if tp else [])
    if tp is not None and ladder and ladder[0] != tp:
        raise InvalidOrder(
            f"take_profit_prices must start at the Order's take_profit_price {tp}, got {ladder[0]}"
        )
    for i, px in enumerate(ladder):
        _on_grid(f"take-profit TP{i + 1}", px, tick)
    if (
        ladder
        and entry_price is not None
        and ((ladder[0] <= entry_price) if buy else (ladder[0] >= entry_price))
    ):
        side = "above" if buy else "below"
        raise InvalidOrder(f"take-profit TP1 {ladder[0]} must be {side} the entry price {entry_price}")
    for near, far in itertools.pairwise(ladder):
        if (far <= near) if buy else (far >= near):
            direction = "rise" if buy else "fall"
            raise InvalidOrder(
                f"take_profit_prices must strictly {direction} away from the entry: {near}, {far}"
            )
    frac_text = _param_list(params, "take_profit_fractions", default_fractions)
    if frac_text and ladder:
        fractions = parse_decimals(frac_text, "take_profit_fractions")
        if len(fractions) != len(ladder):
            raise InvalidOrder(
                f"take_profit_fractions has {len(fractions)} values for {len(ladder)} take-profit prices"
            )
    else:
        n = len(ladder)
        fractions = [Decimal(1) / n] * (n - 1) + [Decimal(1) - Decimal(1) / n * (n - 1)] if n else []
    if ladder:
        check_fractions(fractions)
    stop = param_decimal(params, "stop_loss_price", None)
    if stop is not None:
        _on_grid("stop_loss_price", stop, tick)
        nearest = ladder[0] if ladder else None
        for ref, what in ((nearest, "TP1"), (entry_price, "the entry price")):
            if ref is not None and ((stop >= ref) if buy else (stop <= ref)):
                side = "below" if buy else "above"
                raise InvalidOrder(
                    f"stop_loss_price {stop} must be {side} {what} {ref} for a {'long' if buy else 'short'}"
                )
    trail = param_decimal(
        params, "trailing_offset", Decimal(default_trailing_offset) if default_trailing_offset else None
    )
    if trail is not None:
        _on_grid("trailing_offset", trail, tick)
    if not ladder and stop is None and trail is None:
        raise InvalidOrder("TPSL needs a take_profit_price, a stop_loss_price or a trailing_offset")
    return ExitPlan(
        take_profits=tuple(zip(ladder, fractions, strict=True)), stop_price=stop, trailing_offset=trail
    )


def split_tranches(
    quantity: Decimal, fractions: Sequence[Decimal], lot: Decimal, min_size: Decimal | None = None
) -> list[Decimal]:
    """
    Split ``quantity`` into take-profit tranches by ``fractions``: whole lots, each at least ``min_size``.

    The tranches sum to ``quantity`` rounded down to the lot (what can be exited); a tranche too
    small for the minimum is merged into the next one (the last into the previous). A quantity
    below the minimum gives all zeros: nothing tradable to place.
    """
    units = int((round_to_lot(quantity, lot) / lot).to_integral_value())
    floor = min_units(lot, min_size)
    if units < floor:
        return [Decimal(0)] * len(fractions)
    return [a * lot for a in allocate_units(units, list(fractions), floor)]


def trim_to_cap(
    sizes: Sequence[Decimal], cap: Decimal, lot: Decimal, min_size: Decimal | None = None
) -> list[Decimal]:
    """
    Trim take-profit sizes (nearest first) so they sum to at most ``cap``, farthest tranche first.

    A tranche cut below ``min_size`` is dropped to zero (the stop still covers it). Sizes that
    already fit are returned unchanged.
    """
    floor = (min_size or lot) if (min_size or lot) > lot else lot
    out = list(sizes)
    excess = sum(out, Decimal(0)) - max(cap, Decimal(0))
    for i in reversed(range(len(out))):
        if excess <= 0:
            break
        cut = min(out[i], excess)
        kept = round_to_lot(out[i] - cut, lot)
        if 0 < kept < floor:
            kept = Decimal(0)
        excess -= out[i] - kept
        out[i] = kept
    return out


def exit_targets(
    *,
    entry_filled: Decimal,
    tp_filled: Sequence[Decimal],
    tp_live: Sequence[bool],
    fractions: Sequence[Decimal],
    protected: Decimal,
    lot: Decimal,
    min_size: Decimal | None = None,
) -> list[Decimal]:
    """
    Return the open (leaves) size each take-profit tranche should have now.

    Each tranche is its share of ``entry_filled`` (:func:`split_tranches`) less what it already
    filled; tranches no longer live (cancelled or refused outside the plan) get zero; the total
    is trimmed to ``protected`` farthest first (:func:`trim_to_cap`). The stop's size is
    ``protected`` itself.
    """
    planned = split_tranches(entry_filled, fractions, lot, min_size) if fractions else []
    leaves = [
        max(Decimal(0), p - f) if live else Decimal(0)
        for p, f, live in zip(planned, tp_filled, tp_live, strict=True)
    ]
    return trim_to_cap(leaves, protected, lot, min_size)


def protected_quantity(
    entry_filled: Decimal, exits_filled: Decimal, position_gap: Decimal, lot: Decimal
) -> Decimal:
    """
    Return what the exits must cover: ``entry - exits - gap`` on the lot grid, never negative.

    ``position_gap`` is how much smaller the strategy's position is than the algorithm's books
    (a partial close behind its back), measured at the last position event.
    """
    return round_to_lot(entry_filled - exits_filled - max(position_gap, Decimal(0)), lot)


def trail_trigger(
    current: Decimal | None, market: Decimal, offset: Decimal, tick: Decimal, *, long: bool
) -> Decimal:
    """
    Return a trailing stop's trigger after the market printed ``market``: it only ever tightens.

    A long's stop (a sell) sits ``offset`` below the market, rounded down to the tick, and never
    moves down; a short's sits above, rounded up, and never moves up.
    """
    if long:
        candidate = ((market - offset) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        return candidate if current is None else max(current, candidate)
    candidate = ((market + offset) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    return candidate if current is None else min(current, candidate)
