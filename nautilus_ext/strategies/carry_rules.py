"""
The funding carry strategy's decisions as pure functions (no Nautilus, no I/O).

- :func:`exit_reason`: which exit condition (seed 002's "exit" phase) a carry position meets now.
- :func:`depth_size`: the largest quantity both books absorb within ``max_slippage`` of their
  mid (seed 004's "depth-based sizing"), capped and rounded down to the coarser lot.
- :func:`entry_room`: how much notional the position and exposure limits leave for one more
  position on a symbol.

Every number is a ``Decimal``; rates are fractions per hour, money is in the quote currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.routing.cost import Level

_ZERO: Final = Decimal(0)


@unique
class ExitReason(StrEnum):
    """Why a carry position is closed (stored as the position's ``exit_reason``)."""

    VENUE_UNHEALTHY = "VENUE_UNHEALTHY"  # a leg's venue or data is unhealthy or stale
    MARGIN_URGENT = "MARGIN_URGENT"  # a leg's venue margin ratio fell below the urgent threshold
    STOP_LOSS = "STOP_LOSS"  # the loss (trading PnL plus funding) passed the stop
    FUNDING_FLIP = "FUNDING_FLIP"  # the long leg now pays more funding than the short receives
    DIVERGENCE_ERODED = "DIVERGENCE_ERODED"  # the divergence fell below the exit threshold
    PROFIT_TARGET = "PROFIT_TARGET"  # trading PnL plus funding reached the target
    MAX_HOLD = "MAX_HOLD"  # held for the maximum time


@dataclass(frozen=True, slots=True)
class ExitRules:
    """
    The exit thresholds of a carry position.

    Parameters
    ----------
    min_divergence_per_hour : Decimal
        Exit when ``short rate - long rate`` (per hour) falls below this (>= 0).
    profit_target : Decimal | None
        Exit when PnL including funding reaches this fraction of the notional.
    stop_loss : Decimal | None
        Exit when PnL including funding falls to minus this fraction of the notional.
    max_hold_ns : int | None
        Exit after holding this long, nanoseconds.
    """

    min_divergence_per_hour: Decimal = _ZERO
    profit_target: Decimal | None = None
    stop_loss: Decimal | None = None
    max_hold_ns: int | None = None

    def __post_init__(self) -> None:
        if self.min_divergence_per_hour < 0:
            raise InvalidConfig(f"min_divergence_per_hour must be >= 0, got {self.min_divergence_per_hour}")
        for name in ("profit_target", "stop_loss"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidConfig(f"{name} must be > 0 when set, got {value}")
        if self.max_hold_ns is not None and self.max_hold_ns <= 0:
            raise InvalidConfig(f"max_hold_ns must be > 0 when set, got {self.max_hold_ns}")


@dataclass(frozen=True, slots=True)
class PositionView:
    """
    What the monitor phase knows about one open carry position now.

    ``long_rate_per_hour``/``short_rate_per_hour`` are the current funding rates per hour of the
    two legs (``None`` when unknown); ``unrealised_long``/``unrealised_short`` the legs' trading
    PnL at the current marks; ``funding`` the funding received so far (negative: paid).
    """

    notional: Decimal
    opened_ns: int
    now_ns: int
    long_rate_per_hour: Decimal | None
    short_rate_per_hour: Decimal | None
    unrealised_long: Decimal
    unrealised_short: Decimal
    funding: Decimal
    healthy: bool = True

    @property
    def divergence_per_hour(self) -> Decimal | None:
        """Return ``short rate - long rate`` per hour (what the carry earns), or None if unknown."""
        if self.long_rate_per_hour is None or self.short_rate_per_hour is None:
            return None
        return self.short_rate_per_hour - self.long_rate_per_hour

    @property
    def pnl(self) -> Decimal:
        """Return the trading PnL of both legs plus the funding received."""
        return self.unrealised_long + self.unrealised_short + self.funding


def exit_reason(view: PositionView, rules: ExitRules) -> ExitReason | None:
    """
    Return the first exit condition ``view`` meets, in order of urgency, or None to hold.

    An unhealthy or stale leg comes first (nothing else can be trusted), then the stop loss,
    the funding flip (negative divergence), eroded divergence, the profit target and the
    maximum holding time. Unknown rates never trigger a rate-based exit on their own: they make
    the position unhealthy only through ``healthy``.
    """
    if not view.healthy:
        return ExitReason.VENUE_UNHEALTHY
    notional = view.notional
    if rules.stop_loss is not None and notional > 0 and view.pnl <= -rules.stop_loss * notional:
        return ExitReason.STOP_LOSS
    divergence = view.divergence_per_hour
    if divergence is not None:
        if divergence < 0:
            return ExitReason.FUNDING_FLIP
        if divergence < rules.min_divergence_per_hour:
            return ExitReason.DIVERGENCE_ERODED
    if rules.profit_target is not None and notional > 0 and view.pnl >= rules.profit_target * notional:
        return ExitReason.PROFIT_TARGET
    if rules.max_hold_ns is not None and view.now_ns - view.opened_ns >= rules.max_hold_ns:
        return ExitReason.MAX_HOLD
    return None


def absorbable(levels: Sequence[Level], mid: Decimal, max_slippage: Decimal, *, buy: bool) -> Decimal:
    """
    Return the size on ``levels`` (best first) priced within ``max_slippage`` of ``mid``.

    A taker buying walks the asks up to ``mid * (1 + max_slippage)``, one selling walks the bids
    down to ``mid * (1 - max_slippage)``; every level inside that band is absorbed whole.
    """
    if mid <= 0 or max_slippage < 0:
        return _ZERO
    bound = mid * (1 + max_slippage) if buy else mid * (1 - max_slippage)
    total = _ZERO
    for price, size in levels:
        if (buy and price > bound) or (not buy and price < bound):
            break
        total += size
    return total


def depth_size(
    long_asks: Sequence[Level],
    long_mid: Decimal,
    short_bids: Sequence[Level],
    short_mid: Decimal,
    *,
    max_slippage: Decimal,
    lot: Decimal,
    cap: Decimal,
) -> Decimal:
    """
    Return the carry size in base units: what both books absorb within ``max_slippage``.

    The long leg buys the asks, the short leg sells the bids; the result is the smaller of the
    two absorbable sizes and ``cap``, rounded down to ``lot`` (0 when nothing fits).
    """
    if lot <= 0:
        raise InvalidConfig(f"lot must be > 0, got {lot}")
    size = min(
        absorbable(long_asks, long_mid, max_slippage, buy=True),
        absorbable(short_bids, short_mid, max_slippage, buy=False),
        cap,
    )
    if size <= 0:
        return _ZERO
    return (size / lot).to_integral_value(rounding=ROUND_DOWN) * lot


@dataclass(frozen=True, slots=True)
class Limits:
    """Position and exposure limits (notional in the quote currency)."""

    max_positions: int
    max_position_notional: Decimal
    max_symbol_notional: Decimal
    max_total_notional: Decimal

    def __post_init__(self) -> None:
        if self.max_positions <= 0:
            raise InvalidConfig(f"max_positions must be > 0, got {self.max_positions}")
        for name in ("max_position_notional", "max_symbol_notional", "max_total_notional"):
            if getattr(self, name) <= 0:
                raise InvalidConfig(f"{name} must be > 0, got {getattr(self, name)}")


def entry_room(
    limits: Limits, open_positions: int, notional_by_symbol: dict[str, Decimal], symbol: str
) -> Decimal:
    """
    Return the notional one more position on ``symbol`` may take (0 when a limit is reached).

    ``open_positions`` counts the open and opening positions; ``notional_by_symbol`` sums their
    notional per symbol.
    """
    if open_positions >= limits.max_positions:
        return _ZERO
    used_symbol = notional_by_symbol.get(symbol, _ZERO)
    used_total = sum(notional_by_symbol.values(), _ZERO)
    room = min(
        limits.max_position_notional,
        limits.max_symbol_notional - used_symbol,
        limits.max_total_notional - used_total,
    )
    return max(room, _ZERO)


def oi_room(
    share: Decimal, open_interests: Sequence[Decimal | None], held: Sequence[Decimal]
) -> Decimal | None:
    """
    Return the base quantity one more position may add per leg under an open-interest cap.

    Each leg may hold at most ``share`` of its venue's open interest for the symbol (base
    units): the room is the smallest ``share * oi - held`` over the legs, never below 0. None
    when a leg's open interest is unknown: the cap cannot be checked, so nothing may be added.
    """
    rooms = []
    for oi, used in zip(open_interests, held, strict=True):
        if oi is None:
            return None
        rooms.append(share * oi - used)
    return max(min(rooms), _ZERO)


__all__ = [
    "ExitReason",
    "ExitRules",
    "Limits",
    "PositionView",
    "absorbable",
    "depth_size",
    "entry_room",
    "exit_reason",
    "oi_room",
]
