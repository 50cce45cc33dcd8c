"""
CoW Protocol on Anvil from its published bytecode, with a Uniswap V2 pool for the solver.

:func:`start_cow_chain` starts the DEX chain (:func:`~nautilus_ext_testkit.chain.dex_pools.start_dex_chain`:
WETH9, Uniswap V2/V3, the Balancer V2 Vault), then deploys ``GPv2AllowListAuthentication``
(the implementation, initialised with the deployer as manager) and ``GPv2Settlement`` (whose
constructor deploys its ``GPv2VaultRelayer`` over the Vault) from ``@cowprotocol/contracts``,
allow-lists a solver account, and opens a V2 pool between two fresh tokens ("WETH", 18
decimals, and "USDC", 6 decimals) that the solver trades against. :meth:`CowChain.new_user`
makes a funded owner with a fresh key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

from eth_account import Account

from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain
from nautilus_ext_testkit.chain.protocols import load

WETH_RESERVE: Final[int] = 1_000 * 10**18
USDC_RESERVE: Final[int] = 3_000_000 * 10**6


@dataclass
class CowChain:
    """The DEX chain plus CoW's settlement, its authenticator, a solver and a WETH/USDC V2 pool."""

    dex: DexChain
    settlement: Any
    authenticator: Any
    vault_relayer: str
    solver: str
    pair: Any
    tokens: dict[str, Any]
    decimals: dict[str, int]

    @property
    def w3(self) -> Any:
        """The web3 connection."""
        return self.dex.w3

    @property
    def chain_id(self) -> int:
        """Anvil's chain id."""
        return int(self.w3.eth.chain_id)

    def close(self) -> None:
        """Stop Anvil."""
        self.dex.close()

    def new_user(self, funds: dict[str, int]) -> tuple[str, str]:
        """A fresh owner (address, private key) with ETH for gas and ``funds`` (symbol -> base units)."""
        account = Account.create()
        self.dex.node.rpc("anvil_setBalance", account.address, hex(10**20))
        for symbol, amount in funds.items():
            self.dex.send(self.tokens[symbol].functions.transfer(account.address, amount))
        return str(account.address), "0x" + bytes(account.key).hex()

    def balance(self, symbol: str, owner: str) -> int:
        """ERC-20 balance of ``owner`` in base units."""
        return int(self.tokens[symbol].functions.balanceOf(owner).call())


def start_cow_chain() -> CowChain:
    """Start Anvil and deploy the DEX protocols, CoW's settlement and a WETH/USDC V2 pool."""
    dex = start_dex_chain()
    try:
        d = dex.deployer
        owner = dex.owner
        solver = dex.w3.eth.accounts[1]
        auth = d.deploy("cow_authenticator", load("GPv2AllowListAuthentication"))
        dex.send(auth.functions.initializeManager(owner))
        dex.send(auth.functions.addSolver(solver))
        settlement = d.deploy(
            "cow_settlement", load("GPv2Settlement"), auth.address, dex.contracts["balancer_vault"].address
        )
        relayer = settlement.functions.vaultRelayer().call()
        weth, usdc = dex.new_token(18), dex.new_token(6)
        factory = dex.contracts["uniswap_v2_factory"]
        dex.send(factory.functions.createPair(weth.address, usdc.address))
        pair = dex.w3.eth.contract(
            address=factory.functions.getPair(weth.address, usdc.address).call(),
            abi=load("UniswapV2Pair").abi,
        )
        dex.send(weth.functions.transfer(pair.address, WETH_RESERVE))
        dex.send(usdc.functions.transfer(pair.address, USDC_RESERVE))
        dex.send(pair.functions.mint(owner))
    except BaseException:
        dex.close()
        raise
    return CowChain(
        dex=dex,
        settlement=settlement,
        authenticator=auth,
        vault_relayer=str(relayer),
        solver=str(solver),
        pair=pair,
        tokens={"WETH": weth, "USDC": usdc},
        decimals={"WETH": 18, "USDC": 6},
    )


__all__ = ["USDC_RESERVE", "WETH_RESERVE", "CowChain", "start_cow_chain"]
