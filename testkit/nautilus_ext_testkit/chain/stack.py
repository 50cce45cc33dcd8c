"""
Deploy the local protocol world on Anvil: real AAVE v3, Uniswap V2/V3, Morpho Blue, Balancer
and CoW from their published bytecode (:mod:`nautilus_ext_testkit.chain.world`), plus Vyper
stand-ins with the real ABIs for Lido stETH/wstETH, EtherFi eETH/weETH and the Instadapp DSA
with its connectors and flash aggregator (no published bytecode for those).

The first deployment is dumped (``anvil_dumpState``) into the artifact cache together with a
manifest of addresses and ABIs; later sessions start Anvil with ``--load-state`` (tens of ms)
and rebuild the contract objects from the manifest. The cache key covers the pinned artifacts,
the stand-ins' sources and this code, so any change redeploys.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.onchain.calculators.lst import lst_price_in_base
from nautilus_ext.onchain.config import ConnectorNames
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.config import TokenConfig
from nautilus_ext_testkit.chain import artifacts as npm
from nautilus_ext_testkit.chain.anvil import AnvilNode
from nautilus_ext_testkit.chain.compile import CONTRACTS_DIR
from nautilus_ext_testkit.chain.compile import CompiledContract
from nautilus_ext_testkit.chain.compile import compile_contracts
from nautilus_ext_testkit.chain.protocols import load
from nautilus_ext_testkit.chain.world import E_MODE_ETH
from nautilus_ext_testkit.chain.world import ETH_RATES
from nautilus_ext_testkit.chain.world import LST_RATES
from nautilus_ext_testkit.chain.world import STABLE_RATES
from nautilus_ext_testkit.chain.world import Deployer
from nautilus_ext_testkit.chain.world import ReserveSpec
from nautilus_ext_testkit.chain.world import add_v3_liquidity
from nautilus_ext_testkit.chain.world import deploy_aave_market
from nautilus_ext_testkit.chain.world import deploy_balancer_and_cow
from nautilus_ext_testkit.chain.world import deploy_morpho
from nautilus_ext_testkit.chain.world import deploy_uniswap

ETHER: Final[int] = 10**18
RAY: Final[int] = 10**27
ETH_PRICE_BASE: Final[int] = 3000 * 10**8
"""ETH/USD in the oracle's 1e8 base units."""
_SETUP_GAS: Final[int] = 30_000_000
_HERE: Final[Path] = Path(__file__).resolve().parent


@dataclass
class EvmStack:
    """
    A deployed local protocol stack.

    Parameters
    ----------
    w3 : web3.Web3
        Web3 over Anvil's HTTP JSON-RPC.
    compiled : dict[str, CompiledContract]
        Compiled stand-ins (Lido, EtherFi, Instadapp).
    owner, user, liquidity_provider : str
        Funded test accounts (deployer/admin, the strategy wallet, a lender).
    config : OnchainConfig
        The module configuration pointing at the stand-ins.
    contracts : dict[str, Any]
        Web3 contract objects with full ABIs (for test setup and assertions).
    node : AnvilNode
        The Anvil process serving ``w3``.
    artifacts : dict[str, str]
        Contract key -> published artifact name, for the contracts deployed from npm bytecode.
    """

    w3: Any
    compiled: dict[str, CompiledContract]
    owner: str
    user: str
    liquidity_provider: str
    config: OnchainConfig
    node: AnvilNode
    contracts: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    _snapshots: dict[int, int] = field(default_factory=dict)

    def tx(self, fn: Any, sender: str | None = None, value: int = 0) -> Any:
        """Send an admin/setup transaction and return its receipt (asserting success)."""
        tx_hash = fn.transact({"from": sender or self.owner, "value": value, "gas": _SETUP_GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"setup transaction failed: {fn}")
        return receipt

    def time_travel(self, seconds: int) -> int:
        """
        Advance the chain clock by ``seconds`` and mine a block.

        Returns the new latest block's timestamp: the time ``eth_call`` views evaluate at.
        """
        self.node.increase_time(seconds)
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def snapshot(self) -> int:
        """
        Take a snapshot (see :meth:`revert_to`).

        Anvil consumes a snapshot when reverting to it; the stack re-takes it at once, so the
        returned id can be reverted to any number of times, like eth-tester's.
        """
        key = len(self._snapshots) + 1
        self._snapshots[key] = self.node.snapshot()
        return key

    def revert_to(self, snapshot_id: int) -> None:
        """Return the chain to a snapshot (reusable; later snapshots are dropped)."""
        self.node.revert(self._snapshots[snapshot_id])
        for later in [k for k in self._snapshots if k > snapshot_id]:
            del self._snapshots[later]
        self._snapshots[snapshot_id] = self.node.snapshot()

    def set_asset_price(self, token: str, price: int) -> None:
        """Point AAVE's oracle for ``token`` at a new mock aggregator answering ``price`` (1e8)."""
        agg = load("MockAggregator")
        factory = self.w3.eth.contract(abi=agg.abi, bytecode=agg.bytecode)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            factory.constructor(price).transact({"from": self.owner, "gas": _SETUP_GAS})
        )
        self.tx(self.contracts["oracle"].functions.setAssetSources([token], [receipt["contractAddress"]]))

    def close(self) -> None:
        """Stop the Anvil process."""
        self.node.stop()


