"""
A small DEX world on Anvil for pool-math tests: real Uniswap V2/V3 and Balancer V2 bytecode.

:func:`start_dex_chain` starts a fresh Anvil and deploys WETH9, the Uniswap V2 factory and
Router02, the V3 factory, QuoterV2, NonfungiblePositionManager and SwapRouter, the Balancer Vault with
its Authorizer and WeightedPoolFactory (the published npm artifacts, see
:mod:`nautilus_ext_testkit.chain.protocols`). The ``new_*`` helpers then create pools of fresh
tokens with given reserves, prices, positions or weights, so each property-test example gets its
own pool. Pool *state* is read back from the contracts (``getReserves``, ``slot0``, ``ticks``,
``getPoolTokens``) rather than recomputed, so a test compares the pure math with what the chain
holds and quotes.

Curve has no published pool bytecode here: :meth:`DexChain.new_stableswap_repro` deploys
``curve/StableSwapRepro.vy``, a Vyper REPRODUCTION of the plain pool's ``get_dy`` (see its
header), not Curve's own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

from eth_abi.abi import encode as abi_encode
from web3.logs import DISCARD

from nautilus_ext_testkit.chain.anvil import AnvilNode
from nautilus_ext_testkit.chain.protocols import load
from nautilus_ext_testkit.chain.world import ZERO
from nautilus_ext_testkit.chain.world import Deployer

MAX_UINT: Final[int] = 2**256 - 1
DEADLINE: Final[int] = 2**40
STABLESWAP_REPRO: Final[Path] = Path(__file__).resolve().parent / "curve" / "StableSwapRepro.vy"


@dataclass
class DexChain:
    """A running Anvil with the DEX protocols deployed (``contracts`` by key)."""

    node: AnvilNode
    w3: Any
    deployer: Deployer
    owner: str
    _tokens: int = field(default=0)
    _repro: dict[str, Any] = field(default_factory=dict)

    @property
    def contracts(self) -> dict[str, Any]:
        """Deployed contracts by key."""
        return self.deployer.contracts

    def close(self) -> None:
        """Stop Anvil."""
        self.node.stop()

    def send(self, fn: Any) -> Any:
        """Send a transaction from the owner, asserting success."""
        return self.deployer.send(fn)

    def new_token(self, decimals: int, supply: int | None = None) -> Any:
        """Deploy a MintableERC20 with ``decimals`` and mint ``supply`` (default 1e40) to the owner."""
        self._tokens += 1
        token = self.deployer.deploy(
            f"token_{self._tokens}",
            load("MintableERC20"),
            f"Token {self._tokens}",
            f"T{self._tokens}",
            decimals,
        )
        self.send(token.functions.mint(self.owner, supply if supply is not None else 10**40))
        return token

    def token_pair(self, decimals_a: int = 18, decimals_b: int = 18) -> tuple[Any, Any]:
        """Two fresh tokens sorted by address (token0, token1)."""
        a, b = self.new_token(decimals_a), self.new_token(decimals_b)
        return (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)

    # -- Uniswap V2 -------------------------------------------------------------------------

    def new_v2_pair(self, reserve0: int, reserve1: int) -> tuple[Any, Any, Any]:
        """A V2 pair of fresh tokens holding ``reserve0``/``reserve1``; returns (pair, token0, token1)."""
        t0, t1 = self.token_pair()
        factory = self.contracts["uniswap_v2_factory"]
        self.send(factory.functions.createPair(t0.address, t1.address))
        pair = self.w3.eth.contract(
            address=factory.functions.getPair(t0.address, t1.address).call(), abi=load("UniswapV2Pair").abi
        )
        self.send(t0.functions.transfer(pair.address, reserve0))
        self.send(t1.functions.transfer(pair.address, reserve1))
        self.send(pair.functions.mint(self.owner))
        return pair, t0, t1

    # -- Uniswap V3 -------------------------------------------------------------------------

    def new_v3_pool(
        self, fee: int, sqrt_price_x96: int, positions: list[tuple[int, int, int, int]]
    ) -> tuple[Any, Any, Any]:
        """
        A V3 pool of fresh tokens at ``sqrt_price_x96`` with positions minted through the
        NonfungiblePositionManager: ``(tick_lower, tick_upper, amount0_desired, amount1_desired)``.
        """
        t0, t1 = self.token_pair()
        factory = self.contracts["uniswap_v3_factory"]
        npm = self.contracts["uniswap_v3_positions"]
        self.send(factory.functions.createPool(t0.address, t1.address, fee))
        pool = self.w3.eth.contract(
            address=factory.functions.getPool(t0.address, t1.address, fee).call(),
            abi=load("UniswapV3Pool").abi,
        )
        self.send(pool.functions.initialize(sqrt_price_x96))
        for token in (t0, t1):
            self.send(token.functions.approve(npm.address, MAX_UINT))
        for lower, upper, amount0, amount1 in positions:
            params = (t0.address, t1.address, fee, lower, upper, amount0, amount1, 0, 0, self.owner, DEADLINE)
            self.send(npm.functions.mint(params))
        return pool, t0, t1

    # -- Balancer V2 --------------------------------------------------------------------------

    def new_weighted_pool(
        self, decimals: list[int], balances: list[int], weights: list[int], swap_fee: int
    ) -> tuple[bytes, list[Any]]:
        """A weighted pool of fresh tokens (sorted), joined with ``balances``; returns (pool id, tokens)."""
        made = [(self.new_token(d), d, b, w) for d, b, w in zip(decimals, balances, weights, strict=True)]
        made.sort(key=lambda m: int(m[0].address, 16))
        tokens = [m[0] for m in made]
        factory = self.contracts["balancer_weighted_pool_factory"]
        vault = self.contracts["balancer_vault"]
        self._tokens += 1
        receipt = self.send(
            factory.functions.create(
                f"Pool {self._tokens}",
                f"P{self._tokens}",
                [t.address for t in tokens],
                [m[3] for m in made],
                swap_fee,
                self.owner,
            )
        )
        address = factory.events.PoolCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["pool"]
        pool = self.w3.eth.contract(address=address, abi=load("WeightedPool").abi)
        pool_id = pool.functions.getPoolId().call()
        amounts = [m[2] for m in made]
        for token in tokens:
            self.send(token.functions.approve(vault.address, MAX_UINT))
        init = abi_encode(["uint256", "uint256[]"], [0, amounts])
        self.send(
            vault.functions.joinPool(
                pool_id, self.owner, self.owner, ([t.address for t in tokens], amounts, init, False)
            )
        )
        return pool_id, tokens

    # -- Curve (reproduction) -----------------------------------------------------------------

    def new_stableswap_repro(
        self, balances: list[int], rates: list[int], amp: int, a_precision: int, fee: int
    ) -> Any:
        """Deploy the 2-coin Vyper REPRODUCTION of Curve's ``get_dy`` over the given state."""
        if not self._repro:
            from nautilus_ext_testkit.chain.compile import compile_vyper

            self._repro.update(compile_vyper(STABLESWAP_REPRO.read_text()))
        factory = self.w3.eth.contract(abi=self._repro["abi"], bytecode=self._repro["bytecode"])
        tx = factory.constructor(balances, rates, amp, a_precision, fee).transact(
            {"from": self.owner, "gas": 5_000_000}
        )
        address = self.w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        return self.w3.eth.contract(address=address, abi=self._repro["abi"])


