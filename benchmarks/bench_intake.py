"""
Order intake latency: a unified Order submitted over gRPC (``nautilus_ext.client``) -> the fake
exchange receiving it, p50/p99, side by side with the same Order submitted in-process through
``submit_unified`` on the node's event loop.

One LIVE node (``build_live_node`` with an ``intake:`` section, safety layer armed with an
auto-confirm policy) on the fake Bybit, which runs in its own process and stamps each order-entry
request on arrival with ``perf_counter_ns`` (CLOCK_MONOTONIC, comparable across processes on
Linux). The gRPC client also runs in its own process (as an external strategy service would) and
stamps right before ``submit``; the in-process path stamps inside the event loop right before
``submit_unified``. Both paths then run the same code: validation, routing, the gate, the audit
and the ccxt adapter. Orders are non-marketable limit BUYs (they rest: no fill, no position to
reconcile between orders), one at a time, paced at 20/s. The safety config is the shipped default
with the bench-only relaxations of ``bench_adapter_latency.py`` (rate and position bounds).

Usage: ``python benchmarks/bench_intake.py [--orders N] [--warmup W] [--smoke]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import yaml

from nautilus_ext.adapters.ccxt.latency import percentile
from nautilus_ext.intake.strategy import IntakeStrategy
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.node_harness import start_live_node

IID = "BTCUSDT-LINEAR.BYBIT"
KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
SAFETY_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "safety" / "default.yaml"
CONTROL_TOKEN = "bench-" + "t" * 40
INTAKE_TOKEN = "bench-" + "i" * 40
PACE_SECS = 0.05

CLIENT = """
import json, sys, time
from nautilus_ext.client import IntakeClient
target, token, orders, pace = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read()), float(sys.argv[3])
with IntakeClient(target, token) as client:
    for text in orders:
        t0 = time.perf_counter_ns()
        (ack,) = client.submit([text])
        assert ack.accepted, ack
        print(ack.operation_id, t0, flush=True)
        time.sleep(pace)
