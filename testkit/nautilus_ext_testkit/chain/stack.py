"""
Deploy the stand-in protocol stack on web3's ``EthereumTesterProvider`` (py-evm).

One call builds WETH, USDT, Lido stETH/wstETH, EtherFi eETH/weETH, an AAVE-v3-like pool with
aTokens and variable debt tokens for WETH/weETH/wstETH/USDT, its oracle, a Morpho flash lender
with liquidity, an Instadapp flash aggregator, connectors registry, connectors, a DSA owned by
the user, and a Uniswap-V2-style router with weETH/WETH liquidity. Used by the tests and by
``benchmarks/bench_onchain_gas.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.lst import lst_price_in_base
from nautilus_ext.onchain.config import ConnectorNames
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.config import TokenConfig
from nautilus_ext_testkit.chain.compile import CompiledContract
from nautilus_ext_testkit.chain.compile import compile_contracts

ETHER: Final[int] = 10**18
RAY: Final[int] = 10**27
ETH_PRICE_BASE: Final[int] = 3000 * 10**8
"""ETH/USD in the oracle's 1e8 base units."""
E_MODE_ETH: Final[int] = 1
# Setup transactions carry an explicit limit: skipping eth_estimateGas halves deployment time.
_SETUP_GAS: Final[int] = 6_000_000


def _config(ltv: int, lt: int, decimals: int, *, borrowing: bool, e_mode: int) -> int:
    return ReserveConfiguration(
        ltv_bps=ltv,
        liquidation_threshold_bps=lt,
        liquidation_bonus_bps=10500,
        decimals=decimals,
        active=True,
        frozen=False,
        borrowing_enabled=borrowing,
        paused=False,
        e_mode_category=e_mode,
    ).encode()


@dataclass
class EvmStack:
    """
    A deployed local protocol stack.

    Parameters
    ----------
    w3 : web3.Web3
        Web3 over ``EthereumTesterProvider``.
    compiled : dict[str, CompiledContract]
        Compiled stand-ins.
    owner, user, liquidity_provider : str
        Funded test accounts (deployer/admin, the strategy wallet, a lender).
    config : OnchainConfig
        The module configuration pointing at the stand-ins.
    contracts : dict[str, Any]
        Web3 contract objects with the stand-ins' full ABIs (for test setup and assertions).
    """

    w3: Any
    compiled: dict[str, CompiledContract]
    owner: str
    user: str
    liquidity_provider: str
    config: OnchainConfig
    contracts: dict[str, Any] = field(default_factory=dict)

    def tx(self, fn: Any, sender: str | None = None, value: int = 0) -> Any:
        """Send an admin/setup transaction and return its receipt (asserting success)."""
        tx_hash = fn.transact({"from": sender or self.owner, "value": value, "gas": _SETUP_GAS})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"setup transaction failed: {fn}")
        return receipt

    def time_travel(self, seconds: int) -> int:
        """
        Advance the chain clock by about ``seconds`` and mine a block.

        Returns the new latest block's timestamp: the time ``eth_call`` views evaluate at.
        """
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.w3.provider.ethereum_tester.time_travel(now + seconds)
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def snapshot(self) -> int:
        """Take an EVM snapshot (see :meth:`revert_to`)."""
        return int(self.w3.provider.ethereum_tester.take_snapshot())

    def revert_to(self, snapshot_id: int) -> None:
        """Return the chain to a snapshot."""
        self.w3.provider.ethereum_tester.revert_to_snapshot(snapshot_id)