def _state_key() -> str:
    digest = hashlib.sha256()
    for package in npm.PINNED:
        digest.update(package.integrity.encode())
    for path in [
        *sorted(CONTRACTS_DIR.glob("*.vy")),
        *(_HERE / f for f in ("stack.py", "world.py", "protocols.py")),
    ]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _deploy_world(w3: Any, compiled: dict[str, CompiledContract], lst_rate: Decimal) -> dict[str, Any]:
    """Deploy everything on a fresh Anvil; returns the manifest (addresses, ABIs, config)."""
    accounts: list[str] = list(w3.eth.accounts)
    owner, user, lp, treasury = accounts[0], accounts[1], accounts[2], accounts[3]
    d = Deployer(w3, owner)

    def stand_in(name: str, key: str, *args: Any) -> Any:
        c = compiled[name]
        factory = w3.eth.contract(abi=c.abi, bytecode=c.bytecode)
        receipt = w3.eth.wait_for_transaction_receipt(
            factory.constructor(*args).transact({"from": owner, "gas": _SETUP_GAS})
        )
        return d.at(key, receipt["contractAddress"], c.abi)

    send = d.send
    weth = d.deploy("weth", load("WETH9"))
    usdc = d.deploy("usdc", load("MintableERC20"), "USD Coin", "USDC", 6)
    usdt = d.deploy("usdt", load("MintableERC20"), "Tether USD", "USDT", 6)
    steth = stand_in("RebasingLst", "steth", "Liquid staked Ether 2.0", "stETH")
    wsteth = stand_in("WrappedLst", "wsteth", steth.address, "Wrapped liquid staked Ether", "wstETH")
    eeth = stand_in("RebasingLst", "eeth", "ether.fi ETH", "eETH")
    weeth = stand_in("WrappedLst", "weeth", eeth.address, "Wrapped eETH", "weETH")
    seed = 1_000 * ETHER
    send(steth.functions.submit(owner), value=seed)
    send(eeth.functions.deposit(), value=seed)
    for rebasing in (steth, eeth):
        send(rebasing.functions.setTotalPooledEther(int(Decimal(seed) * lst_rate) + 12_345))
    eth_rate_wad = {
        "WEETH": int(weeth.functions.getRate().call()),
        "WSTETH": int(wsteth.functions.stEthPerToken().call()),
    }
    tokens = {
        "WETH": (weth, 18),
        "WEETH": (weeth, 18),
        "WSTETH": (wsteth, 18),
        "USDC": (usdc, 6),
        "USDT": (usdt, 6),
    }
    prices = {
        "WETH": ETH_PRICE_BASE,
        "WEETH": lst_price_in_base(eth_rate_wad["WEETH"], ETH_PRICE_BASE),
        "WSTETH": lst_price_in_base(eth_rate_wad["WSTETH"], ETH_PRICE_BASE),
        "USDC": 10**8,
        "USDT": 10**8,
    }
    reserves = [
        ReserveSpec("WETH", 8000, 8250, 10500, True, 1500, 2_000_000, E_MODE_ETH, ETH_RATES),
        ReserveSpec("WEETH", 7250, 7500, 10700, False, 4500, 500_000, E_MODE_ETH, LST_RATES),
        ReserveSpec("WSTETH", 7800, 8100, 10600, False, 1500, 1_000_000, E_MODE_ETH, LST_RATES),
        ReserveSpec("USDC", 7700, 8000, 10450, True, 1000, 3_000_000_000, 0, STABLE_RATES),
        ReserveSpec("USDT", 7500, 7800, 10450, True, 1000, 3_000_000_000, 0, STABLE_RATES),
    ]
    deploy_aave_market(d, "", "Ethereum", tokens, prices, reserves, treasury)
    pool = d.contracts["pool"]

    # Lender liquidity in AAVE's WETH and stablecoin reserves.
    send(weth.functions.deposit(), sender=lp, value=40_000 * ETHER)
    send(weth.functions.approve(pool.address, 2**256 - 1), sender=lp)
    send(pool.functions.supply(weth.address, 10_000 * ETHER, lp, 0), sender=lp)
    for stable in (usdc, usdt):
        send(stable.functions.mint(lp, 100_000_000 * 10**6))
        send(stable.functions.approve(pool.address, 2**256 - 1), sender=lp)
        send(pool.functions.supply(stable.address, 20_000_000 * 10**6, lp, 0), sender=lp)
    # A borrower so the WETH reserve has utilisation (non-zero rates, accruing indexes).
    send(pool.functions.borrow(weth.address, 3_000 * ETHER, 2, 0, lp), sender=lp)

    deploy_morpho(d, weth, wsteth, lp, 5_000 * ETHER)
    deploy_uniswap(d, weth, lp)
    deploy_balancer_and_cow(d, weth, usdc, lp)

    # weETH/WETH Uniswap V2 liquidity at the LST's ETH rate (the connector's swap venue).
    send(eeth.functions.deposit(), sender=lp, value=3_000 * ETHER)
    send(eeth.functions.approve(weeth.address, 2**256 - 1), sender=lp)
    send(weeth.functions.wrap(eeth.functions.balanceOf(lp).call()), sender=lp)
    weeth_amount = int(weeth.functions.balanceOf(lp).call())
    weth_amount = weeth_amount * eth_rate_wad["WEETH"] // ETHER
    router = d.contracts["router"]
    for token in (weeth, weth, usdc):
        send(token.functions.approve(router.address, 2**256 - 1), sender=lp)
    send(
        router.functions.addLiquidity(
            weeth.address, weth.address, weeth_amount, weth_amount, 0, 0, lp, 2**40
        ),
        sender=lp,
    )
    factory = d.contracts["uniswap_v2_factory"]
    d.at(
        "pair_weeth_weth",
        factory.functions.getPair(weeth.address, weth.address).call(),
        load("UniswapV2Pair").abi,
        "UniswapV2Pair",
    )
    # WETH/USDC on V3 at two fee tiers, three positions each across ticks.
    usdc_per_weth = 3000 * 10**6  # raw USDC units per 1e18 wei
    for fee in (500, 3000):
        add_v3_liquidity(d, weth, usdc, fee, usdc_per_weth, lp, 200 * ETHER)

    # Instadapp side (stand-ins) over the real AAVE pool, Morpho Blue and Uniswap V2 router.
    aggregator = stand_in("FlashAggregator", "aggregator", d.contracts["morpho"].address)
    registry = stand_in("InstaConnectors", "connectors")
    names = ConnectorNames()
    connectors = {
        names.aave_v3: stand_in("ConnectorAaveV3", "conn_aave", pool.address),
        names.weth: stand_in("ConnectorWeth", "conn_weth", weth.address),
        names.lido: stand_in("ConnectorLido", "conn_lido", steth.address),
        names.wsteth: stand_in("ConnectorWrapper", "conn_wsteth", steth.address, wsteth.address),
        names.etherfi: stand_in("ConnectorEtherFi", "conn_etherfi", eeth.address),
        names.weeth: stand_in("ConnectorWrapper", "conn_weeth", eeth.address, weeth.address),
        names.swap: stand_in("ConnectorUniswapV2", "conn_swap", router.address),
        names.basic: stand_in("ConnectorBasic", "conn_basic"),
        names.flash: stand_in("ConnectorInstapool", "conn_flash", aggregator.address),
    }
    send(registry.functions.addConnectors(list(connectors), [conn.address for conn in connectors.values()]))
    dsa = stand_in("InstaAccount", "dsa", registry.address, user)

    config = OnchainConfig(
        chain="ETHEREUM",
        chain_id=int(w3.eth.chain_id),
        aave_pool=pool.address,
        aave_oracle=d.contracts["oracle"].address,
        morpho=d.contracts["morpho"].address,
        flash_aggregator=aggregator.address,
        flash_route=int(aggregator.functions.ROUTE_MORPHO().call()),
        dsa=dsa.address,
        lido_steth=steth.address,
        lido_wsteth=wsteth.address,
        etherfi_liquidity_pool=eeth.address,
        etherfi_eeth=eeth.address,
        etherfi_weeth=weeth.address,
        swap_router=router.address,
        tokens=(
            TokenConfig(symbol="WETH", address=weth.address, decimals=18),
            TokenConfig(symbol="USDT", address=usdt.address, decimals=6),
            TokenConfig(symbol="USDC", address=usdc.address, decimals=6),
            TokenConfig(symbol="WEETH", address=weeth.address, decimals=18),
            TokenConfig(symbol="WSTETH", address=wsteth.address, decimals=18),
            TokenConfig(symbol="EETH", address=eeth.address, decimals=18),
            TokenConfig(symbol="STETH", address=steth.address, decimals=18),
        ),
        connectors=names,
        e_mode_category=E_MODE_ETH,
    )
    return {
        "owner": owner,
        "user": user,
        "liquidity_provider": lp,
        "config": config.model_dump(mode="json"),
        "contracts": {k: {"address": c.address, "abi": c.abi} for k, c in d.contracts.items()},
        "artifacts": d.artifacts,
    }


