"""
Deploy a realistic DeFi world on Anvil from the protocols' published bytecode.

Real: WETH9, USDC/USDT (AAVE's MintableERC20), an AAVE v3 market (PoolAddressesProvider,
ACLManager, Pool with its linked logic libraries behind the provider's proxy, PoolConfigurator,
AaveOracle over mock Chainlink aggregators, default interest-rate strategies, aTokens and debt
tokens behind proxies, an ETH-correlated e-mode category, reserve factors, supply caps, the
flash-loan premium), Uniswap V2 (factory, pair, Router02) and V3 (factory, pools at the 0.05 %
and 0.3 % tiers, NonfungiblePositionManager liquidity across ticks, SwapRouter, QuoterV2),
Morpho Blue (a WETH market with supplied liquidity, which is also its flash-loan liquidity),
the Balancer V2 Vault (with its Authorizer) and a 50/50 WETH/USDC weighted pool, and CoW's
GPv2Settlement (with its authenticator).

Stand-ins (Vyper, same ABIs as the protocols) remain only for Lido stETH/wstETH, EtherFi
eETH/weETH and the Instadapp DSA with its connectors and flash aggregator: none of those has
published bytecode on a reachable registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from eth_abi.abi import encode as abi_encode
from web3.logs import DISCARD

from nautilus_ext_testkit.chain.protocols import AAVE_POOL_LIBRARIES
from nautilus_ext_testkit.chain.protocols import Artifact
from nautilus_ext_testkit.chain.protocols import load

ZERO: Final[str] = "0x" + "00" * 20
RAY: Final[int] = 10**27
WAD: Final[int] = 10**18
E_MODE_ETH: Final[int] = 1
FLASH_LOAN_PREMIUM_BPS: Final[int] = 5
"""AAVE's mainnet flash-loan premium (0.05 %)."""


@dataclass(frozen=True, slots=True)
class ReserveSpec:
    """One AAVE reserve to list (risk parameters in bps, caps in whole tokens)."""

    symbol: str
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    borrowing: bool
    reserve_factor: int
    supply_cap: int
    e_mode: int
    rates: tuple[int, int, int, int]
    """(optimal usage, base, slope1, slope2) in ray."""


def _pct(value: str) -> int:
    whole, _, frac = value.partition(".")
    frac = (frac + "0" * 27)[:27]
    return (int(whole) * RAY + int(frac)) // 100


ETH_RATES: Final = (_pct("90"), 0, _pct("2.7"), _pct("80"))
STABLE_RATES: Final = (_pct("92"), 0, _pct("5.5"), _pct("35"))
LST_RATES: Final = (_pct("45"), 0, _pct("7"), _pct("300"))