def _fast_gas_estimator(state: Any, transaction: Any) -> int:
    """
    Estimate gas with one run at the block limit plus one confirming run.

    py-evm's default estimator binary-searches the whole block gas range (a dozen executions of
    a flash bundle); this takes the gas the transaction used, adds 1/8 for the 1/64 the EVM
    withholds at each nesting level (a flash cast nests about eight deep) and a small margin,
    and confirms it succeeds, falling back to the binary search otherwise. The module still
    adds its own 1.2x on top.
    """
    from eth.estimators.gas import _get_computation_error
    from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
    from eth.vm.spoof import SpoofTransaction

    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(SpoofTransaction(transaction, gas=state.gas_limit, gas_price=0))
        failed = computation.is_error
        used = computation.get_gas_used()
    finally:
        state.revert(snapshot)
    if not failed:
        candidate = min(used * 9 // 8 + 25_000, state.gas_limit)
        confirm: Any = SpoofTransaction(transaction, gas=candidate)
        if _get_computation_error(state, confirm) is None:
            return int(candidate)
    return int(binary_gas_search_intrinsic_tolerance(state, transaction))


def _use_fast_gas_estimator(backend: Any) -> None:
    """
    Make this tester node (only this instance) estimate with :func:`_fast_gas_estimator`.

    The backend rebuilds its chain object on snapshot reverts, so the estimator is installed
    around each call rather than once on the chain.
    """
    original = type(backend).estimate_gas

    def estimate_gas(transaction: Any, block_number: Any = "latest") -> int:
        chain = backend.chain
        chain.gas_estimator = _fast_gas_estimator
        try:
            return int(original(backend, transaction, block_number))
        finally:
            del chain.gas_estimator

    backend.estimate_gas = estimate_gas


def _deploy(w3: Any, compiled: CompiledContract, sender: str, *args: Any) -> Any:
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender, "gas": _SETUP_GAS})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def deploy_stack(cache_dir: Path, *, lst_rate: Decimal = Decimal("1.0634")) -> EvmStack:
    """
    Compile (cached) and deploy the whole stand-in stack on a fresh in-memory chain.

    Parameters
    ----------
    cache_dir : Path
        Compiler output cache.
    lst_rate : Decimal
        ETH per weETH/wstETH share the LST pools start at (rebased after seeding).

    Returns
    -------
    EvmStack
        Deployed contracts, funded accounts and the module configuration.
    """
    from web3 import EthereumTesterProvider
    from web3 import Web3

    compiled = compile_contracts(cache_dir)
    w3 = Web3(EthereumTesterProvider())
    provider: Any = w3.provider
    _use_fast_gas_estimator(provider.ethereum_tester.backend)
    accounts: list[str] = list(w3.eth.accounts)
    owner, user, lp = accounts[0], accounts[1], accounts[2]
    c: dict[str, Any] = {}

    def deploy(name: str, key: str, *args: Any) -> Any:
        c[key] = _deploy(w3, compiled[name], owner, *args)
        return c[key]

    def send(fn: Any, sender: str = owner, value: int = 0) -> None:
        receipt = w3.eth.wait_for_transaction_receipt(
            fn.transact({"from": sender, "value": value, "gas": _SETUP_GAS})
        )
        if receipt["status"] != 1:
            raise RuntimeError(f"stack setup transaction failed: {fn}")

    weth = deploy("WETH9", "weth")
    usdt = deploy("ERC20", "usdt", "Tether USD", "USDT", 6)
    steth = deploy("RebasingLst", "steth", "Liquid staked Ether 2.0", "stETH")
    wsteth = deploy("WrappedLst", "wsteth", steth.address, "Wrapped liquid staked Ether", "wstETH")
    eeth = deploy("RebasingLst", "eeth", "ether.fi ETH", "eETH")
    weeth = deploy("WrappedLst", "weeth", eeth.address, "Wrapped eETH", "weETH")

    # Seed both LST pools and rebase them to a realistic, non-round share price.
    seed = 1_000 * ETHER
    send(steth.functions.submit(owner), value=seed)
    send(eeth.functions.deposit(), value=seed)
    for rebasing in (steth, eeth):
        send(rebasing.functions.setTotalPooledEther(int(Decimal(seed) * lst_rate) + 12_345))

    oracle = deploy("AaveOracle", "oracle")
    pool = deploy("AavePool", "pool", oracle.address)
    reserves = {
        "WETH": (weth, _config(8000, 8250, 18, borrowing=True, e_mode=E_MODE_ETH), 18),
        "WEETH": (weeth, _config(7250, 7500, 18, borrowing=False, e_mode=E_MODE_ETH), 18),
        "WSTETH": (wsteth, _config(7800, 8100, 18, borrowing=False, e_mode=E_MODE_ETH), 18),
        "USDT": (usdt, _config(7500, 7800, 6, borrowing=True, e_mode=0), 6),
    }
    for symbol, (token, configuration, decimals) in reserves.items():
        a_token = deploy(
            "ScaledBalanceToken",
            f"a_{symbol.lower()}",
            pool.address,
            token.address,
            False,
            f"Aave Ethereum {symbol}",
            f"a{symbol}",
            decimals,
        )
        debt = deploy(
            "ScaledBalanceToken",
            f"debt_{symbol.lower()}",
            pool.address,
            token.address,
            True,
            f"Aave Ethereum Variable Debt {symbol}",
            f"variableDebt{symbol}",
            decimals,
        )
        send(pool.functions.initReserve(token.address, a_token.address, debt.address, configuration))
    send(pool.functions.setEModeCategory(E_MODE_ETH, 9300, 9500, 10100, "ETH correlated"))

    eth_rate_wad = {
        "WEETH": weeth.functions.getRate().call(),
        "WSTETH": wsteth.functions.stEthPerToken().call(),
    }
    send(oracle.functions.setAssetPrice(weth.address, ETH_PRICE_BASE))
    send(oracle.functions.setAssetPrice(usdt.address, 10**8))
    for symbol in ("WEETH", "WSTETH"):
        price = lst_price_in_base(eth_rate_wad[symbol], ETH_PRICE_BASE)
        send(oracle.functions.setAssetPrice(reserves[symbol][0].address, price))
    # 2.1 % supply / 2.9 % variable borrow on WETH, as annual ray rates.
    send(pool.functions.setReserveRates(weth.address, 21 * RAY // 1000, 29 * RAY // 1000))
    send(pool.functions.setReserveRates(usdt.address, 40 * RAY // 1000, 55 * RAY // 1000))

    # Lender liquidity in the AAVE WETH and USDT reserves.
    send(weth.functions.deposit(), sender=lp, value=20_000 * ETHER)
    send(weth.functions.approve(pool.address, 2**256 - 1), sender=lp)
    send(pool.functions.supply(weth.address, 10_000 * ETHER, lp, 0), sender=lp)
    send(usdt.functions.mint(lp, 50_000_000 * 10**6))
    send(usdt.functions.approve(pool.address, 2**256 - 1), sender=lp)
    send(pool.functions.supply(usdt.address, 20_000_000 * 10**6, lp, 0), sender=lp)

    # Morpho flash liquidity and the Instadapp side.
    morpho = deploy("MorphoFlashLender", "morpho")
    send(weth.functions.transfer(morpho.address, 5_000 * ETHER), sender=lp)
    aggregator = deploy("FlashAggregator", "aggregator", morpho.address)
    registry = deploy("InstaConnectors", "connectors")
    router = deploy("ConstantProductRouter", "router", weeth.address, weth.address)
    names = ConnectorNames()
    connectors = {
        names.aave_v3: deploy("ConnectorAaveV3", "conn_aave", pool.address),
        names.weth: deploy("ConnectorWeth", "conn_weth", weth.address),
        names.lido: deploy("ConnectorLido", "conn_lido", steth.address),
        names.wsteth: deploy("ConnectorWrapper", "conn_wsteth", steth.address, wsteth.address),
        names.etherfi: deploy("ConnectorEtherFi", "conn_etherfi", eeth.address),
        names.weeth: deploy("ConnectorWrapper", "conn_weeth", eeth.address, weeth.address),
        names.swap: deploy("ConnectorUniswapV2", "conn_swap", router.address),
        names.basic: deploy("ConnectorBasic", "conn_basic"),
        names.flash: deploy("ConnectorInstapool", "conn_flash", aggregator.address),
    }
    send(registry.functions.addConnectors(list(connectors), [conn.address for conn in connectors.values()]))
    dsa = deploy("InstaAccount", "dsa", registry.address, user)

    # weETH/WETH liquidity at the LST's ETH rate for in-bundle swaps.
    lp_weeth_eth = 3_000 * ETHER
    send(eeth.functions.deposit(), sender=lp, value=lp_weeth_eth)
    send(eeth.functions.approve(weeth.address, 2**256 - 1), sender=lp)
    send(weeth.functions.wrap(eeth.functions.balanceOf(lp).call()), sender=lp)
    weeth_amount = weeth.functions.balanceOf(lp).call()
    weth_amount = weeth_amount * eth_rate_wad["WEETH"] // ETHER
    send(weeth.functions.approve(router.address, 2**256 - 1), sender=lp)
    send(weth.functions.approve(router.address, 2**256 - 1), sender=lp)
    send(router.functions.addLiquidity(weeth_amount, weth_amount), sender=lp)

    config = OnchainConfig(
        chain="ETHEREUM",
        chain_id=int(w3.eth.chain_id),
        aave_pool=pool.address,
        aave_oracle=oracle.address,
        morpho=morpho.address,
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
            TokenConfig(symbol="WEETH", address=weeth.address, decimals=18),
            TokenConfig(symbol="WSTETH", address=wsteth.address, decimals=18),
            TokenConfig(symbol="EETH", address=eeth.address, decimals=18),
            TokenConfig(symbol="STETH", address=steth.address, decimals=18),
        ),
        connectors=names,
        e_mode_category=E_MODE_ETH,
    )
    return EvmStack(
        w3=w3,
        compiled=compiled,
        owner=owner,
        user=user,
        liquidity_provider=lp,
        config=config,
        contracts=c,
    )


def deploy_second_market(
    stack: EvmStack, *, name: str = "AAVE_V3_PRIME", connector: str = "AAVE-V3-PRIME-A"
) -> OnchainConfig:
    """
    Deploy a second AAVE-v3-like market (WETH and weETH reserves, same oracle, e-mode 1,
    WETH liquidity), register its connector, and return the config listing it as a market.
    """
    from nautilus_ext.onchain.config import LendingMarket

    w3, c, owner, lp = stack.w3, stack.contracts, stack.owner, stack.liquidity_provider
    pool = _deploy(w3, stack.compiled["AavePool"], owner, stack.config.aave_oracle)
    for symbol, configuration in (
        ("WETH", _config(8000, 8250, 18, borrowing=True, e_mode=E_MODE_ETH)),
        ("WEETH", _config(7250, 7500, 18, borrowing=False, e_mode=E_MODE_ETH)),
    ):
        token = c[symbol.lower()]
        a_token = _deploy(
            w3,
            stack.compiled["ScaledBalanceToken"],
            owner,
            pool.address,
            token.address,
            False,
            f"{name} {symbol}",
            f"a{symbol}",
            18,
        )
        debt = _deploy(
            w3,
            stack.compiled["ScaledBalanceToken"],
            owner,
            pool.address,
            token.address,
            True,
            f"{name} debt {symbol}",
            f"d{symbol}",
            18,
        )
        stack.tx(pool.functions.initReserve(token.address, a_token.address, debt.address, configuration))
        c[f"{name.lower()}_a_{symbol.lower()}"] = a_token
        c[f"{name.lower()}_debt_{symbol.lower()}"] = debt
    stack.tx(pool.functions.setEModeCategory(E_MODE_ETH, 9300, 9500, 10100, "ETH correlated"))
    stack.tx(pool.functions.setReserveRates(c["weth"].address, 19 * RAY // 1000, 26 * RAY // 1000))
    stack.tx(c["weth"].functions.approve(pool.address, 2**256 - 1), sender=lp)
    stack.tx(pool.functions.supply(c["weth"].address, 2_000 * ETHER, lp, 0), sender=lp)
    conn = _deploy(w3, stack.compiled["ConnectorAaveV3"], owner, pool.address)
    stack.tx(c["connectors"].functions.addConnectors([connector], [conn.address]))
    c[f"{name.lower()}_pool"] = pool
    market = LendingMarket(
        name=name,
        pool=pool.address,
        oracle=stack.config.aave_oracle,
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
