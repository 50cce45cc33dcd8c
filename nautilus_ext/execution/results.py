"""Per-order execution results: what happened to each unified Order, in honest numbers."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation
from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.orders.model import Order
from nautilus_ext.routing.cost import slippage_bps


@unique
class ExecutionStatus(StrEnum):
    """Final state of a unified order."""

    FILLED = "FILLED"  # the whole amount filled
    PARTIAL = "PARTIAL"  # some filled; the rest was cancelled or expired
    UNFILLED = "UNFILLED"  # nothing filled (limit never reached, or no liquidity)
    REJECTED = "REJECTED"  # refused before or at the venue (reason says why)


@unique
class FillModelKind(StrEnum):
    """Which fill model the data allowed, reported with every result."""

    L2_BOOK_WALK = "L2_BOOK_WALK"  # market/marketable orders walk the reconstructed L2 book
    L1_TOP_OF_BOOK = "L1_TOP_OF_BOOK"  # fills at best bid/ask from quotes, size-unaware beyond L1
    TRADE_PRINTS = "TRADE_PRINTS"  # fills against trade prints only (no book)


@dataclass(slots=True)
class FillRecord:
    """
    One venue fill of a unified order.

    ``deltas`` are the position deltas this fill made on the venue and instrument that filled
    (:func:`~nautilus_ext.execution.deltas.fill_deltas`); ``venue`` and ``instrument_id`` name
    where it filled (an algorithm's child can fill on another venue than the result's).
    """

    ts_ns: int
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    trade_id: str
    liquidity: str
    deltas: dict[str, Decimal] = field(default_factory=dict)
    venue: str | None = None
    instrument_id: str | None = None


@dataclass(slots=True)
class ExecutionResult:
    """
    The outcome of one unified Order.

    ``slippage_bps`` is measured against ``arrival_mid`` (the venue mid when the order was
    routed), positive when the fill is worse than the mid; fees are separate.
    ``estimated_cost_bps`` is the pre-trade estimate of impact plus taker fee from the book.
    ``decision_price`` is the price the strategy decided at (``metadata["decision_price"]`` of
    the Order, else the arrival mid); ``end_mid`` is the venue mid when the order reached its
    final state (values the unfilled part in implementation shortfall, see
    :mod:`nautilus_ext.reports.tca`); ``quote_currency`` is the currency prices are quoted in.
    Legs of an atomic group carry ``atomic_group_id``; ``unwound_quantity`` is what the group's
    neutralisation traded back against this leg's direction (its fills are in the group result)
    and ``unwound_deltas`` the position deltas those fills made.
    ``expected_deltas`` is the strategy's estimate from the Order; :attr:`actual_deltas` is what
    the fills made.
    """

    operation_id: str
    instrument_key: str
    side: str
    requested_quantity: Decimal
    ts_decision_ns: int
    strategy_id: str | None = None
    venue: str | None = None
    nautilus_instrument_id: str | None = None
    client_order_id: str | None = None
    order_type: str = "MARKET"
    limit_price: Decimal | None = None
    arrival_mid: Decimal | None = None
    estimated_cost_bps: Decimal | None = None
    algorithm_requested: str | None = None
    algorithm_used: str = "DIRECT"
    fill_model: FillModelKind = FillModelKind.L2_BOOK_WALK
    status: ExecutionStatus = ExecutionStatus.UNFILLED
    reason: str = ""
    expected_deltas: dict[str, Decimal] = field(default_factory=dict)
    fills: list[FillRecord] = field(default_factory=list)
    decision_price: Decimal | None = None
    end_mid: Decimal | None = None
    quote_currency: str | None = None
    atomic_group_id: str | None = None
    unwound_quantity: Decimal = Decimal(0)
    unwound_deltas: dict[str, Decimal] = field(default_factory=dict)

    @property
    def filled_quantity(self) -> Decimal:
        """Return the total filled quantity."""
        return sum((f.quantity for f in self.fills), Decimal(0))

    @property
    def fill_ratio(self) -> Decimal:
        """Return filled / requested."""
        return self.filled_quantity / self.requested_quantity if self.requested_quantity else Decimal(0)

    @property
    def avg_fill_price(self) -> Decimal | None:
        """Return the quantity-weighted average fill price."""
        qty = self.filled_quantity
        if qty == 0:
            return None
        return sum((f.price * f.quantity for f in self.fills), Decimal(0)) / qty

    @property
    def fees(self) -> Decimal:
        """Return total fees (in ``fee_currency``; positive = paid)."""
        return sum((f.fee for f in self.fills), Decimal(0))

    @property
    def fee_currency(self) -> str | None:
        """Return the fee currency (of the first fill)."""
        return self.fills[0].fee_currency if self.fills else None

    @property
    def slippage_bps(self) -> Decimal | None:
        """Return slippage of the average fill versus the arrival mid, in bps."""
        avg = self.avg_fill_price
        if avg is None or self.arrival_mid is None or self.arrival_mid <= 0:
            return None
        return slippage_bps(avg, self.arrival_mid, buy=is_buy_side(self.side))

    @property
    def time_to_complete_ms(self) -> Decimal | None:
        """Return milliseconds from decision to the last fill."""
        if not self.fills:
            return None
        return Decimal(max(f.ts_ns for f in self.fills) - self.ts_decision_ns) / Decimal(1_000_000)

    @property
    def net_filled_quantity(self) -> Decimal:
        """Return the filled quantity less what an atomic group's neutralisation traded back."""
        return self.filled_quantity - self.unwound_quantity

    @property
    def actual_deltas(self) -> dict[str, Decimal]:
        """
        Return the position deltas that happened: the sum of the fills' deltas, on the venues
        and instruments that filled, fees included, less what a group's neutralisation traded
        back. Keys whose deltas cancel out are left out.
        """
        total: dict[str, Decimal] = {}
        for fill in self.fills:
            for key, value in fill.deltas.items():
                total[key] = total.get(key, Decimal(0)) + value
        for key, value in self.unwound_deltas.items():
            total[key] = total.get(key, Decimal(0)) + value
        return {k: v for k, v in total.items() if v != 0}

    def finalise(self) -> None:
        """Set the status from the fills (unless already REJECTED)."""
        if self.status is ExecutionStatus.REJECTED:
            return
        filled = self.filled_quantity
        if filled >= self.requested_quantity:
            self.status = ExecutionStatus.FILLED
        elif filled > 0:
            self.status = ExecutionStatus.PARTIAL
        else:
            self.status = ExecutionStatus.UNFILLED

    def summary(self) -> dict[str, Any]:
        """Return a flat, JSON-friendly row (Decimals as strings)."""

        def s(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {
            "operation_id": self.operation_id,
            "strategy_id": self.strategy_id,
            "instrument_key": self.instrument_key,
            "venue": self.venue,
            "nautilus_instrument_id": self.nautilus_instrument_id,
            "side": self.side,
            "order_type": self.order_type,
            "limit_price": s(self.limit_price),
            "requested_quantity": s(self.requested_quantity),
            "filled_quantity": s(self.filled_quantity),
            "fill_ratio": s(self.fill_ratio),
            "arrival_mid": s(self.arrival_mid),
            "avg_fill_price": s(self.avg_fill_price),
            "slippage_bps": s(self.slippage_bps),
            "estimated_cost_bps": s(self.estimated_cost_bps),
            "fees": s(self.fees),
            "fee_currency": self.fee_currency,
            "ts_decision_ns": self.ts_decision_ns,
            "time_to_complete_ms": s(self.time_to_complete_ms),
            "n_fills": len(self.fills),
            "status": str(self.status),
            "reason": self.reason,
            "algorithm_requested": self.algorithm_requested,
            "algorithm_used": self.algorithm_used,
            "fill_model": str(self.fill_model),
            "decision_price": s(self.decision_price),
            "end_mid": s(self.end_mid),
            "quote_currency": self.quote_currency,
            "atomic_group_id": self.atomic_group_id,
            "unwound_quantity": s(self.unwound_quantity),
        }

    def order_context(self) -> dict[str, Any]:
        """
        Return the order-level facts transaction-cost analysis needs beside the fills (JSON).

        Stored with every FILL row, so TCA can be computed from the stored rows alone.
        """

        def s(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {
            "requested_quantity": s(self.requested_quantity),
            "ts_decision_ns": self.ts_decision_ns,
            "arrival_mid": s(self.arrival_mid),
            "decision_price": s(self.decision_price),
            "estimated_cost_bps": s(self.estimated_cost_bps),
            "end_mid": s(self.end_mid),
            "quote_currency": self.quote_currency,
            "status": str(self.status),
        }


@unique
class GroupStatus(StrEnum):
    """Final state of an atomic group executed as two legs."""

    WORKING = "WORKING"  # legs or neutralising trades still working
    HEDGED = "HEDGED"  # both legs filled completely; nothing to neutralise
    NEUTRALISED = "NEUTRALISED"  # legs ended balanced within a lot, short of the target
    UNHEDGED = "UNHEDGED"  # an imbalance of at least a lot remains (see the reason)
    NOT_EXECUTED = "NOT_EXECUTED"  # nothing traded (pre-flight refused, or both legs refused)
    REJECTED = "REJECTED"  # refused before anything was submitted (reason says why)


@dataclass(slots=True)
class NeutralisationFill:
    """A fill of a neutralising trade of an atomic group (not part of the leg's own execution)."""

    operation_id: str  # the leg it traded
    side: str  # BUY or SELL
    ts_ns: int
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    trade_id: str
    along: bool  # True: in the leg's own direction (a top-up); False: trading the leg back
    deltas: dict[str, Decimal] = field(default_factory=dict)  # the position deltas it made


@dataclass(slots=True)
class GroupExecutionResult:
    """
    The outcome of one atomic group executed by ``ATOMIC_LEGS``.

    Each leg has its own :class:`ExecutionResult` (``legs`` names their operation ids, leg A
    first); this record adds what belongs to the pair: the neutralising fills, the rollback
    cost (what they paid against the legs' arrival mids, fees included, in quote currency, as
    the algorithm computes it) and the net quantity of each leg in its own direction.
    """

    group_id: str
    legs: tuple[str, ...]
    ts_decision_ns: int
    leg_buys: tuple[bool, ...] = ()
    target_quantity: Decimal = Decimal(0)
    lots: tuple[Decimal, ...] = ()
    client_order_id: str | None = None
    neutralise_policy: str | None = None
    status: GroupStatus = GroupStatus.WORKING
    reason: str = ""
    algo_stop_reason: str | None = None
    net: dict[str, Decimal] = field(default_factory=dict)
    neutralisation_fills: list[NeutralisationFill] = field(default_factory=list)
    rollback_cost: Decimal = Decimal(0)

    @property
    def imbalance(self) -> Decimal:
        """Return leg A's net minus leg B's net (each in its own direction)."""
        if len(self.legs) != 2:
            return Decimal(0)
        return self.net.get(self.legs[0], Decimal(0)) - self.net.get(self.legs[1], Decimal(0))

    @property
    def net_exposure(self) -> Decimal:
        """Return the pair's signed net quantity (legs trade opposite sides: zero when neutral)."""
        return sum(
            (
                self.net.get(op, Decimal(0)) * (1 if buys else -1)
                for op, buys in zip(self.legs, self.leg_buys, strict=False)
            ),
            Decimal(0),
        )

    def finalise(self) -> None:
        """Set the final status from the legs' net quantities (unless REJECTED)."""
        if self.status is GroupStatus.REJECTED or len(self.legs) != 2:
            return
        a, b = (self.net.get(op, Decimal(0)) for op in self.legs)
        over_lot = self.lots[0] if a >= b else self.lots[1]
        if a == b == self.target_quantity:
            self.status = GroupStatus.HEDGED
        elif a == b == 0 and not self.neutralisation_fills:
            self.status = GroupStatus.NOT_EXECUTED
        elif abs(a - b) < over_lot:
            self.status = GroupStatus.NEUTRALISED
        else:
            self.status = GroupStatus.UNHEDGED

    def summary(self) -> dict[str, Any]:
        """Return a flat, JSON-friendly row (Decimals as strings)."""
        return {
            "group_id": self.group_id,
            "legs": list(self.legs),
            "status": str(self.status),
            "reason": self.reason,
            "algo_stop_reason": self.algo_stop_reason,
            "neutralise_policy": self.neutralise_policy,
            "target_quantity": format(self.target_quantity, "f"),
            "net": {k: format(v, "f") for k, v in self.net.items()},
            "imbalance": format(self.imbalance, "f"),
            "net_exposure": format(self.net_exposure, "f"),
            "neutralising_fills": len(self.neutralisation_fills),
            "rollback_cost": format(self.rollback_cost, "f"),
            "client_order_id": self.client_order_id,
        }


def is_buy_side(side: str) -> bool:
    """
    Return whether ``side`` buys in Nautilus terms (BUY, and LAY: Nautilus's betting BUY).

    A BACK bet is a Nautilus SELL (``OrderSideParser`` of the Betfair adapter), so its
    slippage is worse when the odds fall, like a sell's when the price falls.
    """
    return side in ("BUY", "LAY")


def to_storage_rows(result: ExecutionResult, run_id: str) -> list[Any]:
    """
    Return the execution-results cluster rows of one result: one FILL row per fill, plus a
    terminal REJECTED/CANCELLED row when the order did not fill completely.
    """
    from datetime import UTC
    from datetime import datetime

    from nautilus_ext.storage.schemas import ExecutionResult as ResultRow
    from nautilus_ext.storage.schemas import ResultKind

    def when(ns: int) -> datetime:
        return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(
            microsecond=(ns % 1_000_000_000) // 1000
        )

    rows: list[Any] = []
    venue = result.venue or "UNROUTED"
    for n, fill in enumerate(result.fills):
        rows.append(
            ResultRow(
                result_id=f"{result.operation_id}-{n}",
                operation_id=result.operation_id,
                kind=ResultKind.FILL,
                instrument_key=result.instrument_key,
                venue=fill.venue or venue,
                side=result.side,
                ts_event=when(fill.ts_ns),
                fill_price=fill.price,
                fill_quantity=fill.quantity,
                fee=fill.fee,
                fee_currency=fill.fee_currency,
                liquidity=fill.liquidity,
                position_deltas=dict(fill.deltas),
                client_order_id=result.client_order_id,
                run_id=run_id,
                metadata={"trade_id": fill.trade_id, "order": result.order_context()},
            )
        )
    if result.status is not ExecutionStatus.FILLED:
        kind = ResultKind.REJECTED if result.status is ExecutionStatus.REJECTED else ResultKind.CANCELLED
        last = max((f.ts_ns for f in result.fills), default=result.ts_decision_ns)
        rows.append(
            ResultRow(
                result_id=f"{result.operation_id}-end",
                operation_id=result.operation_id,
                kind=kind,
                instrument_key=result.instrument_key,
                venue=venue,
                side=result.side,
                ts_event=when(last),
                client_order_id=result.client_order_id,
                reason=result.reason or str(result.status),
                run_id=run_id,
                metadata={"summary": result.summary()},
            )
        )
    return rows


def group_storage_rows(
    group: GroupExecutionResult, legs: dict[str, ExecutionResult], run_id: str
) -> list[Any]:
    """
    Return the execution-results rows of a group's neutralising fills that traded a leg back.

    The legs' own fills (top-ups included) are stored with each leg by :func:`to_storage_rows`;
    these rows carry the opposite position deltas and ``metadata["neutralisation"] = True``, so
    stored positions stay true and TCA keeps them apart from the legs' execution.
    """
    from nautilus_ext.storage.schemas import ExecutionResult as ResultRow
    from nautilus_ext.storage.schemas import ResultKind

    rows: list[Any] = []
    for n, fill in enumerate(group.neutralisation_fills):
        if fill.along:
            continue
        leg = legs[fill.operation_id]
        rows.append(
            ResultRow(
                result_id=f"{fill.operation_id}-n{n}",
                operation_id=fill.operation_id,
                kind=ResultKind.FILL,
                instrument_key=leg.instrument_key,
                venue=leg.venue or "UNROUTED",
                side=fill.side,
                ts_event=_utc_ns(fill.ts_ns),
                fill_price=fill.price,
                fill_quantity=fill.quantity,
                fee=fill.fee,
                fee_currency=fill.fee_currency,
                position_deltas=dict(fill.deltas),
                client_order_id=group.client_order_id,
                run_id=run_id,
                metadata={
                    "trade_id": fill.trade_id,
                    "neutralisation": True,
                    "atomic_group_id": group.group_id,
                    "group": group.summary(),
                },
            )
        )
    return rows


def _utc_ns(ns: int) -> Any:
    from datetime import UTC
    from datetime import datetime

    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(
        microsecond=(ns % 1_000_000_000) // 1000
    )


def decision_price_of(order: Order) -> Decimal | None:
    """
    Return the price the strategy decided at, from ``metadata["decision_price"]`` (a decimal
    string), or None when the order does not say (the arrival mid stands in).

    Raises
    ------
    InvalidOrder
        If the value is not a positive decimal string or integer.
    """
    raw = (order.metadata or {}).get("decision_price")
    if raw is None:
        return None
    try:
        if isinstance(raw, float | bool):
            raise InvalidOperation
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise InvalidOrder(
            f"order {order.operation_id}: metadata.decision_price must be a positive decimal string, "
            f"got {raw!r}",
            order_id=order.operation_id,
        )
    return value
