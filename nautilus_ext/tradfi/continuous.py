"""
Continuous futures series: listed contracts spliced at their rolls, back- or ratio-adjusted.

Given each contract's prices and a roll schedule (``(from_ns, instrument_id)`` pairs, e.g.
from :meth:`nautilus_ext.tradfi.front.FrontMonthResolver.schedule`), :func:`build_continuous`
takes each contract's prices over its own span and removes the jump at each roll:

* ``BACK`` (back-adjusted, additive): at a roll the *gap* is the new contract's price minus the
  old one's, both the last observed at or before the roll; every earlier price is shifted by
  the sum of the gaps of the rolls after it. Price differences (PnL in points) are preserved;
  the latest contract's prices are untouched.
* ``RATIO`` (ratio-adjusted, multiplicative): every earlier price is multiplied by the product
  of ``new / old`` of the later rolls. Returns (percentage changes) are preserved.
* ``NONE``: spliced raw prices, jumps and all.

An adjusted price is ``raw * factor + offset`` (:meth:`ContinuousSeries.factor_offset`), so bars'
open, high, low and close adjust the same way. All arithmetic is in :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig

_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)
_TWO: Final = Decimal(2)


@unique
class Adjustment(StrEnum):
    """How a continuous series removes the jump at a roll."""

    BACK = "BACK"  # additive: earlier prices shifted by the later gaps
    RATIO = "RATIO"  # multiplicative: earlier prices scaled by the later ratios
    NONE = "NONE"  # raw prices spliced


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One observed price of one contract at ``ts_ns`` (UNIX ns)."""

    ts_ns: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class RollAdjustment:
    """
    One roll of a continuous series.

    Parameters
    ----------
    roll_ns : int
        When the series moves to the new contract.
    from_id, to_id : str
        The old and new contracts.
    old_price, new_price : Decimal
        Each contract's last price at or before the roll.
    """

    roll_ns: int
    from_id: str
    to_id: str
    old_price: Decimal
    new_price: Decimal

    @property
    def gap(self) -> Decimal:
        """Return ``new_price - old_price`` (the back-adjustment of this roll)."""
        return self.new_price - self.old_price

    @property
    def ratio(self) -> Decimal:
        """Return ``new_price / old_price`` (the ratio adjustment of this roll)."""
        return self.new_price / self.old_price


@dataclass(frozen=True, slots=True)
class ContinuousPoint:
    """One point of a continuous series: the contract it came from, raw and adjusted."""

    ts_ns: int
    instrument_id: str
    raw: Decimal
    adjusted: Decimal


@dataclass(frozen=True, slots=True)
class ContinuousSeries:
    """A continuous series (see the module docstring)."""

    method: Adjustment
    points: tuple[ContinuousPoint, ...]
    rolls: tuple[RollAdjustment, ...]

    def factor_offset(self, ts_ns: int) -> tuple[Decimal, Decimal]:
        """Return ``(factor, offset)`` with ``adjusted = raw * factor + offset`` at ``ts_ns``."""
        later = [r for r in self.rolls if r.roll_ns > ts_ns]
        if self.method is Adjustment.BACK:
            return _ONE, sum((r.gap for r in later), _ZERO)
        if self.method is Adjustment.RATIO:
            factor = _ONE
            for r in later:
                factor *= r.ratio
            return factor, _ZERO
        return _ONE, _ZERO

    def adjust(self, ts_ns: int, raw: Decimal) -> Decimal:
        """Return ``raw`` (a price of the contract live at ``ts_ns``) adjusted."""
        factor, offset = self.factor_offset(ts_ns)
        return raw * factor + offset


def _price_at(points: Sequence[PricePoint], ts_ns: int) -> Decimal | None:
    index = bisect.bisect_right([p.ts_ns for p in points], ts_ns)
    return points[index - 1].price if index else None


def build_continuous(
    prices: Mapping[str, Sequence[PricePoint]],
    schedule: Sequence[tuple[int, str]],
    method: Adjustment,
    end_ns: int | None = None,
) -> ContinuousSeries:
    """
    Splice and adjust per-contract prices along a roll schedule.

    Parameters
    ----------
    prices : mapping
        Instrument id -> its prices (any order).
    schedule : sequence of (int, str)
        ``(from_ns, instrument_id)`` in time order: each contract is used from its ``from_ns``
        until the next entry's.
    method : Adjustment
        The adjustment.
    end_ns : int, optional
        The last instant included (default: everything after the last roll).

    Raises
    ------
    InvalidConfig
        If the schedule is empty or out of order, or a roll lacks a price at or before it for
        either contract (the message names the contract and the roll time).
    """
    if not schedule:
        raise InvalidConfig("a continuous series needs at least one contract in its schedule")
    if any(b[0] <= a[0] for a, b in itertools.pairwise(schedule)):
        raise InvalidConfig("the roll schedule must be in strictly increasing time order")
    ordered = {iid: sorted(pts, key=lambda p: p.ts_ns) for iid, pts in prices.items()}
    rolls: list[RollAdjustment] = []
    for (_, old_id), (roll_ns, new_id) in itertools.pairwise(schedule):
        old = _price_at(ordered.get(old_id, []), roll_ns)
        new = _price_at(ordered.get(new_id, []), roll_ns)
        for iid, price in ((old_id, old), (new_id, new)):
            if price is None:
                raise InvalidConfig(
                    f"cannot adjust the roll from {old_id} to {new_id} at {roll_ns}: "
                    f"{iid} has no price at or before it",
                    details={"instrument_id": iid, "roll_ns": roll_ns},
                )
        assert old is not None
        assert new is not None
        if method is Adjustment.RATIO and old <= 0:
            raise InvalidConfig(
                f"cannot ratio-adjust the roll from {old_id} at {roll_ns}: its price {old} is not positive"
            )
        rolls.append(RollAdjustment(roll_ns, old_id, new_id, old, new))
    series = ContinuousSeries(method=method, points=(), rolls=tuple(rolls))
    points: list[ContinuousPoint] = []
    bounds = [s[0] for s in schedule[1:]] + [None]
    for (start, iid), stop in zip(schedule, bounds, strict=True):
        factor, offset = series.factor_offset(start)
        for p in ordered.get(iid, []):
            if p.ts_ns < start or (stop is not None and p.ts_ns >= stop):
                continue
            if end_ns is not None and p.ts_ns > end_ns:
                continue
            points.append(ContinuousPoint(p.ts_ns, iid, p.price, p.price * factor + offset))
    return ContinuousSeries(method=method, points=tuple(points), rolls=tuple(rolls))


def price_points(data: Iterable[Any]) -> dict[str, list[PricePoint]]:
    """
    Return per-instrument prices of NautilusTrader market data: a bar's close, a trade's price,
    a quote's mid, each at its ``ts_event``. Other objects (instruments, deltas) are skipped.
    """
    out: dict[str, list[PricePoint]] = {}
    for item in data:
        name = type(item).__name__
        if name == "Bar":
            iid, price = item.bar_type.instrument_id.value, item.close.as_decimal()
        elif name == "TradeTick":
            iid, price = item.instrument_id.value, item.price.as_decimal()
        elif name == "QuoteTick":
            iid = item.instrument_id.value
            price = (item.bid_price.as_decimal() + item.ask_price.as_decimal()) / _TWO
        else:
            continue
        out.setdefault(iid, []).append(PricePoint(item.ts_event, price))
    return out


__all__ = [
    "Adjustment",
    "ContinuousPoint",
    "ContinuousSeries",
    "PricePoint",
    "RollAdjustment",
    "build_continuous",
    "price_points",
]
