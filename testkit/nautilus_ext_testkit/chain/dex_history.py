"""
Pool histories on the local chain: real Uniswap V2/V3 pools that see mints, burns and swaps.

:func:`v3_history` creates a V3 pool (NonfungiblePositionManager positions), swaps both ways
through the real ``SwapRouter``, removes part of a position (``Burn``) and adds a new one, one
transaction per block; :func:`v2_history` does the same for a V2 pair (``Sync``/``Swap``).
Tests then load the logs with ``eth_getLogs`` and compare the rebuilt state with the pool's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

from nautilus_ext_testkit.chain.dex_pools import DEADLINE
from nautilus_ext_testkit.chain.dex_pools import MAX_UINT
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.protocols import load

Q96: Final[int] = 2**96


@dataclass
class PoolHistory:
    """A pool with a recorded history: its contract, tokens (token0, token1) and block range."""

    pool: Any
    token0: Any
    token1: Any
    fee: int
    first_block: int
    last_block: int


def swap_router(chain: DexChain) -> Any:
    """The V3 ``SwapRouter`` (deployed once per chain)."""
    if "uniswap_v3_router" not in chain.contracts:
        c = chain.contracts
        chain.deployer.deploy(
            "uniswap_v3_router", load("SwapRouter"), c["uniswap_v3_factory"].address, c["weth"].address
        )
    return chain.contracts["uniswap_v3_router"]


def v3_swap(chain: DexChain, token_in: Any, token_out: Any, fee: int, amount_in: int) -> Any:
    """Exact-input single swap through the SwapRouter from the owner; returns the receipt."""
    router = swap_router(chain)
    chain.send(token_in.functions.approve(router.address, amount_in))
    params = (token_in.address, token_out.address, fee, chain.owner, DEADLINE, amount_in, 0, 0)
    return chain.send(router.functions.exactInputSingle(params))


def v3_history(chain: DexChain, fee: int = 3000) -> PoolHistory:
    """A V3 pool at 2000 token1/token0 (both 18 decimals) with three positions, swaps, a burn and a mint."""
    first = chain.w3.eth.block_number + 1
    spacing = {500: 10, 3000: 60, 10000: 200}[fee]
    sqrt_price = int((2000**0.5) * Q96)
    s = spacing
    positions = [
        (75960 - 100 * s, 75960 + 100 * s, 10**20, 2 * 10**23),
        (75960 - 10 * s, 75960 + 20 * s, 5 * 10**19, 10**23),
        (75960 + 30 * s, 75960 + 60 * s, 10**19, 0),
    ]
    positions = [((lo // s) * s, (hi // s) * s, a0, a1) for lo, hi, a0, a1 in positions]
    pool, t0, t1 = chain.new_v3_pool(fee, sqrt_price, positions)
    v3_swap(chain, t0, t1, fee, 3 * 10**18)
    v3_swap(chain, t1, t0, fee, 25_000 * 10**18)
    npm = chain.contracts["uniswap_v3_positions"]
    token_id = npm.functions.tokenOfOwnerByIndex(
        chain.owner, npm.functions.balanceOf(chain.owner).call() - 2
    ).call()
    liquidity = npm.functions.positions(token_id).call()[7]
    chain.send(npm.functions.decreaseLiquidity((token_id, liquidity // 3, 0, 0, DEADLINE)))
    v3_swap(chain, t0, t1, fee, 8 * 10**18)
    for token in (t0, t1):
        chain.send(token.functions.approve(npm.address, MAX_UINT))
    lo, hi = ((75960 - 40 * s) // s) * s, ((75960 + 5 * s) // s) * s
    chain.send(
        npm.functions.mint(
            (t0.address, t1.address, fee, lo, hi, 2 * 10**19, 4 * 10**22, 0, 0, chain.owner, DEADLINE)
        )
    )
    v3_swap(chain, t1, t0, fee, 60_000 * 10**18)
    return PoolHistory(pool, t0, t1, fee, first, chain.w3.eth.block_number)


def v2_swap(
    chain: DexChain, pair: Any, token_in: Any, amount_in: int, amount_out: int, zero_for_one: bool
) -> Any:
    """Swap on the pair directly (transfer in, then ``swap``), as the router does."""
    chain.send(token_in.functions.transfer(pair.address, amount_in))
    out0, out1 = (0, amount_out) if zero_for_one else (amount_out, 0)
    return chain.send(pair.functions.swap(out0, out1, chain.owner, b""))


def v2_history(chain: DexChain) -> PoolHistory:
    """A V2 pair at 2000 token1/token0 with swaps both ways."""
    first = chain.w3.eth.block_number + 1
    pair, t0, t1 = chain.new_v2_pair(500 * 10**18, 1_000_000 * 10**18)
    r0, r1, _ = pair.functions.getReserves().call()
    amount_in = 2 * 10**18
    out = amount_in * 997 * r1 // (r0 * 1000 + amount_in * 997)
    v2_swap(chain, pair, t0, amount_in, out, True)
    return PoolHistory(pair, t0, t1, 3000, first, chain.w3.eth.block_number)


__all__ = ["PoolHistory", "swap_router", "v2_history", "v2_swap", "v3_history", "v3_swap"]
