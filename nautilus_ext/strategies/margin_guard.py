"""
Margin guard: each venue's margin ratio against warning and urgent thresholds (pure, no I/O).

Seed 003 (section 30) measures an account's **margin ratio** as its margin balance (wallet plus
unrealised PnL) over its position notional; the venue liquidates at its maintenance ratio (10%
in the seed's venue constants), the user warns at 20% and acts at 15%. The **liquidation
distance** is how far that ratio is above the venue's own maintenance ratio (the fraction of
the notional the equity can still lose), and per position how far the mark is from the venue's
liquidation price.

:func:`margin_view` turns one venue report into a :class:`MarginView`;
:func:`riskiest_first` orders positions for reduction: those on the venue with the lowest
margin ratio first, the largest notional first among them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidConfig

_ZERO: Final = Decimal(0)


@unique
class MarginLevel(StrEnum):
    """How close a venue's account is to liquidation."""

    OK = "OK"  # above the warning ratio (or nothing held)
    WARNING = "WARNING"  # below the warning ratio: alert, no new risk
    URGENT = "URGENT"  # below the urgent ratio: alert and reduce exposure now


@dataclass(frozen=True, slots=True)
class MarginThresholds:
    """
    The margin ratios (equity over notional) that warn and that act.

    Parameters
    ----------
    warning_ratio : Decimal, default 0.20
        Alert and refuse new entries below this (seed 003).
    urgent_ratio : Decimal, default 0.15
        Alert and reduce exposure below this (seed 003); must be below ``warning_ratio``.
    """

    warning_ratio: Decimal = Decimal("0.20")
    urgent_ratio: Decimal = Decimal("0.15")

    def __post_init__(self) -> None:
        if not _ZERO < self.urgent_ratio < self.warning_ratio:
            raise InvalidConfig(
                f"margin thresholds need 0 < urgent_ratio < warning_ratio, got {self.urgent_ratio} "
                f"and {self.warning_ratio}"
            )


@dataclass(frozen=True, slots=True)
class MarginView:
    """
    One venue's margin now.

    ``margin_ratio`` and ``maintenance_ratio`` are ``None`` without positions;
    ``liquidation_distance`` is ``margin_ratio - maintenance_ratio``; ``price_distance`` the
    smallest ``|mark - liquidation price| / mark`` over the positions the venue gave one for.
    """

    venue: str
    level: MarginLevel
    margin_ratio: Decimal | None
    maintenance_ratio: Decimal | None
    liquidation_distance: Decimal | None
    price_distance: Decimal | None

    def describe(self) -> str:
        """Return a one-line account (for logs, alerts and the audit log)."""
        ratio = "n/a" if self.margin_ratio is None else f"{self.margin_ratio:.4f}"
        maintenance = "n/a" if self.maintenance_ratio is None else f"{self.maintenance_ratio:.4f}"
        return f"{self.venue} margin ratio {ratio} (maintenance {maintenance}): {self.level.value}"


def margin_view(
    venue: str,
    equity: Decimal,
    maintenance_margin: Decimal,
    notional: Decimal,
    thresholds: MarginThresholds,
    liquidation_prices: Mapping[str, Decimal] | None = None,
    marks: Mapping[str, Decimal] | None = None,
) -> MarginView:
    """Return the margin view of one venue report (see the module docstring)."""
    if notional <= 0:
        return MarginView(venue, MarginLevel.OK, None, None, None, None)
    ratio = equity / notional
    maintenance = maintenance_margin / notional
    if ratio < thresholds.urgent_ratio or ratio <= maintenance:
        level = MarginLevel.URGENT
    elif ratio < thresholds.warning_ratio:
        level = MarginLevel.WARNING
    else:
        level = MarginLevel.OK
    liquidation = liquidation_prices or {}
    distances = [
        abs(mark - liquidation[key]) / mark
        for key, mark in (marks or {}).items()
        if mark > 0 and key in liquidation
    ]
    return MarginView(venue, level, ratio, maintenance, ratio - maintenance, min(distances, default=None))


def riskiest_first[T](
    positions: Sequence[T],
    venues_of: Callable[[T], Sequence[str]],
    notional_of: Callable[[T], Decimal],
    views: Mapping[str, MarginView],
) -> list[T]:
    """
    Return the positions touching a venue at URGENT, riskiest first: the lowest margin ratio
    among the venues a position's legs are on, then the largest notional.
    """

    def worst(position: T) -> Decimal:
        ratios = [
            v.margin_ratio
            for venue in venues_of(position)
            if (v := views.get(venue)) is not None and v.margin_ratio is not None
        ]
        return min(ratios, default=Decimal("Infinity"))

    urgent = [
        p
        for p in positions
        if any(
            (v := views.get(venue)) is not None and v.level is MarginLevel.URGENT for venue in venues_of(p)
        )
    ]
    return sorted(urgent, key=lambda p: (worst(p), -notional_of(p)))


__all__ = ["MarginLevel", "MarginThresholds", "MarginView", "margin_view", "riskiest_first"]
