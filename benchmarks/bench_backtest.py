"""
Backtest throughput: a bare NautilusTrader run (subscribe-only strategy) versus the orders-driven
backtest of this project, over the same generated catalog, measured side by side in one run.

Prints events/s for both and the overhead ratio (target: the layer costs at most 25% over the
bare run), and the same orders-driven run with the durable audit log on (Intent/Order/Fill
events, group commit with fsync). Runs alternate (bare, layer, audited, bare, ...) and the
medians are compared, because these machines are noisy.

    .venv/bin/python benchmarks/bench_backtest.py [--hours 1] [--orders 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from nautilus_ext.audit import iter_records
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.config import StrategySpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.synthetic import DEFAULT_START
from nautilus_ext.catalogs.synthetic import DEMO_VENUES
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.orders import Order

# the baseline strategies live beside this script and are named "baseline:..." in the run
# specs: the backtest imports them by that name however the script was started (python
# benchmarks/bench_backtest.py, python -m benchmarks.bench_backtest, runpy from a test)
BENCH_DIR = str(Path(__file__).resolve().parent)
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

TWAP_HORIZON = 60
TWAP_INTERVAL = 10
KEYS = ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", "BYBIT:PERPETUAL:BTC-USDT@LIN")


def _orders(n: int, hours: float) -> list[Order]:
    span = int(hours * 3600)
    return [
        Order(
            operation_id=f"bench-{i}",
            operation="trade",
            instrument_key=KEYS[i % 2],
            venue=KEYS[i % 2].split(":")[0],
            side="BUY" if i % 2 else "SELL",
            amount=Decimal("0.010") * (1 + i % 5),
            created_at=DEFAULT_START + timedelta(seconds=int(span * (i + 0.5) / n)),
        )
        for i in range(n)
    ]


def _twap_orders(orders: list[Order]) -> list[Order]:
    # the same parents as smart orders: this project's TWAP with the example's horizon/interval
    return [
        o.model_copy(
            update={
                "operation_id": o.operation_id + "-twap",
                "smart_execution_enabled": True,
                "metadata": {
                    "algorithm": "TWAP",
                    "algo_params": {"horizon_secs": str(TWAP_HORIZON), "interval_secs": str(TWAP_INTERVAL)},
                },
            }
        )
        for o in orders
    ]


def _example_twap_spec(catalog: Path, hours: float, tmp: Path, orders_file: Path) -> BacktestSpec:
    base = _spec(catalog, hours, tmp, None)
    return base.model_copy(
        update={
            "run_id": "example-twap",
            "strategy": StrategySpec(
                strategy_path="baseline:ExampleTwapParentsStrategy",
                config_path="baseline:ExampleTwapParentsConfig",
                config={
                    "orders_path": str(orders_file),
                    "horizon_secs": str(TWAP_HORIZON),
                    "interval_secs": str(TWAP_INTERVAL),
                },
            ),
        }
    )


def _spec(catalog: Path, hours: float, tmp: Path, orders_file: Path | None) -> BacktestSpec:
    common = {
        "catalog": str(catalog),
        "start": DEFAULT_START,
        "end": DEFAULT_START + timedelta(hours=hours),
        "instruments": list(KEYS),
        "venues": [
            {"venue": "BINANCE-FUTURES", "starting_balances": ["10000000 USDT"]},
            {"venue": "BYBIT", "starting_balances": ["10000000 USDT"]},
        ],
        "output_dir": str(tmp / "out"),
    }
    if orders_file is not None:
        return BacktestSpec.model_validate(
            {**common, "run_id": "layer", "kind": "orders", "orders": str(orders_file)}
        )
    return BacktestSpec.model_validate(
        {
            **common,
            "run_id": "bare",
            "kind": "strategy",
            "strategy": {
                "strategy_path": "baseline:SubscribeOnlyStrategy",
                "config_path": "baseline:SubscribeOnlyConfig",
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.hours, args.orders, args.repeats = 0.1, 10, 1
    with tempfile.TemporaryDirectory(prefix="bench-bt-") as tmp_text:
        tmp = Path(tmp_text)
        files = write_synthetic_tardis(
            tmp / "raw", venues=DEMO_VENUES, hours=args.hours, book_updates_per_sec=5.0
        )
        inputs = [p for kinds in files.values() for p in kinds.values()]
        summary = build_catalog("tardis", inputs, tmp / "catalog", progress=False)
        orders_file = tmp / "orders.jsonl"
        parents = _orders(args.orders, args.hours)
        orders_file.write_text("".join(o.to_json() + "\n" for o in parents))
        twap_file = tmp / "twap_orders.jsonl"
        twap_file.write_text("".join(o.to_json() + "\n" for o in _twap_orders(parents)))
        example_spec = _example_twap_spec(tmp / "catalog", args.hours, tmp, orders_file)
        layer_twap_spec = _spec(tmp / "catalog", args.hours, tmp, twap_file)
        from nautilus_trader.config import ImportableExecAlgorithmConfig

        example_algos = [
            ImportableExecAlgorithmConfig(
                exec_algorithm_path="nautilus_trader.examples.algorithms.twap:TWAPExecAlgorithm",
                config_path="nautilus_trader.examples.algorithms.twap:TWAPExecAlgorithmConfig",
                config={},
            )
        ]
        ex_twap, our_twap = [], []
        bare_spec = _spec(tmp / "catalog", args.hours, tmp, None)
        layer_spec = _spec(tmp / "catalog", args.hours, tmp, orders_file)
        audit, audit_n, twap_used = [], 0, 0
        bare, layer = [], []
        events = 0
        filled = 0
        for _ in range(args.repeats):
            b = run_backtest(bare_spec)
            bare.append(b.elapsed_secs)
            layer_outcome = run_backtest(layer_spec)
            layer.append(layer_outcome.elapsed_secs)
            events = layer_outcome.events_processed
            audit_root = tmp / f"audit-{len(audit)}"
            audited = run_backtest(layer_spec.model_copy(update={"audit_root": str(audit_root)}))
            audit.append(audited.elapsed_secs)
            audit_n = sum(1 for _ in iter_records(str(audit_root)))
            filled = sum(1 for r in layer_outcome.results if r.fill_ratio > 0)
            ex_twap.append(run_backtest(example_spec, exec_algorithms=example_algos).elapsed_secs)
            ours = run_backtest(layer_twap_spec)
            our_twap.append(ours.elapsed_secs)
            twap_used = sum(1 for r in ours.results if r.algorithm_used == "TWAP")
        b_med, l_med, a_med = statistics.median(bare), statistics.median(layer), statistics.median(audit)
        rows = sum(summary.rows.values())
        print(f"catalog rows: {rows}, events per run: {events}, orders: {args.orders} ({filled} filled)")
        print(f"{'run':<28}{'median s':>10}{'events/s':>14}  runs")
        for name, med, runs in (
            ("bare Nautilus (no-op)", b_med, bare),
            ("orders-driven (this layer)", l_med, layer),
            ("orders-driven + audit log", a_med, audit),
        ):
            print(f"{name:<28}{med:>10.3f}{events / med:>14,.0f}  {', '.join(f'{x:.3f}' for x in runs)}")
        print(f"overhead ratio layer/bare: {l_med / b_med:.3f}  (target <= 1.25)")
        print(f"audit: {audit_n} events written; ratio audited/layer: {a_med / l_med:.3f}")
        e_med, t_med = statistics.median(ex_twap), statistics.median(our_twap)
        print(
            f"TWAP parents ({TWAP_HORIZON}s horizon, {TWAP_INTERVAL}s step), {twap_used} worked by our TWAP:"
        )
        for name, med, runs in (
            ("NautilusTrader example TWAP", e_med, ex_twap),
            ("this layer + its TWAP", t_med, our_twap),
        ):
            print(f"{name:<28}{med:>10.3f}{events / med:>14,.0f}  {', '.join(f'{x:.3f}' for x in runs)}")
        print(f"ratio layer TWAP / example TWAP: {t_med / e_med:.3f}  (target <= 1.0)")


if __name__ == "__main__":
    main()
