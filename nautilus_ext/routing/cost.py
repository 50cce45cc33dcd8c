"""
Venue cost model: walk an L2 book for a size and price the fill, fees included.

Pure functions over plain ``(price, size)`` levels, shared by routing, the execution service
and the smart-execution algorithms. Prices and sizes are Decimals; nothing here touches I/O.
Market state reaches the cost model through one seam, :class:`BookView` (levels and mid per
instrument): the execution service implements it over the Nautilus cache, tests over plain
levels, and :func:`quote_venue` turns it into the :class:`VenueQuote` the model prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from typing import Protocol

BPS: Final = Decimal(10_000)

Level = tuple[Decimal, Decimal]
"""One book level: (price, size)."""


@dataclass(frozen=True, slots=True)
class BookWalk:
    """The result of walking one side of a book for a quantity."""

    requested: Decimal
    filled: Decimal
    notional: Decimal
    worst_price: Decimal | None
    levels_used: int

    @property
    def avg_price(self) -> Decimal | None:
        """Return the volume-weighted average fill price, or None when nothing fills."""
        return None if self.filled == 0 else self.notional / self.filled

    @property
    def fill_ratio(self) -> Decimal:
        """Return filled / requested."""
        return Decimal(0) if self.requested == 0 else self.filled / self.requested

    @property
    def complete(self) -> bool:
        """Return whether the book holds the whole quantity."""
        return self.filled == self.requested


def walk_book(
    levels: Sequence[Level], quantity: Decimal, limit_price: Decimal | None = None, *, buy: bool
) -> BookWalk:
    """
    Walk ``levels`` (best first: asks for a buy, bids for a sell) for ``quantity``.

    Parameters
    ----------
    levels : Sequence[tuple[Decimal, Decimal]]
        The opposite side of the book, best price first.
    quantity : Decimal
        The quantity to fill (positive).
    limit_price : Decimal, optional
        Stop at levels worse than this price.
    buy : bool
        True when buying (walking asks upward).

    Raises
    ------
    ValueError
        If ``quantity`` is not positive.
    """
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    remaining = quantity
    notional = Decimal(0)
    worst: Decimal | None = None
    used = 0
    for price, size in levels:
        if remaining <= 0:
            break
        if limit_price is not None and (price > limit_price if buy else price < limit_price):
            break
        if size <= 0:
            continue
        take = min(size, remaining)
        notional += take * price
        remaining -= take
        worst = price
        used += 1
    return BookWalk(
        requested=quantity,
        filled=quantity - remaining,
        notional=notional,
        worst_price=worst,
        levels_used=used,
    )


def slippage_bps(avg_price: Decimal, reference: Decimal, *, buy: bool) -> Decimal:
    """
    Return slippage of ``avg_price`` versus ``reference`` in bps (positive = worse for us).

    Raises
    ------
    ValueError
        If ``reference`` is not positive.
    """
    if reference <= 0:
        raise ValueError(f"reference price must be positive, got {reference}")
    signed = (avg_price - reference) if buy else (reference - avg_price)
    return signed / reference * BPS


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """A candidate venue's book side, taker fee and health, as seen by the cost model."""

    venue: str
    levels: Sequence[Level]
    taker_fee: Decimal
    mid: Decimal | None
    healthy: bool = True
    min_size: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class VenueCost:
    """The estimated all-in cost of filling on one venue."""

    venue: str
    walk: BookWalk
    cost_bps: Decimal | None
    reason: str = ""


def estimate_cost(
    quote: VenueQuote, quantity: Decimal, *, buy: bool, reference: Decimal | None = None
) -> VenueCost:
    """
    Estimate the all-in cost (price impact + taker fee) of filling ``quantity`` on one venue.

    ``cost_bps`` is relative to ``reference`` (default: the venue's own mid); None when the venue
    is unhealthy, below its minimum size, or cannot fill the whole quantity.
    """
    walk = walk_book(quote.levels, quantity, buy=buy)
    ref = reference if reference is not None else quote.mid
    if not quote.healthy:
        return VenueCost(quote.venue, walk, None, "unhealthy")
    if quantity < quote.min_size:
        return VenueCost(quote.venue, walk, None, f"below minimum size {quote.min_size}")
    if not walk.complete or walk.avg_price is None or ref is None:
        return VenueCost(quote.venue, walk, None, f"book holds only {walk.filled} of {quantity}")
    impact = slippage_bps(walk.avg_price, ref, buy=buy)
    return VenueCost(quote.venue, walk, impact + quote.taker_fee * BPS)


def best_venue(quotes: Sequence[VenueQuote], quantity: Decimal, *, buy: bool) -> VenueCost | None:
    """
    Return the cheapest venue able to fill the whole quantity (ties broken by venue code).

    All venues are priced against one common reference, the mean of the healthy venues' mids,
    so a venue with a better mid is preferred even when its own spread is similar.
    """
    mids = [q.mid for q in quotes if q.healthy and q.mid is not None]
    reference = sum(mids, Decimal(0)) / len(mids) if mids else None
    costs = [estimate_cost(q, quantity, buy=buy, reference=reference) for q in quotes]
    viable = [c for c in costs if c.cost_bps is not None]
    if not viable:
        return None
    return min(viable, key=lambda c: (c.cost_bps, c.venue))


class BookView(Protocol):
    """
    The market state the cost model reads: one side of an instrument's book and its mid.

    ``instrument_id`` is the Nautilus instrument id as text (``"BTCUSDT.BINANCE"``).
    """

    def levels(self, instrument_id: str, *, buy: bool) -> tuple[list[Level], Decimal | None]:
        """Return the side a taker walks (asks to buy, bids to sell), best first, and the mid."""
        ...

    def mid(self, instrument_id: str) -> Decimal | None:
        """Return the mid price (None when nothing prices the instrument)."""
        ...


def quote_venue(
    book: BookView, venue: str, instrument_id: str, taker_fee: Decimal, *, buy: bool
) -> VenueQuote:
    """Return the :class:`VenueQuote` of one candidate venue as ``book`` shows it now."""
    levels, mid = book.levels(instrument_id, buy=buy)
    return VenueQuote(venue=venue, levels=levels, taker_fee=taker_fee, mid=mid, healthy=mid is not None)
