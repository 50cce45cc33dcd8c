"""
The demo's DEX leg: a BTC/USDT Uniswap V3 pool on Anvil (real bytecode), traded, then recorded.

``python -m nautilus_ext_testkit.chain.demo_dex OUT.json`` starts Anvil, creates WBTC-like (8
decimals) and USDT-like (6 decimals) tokens and a 0.3% V3 pool at ``--price``, mints two
positions, swaps both ways through the real ``SwapRouter``, and writes the pool's logs
(``eth_getLogs``, JSON-RPC shape) with each block's ``baseFeePerGas`` into ``OUT.json``. Block
times are replayed on the demo's clock: block ``first + k`` at ``--start-ts + 12 k`` seconds
(mainnet's slot time), so the pool's history lines up with the demo's CEX data.
``nautilus-ext demo --dex-recording OUT.json`` loads it with the catalog's on-chain loader.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext_testkit.chain.dex_history import swap_router
from nautilus_ext_testkit.chain.dex_history import v3_swap
from nautilus_ext_testkit.chain.dex_pools import DEADLINE
from nautilus_ext_testkit.chain.dex_pools import MAX_UINT
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain
from nautilus_ext_testkit.chain.protocols import load

SLOT_SECS: Final = 12
FEE: Final = 500
SPACING: Final = 10


def _hex(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return hex(value)
    if isinstance(value, list):
        return [_hex(v) for v in value]
    return value


def _v3_pool(
    chain: DexChain, t0: Any, t1: Any, sqrt_price: int, positions: list[tuple[int, int, int, int]]
) -> Any:
    # DexChain.new_v3_pool makes fresh 18-decimal tokens; the demo wants 8/6 decimals
    factory = chain.contracts["uniswap_v3_factory"]
    npm = chain.contracts["uniswap_v3_positions"]
    chain.send(factory.functions.createPool(t0.address, t1.address, FEE))
    pool = chain.w3.eth.contract(
        address=factory.functions.getPool(t0.address, t1.address, FEE).call(), abi=load("UniswapV3Pool").abi
    )
    chain.send(pool.functions.initialize(sqrt_price))
    for token in (t0, t1):
        chain.send(token.functions.approve(npm.address, MAX_UINT))
    for lower, upper, amount0, amount1 in positions:
        params = (t0.address, t1.address, FEE, lower, upper, amount0, amount1, 0, 0, chain.owner, DEADLINE)
        chain.send(npm.functions.mint(params))
    return pool


def record(out: Path, *, price: float, start_ts: int, swaps: int = 24, seed: int = 11) -> dict[str, Any]:
    """Create, trade and record the demo pool; return the recording written to ``out``."""
    chain = start_dex_chain()
    try:
        btc = chain.new_token(8)
        usdt = chain.new_token(6)
        base_is_token0 = int(btc.address, 16) < int(usdt.address, 16)
        t0, t1 = (btc, usdt) if base_is_token0 else (usdt, btc)
        # token1 per token0 in base units
        raw = price * 10**6 / 10**8 if base_is_token0 else 10**8 / (price * 10**6)
        sqrt_price = int(math.sqrt(raw) * 2**96)
        tick = int(math.log(raw) / math.log(1.0001))
        first = chain.w3.eth.block_number + 1

        def rng_ticks(width: int) -> tuple[int, int]:
            return ((tick - width) // SPACING) * SPACING, ((tick + width) // SPACING + 1) * SPACING

        a0, a1 = (300 * 10**8, 18_000_000 * 10**6) if base_is_token0 else (18_000_000 * 10**6, 300 * 10**8)
        lo, hi = rng_ticks(1_000)  # about +-10%
        lo2, hi2 = rng_ticks(4_000)
        pool = _v3_pool(chain, t0, t1, sqrt_price, [(lo, hi, a0, a1), (lo2, hi2, a0 // 3, a1 // 3)])
        swap_router(chain)
        rng = random.Random(seed)
        for _ in range(swaps):
            if rng.random() < 0.5:
                v3_swap(chain, btc, usdt, FEE, int(rng.uniform(0.05, 0.8) * 10**8))
            else:
                v3_swap(chain, usdt, btc, FEE, int(rng.uniform(0.05, 0.8) * price * 10**6))
        last = chain.w3.eth.block_number
        logs = chain.w3.eth.get_logs({"address": pool.address, "fromBlock": first, "toBlock": last})
        blocks = {}
        for n in sorted({int(log["blockNumber"]) for log in logs}):
            block = chain.w3.eth.get_block(n)
            blocks[str(n)] = {
                "timestamp": start_ts + (n - first) * SLOT_SECS,
                "baseFeePerGas": int(block.get("baseFeePerGas") or 0),
            }
        recording = {
            "pool": {
                "address": pool.address,
                "kind": "V3",
                "fee_pips": FEE,
                "decimals0": 8 if base_is_token0 else 6,
                "decimals1": 6 if base_is_token0 else 8,
                "base_is_token0": base_is_token0,
            },
            "logs": [{k: _hex(v) for k, v in dict(log).items()} for log in logs],
            "blocks": blocks,
        }
    finally:
        chain.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(recording, indent=1))
    return recording


def main() -> None:  # pragma: no cover - command line
    """Record the demo's DEX pool."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--price", type=float, default=59_500.0)  # near the demo CEX data (seed 7)
    parser.add_argument(
        "--start-ts", type=int, default=1_704_149_400
    )  # 2024-01-01T22:50Z: 10 min before the demo window
    args = parser.parse_args()
    rec = record(args.out, price=args.price, start_ts=args.start_ts)
    sys.stdout.write(f"recorded {len(rec['logs'])} logs of pool {rec['pool']['address']} into {args.out}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
