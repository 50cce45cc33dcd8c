"""
Constants of the DEX adapter: venue codes, fee tiers and the ABI fragments it calls.

ABI fragments are written from the protocols' published interfaces (Uniswap V2
``IUniswapV2Factory``/``IUniswapV2Pair``/``IUniswapV2Router02``, Uniswap V3
``IUniswapV3Factory``/``IUniswapV3Pool``/``ISwapRouter`` (v3-periphery 1.x), Balancer V2
``IVault``/``WeightedPool``, ERC-20), for exactly the functions this adapter calls.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

AbiEntry = dict[str, Any]


@unique
class PoolKind(StrEnum):
    """Which pool contract family a pool belongs to."""

    UNISWAP_V2 = "UNISWAP_V2"  # constant-product pair (Router02)
    UNISWAP_V3 = "UNISWAP_V3"  # concentrated liquidity (SwapRouter exactInputSingle)
    BALANCER_WEIGHTED = "BALANCER_WEIGHTED"  # Balancer V2 weighted pool behind the Vault


@unique
class ApprovalMode(StrEnum):
    """How the executor approves the router to pull the input token."""

    EXACT = "EXACT"  # approve exactly the swap's input, per swap (the default)
    UNLIMITED = "UNLIMITED"  # approve 2**256-1 once (must be configured explicitly)
    NONE = "NONE"  # never approve: an allowance short of the input refuses the swap


V3_FEE_TIERS: Final[tuple[int, ...]] = (100, 500, 3000, 10000)
"""Uniswap V3 fee tiers (hundredths of a bip) the factory enables by default or commonly."""
V2_FEE_TIER: Final[int] = 3000
"""Uniswap V2's 0.3 % fee, as a POOL key fee tier."""
MAX_UINT256: Final[int] = 2**256 - 1
BALANCER_GIVEN_IN: Final[int] = 0
"""``IVault.SwapKind.GIVEN_IN``."""

VENUE_BY_KIND: Final[dict[PoolKind, str]] = {
    PoolKind.UNISWAP_V2: "UNISWAPV2-ETH",
    PoolKind.UNISWAP_V3: "UNISWAPV3-ETH",
    PoolKind.BALANCER_WEIGHTED: "BALANCER-ETH",
}
"""Instrument-key venue of each pool family (configs/instruments/defi.yaml)."""
KIND_BY_VENUE_PREFIX: Final[dict[str, PoolKind]] = {
    "UNISWAPV2": PoolKind.UNISWAP_V2,
    "UNISWAPV3": PoolKind.UNISWAP_V3,
    "BALANCER": PoolKind.BALANCER_WEIGHTED,
}