def deploy_stack(cache_dir: Path, *, lst_rate: Decimal = Decimal("1.0634")) -> EvmStack:
    """
    Start Anvil with the protocol world: from the dumped state when cached, else deploy it.

    Parameters
    ----------
    cache_dir : Path
        Vyper compiler output cache (for the stand-ins).
    lst_rate : Decimal
        ETH per weETH/wstETH share the LST pools start at (only the default rate is cached).

    Returns
    -------
    EvmStack
        Deployed contracts, funded accounts, the module configuration and the Anvil process.
        Call :meth:`EvmStack.close` to stop Anvil.
    """
    from web3 import HTTPProvider
    from web3 import Web3

    npm.fetch_all()  # a no-op once `make chain-artifacts` ran: pinned, verified, cached
    compiled = compile_contracts(cache_dir)
    key = _state_key() + ("" if lst_rate == Decimal("1.0634") else f"-{lst_rate}")
    state = npm.cache_root().parent / "anvil" / f"world-{key}.state.json"
    manifest_path = state.with_name(f"world-{key}.manifest.json")
    if state.is_file() and manifest_path.is_file():
        node = AnvilNode(load_state=state)
        manifest = json.loads(manifest_path.read_text())
        w3 = Web3(HTTPProvider(node.url, request_kwargs={"timeout": 60}))
    else:
        node = AnvilNode()
        w3 = Web3(HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        started = time.perf_counter()
        manifest = _deploy_world(w3, compiled, lst_rate)
        manifest["deploy_seconds"] = time.perf_counter() - started
        state.parent.mkdir(parents=True, exist_ok=True)
        node.dump_state(state)
        partial = manifest_path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(manifest))
        partial.rename(manifest_path)
    contracts = {
        k: w3.eth.contract(address=w3.to_checksum_address(v["address"]), abi=v["abi"])
        for k, v in manifest["contracts"].items()
    }
    return EvmStack(
        w3=w3,
        compiled=compiled,
        owner=manifest["owner"],
        user=manifest["user"],
        liquidity_provider=manifest["liquidity_provider"],
        config=OnchainConfig.model_validate(manifest["config"]),
        node=node,
        contracts=contracts,
        artifacts=dict(manifest["artifacts"]),
    )


