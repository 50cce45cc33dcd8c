"""
The perp/perp spread strategy's decisions as pure functions (seed 004, seed 001 section 4.6).

Two perpetuals on the same base asset, venue A and venue B, each with its L2 book and its quote
currency's USD price (``a_usd``, ``b_usd``: a USDC-quoted Hyperliquid book and a USDT-quoted
Bybit book are compared in USD, never assumed 1:1).

- :func:`taker_opportunity`: the price-gap detector. Buy on the cheap book and sell on the rich
  one, both as IOC takers: the largest size both books absorb within ``max_slippage`` of their
  mids (:func:`~nautilus_ext.strategies.carry_rules.depth_size`, capped by the limits) whose
  edge, at the two books' volume-weighted prices, still clears both taker fees, the latency
  allowance and ``min_edge``.
- :func:`mid_spread` and :func:`unwind_reason`: when an open pair is unwound (the spread
  closed, held too long, a leg's data unhealthy).
- :func:`maker_price`: maker-on-one-venue mode (seed 004's note on taker fees): the passive price
  on venue A that stays profitable against an IOC hedge on venue B's book, never crossing A's
  book; :func:`needs_reprice` and :class:`RepriceBudget` decide when to move it without
  tripping the safety gate's flip-flop detector (seed 001, 4.7.5).
- :func:`inventory_room`: what the inventory cap leaves on one side.

Every number is a ``Decimal``; fees, edges and allowances are fractions (1 bp = 0.0001).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import ROUND_DOWN
from decimal import ROUND_FLOOR
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.routing.cost import Level
from nautilus_ext.strategies.carry_rules import depth_size

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)


@unique
class Direction(StrEnum):
    """Which way a spread position is held."""

    BUY_A_SELL_B = "BUY_A_SELL_B"  # long venue A, short venue B (B was rich)
    SELL_A_BUY_B = "SELL_A_BUY_B"  # short venue A, long venue B (A was rich)


@unique
class UnwindReason(StrEnum):
    """Why a spread position is unwound (stored as its ``exit_reason``)."""

    VENUE_UNHEALTHY = "VENUE_UNHEALTHY"  # a leg's data is missing, stale or its feed unhealthy
    SPREAD_CLOSED = "SPREAD_CLOSED"  # the mid spread in the position's favour closed
    MAX_HOLD = "MAX_HOLD"  # held for the maximum time


@dataclass(frozen=True, slots=True)
class SpreadCosts:
    """
    What a round of the spread costs, as fractions of the notional traded.

    Parameters
    ----------
    taker_fee_a, taker_fee_b : Decimal
        Taker fees of venue A and venue B.
    maker_fee_a : Decimal
        Maker fee of venue A (negative: a rebate).
    latency_allowance : Decimal
        The adverse move allowed for while the orders travel (fees and latency decide the
        viable spread, seed 001 4.6).
    min_edge : Decimal
        The edge left after fees and the allowance that a trade must still make (>= 0).
    """

    taker_fee_a: Decimal
    taker_fee_b: Decimal
    maker_fee_a: Decimal
    latency_allowance: Decimal
    min_edge: Decimal

    def __post_init__(self) -> None:
        for name in ("taker_fee_a", "taker_fee_b", "latency_allowance", "min_edge"):
            if getattr(self, name) < 0:
                raise InvalidConfig(f"{name} must be >= 0, got {getattr(self, name)}")
        if not -_ONE < self.maker_fee_a < _ONE:
            raise InvalidConfig(f"maker_fee_a must be a fraction in (-1, 1), got {self.maker_fee_a}")

    def taker(self, venue_a: bool) -> Decimal:
        """Return the taker fee of venue A (``venue_a``) or B."""
        return self.taker_fee_a if venue_a else self.taker_fee_b


def latency_allowance(latency_ms: int, adverse_bps_per_sec: Decimal) -> Decimal:
    """Return the adverse move (a fraction) a price may make while orders travel ``latency_ms``."""
    if latency_ms < 0 or adverse_bps_per_sec < 0:
        raise InvalidConfig(
            f"latency_ms and adverse_bps_per_sec must be >= 0, got {latency_ms}, {adverse_bps_per_sec}"
        )
    return adverse_bps_per_sec * Decimal(latency_ms) / Decimal(1000) / Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Book:
    """One venue's book: bids and asks best first, its mid, lot size and USD price of its quote."""

    bids: Sequence[Level]
    asks: Sequence[Level]
    mid: Decimal
    lot: Decimal
    usd: Decimal = _ONE


