"""
Audit store throughput: durability on (fsync per group commit) vs off, side by side.

Each mode writes the same pre-built events (Intent, Order, Fill in turn) to a fresh local root
and waits until all are acknowledged. ``events/s`` is end to end (append until the last record
is acknowledged); ``append p50/p99`` is what the trading path pays per call. ``sync ack`` waits
for each record to be durable before the next (one fsync per event: the worst case, what an
action costs if it waits for its audit record). Median of ``--repeat`` runs per mode.

Usage: ``python benchmarks/bench_audit.py [--events N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from typing import Any

from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import BackpressurePolicy
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import OrderEvent
from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit.redaction import Redactor
from nautilus_ext.mode import Mode

DAY0 = 1_704_153_600_000_000_000


def build_events(n: int) -> list[Any]:
    """Return ``n`` events cycling Intent, Order, Fill."""
    out: list[Any] = []
    for i in range(n):
        common: dict[str, Any] = {
            "mode": Mode.BACKTEST,
            "ts_event": DAY0 + i * 1_000_000,
            "ts_wall": DAY0 + i,
            "strategy_id": "S-1",
            "version_hash": "ab" * 32,
            "config_hash": "cd" * 32,
        }
        order = {
            "asset": "BTC-USDT",
            "side": Side.BUY,
            "qty": Decimal("0.015"),
            "order_type": OrderType.LIMIT,
            "limit_price": Decimal("42000.5"),
            "tif": TimeInForce.GTC,
        }
        kind = i % 3
        if kind == 0:
            out.append(IntentEvent(id=f"I-{i}", reference_price=Decimal("42000"), **order, **common))
        elif kind == 1:
            out.append(
                OrderEvent(
                    id=f"O-{i}",
                    venue="BINANCE",
                    status=OrderStatus.ACCEPTED,
                    intent_id=f"I-{i - 1}",
                    **order,
                    **common,
                )
            )
        else:
            out.append(
                FillEvent(
                    id=f"F-{i}",
                    venue="BINANCE",
                    asset="BTC-USDT",
                    side=Side.BUY,
                    qty=Decimal("0.015"),
                    price=Decimal("42000.5"),
                    fees=Decimal("0.25"),
                    order_id=f"O-{i - 1}",
                    intent_id=f"I-{i - 2}",
                    **common,
                )
            )
    return out


def run(events: list[Any], *, fsync: bool, sync_ack: bool) -> tuple[float, list[float]]:
    """Write ``events`` to a fresh root; return (seconds, per-append latencies in µs)."""
    with tempfile.TemporaryDirectory() as root:
        config = AuditStoreConfig(
            root=root, fsync=fsync, backpressure=BackpressurePolicy.BLOCK, block_timeout_ms=60_000
        )
        store = AuditStore(config, redactor=Redactor(env={}))
        latencies = []
        start = time.perf_counter()
        for event in events:
            t0 = time.perf_counter()
            if sync_ack:
                store.append_and_wait(event, timeout_secs=30)
            else:
                store.append(event)
            latencies.append((time.perf_counter() - t0) * 1e6)
        store.flush(120)
        elapsed = time.perf_counter() - start
        store.close()
    return elapsed, latencies


def main() -> None:
    """Run every mode and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sync-events", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.sync_events, args.repeat = 500, 50, 1
    events = build_events(args.events)
    modes = [
        ("durability off (no fsync)", False, False, events),
        ("durability on (group fsync)", True, False, events),
        ("durability on, sync ack", True, True, events[: args.sync_events]),
    ]
    rows = []
    for name, fsync, sync_ack, batch in modes:
        results = [run(batch, fsync=fsync, sync_ack=sync_ack) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in results)
        lat = sorted(x for r in results for x in r[1])
        rows.append(
            (
                name,
                len(batch),
                seconds,
                len(batch) / seconds,
                lat[len(lat) // 2],
                lat[int(len(lat) * 0.99)],
            )
        )
    base = rows[0][3]
    print(f"Audit store throughput (median of {args.repeat} runs, local disk)")
    print(
        f"{'mode':30} {'events':>7} {'seconds':>8} {'events/s':>10} {'vs off':>7} "
        f"{'append p50 us':>14} {'append p99 us':>14}"
    )
    for name, n, seconds, rate, p50, p99 in rows:
        print(f"{name:30} {n:>7} {seconds:>8.3f} {rate:>10.0f} {rate / base:>7.2f} {p50:>14.1f} {p99:>14.1f}")


if __name__ == "__main__":
    main()