"""


def _order(op: str) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=KEY,
        venue="BYBIT",
        side="BUY",
        amount=Decimal("0.001"),
        price=Decimal("45000"),
        strategy_id="S-BENCH",
    )


def _safety_file(directory: Path) -> Path:
    data = yaml.safe_load(SAFETY_CONFIG.read_text(encoding="utf-8"))
    data["arming"]["auto_confirm"] = [{"name": "bench", "strategies": ["S-BENCH"], "max_amount": "0.01"}]
    data["risk"]["max_position"] = "1000000"
    data["oms"].update(order_rate_limit=1000, market_data_max_age_ms=3_600_000, ws_max_age_ms=3_600_000)
    path = directory / "bench_safety.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _received(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_fake/received", timeout=10) as response:
        rows = json.loads(response.read())
    return {row["client_id"]: int(row["received_ns"]) for row in rows}


def run(base_url: str, orders: int, warmup: int, tmp: Path) -> tuple[list[float], list[float]]:
    """Return (gRPC, in-process) submit -> venue receipt latencies in ms."""
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,  # the "venue" is the local fake exchange
            "trader_id": "BENCH-001",
            "log_level": "ERROR",
            "venues": [
                {
                    "venue": "BYBIT",
                    "adapter": "ccxt",
                    "exchange_id": "bybit",
                    "market_types": ["linear"],
                    "instrument_ids": [IID],
                    "rest_url_override": base_url,
                    "ws_url_override": base_url.replace("http", "ws"),
                    "enable_rate_limit": False,
                    "timeout_ms": 5000,
                }
            ],
            "safety": {"config_path": str(_safety_file(tmp)), "control_port": 0},
            "intake": {
                "port": 0,
                "clients": [
                    {"name": "bench", "token_env": "BENCH_INTAKE_TOKEN", "strategy_ids": ["S-BENCH"]}
                ],
                "orders_per_sec": 1000,
                "burst_orders": 1000,
            },
        }
    )
    h, live = start_live_node(config)
    try:
        node = h.node
        assert node is not None
        intake = h.strategy(IntakeStrategy)
        assert isinstance(intake, IntakeStrategy)
        safety = live.safety
        assert safety is not None
        assert safety.control is not None
        eventually(
            lambda: node.is_running() and intake.intake_port is not None, 30, message="node did not start"
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 20, message="feeds never healthy")
        _, armed = send(
            safety.control.url,
            CONTROL_TOKEN,
            {"command": "arm", "ttl_secs": 3600, "actor": "bench", "auto_confirm": ["bench"]},
        )
        assert armed["ok"], armed

        # in-process: stamped on the event loop, right before submit_unified
        local: dict[str, int] = {}
        for i in range(warmup + orders):
            op = f"local-{i}"

            def submit(op: str = op) -> int:
                t0 = time.perf_counter_ns()
                result = intake.submit_unified(_order(op))
                assert not result.reason or not result.reason.startswith(("RISK", "INVALID")), result.reason
                return t0

            t0 = h.call(submit)
            if i >= warmup:
                local[op] = t0
            time.sleep(PACE_SECS)

        # over gRPC from another process
        texts = [_order(f"grpc-{i}").to_json() for i in range(warmup + orders)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, f"127.0.0.1:{intake.intake_port}", INTAKE_TOKEN, str(PACE_SECS)],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"gRPC client failed: {out.stderr[-2000:]}")
        remote: dict[str, int] = {}
        for line in out.stdout.splitlines():
            op, t0 = line.split()
            if int(op.split("-")[1]) >= warmup:
                remote[op] = int(t0)

        def client_id(op: str) -> str | None:
            result = intake.results.get(op)
            return None if result is None else result.client_order_id

        every = [*local, *remote]
        eventually(
            lambda: all((c := client_id(op)) is not None and c in _received(base_url) for op in every),
            30,
            message="not every order reached the venue",
        )
        received = _received(base_url)

        def ms(starts: dict[str, int]) -> list[float]:
            return [(received[str(client_id(op))] - t0) / 1e6 for op, t0 in starts.items()]

        return ms(remote), ms(local)
    finally:
        h.stop()


def main() -> None:
    """Run both paths against one node and print p50/p99 side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="a few orders: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.orders, args.warmup = 8, 2
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    os.environ.setdefault("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    os.environ.setdefault("NAUTILUS_EXT_CONTROL_TOKEN", CONTROL_TOKEN)
    os.environ.setdefault("BENCH_INTAKE_TOKEN", INTAKE_TOKEN)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp, _fake_exchange() as base_url:
        grpc_ms, local_ms = run(base_url, args.orders, args.warmup, Path(tmp))
    print(
        f"unified Order -> fake exchange receipt, {args.orders} orders each (after {args.warmup} warm-up), ms"
    )
    print(f"{'path':<36}{'p50':>9}{'p99':>9}")
    l50, l99 = percentile(local_ms, 0.5), percentile(local_ms, 0.99)
    g50, g99 = percentile(grpc_ms, 0.5), percentile(grpc_ms, 0.99)
    print(f"{'in-process submit_unified':<36}{l50:>9.3f}{l99:>9.3f}")
    print(f"{'gRPC intake (client process)':<36}{g50:>9.3f}{g99:>9.3f}")
    print(f"{'intake overhead':<36}{g50 - l50:>9.3f}{g99 - l99:>9.3f}")
    print(f"{'ratio gRPC/in-process':<36}{g50 / l50:>9.2f}{g99 / l99:>9.2f}")


@contextlib.contextmanager
def _fake_exchange() -> Iterator[str]:
    """Run a seeded fake exchange in its own process; yield its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "nautilus_ext_testkit.fake_exchange", "--port", "0", "--seed"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().split()[1]
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