def deploy_second_market(
    stack: EvmStack, *, name: str = "AAVE_V3_PRIME", connector: str = "AAVE-V3-PRIME-A"
) -> OnchainConfig:
    """
    Deploy a second real AAVE v3 market (WETH and weETH reserves, e-mode 1, WETH liquidity),
    register its connector, and return the config listing it as a market.
    """
    from nautilus_ext.onchain.config import LendingMarket

    c, lp = stack.contracts, stack.liquidity_provider
    d = Deployer(stack.w3, stack.owner, contracts=c)
    prefix = f"{name.lower()}_"
    weth, weeth = c["weth"], c["weeth"]
    oracle = c["oracle"]
    prices = {s: int(oracle.functions.getAssetPrice(c[s.lower()].address).call()) for s in ("WETH", "WEETH")}
    deploy_aave_market(
        d,
        prefix,
        name,
        {"WETH": (weth, 18), "WEETH": (weeth, 18)},
        prices,
        [
            ReserveSpec("WETH", 8000, 8250, 10500, True, 1000, 1_000_000, E_MODE_ETH, ETH_RATES),
            ReserveSpec("WEETH", 7250, 7500, 10700, False, 4500, 500_000, E_MODE_ETH, LST_RATES),
        ],
        stack.owner,
    )
    pool = c[f"{prefix}pool"]
    stack.tx(weth.functions.approve(pool.address, 2**256 - 1), sender=lp)
    stack.tx(pool.functions.supply(weth.address, 2_000 * ETHER, lp, 0), sender=lp)
    conn_art = stack.compiled["ConnectorAaveV3"]
    factory = stack.w3.eth.contract(abi=conn_art.abi, bytecode=conn_art.bytecode)
    receipt = stack.w3.eth.wait_for_transaction_receipt(
        factory.constructor(pool.address).transact({"from": stack.owner, "gas": _SETUP_GAS})
    )
    stack.tx(c["connectors"].functions.addConnectors([connector], [receipt["contractAddress"]]))
    market = LendingMarket(
        name=name,
        pool=pool.address,
        oracle=c[f"{prefix}oracle"].address,
        connector=connector,
        e_mode_category=E_MODE_ETH,
    )
    return stack.config.model_copy(update={"markets": (*stack.config.markets, market)})


__all__ = [
    "ETHER",
    "ETH_PRICE_BASE",
    "E_MODE_ETH",
    "EvmStack",
    "deploy_second_market",
    "deploy_stack",
]
