"""Per-order latency records of the execution client: request -> ack -> first fill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

_MAX_ORDERS: Final = 100_000


@dataclass
class OrderLatency:
    """Nanosecond timestamps (Nautilus clock) of one order's milestones."""

    request_ns: int
    ack_ns: int | None = None
    first_fill_ns: int | None = None


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` by nearest rank (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


class LatencyRecorder:
    """Record request/ack/fill times per client order id and summarise them in milliseconds."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderLatency] = {}

    def request(self, client_order_id: str, ts_ns: int) -> None:
        """Note the moment an order request is sent."""
        if len(self.orders) >= _MAX_ORDERS:
            self.orders.pop(next(iter(self.orders)))
        self.orders[client_order_id] = OrderLatency(ts_ns)

    def ack(self, client_order_id: str, ts_ns: int) -> None:
        """Note the venue's acknowledgement (first one wins)."""
        record = self.orders.get(client_order_id)
        if record is not None and record.ack_ns is None:
            record.ack_ns = ts_ns

    def fill(self, client_order_id: str, ts_ns: int) -> None:
        """Note a fill (the first one wins)."""
        record = self.orders.get(client_order_id)
        if record is not None and record.first_fill_ns is None:
            record.first_fill_ns = ts_ns

    def summary(self) -> dict[str, float]:
        """Return count and p50/p99 (ms) of request->ack and request->first fill."""
        acks = [(r.ack_ns - r.request_ns) / 1e6 for r in self.orders.values() if r.ack_ns]
        fills = [(r.first_fill_ns - r.request_ns) / 1e6 for r in self.orders.values() if r.first_fill_ns]
        return {
            "orders": float(len(self.orders)),
            "ack_p50_ms": percentile(acks, 0.5),
            "ack_p99_ms": percentile(acks, 0.99),
            "fill_p50_ms": percentile(fills, 0.5),
            "fill_p99_ms": percentile(fills, 0.99),
        }
