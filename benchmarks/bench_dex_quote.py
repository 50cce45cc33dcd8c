"""
Pure-math DEX quote latency versus the contracts' own quote over ``eth_call`` on Anvil.

One pool of each kind is deployed from published bytecode (Uniswap V3 pool + QuoterV2 with
liquidity in 24 overlapping ranges, Uniswap V2 pair + Router02, Balancer weighted pool + Vault;
see ``nautilus_ext_testkit.chain.dex_pools``), its state is read back once, and the same swap is
quoted both ways: ``nautilus_ext.dex`` in-process versus ``quoteExactInputSingle`` /
``getAmountsOut`` / ``queryBatchSwap`` as an ``eth_call`` (web3 over HTTP to a local Anvil, the
best case for a node round trip). Every pair of answers must be equal to the wei, or the
benchmark fails. Sizes span a swap inside one tick range to one crossing many. ``--smoke`` runs
a few repetitions. This is the quote section to merge into ``bench_dex_routing.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from nautilus_ext.dex import SwapPool
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import V3Tick
from nautilus_ext.dex import WeightedPoolState
from nautilus_ext.dex.v3_math import get_sqrt_ratio_at_tick
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain
from nautilus_ext_testkit.chain.protocols import load

E18 = 10**18


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return samples, result


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _v3(chain: DexChain) -> tuple[Any, Any, Any, V3PoolState, int]:
    fee, spacing = 3000, 60
    positions = [(-w * spacing, w * spacing, 10**21, 10**21) for w in range(1, 25)]
    pool, t0, t1 = chain.new_v3_pool(fee, get_sqrt_ratio_at_tick(0), positions)
    slot0 = pool.functions.slot0().call()
    ticks = sorted({t for p in positions for t in p[:2]})
    infos = {t: pool.functions.ticks(t).call() for t in ticks}
    state = V3PoolState(
        slot0[0],
        slot0[1],
        pool.functions.liquidity().call(),
        fee,
        spacing,
        tuple(V3Tick(t, i[1], i[0]) for t, i in infos.items() if i[0] > 0),
    )
    return pool, t0, t1, state, fee


def main(argv: list[str] | None = None) -> int:
    """Quote each swap both ways, check equality, print latencies side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few repetitions (quick check)")
    args = parser.parse_args(argv)
    pure_repeats, call_repeats = (20, 5) if args.smoke else (500, 60)
    started = time.perf_counter()
    chain = start_dex_chain()
    setup_secs = time.perf_counter() - started
    rows: list[tuple[str, str, int, list[float], list[float]]] = []
    try:
        quoter = chain.contracts["uniswap_v3_quoter"]
        pool, t0, t1, v3_state, fee = _v3(chain)
        balance0 = t0.functions.balanceOf(pool.address).call()
        for label, amount in (
            ("0.01 %", balance0 // 10_000),
            ("1 %", balance0 // 100),
            ("10 %", balance0 // 10),
            ("50 %", balance0 // 2),
        ):
            params = (t0.address, t1.address, amount, fee, 0)
            pure, ours = _timed(lambda a=amount: v3_state.swap_exact_input(0, 1, a), pure_repeats)
            calls, theirs = _timed(
                lambda p=params: quoter.functions.quoteExactInputSingle(p).call(), call_repeats
            )
            if ours.amount_out != theirs[0]:
                print(f"MISMATCH V3 {label}: ours {ours.amount_out} quoter {theirs[0]}", file=sys.stderr)
                return 1
            rows.append(("Uniswap V3 (QuoterV2)", label, int(theirs[2]), pure, calls))

        pair, a, b = chain.new_v2_pair(1_000 * E18, 3_000_000 * E18)
        r0, r1, _ = pair.functions.getReserves().call()
        v2: SwapPool = V2PoolState(r0, r1)
        router = chain.contracts["uniswap_v2_router"]
        amount = 10 * E18
        pure, ours_out = _timed(lambda: v2.quote_exact_input(0, 1, amount), pure_repeats)
        calls, amounts = _timed(
            lambda: router.functions.getAmountsOut(amount, [a.address, b.address]).call(), call_repeats
        )
        if ours_out != amounts[1]:
            print(f"MISMATCH V2: ours {ours_out} router {amounts[1]}", file=sys.stderr)
            return 1
        rows.append(("Uniswap V2 (getAmountsOut)", "1 %", 0, pure, calls))

        pool_id, tokens = chain.new_weighted_pool(
            [18, 6], [1_000 * E18, 3_000_000 * 10**6], [8 * 10**17, 2 * 10**17], 3 * 10**15
        )
        vault = chain.contracts["balancer_vault"]
        _, balances, _ = vault.functions.getPoolTokens(pool_id).call()
        address, _ = vault.functions.getPool(pool_id).call()
        weights = (
            chain.w3.eth.contract(address=address, abi=load("WeightedPool").abi)
            .functions.getNormalizedWeights()
            .call()
        )
        decimals = [t.functions.decimals().call() for t in tokens]
        bal: SwapPool = WeightedPoolState(
            tuple(balances), tuple(weights), tuple(10 ** (18 - d) for d in decimals), 3 * 10**15
        )
        amount = balances[0] // 100
        swaps = [(pool_id, 0, 1, amount, b"")]
        funds = (chain.owner, False, chain.owner, False)
        assets = [t.address for t in tokens]
        pure, ours_out = _timed(lambda: bal.quote_exact_input(0, 1, amount), pure_repeats)
        calls, deltas = _timed(
            lambda: vault.functions.queryBatchSwap(0, swaps, assets, funds).call(), call_repeats
        )
        if ours_out != -deltas[1]:
            print(f"MISMATCH Balancer: ours {ours_out} vault {-deltas[1]}", file=sys.stderr)
            return 1
        rows.append(("Balancer weighted (queryBatchSwap)", "1 %", 0, pure, calls))
    finally:
        chain.close()

    print(f"DEX quote latency: pure math (in-process) vs eth_call on local Anvil (set-up {setup_secs:.2f} s)")
    print(f"pure: {pure_repeats} runs, eth_call: {call_repeats} runs; every pair of answers equal to the wei")
    print("size: input as a share of the pool's input-token balance; ticks: initialized ticks crossed")
    header = f"{'pool (on-chain quote)':36}{'size':>8}{'ticks':>6}{'pure p50':>11}{'pure p99':>11}"
    header += f"{'call p50':>11}{'call p99':>11}{'speed-up':>10}"
    print(header)
    for name, label, crossed, pure, calls in rows:
        p50, c50 = statistics.median(pure), statistics.median(calls)
        print(
            f"{name:36}{label:>8}{crossed:>6}{p50 * 1e6:>9.1f}us{_pct(pure, 0.99) * 1e6:>9.1f}us"
            f"{c50 * 1e3:>9.2f}ms{_pct(calls, 0.99) * 1e3:>9.2f}ms{c50 / p50:>9.0f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