def vwap(levels: Sequence[Level], quantity: Decimal) -> Decimal | None:
    """Return the average price of taking ``quantity`` from ``levels`` (None: not enough size)."""
    if quantity <= 0:
        return None
    left, cost = quantity, _ZERO
    for price, size in levels:
        take = min(left, size)
        cost += take * price
        left -= take
        if left <= 0:
            return cost / quantity
    return None


@dataclass(frozen=True, slots=True)
class TakerOpportunity:
    """A gap both books can trade now: buy ``quantity`` on one venue, sell it on the other."""

    direction: Direction
    quantity: Decimal
    buy_price: Decimal  # volume-weighted, in the buy venue's quote currency
    sell_price: Decimal  # volume-weighted, in the sell venue's quote currency
    edge: Decimal  # net of both taker fees and the latency allowance, fraction of the buy notional


def _edge(
    buy_usd: Decimal, sell_usd: Decimal, fee_buy: Decimal, fee_sell: Decimal, allowance: Decimal
) -> Decimal:
    return (sell_usd - buy_usd) / buy_usd - fee_buy - fee_sell - allowance


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _cumulative(levels: Sequence[Level]) -> list[Decimal]:
    total, out = _ZERO, []
    for _, size in levels:
        total += size
        out.append(total)
    return out


def _one_way(
    buy: Book, sell: Book, *, buy_is_a: bool, costs: SpreadCosts, max_slippage: Decimal, cap: Decimal
) -> TakerOpportunity | None:
    lot = max(buy.lot, sell.lot)
    biggest = depth_size(buy.asks, buy.mid, sell.bids, sell.mid, max_slippage=max_slippage, lot=lot, cap=cap)
    if biggest <= 0:
        return None
    # the edge shrinks as the size walks deeper: try the biggest size, then each level boundary
    sizes = {biggest} | {
        _floor(s, lot) for s in _cumulative(buy.asks) + _cumulative(sell.bids) if s < biggest
    }
    direction = Direction.BUY_A_SELL_B if buy_is_a else Direction.SELL_A_BUY_B
    for qty in sorted((s for s in sizes if s > 0), reverse=True):
        buy_px, sell_px = vwap(buy.asks, qty), vwap(sell.bids, qty)
        if buy_px is None or sell_px is None or buy_px <= 0:
            continue
        edge = _edge(
            buy_px * buy.usd,
            sell_px * sell.usd,
            costs.taker(buy_is_a),
            costs.taker(not buy_is_a),
            costs.latency_allowance,
        )
        if edge >= costs.min_edge:
            return TakerOpportunity(direction, qty, buy_px, sell_px, edge)
    return None


def taker_opportunity(
    a: Book, b: Book, *, costs: SpreadCosts, max_slippage: Decimal, cap: Decimal
) -> TakerOpportunity | None:
    """
    Return the best taker trade across the two books now, or None when no gap pays.

    In each direction the size is the largest both books absorb within ``max_slippage`` of
    their mids (capped at ``cap`` base units, on the coarser lot) or a smaller level boundary,
    the largest whose edge at the volume-weighted prices clears both taker fees, the latency
    allowance and ``costs.min_edge``. When both directions pay (crossed books), the one earning
    more in USD wins.
    """
    if max_slippage < 0:
        raise InvalidConfig(f"max_slippage must be >= 0, got {max_slippage}")
    if cap <= 0:
        return None
    found = [
        o
        for o in (
            _one_way(a, b, buy_is_a=True, costs=costs, max_slippage=max_slippage, cap=cap),
            _one_way(b, a, buy_is_a=False, costs=costs, max_slippage=max_slippage, cap=cap),
        )
        if o is not None
    ]
    if not found:
        return None
    return max(found, key=lambda o: o.edge * o.quantity * o.buy_price)


