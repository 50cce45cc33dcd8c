"""
Post-trade transaction-cost analysis (TCA): realised versus estimated cost, implementation
shortfall, per order and aggregated by venue, asset and time bucket.

Pure Decimal arithmetic over :class:`TcaInput` records, built either from a run's in-memory
results (:func:`inputs_from_results`) or from the stored execution-result rows alone
(:func:`inputs_from_rows`); both give the same numbers for the same run.

Formulas
--------
For one order with side sign ``s`` (+1 buys: BUY, LAY; -1 sells: SELL, BACK), requested
quantity ``Q``, filled quantity ``q``, average fill price ``P``, arrival mid ``A`` (venue mid
when the order was routed), decision price ``D`` (the strategy's price, else ``A``), end mid
``E`` (venue mid when the order reached its final state) and fees ``F`` (in the quote
currency), in basis points (positive = cost):

- ``slippage_bps = s * (P - A) / A * 1e4``: the filled part against the arrival mid, fees apart.
- ``fee_bps = F / (q * P) * 1e4``: only when every fill's fee is in the quote currency.
- ``realised_cost_bps = slippage_bps + fee_bps``: comparable with ``estimated_cost_bps``, the
  pre-trade estimate of book impact plus taker fee (:mod:`nautilus_ext.routing.cost`);
  ``cost_error_bps = realised_cost_bps - estimated_cost_bps``.
- Implementation shortfall (Perold) against the paper trade of ``Q`` at ``D``::

      execution_bps   = s * q * (P - D) / (Q * D) * 1e4
      opportunity_bps = s * (Q - q) * (E - D) / (Q * D) * 1e4    (0 when q == Q)
      fee_is_bps      = F / (Q * D) * 1e4                         (when F is in quote currency)
      shortfall_bps   = execution_bps + opportunity_bps + fee_is_bps

  A zero-fill order is pure opportunity cost. Without ``E`` an incompletely filled order has
  no shortfall (None), never a guessed one; ``fees_in_shortfall`` says whether ``F`` entered.

Legs of an atomic group are analysed like any order, on their own fills (top-ups included);
what the group's neutralisation paid to trade a leg back is the group's rollback cost
(:class:`~nautilus_ext.execution.results.GroupExecutionResult`), not part of the leg's TCA.

Aggregates weight each order's bps figure: by filled quantity ``q`` for slippage, fee and
realised/estimated cost, by requested quantity ``Q`` for shortfall (``Weighting.QUANTITY``);
``Weighting.NOTIONAL`` multiplies those weights by ``A`` (resp. ``D``), the fair choice when a
venue or bucket mixes assets. Estimated and realised cost are averaged over the same orders
(those with both), so the two figures compare like for like.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import is_buy_side

if TYPE_CHECKING:
    from nautilus_ext.storage.schemas import ExecutionResult as ResultRow

BPS: Final = Decimal(10_000)
NS_PER_SEC: Final = 1_000_000_000
UNROUTED: Final = "UNROUTED"
_SIDES: Final = frozenset({"BUY", "SELL", "BACK", "LAY"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@unique
class Weighting(StrEnum):
    """How aggregates weight each order's bps figures."""

    QUANTITY = "QUANTITY"  # filled quantity (requested quantity for shortfall)
    NOTIONAL = "NOTIONAL"  # the same quantities times the reference price (mixes assets fairly)


@dataclass(frozen=True, slots=True)
class TcaFill:
    """One fill as TCA needs it."""

    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str | None


