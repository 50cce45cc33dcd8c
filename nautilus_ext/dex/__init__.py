"""
DEX pool math: pure integer swap math, exactly as the pools' contracts compute it.

- :mod:`~nautilus_ext.dex.uniswap_v2`: ``getAmountOut``/``getAmountIn`` and :class:`V2PoolState`.
- :mod:`~nautilus_ext.dex.v3_math`: FullMath, TickMath, SqrtPriceMath, SwapMath.
- :mod:`~nautilus_ext.dex.uniswap_v3`: :class:`V3PoolState` and :func:`~nautilus_ext.dex.uniswap_v3.swap`
  across initialized ticks (tick bitmap, liquidityNet, fee growth, price limits).
- :mod:`~nautilus_ext.dex.curve`: stableswap ``get_D``/``get_y``/``get_dy`` and :class:`StableSwapState`.
- :mod:`~nautilus_ext.dex.balancer`: FixedPoint, LogExpMath, WeightedMath and :class:`WeightedPoolState`.
- :mod:`~nautilus_ext.dex.pool`: the :class:`SwapPool` interface every state satisfies and :class:`SwapQuote`.
- :mod:`~nautilus_ext.dex.vectors`: replay of Uniswap v3-core's swap-vector snapshot.

Everything here is pure (no I/O but the vector file reader): amounts are integers in token base
units, states are frozen, a swap returns the state after it.
"""

from nautilus_ext.dex.balancer import WeightedPoolState
from nautilus_ext.dex.curve import StableSwapState
from nautilus_ext.dex.curve import ramped_amp
from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapPool
from nautilus_ext.dex.pool import SwapQuote
from nautilus_ext.dex.pool import swap_exact_input_path
from nautilus_ext.dex.uniswap_v2 import V2PoolState
from nautilus_ext.dex.uniswap_v3 import V3PoolState
from nautilus_ext.dex.uniswap_v3 import V3SwapResult
from nautilus_ext.dex.uniswap_v3 import V3Tick

__all__ = [
    "StableSwapState",
    "SwapPool",
    "SwapQuote",
    "SwapRefused",
    "V2PoolState",
    "V3PoolState",
    "V3SwapResult",
    "V3Tick",
    "WeightedPoolState",
    "ramped_amp",
    "swap_exact_input_path",
]