def mid_spread(
    direction: Direction, a_mid: Decimal, b_mid: Decimal, a_usd: Decimal, b_usd: Decimal
) -> Decimal:
    """
    Return the mid spread in the position's favour, a fraction of venue A's mid in USD.

    Positive while the venue the position sold is still richer than the one it bought; it falls
    to zero (and below) as the gap closes.
    """
    a_px, b_px = a_mid * a_usd, b_mid * b_usd
    gap = (b_px - a_px) / a_px
    return gap if direction is Direction.BUY_A_SELL_B else -gap


@dataclass(frozen=True, slots=True)
class UnwindRules:
    """
    When an open spread position is unwound.

    Parameters
    ----------
    exit_spread : Decimal
        Unwind when :func:`mid_spread` falls to this fraction or below (0: the gap closed).
    max_hold_ns : int, optional
        Unwind after holding this long, nanoseconds.
    """

    exit_spread: Decimal = _ZERO
    max_hold_ns: int | None = None

    def __post_init__(self) -> None:
        if self.max_hold_ns is not None and self.max_hold_ns <= 0:
            raise InvalidConfig(f"max_hold_ns must be > 0 when set, got {self.max_hold_ns}")


def unwind_reason(
    spread: Decimal | None, *, opened_ns: int, now_ns: int, healthy: bool, rules: UnwindRules
) -> UnwindReason | None:
    """
    Return why a position with mid spread ``spread`` (None: a mid is unknown) is unwound now.

    An unhealthy or unpriced leg comes first, then the closed spread, then the maximum hold.
    """
    if not healthy or spread is None:
        return UnwindReason.VENUE_UNHEALTHY
    if spread <= rules.exit_spread:
        return UnwindReason.SPREAD_CLOSED
    if rules.max_hold_ns is not None and now_ns - opened_ns >= rules.max_hold_ns:
        return UnwindReason.MAX_HOLD
    return None


def maker_price(
    buy_on_a: bool,
    quantity: Decimal,
    a_best_bid: Decimal | None,
    a_best_ask: Decimal | None,
    a_tick: Decimal,
    b: Book,
    *,
    costs: SpreadCosts,
    max_slippage: Decimal,
    a_usd: Decimal = _ONE,
) -> Decimal | None:
    """
    Return the passive price on venue A for ``quantity``, or None when no price pays.

    The hedge takes ``quantity`` from B's book (its bids when A buys, its asks when A sells) at
    the volume-weighted price ``h``, which must lie within ``max_slippage`` of B's mid. Buying on
    A at ``p`` and selling on B at ``h`` pays when ``h*(1 - taker_b - allowance) >=
    p*(1 + maker_a + min_edge)`` (in USD); selling on A when ``p*(1 - maker_a - min_edge) >=
    h*(1 + taker_b + allowance)``. The price is that bound on A's tick grid (down for a bid, up
    for an offer), moved back inside A's book so it never crosses (a bid below A's best ask, an
    offer above A's best bid): a crossing price would take, not make.
    """
    if a_tick <= 0 or quantity <= 0:
        raise InvalidConfig(f"a_tick and quantity must be > 0, got {a_tick}, {quantity}")
    hedge_levels = b.bids if buy_on_a else b.asks
    hedge = vwap(hedge_levels, quantity)
    if hedge is None or b.mid <= 0:
        return None
    if abs(hedge - b.mid) > b.mid * max_slippage:
        return None
    hedge_usd = hedge * b.usd
    if buy_on_a:
        denominator = (_ONE + costs.maker_fee_a + costs.min_edge) * a_usd
        bound = hedge_usd * (_ONE - costs.taker_fee_b - costs.latency_allowance) / denominator
        price = (bound / a_tick).to_integral_value(rounding=ROUND_FLOOR) * a_tick
        if a_best_ask is not None and price >= a_best_ask:
            price = a_best_ask - a_tick
    else:
        denominator = (_ONE - costs.maker_fee_a - costs.min_edge) * a_usd
        if denominator <= 0:
            return None
        bound = hedge_usd * (_ONE + costs.taker_fee_b + costs.latency_allowance) / denominator
        price = (bound / a_tick).to_integral_value(rounding=ROUND_CEILING) * a_tick
        if a_best_bid is not None and price <= a_best_bid:
            price = a_best_bid + a_tick
    return price if price > 0 else None


