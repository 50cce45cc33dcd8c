"""
Multi-venue smart order routing for CeFi (``SOR_CEFI``): split the parent across the venues
that list the same pair by walking their L2 books with each venue's taker fee.

Each round, every healthy venue's book (the side we take) is merged into one ladder ordered by
fee-inclusive price; the parent's remainder is taken level by level, then each venue's share is
rounded down to its lot and dropped when below its minimum size. One IOC limit child per venue
is sent at the worst level price it needs (and never beyond the ``max_slippage`` cap). When the
round's children have closed and something remains, the books are read again after
``replan_interval_secs`` and a new round is planned, up to ``max_rounds``.

A venue is unhealthy (skipped) when its book is missing, one-sided, older than
``stale_book_secs``, or it refused ``max_venue_rejects`` children of this parent.

The executor puts the primary on the cheapest venue and lists every loaded candidate in the
``venues`` parameter (comma-separated Nautilus instrument ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import LimitOrder

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.base import Parent
from nautilus_ext.execution_algos.base import SmartExecAlgorithm
from nautilus_ext.execution_algos.base import SmartExecAlgorithmConfig
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import beyond_cap
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import param_str
from nautilus_ext.execution_algos.common import require_positive
from nautilus_ext.execution_algos.common import round_to_lot

NS_PER_SEC = 1_000_000_000
_BOOK_DEPTH = 50


class SORExecAlgorithmConfig(SmartExecAlgorithmConfig, frozen=True):
    """
    Configuration of :class:`SORExecAlgorithm` (defaults; orders may override the first two).

    Parameters
    ----------
    replan_interval_secs : int, default 2
        Wait between rounds, in seconds (books refill and move).
    max_rounds : int, default 5
        Rounds before stopping with ``SWEEP_INCOMPLETE``.
    stale_book_secs : int, default 10
        A book not updated for this long is skipped, in seconds.
    max_venue_rejects : int, default 2
        Refused children after which a venue is skipped for this parent.
    """

    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("SOR_CEFI")
    replan_interval_secs: int = 2
    max_rounds: int = 5
    stale_book_secs: int = 10
    max_venue_rejects: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("replan_interval_secs", "max_rounds", "stale_book_secs", "max_venue_rejects"):
            if getattr(self, name) <= 0:
                raise InvalidConfig(f"{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class VenueBook:
    """One venue's view for a round: the book side we take, its taker fee and size grid."""

    venue: str  # Nautilus instrument id
    levels: Sequence[tuple[Decimal, Decimal]]  # (price, size), best first
    taker_fee: Decimal
    lot: Decimal
    min_size: Decimal
    healthy: bool = True


@dataclass(frozen=True, slots=True)
class VenueSlice:
    """A planned child: quantity on a venue and the worst price it needs."""

    venue: str
    quantity: Decimal
    limit_price: Decimal


def sor_split(
    books: Sequence[VenueBook], amount: Decimal, *, buy: bool, cap: Decimal | None = None
) -> list[VenueSlice]:
    """
    Split ``amount`` across venues by fee-inclusive price, best levels first.

    Levels beyond ``cap`` and unhealthy venues are ignored. Each venue's share is rounded down
    to its lot and dropped below its minimum size, so the slices sum to at most ``amount``;
    each slice never exceeds that venue's displayed size up to its limit price.
    """
    ladder: list[tuple[Decimal, str, Decimal, Decimal]] = []
    for book in books:
        if not book.healthy:
            continue
        for price, size in book.levels:
            if size <= 0 or (cap is not None and beyond_cap(price, cap, buy=buy)):
                continue
            effective = price * (1 + book.taker_fee) if buy else price * (1 - book.taker_fee)
            ladder.append((effective if buy else -effective, book.venue, price, size))
    ladder.sort()
    take: dict[str, Decimal] = {}
    worst: dict[str, Decimal] = {}
    left = amount
    for _, venue, price, size in ladder:
        if left <= 0:
            break
        q = min(size, left)
        take[venue] = take.get(venue, Decimal(0)) + q
        worst[venue] = price
        left -= q
    grid = {b.venue: b for b in books}
    out = []
    for venue in sorted(take):
        book = grid[venue]
        q = round_to_lot(take[venue], book.lot)
        if q > 0 and q >= book.min_size:
            out.append(VenueSlice(venue=venue, quantity=q, limit_price=worst[venue]))
    return out