def _fn(
    name: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]], view: bool = True
) -> AbiEntry:
    def params(ps: list[tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for typ, pname in ps:
            if typ.startswith("("):
                # a tuple: "(type name,type name,...)"
                comps = [c.split(" ") for c in typ.strip("()").split(",")]
                out.append(
                    {"name": pname, "type": "tuple", "components": [{"type": t, "name": n} for t, n in comps]}
                )
            else:
                out.append({"name": pname, "type": typ})
        return out

    return {
        "type": "function",
        "name": name,
        "inputs": params(inputs),
        "outputs": params(outputs),
        "stateMutability": "view" if view else "nonpayable",
    }


ERC20_ABI: Final[list[AbiEntry]] = [
    _fn("balanceOf", [("address", "account")], [("uint256", "")]),
    _fn("decimals", [], [("uint8", "")]),
    _fn("symbol", [], [("string", "")]),
    _fn("allowance", [("address", "owner"), ("address", "spender")], [("uint256", "")]),
    _fn("approve", [("address", "spender"), ("uint256", "amount")], [("bool", "")], view=False),
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
]

V2_FACTORY_ABI: Final[list[AbiEntry]] = [
    _fn("getPair", [("address", "tokenA"), ("address", "tokenB")], [("address", "pair")]),
    _fn("allPairs", [("uint256", "")], [("address", "pair")]),
    _fn("allPairsLength", [], [("uint256", "")]),
]
V2_PAIR_ABI: Final[list[AbiEntry]] = [
    _fn(
        "getReserves",
        [],
        [("uint112", "reserve0"), ("uint112", "reserve1"), ("uint32", "blockTimestampLast")],
    ),
    _fn("token0", [], [("address", "")]),
    _fn("token1", [], [("address", "")]),
]
V2_ROUTER_ABI: Final[list[AbiEntry]] = [
    _fn(
        "swapExactTokensForTokens",
        [
            ("uint256", "amountIn"),
            ("uint256", "amountOutMin"),
            ("address[]", "path"),
            ("address", "to"),
            ("uint256", "deadline"),
        ],
        [("uint256[]", "amounts")],
        view=False,
    ),
]

V3_FACTORY_ABI: Final[list[AbiEntry]] = [
    _fn("getPool", [("address", "tokenA"), ("address", "tokenB"), ("uint24", "fee")], [("address", "pool")]),
]
V3_POOL_ABI: Final[list[AbiEntry]] = [
    _fn(
        "slot0",
        [],
        [
            ("uint160", "sqrtPriceX96"),
            ("int24", "tick"),
            ("uint16", "observationIndex"),
            ("uint16", "observationCardinality"),
            ("uint16", "observationCardinalityNext"),
            ("uint8", "feeProtocol"),
            ("bool", "unlocked"),
        ],
    ),
    _fn("liquidity", [], [("uint128", "")]),
    _fn("fee", [], [("uint24", "")]),
    _fn("tickSpacing", [], [("int24", "")]),
    _fn("token0", [], [("address", "")]),
    _fn("token1", [], [("address", "")]),
    _fn("feeGrowthGlobal0X128", [], [("uint256", "")]),
    _fn("feeGrowthGlobal1X128", [], [("uint256", "")]),
    _fn("tickBitmap", [("int16", "wordPosition")], [("uint256", "")]),
    _fn(
        "ticks",
        [("int24", "tick")],
        [
            ("uint128", "liquidityGross"),
            ("int128", "liquidityNet"),
            ("uint256", "feeGrowthOutside0X128"),
            ("uint256", "feeGrowthOutside1X128"),
            ("int56", "tickCumulativeOutside"),
            ("uint160", "secondsPerLiquidityOutsideX128"),
            ("uint32", "secondsOutside"),
            ("bool", "initialized"),
        ],
    ),
]
V3_ROUTER_ABI: Final[list[AbiEntry]] = [
    _fn(
        "exactInputSingle",
        [
            (
                "(address tokenIn,address tokenOut,uint24 fee,address recipient,uint256 deadline,"
                "uint256 amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96)",
                "params",
            )
        ],
        [("uint256", "amountOut")],
        view=False,
    ),
]

BALANCER_VAULT_ABI: Final[list[AbiEntry]] = [
    _fn(
        "getPoolTokens",
        [("bytes32", "poolId")],
        [("address[]", "tokens"), ("uint256[]", "balances"), ("uint256", "lastChangeBlock")],
    ),
    _fn("getPool", [("bytes32", "poolId")], [("address", ""), ("uint8", "")]),
    _fn(
        "swap",
        [
            (
                "(bytes32 poolId,uint8 kind,address assetIn,address assetOut,uint256 amount,bytes userData)",
                "singleSwap",
            ),
            (
                "(address sender,bool fromInternalBalance,address recipient,bool toInternalBalance)",
                "funds",
            ),
            ("uint256", "limit"),
            ("uint256", "deadline"),
        ],
        [("uint256", "amountCalculated")],
        view=False,
    ),
]
BALANCER_WEIGHTED_POOL_ABI: Final[list[AbiEntry]] = [
    _fn("getNormalizedWeights", [], [("uint256[]", "")]),
    _fn("getSwapFeePercentage", [], [("uint256", "")]),
    _fn("getPoolId", [], [("bytes32", "")]),
]