@dataclass
class Deployer:
    """Deploys artifacts with one unlocked sender and records every address by key."""

    w3: Any
    sender: str
    contracts: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    """key -> artifact name (for the bytecode checks)."""

    def deploy(self, key: str, artifact: Artifact, *args: Any) -> Any:
        """Deploy ``artifact`` with constructor ``args`` under ``key``."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": self.sender, "gas": 30_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"deploying {artifact.name} as {key} reverted")
        # runtime code is compared only where the package publishes it (not Balancer's bytecode/)
        published = artifact.name if artifact.deployed_bytecode != "0x" else None
        return self.at(key, receipt["contractAddress"], artifact.abi, published)

    def at(self, key: str, address: str, abi: list[dict[str, Any]], artifact: str | None = None) -> Any:
        """Register an existing address under ``key``."""
        contract = self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=abi)
        self.contracts[key] = contract
        if artifact is not None:
            self.artifacts[key] = artifact
        return contract

    def send(self, fn: Any, sender: str | None = None, value: int = 0) -> Any:
        """Send a setup transaction, asserting it succeeded."""
        tx_hash = fn.transact({"from": sender or self.sender, "value": value, "gas": 30_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"setup transaction reverted: {fn.fn_name}")
        return receipt


def deploy_aave_market(
    d: Deployer,
    prefix: str,
    market_id: str,
    tokens: dict[str, tuple[Any, int]],
    prices: dict[str, int],
    reserves: list[ReserveSpec],
    treasury: str,
) -> dict[str, Any]:
    """
    Deploy one real AAVE v3 market and list ``reserves``.

    ``tokens`` maps symbol -> (token contract, decimals), ``prices`` symbol -> USD price in
    the oracle's 1e8 base. Contracts are registered as ``{prefix}pool``, ``{prefix}oracle``,
    ``{prefix}a_{symbol}``, ``{prefix}debt_{symbol}`` and so on. Returns those keys' contracts.
    """
    owner = d.sender
    provider = d.deploy(f"{prefix}addresses_provider", load("PoolAddressesProvider"), market_id, owner)
    d.send(provider.functions.setACLAdmin(owner))
    acl = d.deploy(f"{prefix}acl_manager", load("ACLManager"), provider.address)
    d.send(provider.functions.setACLManager(acl.address))
    d.send(acl.functions.addPoolAdmin(owner))
    d.send(acl.functions.addRiskAdmin(owner))
    d.send(acl.functions.addAssetListingAdmin(owner))
    libraries: dict[str, str] = {}
    for lib in AAVE_POOL_LIBRARIES:
        libraries[lib] = d.deploy(f"{prefix}lib_{lib}", load(lib, libraries)).address
    libraries["ConfiguratorLogic"] = d.deploy(
        f"{prefix}lib_ConfiguratorLogic", load("ConfiguratorLogic")
    ).address
    pool_impl = d.deploy(f"{prefix}pool_impl", load("Pool", libraries), provider.address)
    d.send(pool_impl.functions.initialize(provider.address))
    d.send(provider.functions.setPoolImpl(pool_impl.address))
    pool_art = load("Pool", libraries)
    proxy = "InitializableImmutableAdminUpgradeabilityProxy"
    pool = d.at(f"{prefix}pool", provider.functions.getPool().call(), pool_art.abi, proxy)
    conf_impl = d.deploy(f"{prefix}configurator_impl", load("PoolConfigurator", libraries))
    d.send(provider.functions.setPoolConfiguratorImpl(conf_impl.address))
    configurator = d.at(
        f"{prefix}configurator", provider.functions.getPoolConfigurator().call(), conf_impl.abi, proxy
    )
    assets, sources = [], []
    for symbol, price in prices.items():
        agg = d.deploy(f"{prefix}aggregator_{symbol.lower()}", load("MockAggregator"), price)
        assets.append(tokens[symbol][0].address)
        sources.append(agg.address)
    oracle = d.deploy(
        f"{prefix}oracle", load("AaveOracle"), provider.address, assets, sources, ZERO, ZERO, 10**8
    )
    d.send(provider.functions.setPriceOracle(oracle.address))
    data_provider = d.deploy(f"{prefix}data_provider", load("AaveProtocolDataProvider"), provider.address)
    d.send(provider.functions.setPoolDataProvider(data_provider.address))
    a_impl = d.deploy(f"{prefix}atoken_impl", load("AToken"), pool.address)
    v_impl = d.deploy(f"{prefix}vdebt_impl", load("VariableDebtToken"), pool.address)
    s_impl = d.deploy(f"{prefix}sdebt_impl", load("StableDebtToken"), pool.address)
    d.send(configurator.functions.updateFlashloanPremiumTotal(FLASH_LOAN_PREMIUM_BPS))
    d.send(configurator.functions.setEModeCategory(E_MODE_ETH, 9300, 9500, 10100, ZERO, "ETH correlated"))
    for spec in reserves:
        token, decimals = tokens[spec.symbol]
        strategy = d.deploy(
            f"{prefix}rate_strategy_{spec.symbol.lower()}",
            load("DefaultReserveInterestRateStrategy"),
            provider.address,
            *spec.rates,
            0,
            0,
            0,
            0,
            _pct("20"),
        )
        low = spec.symbol.lower()
        d.send(
            configurator.functions.initReserves(
                [
                    (
                        a_impl.address,
                        s_impl.address,
                        v_impl.address,
                        decimals,
                        strategy.address,
                        token.address,
                        treasury,
                        ZERO,
                        f"Aave {market_id} {spec.symbol}",
                        f"a{spec.symbol}",
                        f"Aave {market_id} Variable Debt {spec.symbol}",
                        f"variableDebt{spec.symbol}",
                        f"Aave {market_id} Stable Debt {spec.symbol}",
                        f"stableDebt{spec.symbol}",
                        b"",
                    )
                ]
            )
        )
        d.send(
            configurator.functions.configureReserveAsCollateral(
                token.address, spec.ltv, spec.liquidation_threshold, spec.liquidation_bonus
            )
        )
        d.send(configurator.functions.setReserveBorrowing(token.address, spec.borrowing))
        d.send(configurator.functions.setReserveFactor(token.address, spec.reserve_factor))
        d.send(configurator.functions.setSupplyCap(token.address, spec.supply_cap))
        d.send(configurator.functions.setReserveFlashLoaning(token.address, True))
        if spec.e_mode:
            d.send(configurator.functions.setAssetEModeCategory(token.address, spec.e_mode))
        reserve = pool.functions.getReserveData(token.address).call()
        d.at(f"{prefix}a_{low}", reserve[8], a_impl.abi, proxy)
        d.at(f"{prefix}debt_{low}", reserve[10], v_impl.abi, proxy)
    return {k: v for k, v in d.contracts.items() if k.startswith(prefix)}


def sqrt_price_x96(price_token1_per_token0: int, scale: int = 1) -> int:
    """``sqrt(price) * 2**96`` for a raw-unit price ``token1/token0 = p / scale``."""
    return math.isqrt(price_token1_per_token0 * 2**192 // scale)


def deploy_uniswap(d: Deployer, weth: Any, lp: str) -> None:
    """Uniswap V2 (factory, Router02) and V3 (factory, SwapRouter, QuoterV2, position manager)."""
    owner = d.sender
    factory = d.deploy("uniswap_v2_factory", load("UniswapV2Factory"), owner)
    d.deploy("router", load("UniswapV2Router02"), factory.address, weth.address)
    v3 = d.deploy("uniswap_v3_factory", load("UniswapV3Factory"))
    d.deploy("uniswap_v3_router", load("SwapRouter"), v3.address, weth.address)
    d.deploy("uniswap_v3_quoter", load("QuoterV2"), v3.address, weth.address)
    d.deploy("uniswap_v3_positions", load("NonfungiblePositionManager"), v3.address, weth.address, ZERO)
    del lp


def add_v3_liquidity(
    d: Deployer, token_a: Any, token_b: Any, fee: int, price_b_per_a_wad: int, lp: str, amount_a: int
) -> Any:
    """
    Create a V3 pool at ``fee``, start it at ``price_b_per_a_wad`` (raw units, 1e18-scaled) and
    mint three positions across ticks around the price (narrow, medium, wide).
    """
    factory = d.contracts["uniswap_v3_factory"]
    positions = d.contracts["uniswap_v3_positions"]
    t0, t1 = sorted((token_a, token_b), key=lambda t: int(t.address, 16))
    price = price_b_per_a_wad if t0.address == token_a.address else WAD * WAD // price_b_per_a_wad
    d.send(factory.functions.createPool(t0.address, t1.address, fee))
    pool_address = factory.functions.getPool(t0.address, t1.address, fee).call()
    pool = d.at(f"uniswap_v3_pool_{fee}", pool_address, load("UniswapV3Pool").abi, "UniswapV3Pool")
    d.send(pool.functions.initialize(sqrt_price_x96(price, WAD)))
    spacing = int(factory.functions.feeAmountTickSpacing(fee).call())
    tick = int(pool.functions.slot0().call()[1])
    for token in (t0, t1):
        d.send(token.functions.approve(positions.address, 2**256 - 1), sender=lp)
    amount0 = amount_a if t0.address == token_a.address else amount_a * price_b_per_a_wad // WAD
    amount1 = amount_a * price_b_per_a_wad // WAD if t0.address == token_a.address else amount_a
    for width in (10, 100, 1000):
        lower = (tick // spacing - width) * spacing
        upper = (tick // spacing + width) * spacing
        d.send(
            positions.functions.mint(
                (t0.address, t1.address, fee, lower, upper, amount0, amount1, 0, 0, lp, 2**40)
            ),
            sender=lp,
        )
    return pool


def deploy_morpho(d: Deployer, weth: Any, collateral: Any, lp: str, liquidity: int) -> Any:
    """Morpho Blue with one WETH-loan market (mock oracle and IRM) and ``liquidity`` supplied."""
    owner = d.sender
    morpho = d.deploy("morpho", load("Morpho"), owner)
    irm = d.deploy("morpho_irm", load("IrmMock"))
    oracle = d.deploy("morpho_oracle", load("OracleMock"))
    d.send(oracle.functions.setPrice(10**36))
    lltv = 945 * 10**15
    d.send(morpho.functions.enableIrm(irm.address))
    d.send(morpho.functions.enableLltv(lltv))
    params = (weth.address, collateral.address, oracle.address, irm.address, lltv)
    d.send(morpho.functions.createMarket(params))
    d.send(weth.functions.approve(morpho.address, 2**256 - 1), sender=lp)
    d.send(morpho.functions.supply(params, liquidity, 0, lp, b""), sender=lp)
    return morpho


def deploy_balancer_and_cow(d: Deployer, weth: Any, usdc: Any, lp: str) -> None:
    """
    The Balancer V2 Vault (with its Authorizer) and a 50/50 WETH/USDC weighted pool joined by
    ``lp``; CoW's GPv2Settlement (with its authenticator).
    """
    owner = d.sender
    authorizer = d.deploy("balancer_authorizer", load("Authorizer"), owner)
    vault = d.deploy("balancer_vault", load("Vault"), authorizer.address, weth.address, 0, 0)
    factory = d.deploy("balancer_weighted_pool_factory", load("WeightedPoolFactory"), vault.address)
    tokens = sorted((weth, usdc), key=lambda t: int(t.address, 16))
    receipt = d.send(
        factory.functions.create(
            "Balancer 50 WETH 50 USDC",
            "B-50WETH-50USDC",
            [t.address for t in tokens],
            [WAD // 2] * 2,
            3 * 10**15,
            owner,
        )
    )
    pool_address = factory.events.PoolCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["pool"]
    pool = d.at("balancer_weighted_pool", pool_address, load("WeightedPool").abi)
    pool_id = pool.functions.getPoolId().call()
    amounts = [300 * WAD if t.address == weth.address else 900_000 * 10**6 for t in tokens]
    for token in tokens:
        d.send(token.functions.approve(vault.address, 2**256 - 1), sender=lp)
    init = abi_encode(["uint256", "uint256[]"], [0, amounts])
    d.send(
        vault.functions.joinPool(pool_id, lp, lp, ([t.address for t in tokens], amounts, init, False)),
        sender=lp,
    )
    auth = d.deploy("cow_authenticator", load("GPv2AllowListAuthentication"))
    d.send(auth.functions.initializeManager(owner))
    d.deploy("cow_settlement", load("GPv2Settlement"), auth.address, vault.address)


REAL_PROTOCOL_KEYS: Final[tuple[str, ...]] = (
    "weth",
    "usdc",
    "pool_impl",
    "configurator_impl",
    "oracle",
    "addresses_provider",
    "acl_manager",
    "atoken_impl",
    "vdebt_impl",
    "rate_strategy_weth",
    "uniswap_v2_factory",
    "router",
    "uniswap_v3_factory",
    "uniswap_v3_router",
    "uniswap_v3_quoter",
    "uniswap_v3_positions",
    "uniswap_v3_pool_500",
    "uniswap_v3_pool_3000",
    "pair_weeth_weth",
    "pool",
    "a_weth",
    "debt_weth",
    "morpho",
    "balancer_vault",
    "balancer_authorizer",
    "cow_settlement",
    "cow_authenticator",
)
"""Keys of contracts deployed from published bytecode whose runtime code the tests compare."""


__all__ = [
    "ETH_RATES",
    "E_MODE_ETH",
    "FLASH_LOAN_PREMIUM_BPS",
    "LST_RATES",
    "REAL_PROTOCOL_KEYS",
    "STABLE_RATES",
    "Deployer",
    "ReserveSpec",
    "add_v3_liquidity",
    "deploy_aave_market",
    "deploy_balancer_and_cow",
    "deploy_morpho",
    "deploy_uniswap",
]