@dataclass(frozen=True, slots=True)
class TcaInput:
    """
    One order's facts for TCA (see the module docstring for the symbols).

    ``venue`` is ``"UNROUTED"`` for orders refused before a venue was chosen.
    """

    operation_id: str
    instrument_key: str
    venue: str
    side: str
    requested_quantity: Decimal
    ts_decision_ns: int
    fills: tuple[TcaFill, ...] = ()
    arrival_mid: Decimal | None = None
    decision_price: Decimal | None = None
    estimated_cost_bps: Decimal | None = None
    end_mid: Decimal | None = None
    quote_currency: str | None = None
    status: str = ""

    def __post_init__(self) -> None:
        op = self.operation_id
        if self.side not in _SIDES:
            raise InvalidOrder(f"TCA input {op}: side must be one of {sorted(_SIDES)}, got {self.side!r}")
        if self.requested_quantity <= 0:
            raise InvalidOrder(
                f"TCA input {op}: requested_quantity must be positive, got {self.requested_quantity}",
                order_id=op,
            )
        for name in ("arrival_mid", "decision_price", "end_mid"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidOrder(f"TCA input {op}: {name} must be positive, got {value}", order_id=op)
        for f in self.fills:
            if f.quantity <= 0 or f.price <= 0:
                raise InvalidOrder(
                    f"TCA input {op}: fill {f.quantity} @ {f.price} must have positive price and quantity",
                    order_id=op,
                )


@dataclass(frozen=True, slots=True)
class OrderTca:
    """The TCA figures of one order (bps positive = cost; None = not computable)."""

    operation_id: str
    venue: str
    instrument_key: str
    side: str
    status: str
    bucket_start_ns: int
    requested_quantity: Decimal
    filled_quantity: Decimal
    fill_ratio: Decimal
    avg_fill_price: Decimal | None
    arrival_mid: Decimal | None
    decision_price: Decimal | None
    end_mid: Decimal | None
    estimated_cost_bps: Decimal | None
    slippage_bps: Decimal | None
    fee_bps: Decimal | None
    realised_cost_bps: Decimal | None
    cost_error_bps: Decimal | None
    execution_bps: Decimal | None
    opportunity_bps: Decimal | None
    shortfall_bps: Decimal | None
    fees_in_shortfall: bool

    def as_row(self) -> dict[str, Any]:
        """Return a JSON-friendly row (Decimals as exact strings)."""
        row: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            row[name] = _text(value) if isinstance(value, Decimal) or value is None else value
        row["bucket"] = bucket_label(self.bucket_start_ns)
        return row


@dataclass(frozen=True, slots=True)
class TcaAggregate:
    """Weighted TCA figures of a set of orders (one venue, asset, time bucket, or all)."""

    dimension: str
    key: str
    orders: int
    filled_orders: int
    requested_quantity: Decimal
    filled_quantity: Decimal
    fill_ratio: Decimal
    estimated_cost_bps: Decimal | None
    realised_cost_bps: Decimal | None
    slippage_bps: Decimal | None
    fee_bps: Decimal | None
    shortfall_bps: Decimal | None

    def as_row(self) -> dict[str, Any]:
        """Return a JSON-friendly row (Decimals as exact strings)."""
        return {
            name: (_text(v) if isinstance(v, Decimal) or v is None else v)
            for name in self.__slots__
            for v in (getattr(self, name),)
        }


@dataclass(frozen=True, slots=True)
class TcaReport:
    """Per-order TCA and its aggregates."""

    bucket_secs: int
    weighting: Weighting
    orders: tuple[OrderTca, ...]
    total: TcaAggregate
    by_venue: tuple[TcaAggregate, ...]
    by_asset: tuple[TcaAggregate, ...]
    by_bucket: tuple[TcaAggregate, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the whole analysis as JSON-friendly data (exact Decimal strings)."""
        return {
            "bucket_secs": self.bucket_secs,
            "weighting": str(self.weighting),
            "orders": [o.as_row() for o in self.orders],
            "total": self.total.as_row(),
            "by_venue": [a.as_row() for a in self.by_venue],
            "by_asset": [a.as_row() for a in self.by_asset],
            "by_bucket": [a.as_row() for a in self.by_bucket],
        }


# -- inputs -----------------------------------------------------------------------------------------


def inputs_from_results(results: Iterable[ExecutionResult]) -> list[TcaInput]:
    """Return the TCA inputs of a run's in-memory results."""
    return [
        TcaInput(
            operation_id=r.operation_id,
            instrument_key=r.instrument_key,
            venue=r.venue or UNROUTED,
            side=r.side,
            requested_quantity=r.requested_quantity,
            ts_decision_ns=r.ts_decision_ns,
            fills=tuple(TcaFill(f.price, f.quantity, f.fee, f.fee_currency) for f in r.fills),
            arrival_mid=r.arrival_mid,
            decision_price=r.decision_price,
            estimated_cost_bps=r.estimated_cost_bps,
            end_mid=r.end_mid,
            quote_currency=r.quote_currency,
            status=str(r.status),
        )
        for r in results
    ]


def inputs_from_rows(rows: Iterable[ResultRow]) -> list[TcaInput]:
    """
    Return the TCA inputs rebuilt from stored execution-result rows (one run or several).

    FILL rows carry the order context in ``metadata["order"]``; terminal rows in
    ``metadata["summary"]``; rows of an atomic group's neutralising trades are left out.
    Files written before those were stored still read: an order with
    no terminal row filled completely (its requested quantity is the sum of its fills), and the
    prices it lacks leave the figures that need them None.
    """
    by_order: dict[tuple[str | None, str], list[ResultRow]] = defaultdict(list)
    for row in rows:
        if (row.metadata or {}).get("neutralisation"):
            continue  # an atomic group trading a leg back: the group's cost, not the leg's execution
        by_order[(row.run_id, row.operation_id)].append(row)
    out = []
    for (_, op), items in by_order.items():
        fills = sorted((r for r in items if str(r.kind) == "FILL"), key=_fill_index)
        ends = [r for r in items if str(r.kind) != "FILL"]
        context: dict[str, Any] = {}
        for r in fills:
            context = dict((r.metadata or {}).get("order") or {})
        for r in ends:
            context = {**dict((r.metadata or {}).get("summary") or {}), **context}
        tca_fills = tuple(
            TcaFill(
                price=_required(r.fill_price, op, "fill_price"),
                quantity=_required(r.fill_quantity, op, "fill_quantity"),
                fee=r.fee or Decimal(0),
                fee_currency=r.fee_currency,
            )
            for r in fills
        )
        filled = sum((f.quantity for f in tca_fills), Decimal(0))
        requested = _dec(context.get("requested_quantity")) or filled
        first = items[0]
        ts = context.get("ts_decision_ns")
        if ts is None:
            ts = min(_ns(r.ts_event) for r in items)
        status = context.get("status") or (str(ends[0].kind) if ends else "FILLED")
        out.append(
            TcaInput(
                operation_id=op,
                instrument_key=first.instrument_key,
                venue=first.venue,
                side=first.side,
                requested_quantity=requested,
                ts_decision_ns=int(ts),
                fills=tca_fills,
                arrival_mid=_dec(context.get("arrival_mid")),
                decision_price=_dec(context.get("decision_price")),
                estimated_cost_bps=_dec(context.get("estimated_cost_bps")),
                end_mid=_dec(context.get("end_mid")),
                quote_currency=context.get("quote_currency"),
                status=str(status),
            )
        )
    return sorted(out, key=lambda i: (i.ts_decision_ns, i.operation_id))


# -- per order --------------------------------------------------------------------------------------


def order_tca(inp: TcaInput, bucket_secs: int = 3600) -> OrderTca:
    """Return the TCA figures of one order (formulas in the module docstring)."""
    bucket_ns = _bucket_ns(bucket_secs)
    sign = Decimal(1) if is_buy_side(inp.side) else Decimal(-1)
    q = sum((f.quantity for f in inp.fills), Decimal(0))
    big_q = inp.requested_quantity
    notional = sum((f.price * f.quantity for f in inp.fills), Decimal(0))
    avg = notional / q if q else None
    fees = sum((f.fee for f in inp.fills), Decimal(0))
    fees_in_quote = inp.quote_currency is not None and all(
        f.fee_currency == inp.quote_currency for f in inp.fills
    )
    arrival = inp.arrival_mid
    decision = inp.decision_price if inp.decision_price is not None else arrival

    slippage = None if avg is None or arrival is None else sign * (avg - arrival) / arrival * BPS
    fee_bps = fees / notional * BPS if notional and fees_in_quote else None
    realised = None if slippage is None or fee_bps is None else slippage + fee_bps
    error = None if realised is None or inp.estimated_cost_bps is None else realised - inp.estimated_cost_bps

    execution = opportunity = shortfall = None
    if decision is not None:
        paper = big_q * decision
        execution = sign * (notional - q * decision) / paper * BPS
        unfilled = big_q - q
        if unfilled <= 0:
            opportunity = Decimal(0)
        elif inp.end_mid is not None:
            opportunity = sign * unfilled * (inp.end_mid - decision) / paper * BPS
        if opportunity is not None:
            shortfall = execution + opportunity + (fees / paper * BPS if fees_in_quote else Decimal(0))
    return OrderTca(
        operation_id=inp.operation_id,
        venue=inp.venue,
        instrument_key=inp.instrument_key,
        side=inp.side,
        status=inp.status,
        bucket_start_ns=inp.ts_decision_ns - inp.ts_decision_ns % bucket_ns,
        requested_quantity=big_q,
        filled_quantity=q,
        fill_ratio=q / big_q,
        avg_fill_price=avg,
        arrival_mid=arrival,
        decision_price=decision,
        end_mid=inp.end_mid,
        estimated_cost_bps=inp.estimated_cost_bps,
        slippage_bps=slippage,
        fee_bps=fee_bps,
        realised_cost_bps=realised,
        cost_error_bps=error,
        execution_bps=execution,
        opportunity_bps=opportunity,
        shortfall_bps=shortfall,
        fees_in_shortfall=fees_in_quote and shortfall is not None,
    )


# -- aggregates -------------------------------------------------------------------------------------


def aggregate(
    rows: Sequence[OrderTca], dimension: str, key: str, weighting: Weighting = Weighting.QUANTITY
) -> TcaAggregate:
    """Return the weighted figures of ``rows`` (weights in the module docstring)."""
    notional = weighting is Weighting.NOTIONAL

    def fill_weight(r: OrderTca) -> Decimal:
        ref = r.arrival_mid if notional else Decimal(1)
        return r.filled_quantity * (ref or Decimal(0))

    def paper_weight(r: OrderTca) -> Decimal:
        ref = r.decision_price if notional else Decimal(1)
        return r.requested_quantity * (ref or Decimal(0))

    both = [r for r in rows if r.realised_cost_bps is not None and r.estimated_cost_bps is not None]
    requested = sum((r.requested_quantity for r in rows), Decimal(0))
    filled = sum((r.filled_quantity for r in rows), Decimal(0))
    return TcaAggregate(
        dimension=dimension,
        key=key,
        orders=len(rows),
        filled_orders=sum(1 for r in rows if r.filled_quantity > 0),
        requested_quantity=requested,
        filled_quantity=filled,
        fill_ratio=filled / requested if requested else Decimal(0),
        estimated_cost_bps=_weighted(both, lambda r: r.estimated_cost_bps, fill_weight),
        realised_cost_bps=_weighted(both, lambda r: r.realised_cost_bps, fill_weight),
        slippage_bps=_weighted(rows, lambda r: r.slippage_bps, fill_weight),
        fee_bps=_weighted(rows, lambda r: r.fee_bps, fill_weight),
        shortfall_bps=_weighted(rows, lambda r: r.shortfall_bps, paper_weight),
    )


def analyse(
    inputs: Iterable[TcaInput], *, bucket_secs: int = 3600, weighting: Weighting = Weighting.QUANTITY
) -> TcaReport:
    """
    Return per-order TCA and its aggregates by venue, by asset (canonical key) and by time
    bucket of ``bucket_secs`` seconds (UTC, by decision time).

    Raises
    ------
    InvalidConfig
        If ``bucket_secs`` is not positive.
    InvalidOrder
        If an input is inconsistent (non-positive quantities or prices, unknown side).
    """
    _bucket_ns(bucket_secs)
    rows = tuple(
        sorted(
            (order_tca(i, bucket_secs) for i in inputs),
            key=lambda r: (r.bucket_start_ns, r.operation_id),
        )
    )

    def grouped(
        dimension: str, key_of: Callable[[OrderTca], Any], label: Callable[[Any], str]
    ) -> tuple[TcaAggregate, ...]:
        groups: dict[Any, list[OrderTca]] = defaultdict(list)
        for r in rows:
            groups[key_of(r)].append(r)
        return tuple(aggregate(g, dimension, label(k), weighting) for k, g in sorted(groups.items()))

    return TcaReport(
        bucket_secs=bucket_secs,
        weighting=weighting,
        orders=rows,
        total=aggregate(rows, "all", "all", weighting),
        by_venue=grouped("venue", lambda r: r.venue, str),
        by_asset=grouped("asset", lambda r: r.instrument_key, str),
        by_bucket=grouped("bucket", lambda r: r.bucket_start_ns, bucket_label),
    )


def bucket_label(start_ns: int) -> str:
    """Return a bucket's UTC start as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(start_ns // NS_PER_SEC, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- helpers ----------------------------------------------------------------------------------------


def _weighted(
    rows: Sequence[OrderTca],
    value: Callable[[OrderTca], Decimal | None],
    weight: Callable[[OrderTca], Decimal],
) -> Decimal | None:
    total = Decimal(0)
    weights = Decimal(0)
    for r in rows:
        v = value(r)
        w = weight(r)
        if v is None or w <= 0:
            continue
        total += v * w
        weights += w
    return total / weights if weights else None


def _bucket_ns(bucket_secs: int) -> int:
    if isinstance(bucket_secs, bool) or not isinstance(bucket_secs, int) or bucket_secs <= 0:
        raise InvalidConfig(f"bucket_secs must be a positive whole number of seconds, got {bucket_secs!r}")
    return bucket_secs * NS_PER_SEC


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _required(value: Decimal | None, op: str, name: str) -> Decimal:
    if value is None:
        raise InvalidOrder(f"stored FILL row of {op} has no {name}", order_id=op)
    return value


def _fill_index(row: ResultRow) -> tuple[int, str]:
    # result ids are "<operation_id>-<n>": keep the fills in the order they happened
    tail = row.result_id.rsplit("-", 1)[-1]
    return (int(tail), row.result_id) if tail.isdigit() else (1 << 62, row.result_id)


def _ns(ts: datetime) -> int:
    # exact: stored timestamps have microseconds; float timestamp() could round a second away
    return (ts - _EPOCH) // timedelta(microseconds=1) * 1000


__all__ = [
    "OrderTca",
    "TcaAggregate",
    "TcaFill",
    "TcaInput",
    "TcaReport",
    "Weighting",
    "aggregate",
    "analyse",
    "bucket_label",
    "inputs_from_results",
    "inputs_from_rows",
    "order_tca",
]
