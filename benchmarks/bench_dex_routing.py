"""
DEX split routing: our equal-marginal split versus Uniswap's 5%-grid split and the best single pool.

Pool sets come from :func:`nautilus_ext.dex.pool_sets.stable_pool_set` (seeded, synthetic:
Uniswap V2, Uniswap V3 with concentrated positions, Curve stableswap and Balancer weighted pools
of one stable pair, depths over two orders of magnitude), with 2, 5 and 10 pools, each at sizes
from 0.1% to 50% of the deepest pool's input-side depth, with gas priced in (20 gwei at 3,000
USD per ETH) and without. For each case:

- **output**: net output (after gas) of :func:`~nautilus_ext.dex.split.optimise_split` versus
  :func:`~nautilus_ext.dex.split.grid_split` (5% steps, at most 7 routes: the Uniswap
  auto-router's method) and versus the best single pool, in bps; the minimum and the median over
  all cases are printed (target: never worse than the grid; a shortfall of at most one output
  base unit per leg is integer rounding on a flat optimum and is counted apart, not as worse);
- **latency**: optimiser wall time per call, p50/p99 by pool count (target: p99 <= 10 ms for
  10 pools), next to the grid method's on the same pools.

Then the pure-math quote versus QuoterV2 over ``eth_call`` on Anvil (``bench_dex_quote.py``).
``--smoke`` runs a few pool sets and sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool_sets import stable_pool_set
from nautilus_ext.dex.split import Split
from nautilus_ext.dex.split import grid_split
from nautilus_ext.dex.split import optimise_split

FRACTIONS = ("0.001", "0.01", "0.05", "0.1", "0.25", "0.5")
GAS_PRICE_OUT = Decimal("0.06")  # micro-USD per gas unit: 20 gwei x 3,000 USD/ETH


def _bps(ours: int, theirs: int) -> float:
    return (ours - theirs) / abs(theirs) * 1e4 if theirs else 0.0


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _best_single(paths: tuple, amount: int) -> int | None:  # type: ignore[type-arg]
    best = None
    for path in paths:
        try:
            net = path.quote(amount) - path.fixed_cost
        except SwapRefused:
            continue
        best = net if best is None else max(best, net)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; 1 if the optimiser lost to the grid anywhere."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few pool sets and sizes")
    parser.add_argument("--sets", type=int, default=0, help="pool sets per pool count (default 70)")
    parser.add_argument("--no-chain", action="store_true", help="skip the Anvil quote comparison")
    args = parser.parse_args(argv)
    per_count = args.sets or (3 if args.smoke else 70)
    fractions = FRACTIONS[::2] if args.smoke else FRACTIONS
    vs_grid: list[float] = []
    vs_single: list[float] = []
    rows = []
    cases = 0
    worse = rounding = 0  # cases below the grid by more than, and by at most, one base unit per leg
    for n in (2, 5, 10):
        ours_t: list[float] = []
        grid_t: list[float] = []
        for seed in range(per_count):
            for gas in (Decimal(0), GAS_PRICE_OUT):
                pools = stable_pool_set(1000 * n + seed, n, gas_price_out=gas)
                for fraction in fractions:
                    amount = int(pools.deepest_input_depth * Decimal(fraction))
                    started = time.perf_counter()
                    try:
                        grid: Split = grid_split(pools.paths, amount)
                    except SwapRefused:
                        continue
                    grid_t.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    ours = optimise_split(pools.paths, amount)
                    ours_t.append(time.perf_counter() - started)
                    vs_grid.append(_bps(ours.net_out, grid.net_out))
                    gap = grid.net_out - ours.net_out
                    if gap > len(pools.paths):
                        worse += 1
                    elif gap > 0:
                        rounding += 1
                    single = _best_single(pools.paths, amount)
                    if single is not None:
                        vs_single.append(_bps(ours.net_out, single))
                    cases += 1
        rows.append((n, ours_t, grid_t))
    sets = 3 * per_count * 2
    print(f"DEX split routing: {sets} pool sets (2/5/10 pools, with and without gas), {cases} cases")
    print(f"{'versus':<22}{'min bps':>12}{'median bps':>12}{'max bps':>12}")
    for label, values in (("5%-grid (Uniswap)", vs_grid), ("best single pool", vs_single)):
        print(f"{label:<22}{min(values):>12.4f}{statistics.median(values):>12.4f}{max(values):>12.2f}")
    print(f"\n{'pools':<8}{'ours p50 ms':>13}{'ours p99 ms':>13}{'grid p50 ms':>13}{'grid p99 ms':>13}")
    for n, ours_t, grid_t in rows:
        print(
            f"{n:<8}{_pct(ours_t, 0.5) * 1e3:>13.2f}{_pct(ours_t, 0.99) * 1e3:>13.2f}"
            f"{_pct(grid_t, 0.5) * 1e3:>13.2f}{_pct(grid_t, 0.99) * 1e3:>13.2f}"
        )
    ten = rows[-1][1]
    print(
        f"target: never worse than the grid (min {min(vs_grid):.4f} bps); p99 <= 10 ms for 10 pools "
        f"({_pct(ten, 0.99) * 1e3:.2f} ms)"
    )
    print(f"cases below the grid: {worse} beyond rounding, {rounding} by integer rounding (<= 1 unit a leg)")
    status = 0 if worse == 0 else 1
    if not args.no_chain:
        spec = importlib.util.spec_from_file_location(
            "bench_dex_quote", Path(__file__).with_name("bench_dex_quote.py")
        )
        assert spec is not None
        assert spec.loader is not None
        quotes = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(quotes)
        print()
        status |= quotes.main(["--smoke"] if args.smoke else [])
    return status


if __name__ == "__main__":
    sys.exit(main())