class SORExecAlgorithm(SmartExecAlgorithm):
    """Split a parent across venues by their books and fees (see the module docstring)."""

    algorithm_name = "SOR_CEFI"

    def __init__(self, config: SORExecAlgorithmConfig | None = None) -> None:
        config = config or SORExecAlgorithmConfig()
        super().__init__(config)
        self._defaults = config
        self._seq: dict[ClientOrderId, int] = {}
        self._venue_of: dict[ClientOrderId, str] = {}

    def begin(self, parent: Parent, params: dict[str, Any]) -> None:
        d = self._defaults
        venues = [v for v in param_str(params, "venues", str(parent.primary.instrument_id)).split(",") if v]
        instruments = {}
        for v in venues:
            inst = self.cache.instrument(InstrumentId.from_str(v))
            if inst is None:
                raise InvalidOrder(f"venue instrument {v} is not loaded in this node")
            instruments[v] = inst
        interval = param_int(params, "replan_interval_secs", d.replan_interval_secs)
        rounds = param_int(params, "max_rounds", d.max_rounds)
        require_positive("replan_interval_secs", interval)
        require_positive("max_rounds", rounds)
        parent.state.update(
            instruments=instruments, interval=interval, max_rounds=rounds, round=0, rejects={}, by_venue={}
        )
        parent.report.detail = f"venues {', '.join(sorted(instruments))}"
        self._round(parent)

    def _book(self, parent: Parent, venue: str) -> VenueBook:
        inst = parent.state["instruments"][venue]
        lot = inst.size_increment.as_decimal()
        min_size = lot if inst.min_quantity is None else inst.min_quantity.as_decimal()
        fee = inst.taker_fee if isinstance(inst.taker_fee, Decimal) else Decimal(str(inst.taker_fee))
        book = self.cache.order_book(inst.id)
        now = self.clock.timestamp_ns()
        healthy = (
            book is not None
            and book.best_bid_price() is not None
            and book.best_ask_price() is not None
            and now - book.ts_last <= self._defaults.stale_book_secs * NS_PER_SEC
            and parent.state["rejects"].get(venue, 0) < self._defaults.max_venue_rejects
        )
        levels: list[tuple[Decimal, Decimal]] = []
        if healthy and book is not None:
            side = book.asks() if parent.buy else book.bids()
            levels = [(lvl.price.as_decimal(), Decimal(str(lvl.size()))) for lvl in side[:_BOOK_DEPTH]]
        return VenueBook(
            venue=venue, levels=levels, taker_fee=fee, lot=lot, min_size=min_size, healthy=healthy
        )

    def _round(self, parent: Parent) -> None:
        if parent.done:
            return
        parent.state["round"] += 1
        books = [self._book(parent, v) for v in sorted(parent.state["instruments"])]
        slices = sor_split(books, parent.remaining, buy=parent.buy, cap=parent.cap)
        for s in slices:
            self._send(parent, s)
        if not parent.working and not parent.done:
            self._next_round(parent, "no healthy venue could take a child")

    def _send(self, parent: Parent, plan: VenueSlice) -> None:
        inst = parent.state["instruments"][plan.venue]
        qty = min(plan.quantity, round_to_lot(parent.remaining, inst.size_increment.as_decimal()))
        if qty <= 0:
            return
        primary = parent.primary
        n = self._seq.get(primary.client_order_id, 0) + 1
        self._seq[primary.client_order_id] = n
        child = LimitOrder(
            trader_id=primary.trader_id,
            strategy_id=primary.strategy_id,
            instrument_id=inst.id,
            client_order_id=ClientOrderId(f"{primary.client_order_id.value}-S{n}"),
            order_side=primary.side,
            quantity=inst.make_qty(qty),
            price=inst.make_price(plan.limit_price),
            init_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            time_in_force=TimeInForce.IOC,
            exec_algorithm_id=self.id,
            exec_spawn_id=primary.client_order_id,
            tags=list(primary.tags) if primary.tags else None,
        )
        self._venue_of[child.client_order_id] = plan.venue
        self.submit_on_venue(parent, child, qty)

    def _next_round(self, parent: Parent, why: str) -> None:
        if parent.state["round"] >= parent.state["max_rounds"]:
            by_venue = ", ".join(f"{v} {q}" for v, q in sorted(parent.state["by_venue"].items()))
            detail = f"{parent.state['round']} rounds: {why}; filled by venue: {by_venue or 'none'}"
            self.finish(parent, StopReason.SWEEP_INCOMPLETE, detail)
            return
        name = f"{self.id}:{parent.primary.client_order_id.value}:r{parent.state['round']}"
        if name in parent.timers:
            return  # this round's replan is already scheduled
        parent.timers.append(name)
        self.clock.set_time_alert_ns(
            name, self.clock.timestamp_ns() + parent.state["interval"] * NS_PER_SEC, self._on_replan
        )

    def _on_replan(self, event: TimeEvent) -> None:
        pid = event.name.rsplit(":", 2)[1]
        for parent in self.parents.values():
            if parent.primary.client_order_id.value == pid and not parent.done:
                self._round(parent)

    def on_child_closed(self, parent: Parent) -> None:
        if not parent.working:
            self._next_round(parent, "the books could not fill the remainder")

    def on_order_filled(self, event: Any) -> None:
        venue = self._venue_of.get(event.client_order_id)
        parent = self._parent_for(event.client_order_id)
        if venue is not None and parent is not None:
            by_venue = parent.state["by_venue"]
            by_venue[venue] = by_venue.get(venue, Decimal(0)) + event.last_qty.as_decimal()
            parent.report.detail = "filled by venue: " + ", ".join(
                f"{v} {q}" for v, q in sorted(by_venue.items())
            )
        super().on_order_filled(event)

    def _closed(self, client_order_id: ClientOrderId, rejected: bool, why: str = "") -> None:
        venue = self._venue_of.get(client_order_id)
        parent = self._parent_for(client_order_id)
        if rejected and venue is not None and parent is not None and client_order_id in parent.working:
            parent.state["rejects"][venue] = parent.state["rejects"].get(venue, 0) + 1
        super()._closed(client_order_id, rejected, why)
