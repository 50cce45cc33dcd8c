"""
Seeded, synthetic pool sets for benchmarks, tests and notebooks (not market data).

:func:`stable_pool_set` builds ``n`` pools of one stable pair (6-decimal USD coins at a price
near 1) mixing Uniswap V2, Uniswap V3 (several positions around the price), Curve stableswap
and Balancer 50/50 weighted pools, with depths spread over two orders of magnitude, as a
USDC -> USDT route sees on mainnet. Each pool is a one-hop
:class:`~nautilus_ext.dex.split.PoolPath` from token index 0 (input) to token 1 (output), with
the typical gas of a swap through its kind of pool (:data:`SWAP_GAS`) priced at
``gas_price_out`` output base units per gas unit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from nautilus_ext.dex.balancer import WeightedPoolState
from nautilus_ext.dex.curve import StableSwapState
from nautilus_ext.dex.split import Hop
from nautilus_ext.dex.split import PoolPath
from nautilus_ext.dex.uniswap_v2 import V2PoolState
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.dex.v3_math import get_tick_at_sqrt_ratio

KINDS: Final = ("v2", "v3", "curve", "balancer")
_ONE_18: Final = 10**18
_FEES_V3: Final = ((500, 10), (3000, 60), (100, 1))
SWAP_GAS: Final = {"v2": 110_000, "v3": 135_000, "curve": 160_000, "balancer": 125_000}
"""Typical gas of one swap hop through each kind of pool (router overhead included)."""


@dataclass(frozen=True)
class PoolSet:
    """Pools of one pair, as one-hop paths, and the deepest pool's input-side depth."""

    paths: tuple[PoolPath, ...]
    kinds: tuple[str, ...]
    deepest_input_depth: int
    input_decimals: int
    output_decimals: int


def _sqrt_price_x96(price: Decimal) -> int:
    """``sqrtPriceX96`` for ``price`` token1 base units per token0 base unit."""
    return int((price.sqrt() * (1 << 96)).to_integral_value())


def _v3(rng: random.Random, depth_in: int, price: Decimal) -> object:
    """A V3 pool holding about ``depth_in`` of token0: one full-range position, a few concentrated."""
    fee, spacing = _FEES_V3[rng.randrange(len(_FEES_V3))]
    sqrt_p = _sqrt_price_x96(price)
    state = initialize(sqrt_p, fee, spacing)
    tick = get_tick_at_sqrt_ratio(sqrt_p)
    # full range: amount0 = L / sqrt(P), so L = depth * sqrt(P) (P in token1 per token0 base unit)
    liquidity = int(depth_in * math.sqrt(float(price)))
    low, high = -(887272 // spacing) * spacing, (887272 // spacing) * spacing
    state, _, _ = mint(state, low, high, max(1, int(liquidity * rng.uniform(0.2, 0.5))))
    for _ in range(rng.randint(1, 4)):
        width = spacing * rng.choice((5, 20, 100, 500))
        lower = (tick - width) // spacing * spacing
        upper = (tick + width) // spacing * spacing + spacing
        # a narrow range holds little of each token per unit of liquidity: scale it up
        boost = max(1.0, 2.0 / (1.0001 ** (width / 2) - 1.0))
        state, _, _ = mint(state, lower, upper, max(1, int(liquidity * rng.uniform(0.05, 0.3) * boost)))
    return state


def stable_pool_set(
    seed: int, n: int, *, kinds: tuple[str, ...] = KINDS, gas_price_out: Decimal = Decimal(0)
) -> PoolSet:
    """
    ``n`` pools of a 6-decimal stable pair (input token 0, output token 1), mixed kinds.

    ``gas_price_out`` prices one unit of gas in output base units (e.g. 20 gwei at 3,000 USDT per
    ETH is ``Decimal("0.06")`` micro-USDT per gas); 0 leaves gas out.
    """
    rng = random.Random(seed)
    paths, used_kinds, deepest = [], [], 0
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        depth = int(10 ** rng.uniform(5.5, 7.5)) * 10**6  # 0.3M .. 30M coins of input
        price = Decimal(1) + Decimal(rng.uniform(-0.002, 0.002)).quantize(Decimal("1e-6"))
        pool: object
        if kind == "v2":
            pool = V2PoolState(depth, int(depth * price))
        elif kind == "v3":
            pool = _v3(rng, depth, price)
        elif kind == "curve":
            rates = (10**30, 10**30)
            other = int(depth * rng.uniform(0.8, 1.2))
            pool = StableSwapState(
                (depth, other), rates, amp=rng.choice((100, 200, 2000)) * 100, fee=4 * 10**6, a_precision=100
            )
        else:
            scaling = (10**12 * _ONE_18, 10**12 * _ONE_18)
            pool = WeightedPoolState(
                (depth, int(depth * price)),
                (_ONE_18 // 2, _ONE_18 // 2),
                scaling,
                swap_fee=rng.choice((1, 5, 30)) * 10**14,
            )
        gas = int(SWAP_GAS[kind] * gas_price_out)
        paths.append(PoolPath((Hop(pool, 0, 1, f"{kind}-{i}"),), gas_cost=gas))  # type: ignore[arg-type]
        used_kinds.append(kind)
        deepest = max(deepest, depth)
    return PoolSet(tuple(paths), tuple(used_kinds), deepest, 6, 6)


__all__ = ["KINDS", "SWAP_GAS", "PoolSet", "stable_pool_set"]