def start_dex_chain() -> DexChain:
    """Start Anvil and deploy WETH, Uniswap V2/V3 (with QuoterV2, SwapRouter) and the Balancer Vault."""
    from web3 import HTTPProvider
    from web3 import Web3

    node = AnvilNode()
    try:
        w3 = Web3(HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        owner = w3.eth.accounts[0]
        d = Deployer(w3, owner)
        weth = d.deploy("weth", load("WETH9"))
        v2 = d.deploy("uniswap_v2_factory", load("UniswapV2Factory"), owner)
        d.deploy("uniswap_v2_router", load("UniswapV2Router02"), v2.address, weth.address)
        v3 = d.deploy("uniswap_v3_factory", load("UniswapV3Factory"))
        d.deploy("uniswap_v3_quoter", load("QuoterV2"), v3.address, weth.address)
        d.deploy("uniswap_v3_router", load("SwapRouter"), v3.address, weth.address)
        d.deploy("uniswap_v3_positions", load("NonfungiblePositionManager"), v3.address, weth.address, ZERO)
        authorizer = d.deploy("balancer_authorizer", load("Authorizer"), owner)
        vault = d.deploy("balancer_vault", load("Vault"), authorizer.address, weth.address, 0, 0)
        d.deploy("balancer_weighted_pool_factory", load("WeightedPoolFactory"), vault.address)
    except BaseException:
        node.stop()
        raise
    return DexChain(node=node, w3=w3, deployer=d, owner=owner)


__all__ = ["STABLESWAP_REPRO", "DexChain", "start_dex_chain"]