def needs_reprice(current: Decimal, wanted: Decimal | None, *, buy_on_a: bool, tolerance: Decimal) -> bool:
    """
    Return whether a resting maker order at ``current`` must move to ``wanted``.

    Always when no price pays any more (``wanted`` None) or the order is now too aggressive (a
    bid above the profitable bound, an offer below it: a fill would lose). A more aggressive
    price that is still profitable is taken only when it differs by more than ``tolerance``
    (price units): chasing every tick would be the place/cancel spam seed 001 4.7.5 halts.
    """
    if wanted is None:
        return True
    if (buy_on_a and current > wanted) or (not buy_on_a and current < wanted):
        return True
    return abs(wanted - current) > tolerance


class RepriceBudget:
    """
    Cancels of our own resting orders in a rolling window, kept below the gate's flip-flop limit.

    The gate enters SAFE mode at ``flipflop_max_cycles`` place/cancel cycles per asset within
    its window. ``limit`` must stay below that: a new maker order is placed only while fewer
    than ``limit - 1`` cancels are in the window, so room for one protective cancel (the price
    stopped paying) always remains; an optional reprice (a better price) needs the same room.
    """

    def __init__(self, limit: int, window_ns: int) -> None:
        if limit < 2 or window_ns <= 0:
            raise InvalidConfig(f"reprice budget needs limit >= 2 and a window > 0, got {limit}, {window_ns}")
        self.limit = limit
        self.window_ns = window_ns
        self._cancels: deque[int] = deque()

    def used(self, now_ns: int) -> int:
        """Return the cancels within the window ending at ``now_ns``."""
        while self._cancels and now_ns - self._cancels[0] >= self.window_ns:
            self._cancels.popleft()
        return len(self._cancels)

    def may_place(self, now_ns: int) -> bool:
        """Return whether a new maker order may be placed (one protective cancel stays free)."""
        return self.used(now_ns) < self.limit - 1

    def may_reprice(self, now_ns: int) -> bool:
        """Return whether an optional reprice (cancel, then place again) fits the budget."""
        return self.used(now_ns) < self.limit - 1

    def record_cancel(self, now_ns: int) -> None:
        """Record a cancel sent at ``now_ns``."""
        self._cancels.append(now_ns)


def inventory_room(held_a: Decimal, *, buy_on_a: bool, max_inventory: Decimal) -> Decimal:
    """Return how much more venue A may buy (or sell) before ``|held_a|`` passes the cap."""
    room = max_inventory - held_a if buy_on_a else max_inventory + held_a
    return max(room, _ZERO)


__all__ = [
    "Book",
    "Direction",
    "RepriceBudget",
    "SpreadCosts",
    "TakerOpportunity",
    "UnwindReason",
    "UnwindRules",
    "inventory_room",
    "latency_allowance",
    "maker_price",
    "mid_spread",
    "needs_reprice",
    "taker_opportunity",
    "unwind_reason",
    "vwap",
]
