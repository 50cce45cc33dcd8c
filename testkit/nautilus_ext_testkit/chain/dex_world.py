"""
A trading world on the DEX chain: WETH, DAI and USDC stand-ins with pools between them, a funded
trader, and the matching :class:`~nautilus_ext.adapters.dex.DexConfig`.

Pools (all from the published bytecode, see :mod:`nautilus_ext_testkit.chain.dex_pools`), priced
at 2,000 DAI per WETH:

* a Uniswap V2 pair WETH/DAI (100 WETH, 200,000 DAI);
* Uniswap V3 pools WETH/DAI at 0.3 % and 0.05 %, each with a wide and a narrow position (several
  initialized ticks on both sides of the price);
* a Balancer weighted pool WETH/DAI/USDC (50/25/25, 0.3 % fee, USDC with 6 decimals).

The trader (Anvil account 1) holds 1,000 WETH, 2,000,000 DAI and 2,000,000 USDC and has approved
nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from eth_abi.abi import encode as abi_encode
from web3.logs import DISCARD

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext_testkit.chain.anvil import CHAIN_ID
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain
from nautilus_ext_testkit.chain.protocols import load

E18: Final[int] = 10**18
PRICE: Final[int] = 2000
"""DAI per WETH in every pool."""
WETH: Final[str] = "WETH"
DAI: Final[str] = "DAI"
USDC: Final[str] = "USDC"


@dataclass
class DexWorld:
    """The chain, its tokens by symbol, the pools made and the adapter config."""

    chain: DexChain
    tokens: dict[str, Any]
    trader: str
    v2_pair: Any
    v3_pools: dict[int, Any]
    balancer_pool_id: str
    config: DexConfig

    @property
    def w3(self) -> Any:
        """The Web3 instance."""
        return self.chain.w3

    def balance(self, symbol: str, owner: str | None = None) -> int:
        """ERC-20 balance of ``owner`` (default: the trader) in base units."""
        return int(self.tokens[symbol].functions.balanceOf(owner or self.trader).call())

    def close(self) -> None:
        """Stop Anvil."""
        self.chain.close()


def _sqrt_price_x96(price_token1_per_token0: Decimal) -> int:
    return math.isqrt(int(price_token1_per_token0 * 2**192))


def _tick(price: Decimal) -> int:
    return math.floor(math.log(float(price)) / math.log(1.0001))


def start_dex_world(max_fee_per_gas_wei: int = 100 * 10**9, **config: Any) -> DexWorld:
    """Start the DEX chain and build the world of the module docstring (``config`` overrides fields)."""
    chain = start_dex_chain()
    try:
        weth, dai, usdc = chain.new_token(18), chain.new_token(18), chain.new_token(6)
        tokens = {WETH: weth, DAI: dai, USDC: usdc}
        c = chain.contracts
        # Uniswap V2
        factory = c["uniswap_v2_factory"]
        chain.send(factory.functions.createPair(weth.address, dai.address))
        pair_address = factory.functions.getPair(weth.address, dai.address).call()
        chain.send(weth.functions.transfer(pair_address, 100 * E18))
        chain.send(dai.functions.transfer(pair_address, 100 * PRICE * E18))
        pair = chain.w3.eth.contract(address=pair_address, abi=load("UniswapV2Pair").abi)
        chain.send(pair.functions.mint(chain.owner))
        # a second later, sync: the pair's price accumulators become non-zero now, so a swap's
        # gas does not jump by two zero-to-non-zero SSTOREs between its estimate (same second as
        # the last update) and its block (a later second): that jump exceeds the 1.2x buffer
        chain.node.increase_time(1)
        chain.send(pair.functions.sync())
        # Uniswap V3 (token0 is the lower address)
        weth_first = int(weth.address, 16) < int(dai.address, 16)
        t0, t1 = (weth, dai) if weth_first else (dai, weth)
        price = Decimal(PRICE) if weth_first else 1 / Decimal(PRICE)
        v3_factory, npm = c["uniswap_v3_factory"], c["uniswap_v3_positions"]
        for token in (t0, t1):
            chain.send(token.functions.approve(npm.address, 2**256 - 1))
        pools = {}
        for fee, spacing in ((3000, 60), (500, 10)):
            chain.send(v3_factory.functions.createPool(t0.address, t1.address, fee))
            pool = chain.w3.eth.contract(
                address=v3_factory.functions.getPool(t0.address, t1.address, fee).call(),
                abi=load("UniswapV3Pool").abi,
            )
            chain.send(pool.functions.initialize(_sqrt_price_x96(price)))
            center = _tick(price) // spacing * spacing
            for width, amount in ((100 * spacing, 50), (10 * spacing, 20)):
                a0 = amount * E18 if weth_first else amount * PRICE * E18
                a1 = amount * PRICE * E18 if weth_first else amount * E18
                params = (
                    t0.address,
                    t1.address,
                    fee,
                    center - width,
                    center + width,
                    a0,
                    a1,
                    0,
                    0,
                    chain.owner,
                    2**40,
                )
                chain.send(npm.functions.mint(params))
            pools[fee] = pool
        # Balancer weighted WETH/DAI/USDC
        vault, wfactory = c["balancer_vault"], c["balancer_weighted_pool_factory"]
        made = sorted(
            [
                (weth, 100 * E18, 5 * 10**17),
                (dai, 100_000 * E18, 25 * 10**16),
                (usdc, 100_000 * 10**6, 25 * 10**16),
            ],
            key=lambda m: int(m[0].address, 16),
        )
        receipt = chain.send(
            wfactory.functions.create(
                "World", "WLD", [m[0].address for m in made], [m[2] for m in made], 3 * 10**15, chain.owner
            )
        )
        bal_address = wfactory.events.PoolCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
            "pool"
        ]
        bal_pool = chain.w3.eth.contract(address=bal_address, abi=load("WeightedPool").abi)
        pool_id = bal_pool.functions.getPoolId().call()
        for m in made:
            chain.send(m[0].functions.approve(vault.address, 2**256 - 1))
        amounts = [m[1] for m in made]
        chain.send(
            vault.functions.joinPool(
                pool_id,
                chain.owner,
                chain.owner,
                (
                    [m[0].address for m in made],
                    amounts,
                    abi_encode(["uint256", "uint256[]"], [0, amounts]),
                    False,
                ),
            )
        )
        # the trader
        trader = chain.w3.eth.accounts[1]
        chain.send(weth.functions.transfer(trader, 1000 * E18))
        chain.send(dai.functions.transfer(trader, 2_000_000 * E18))
        chain.send(usdc.functions.transfer(trader, 2_000_000 * 10**6))
        dex_config = DexConfig(
            chain_id=CHAIN_ID,
            tokens=(
                {"symbol": WETH, "address": weth.address, "decimals": 18},
                {"symbol": DAI, "address": dai.address, "decimals": 18},
                {"symbol": USDC, "address": usdc.address, "decimals": 6},
            ),
            uniswap_v2_factory=factory.address,
            uniswap_v2_router=c["uniswap_v2_router"].address,
            uniswap_v3_factory=v3_factory.address,
            uniswap_v3_router=c["uniswap_v3_router"].address,
            balancer_vault=vault.address,
            balancer_pool_ids=("0x" + bytes(pool_id).hex(),),
            max_fee_per_gas_wei=max_fee_per_gas_wei,
            **config,
        )
    except BaseException:
        chain.close()
        raise
    return DexWorld(
        chain=chain,
        tokens=tokens,
        trader=trader,
        v2_pair=pair,
        v3_pools=pools,
        balancer_pool_id="0x" + bytes(pool_id).hex(),
        config=dex_config,
    )


__all__ = ["DAI", "E18", "PRICE", "USDC", "WETH", "DexWorld", "start_dex_world"]
