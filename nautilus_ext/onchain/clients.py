"""
Protocol clients over web3: AAVE v3, Morpho, Lido, EtherFi, Uniswap-V2 routers, Instadapp DSA.

Reads return calculator types (``ReserveIndexState``, ``AccountData``, ``LstPoolState``) so the
live path and the simulator share one vocabulary. Writes go through :class:`ChainGateway`
(simulate, estimate × 1.2, send, receipt) and return :class:`TxReceipt`. No client catches a
third-party exception: the gateway already translated it.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.abi import AAVE_ORACLE_ABI
from nautilus_ext.onchain.abi import AAVE_POOL_ABI
from nautilus_ext.onchain.abi import ERC20_ABI
from nautilus_ext.onchain.abi import ETHERFI_EETH_ABI
from nautilus_ext.onchain.abi import ETHERFI_POOL_ABI
from nautilus_ext.onchain.abi import ETHERFI_WEETH_ABI
from nautilus_ext.onchain.abi import INSTA_ACCOUNT_ABI
from nautilus_ext.onchain.abi import LIDO_STETH_ABI
from nautilus_ext.onchain.abi import LIDO_WSTETH_ABI
from nautilus_ext.onchain.abi import SCALED_TOKEN_ABI
from nautilus_ext.onchain.abi import UNISWAP_V2_ROUTER_ABI
from nautilus_ext.onchain.abi import WETH_ABI
from nautilus_ext.onchain.calculators.aave import AccountData
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.aave import ReserveIndexState
from nautilus_ext.onchain.calculators.aave import UserReservePosition
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import TxReceipt
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.spells import MAX_UINT256
from nautilus_ext.onchain.spells import VARIABLE_RATE_MODE
from nautilus_ext.onchain.spells import Spell
from nautilus_ext.onchain.spells import encode_cast_args


class Erc20Client:
    """
    Balances, approvals and transfers of the configured ERC-20s.

    Parameters
    ----------
    gateway : ChainGateway
        The chain boundary.
    config : OnchainConfig
        Token addresses.
    """

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self._gateway = gateway
        self._config = config

    def _token(self, symbol: str) -> Any:
        try:
            address = self._config.token(symbol).address
        except KeyError as e:
            raise InvalidOrder(str(e.args[0])) from e
        return self._gateway.contract(address, ERC20_ABI)

    def balance_of(self, symbol: str, owner: str) -> int:
        """Return ``owner``'s balance of ``symbol`` in base units."""
        return int(
            self._gateway.call(self._token(symbol).functions.balanceOf(owner), step=f"balanceOf {symbol}")
        )

    def ensure_allowance(self, symbol: str, owner: str, spender: str, amount: int) -> TxReceipt | None:
        """Approve ``spender`` for ``amount`` when the current allowance is lower."""
        token = self._token(symbol)
        current = int(self._gateway.call(token.functions.allowance(owner, spender), step="allowance"))
        if current >= amount:
            return None
        return self._gateway.send(
            token.functions.approve(spender, amount), step=f"approve {symbol}", sender=owner
        )

    def transfer(self, symbol: str, sender: str, to: str, amount: int) -> TxReceipt:
        """
        Transfer ``amount`` of ``symbol`` from ``sender`` to ``to``.

        Raises
        ------
        InsufficientBalance
            If ``sender`` holds less than ``amount`` (checked before sending).
        """
        if amount <= 0:
            raise InvalidOrder(f"transfer amount {amount} must be positive")
        held = self.balance_of(symbol, sender)
        if held < amount:
            raise InsufficientBalance(
                f"{sender} holds {held} {symbol} base units, transfer needs {amount}",
                details={"asset": symbol, "held": held, "needed": amount},
            )
        return self._gateway.send(
            self._token(symbol).functions.transfer(to, amount),
            step=f"transfer {symbol}",
            sender=sender,
        )


@dataclass(frozen=True, slots=True)
class ReserveSnapshot:
    """
    One AAVE reserve as read from ``getReserveData``.

    Parameters
    ----------
    asset : str
        Underlying address.
    configuration : ReserveConfiguration
        Decoded configuration word.
    index_state : ReserveIndexState
        Indices, rates and last update (with the reserve's total scaled variable debt).
    a_token : str
        aToken address.
    variable_debt_token : str
        Variable debt token address.
    """

    asset: str
    configuration: ReserveConfiguration
    index_state: ReserveIndexState
    a_token: str
    variable_debt_token: str


class AaveV3Client:
    """
    AAVE v3 Pool and oracle.

    Parameters
    ----------
    gateway : ChainGateway
        The chain boundary.
    config : OnchainConfig
        Pool, oracle and token addresses.
    pool, oracle : str, optional
        Another AAVE-v3-compatible market's Pool and oracle (default: the configured ones).
    """

    def __init__(
        self,
        gateway: ChainGateway,
        config: OnchainConfig,
        *,
        pool: str | None = None,
        oracle: str | None = None,
    ) -> None:
        self._gateway = gateway
        self._config = config
        self._pool = gateway.contract(pool or config.aave_pool, AAVE_POOL_ABI)
        self._oracle = gateway.contract(oracle or config.aave_oracle, AAVE_ORACLE_ABI)
        self._erc20 = Erc20Client(gateway, config)

    def _asset(self, symbol: str) -> str:
        try:
            return self._config.token(symbol).address
        except KeyError as e:
            raise InvalidOrder(str(e.args[0])) from e

    # -- reads -----------------------------------------------------------------------------

    def reserve(self, symbol: str, *, with_total_debt: bool = True) -> ReserveSnapshot:
        """
        Read ``getReserveData`` and (unless skipped) the reserve's total scaled variable debt.

        The total debt only matters to :func:`~nautilus_ext.onchain.calculators.aave.accrue`
        (the borrow index moves only with debt outstanding); normalized indices do not need it.
        """
        asset = self._asset(symbol)
        raw = self._gateway.call(self._pool.functions.getReserveData(asset), step=f"getReserveData {symbol}")
        debt_token = raw[10]
        scaled_debt = 0
        if with_total_debt:
            scaled_debt = int(
                self._gateway.call(
                    self._gateway.contract(debt_token, SCALED_TOKEN_ABI).functions.scaledTotalSupply(),
                    step=f"scaledTotalSupply debt {symbol}",
                )
            )
        return ReserveSnapshot(
            asset=asset,
            configuration=ReserveConfiguration.decode(int(raw[0][0])),
            index_state=ReserveIndexState(
                liquidity_index=int(raw[1]),
                variable_borrow_index=int(raw[3]),
                current_liquidity_rate=int(raw[2]),
                current_variable_borrow_rate=int(raw[4]),
                last_update_timestamp=int(raw[6]),
                scaled_variable_debt=scaled_debt,
            ),
            a_token=raw[8],
            variable_debt_token=debt_token,
        )

    def account_data(self, user: str) -> AccountData:
        """Read ``getUserAccountData``."""
        raw = self._gateway.call(self._pool.functions.getUserAccountData(user), step="getUserAccountData")
        return AccountData(*(int(v) for v in raw))

    def asset_price(self, symbol: str) -> int:
        """Read ``AaveOracle.getAssetPrice`` (base currency units)."""
        return int(
            self._gateway.call(
                self._oracle.functions.getAssetPrice(self._asset(symbol)),
                step=f"getAssetPrice {symbol}",
            )
        )

    def reserves_list(self) -> list[str]:
        """Read ``getReservesList`` (underlying asset addresses)."""
        return [str(a) for a in self._gateway.call(self._pool.functions.getReservesList(), step="reserves")]

    def user_e_mode(self, user: str) -> int:
        """Read the user's e-mode category."""
        return int(self._gateway.call(self._pool.functions.getUserEMode(user), step="getUserEMode"))

    def e_mode_category(self, category_id: int) -> EModeCategory:
        """Read ``getEModeCategoryData``."""
        raw = self._gateway.call(
            self._pool.functions.getEModeCategoryData(category_id), step="getEModeCategoryData"
        )
        return EModeCategory(
            category_id=category_id,
            ltv_bps=int(raw[0]),
            liquidation_threshold_bps=int(raw[1]),
            liquidation_bonus_bps=int(raw[2]),
        )

    def scaled_balances(
        self, symbol: str, user: str, reserve: ReserveSnapshot | None = None
    ) -> tuple[int, int]:
        """Return the user's ``(scaled aToken, scaled variable debt)`` for a reserve."""
        reserve = reserve or self.reserve(symbol)
        a_token = self._gateway.contract(reserve.a_token, SCALED_TOKEN_ABI)
        debt = self._gateway.contract(reserve.variable_debt_token, SCALED_TOKEN_ABI)
        return (
            int(self._gateway.call(a_token.functions.scaledBalanceOf(user), step="scaledBalanceOf")),
            int(self._gateway.call(debt.functions.scaledBalanceOf(user), step="scaledBalanceOf")),
        )

    def user_positions(
        self,
        user: str,
        symbols: Sequence[str],
        now: int,
        *,
        using_as_collateral: bool = True,
        priced: Collection[str] | None = None,
    ) -> list[UserReservePosition]:
        """
        Read what ``calculateUserAccountData`` would see for ``symbols`` at time ``now``.

        Indices are projected to ``now`` with the pure calculators, so the result can be fed
        to :func:`~nautilus_ext.onchain.calculators.aave.user_account_data` and compared with
        the chain to the unit. With ``priced``, the oracle is only read for reserves where the
        user has a balance or that are listed (a zero position contributes nothing, whatever
        its price; it is reported with price 0).
        """
        from nautilus_ext.onchain.calculators.aave import normalized_debt
        from nautilus_ext.onchain.calculators.aave import normalized_income

        positions: list[UserReservePosition] = []
        for symbol in symbols:
            reserve = self.reserve(symbol, with_total_debt=False)
            scaled_supply, scaled_debt = self.scaled_balances(symbol, user, reserve)
            needs_price = priced is None or symbol in priced or scaled_supply != 0 or scaled_debt != 0
            positions.append(
                UserReservePosition(
                    asset=symbol,
                    scaled_a_token_balance=scaled_supply,
                    scaled_variable_debt=scaled_debt,
                    normalized_income=normalized_income(reserve.index_state, now),
                    normalized_debt=normalized_debt(reserve.index_state, now),
                    price=self.asset_price(symbol) if needs_price else 0,
                    configuration=reserve.configuration,
                    using_as_collateral=using_as_collateral,
                )
            )
        return positions

    # -- writes from an EOA (the sequential path) -----------------------------------------

    def supply(self, sender: str, symbol: str, amount: int) -> TxReceipt:
        """Approve and ``supply`` ``amount`` for ``sender``."""
        asset = self._asset(symbol)
        self._erc20.ensure_allowance(symbol, sender, self._pool.address, amount)
        return self._gateway.send(
            self._pool.functions.supply(asset, amount, sender, 0),
            step=f"supply {symbol}",
            sender=sender,
        )

    def withdraw(self, sender: str, symbol: str, amount: int) -> TxReceipt:
        """``withdraw`` ``amount`` (``2**256 - 1`` for everything) to ``sender``."""
        return self._gateway.send(
            self._pool.functions.withdraw(self._asset(symbol), amount, sender),
            step=f"withdraw {symbol}",
            sender=sender,
        )

    def borrow(self, sender: str, symbol: str, amount: int) -> TxReceipt:
        """``borrow`` ``amount`` at the variable rate."""
        return self._gateway.send(
            self._pool.functions.borrow(self._asset(symbol), amount, VARIABLE_RATE_MODE, 0, sender),
            step=f"borrow {symbol}",
            sender=sender,
        )

    def repay(self, sender: str, symbol: str, amount: int) -> TxReceipt:
        """Approve and ``repay`` ``amount`` (``2**256 - 1`` for the whole debt)."""
        asset = self._asset(symbol)
        self._erc20.ensure_allowance(symbol, sender, self._pool.address, amount)
        return self._gateway.send(
            self._pool.functions.repay(asset, amount, VARIABLE_RATE_MODE, sender),
            step=f"repay {symbol}",
            sender=sender,
        )

    def set_user_e_mode(self, sender: str, category_id: int) -> TxReceipt:
        """``setUserEMode``."""
        return self._gateway.send(
            self._pool.functions.setUserEMode(category_id), step="setUserEMode", sender=sender
        )


class LstClient:
    """
    A share-based liquid staking protocol: Lido (stETH/wstETH) or EtherFi (eETH/weETH).

    Parameters
    ----------
    gateway : ChainGateway
        The chain boundary.
    protocol : str
        ``LIDO`` or ``ETHERFI``.
    config : OnchainConfig
        Contract addresses.
    """

    def __init__(self, gateway: ChainGateway, protocol: str, config: OnchainConfig) -> None:
        self._gateway = gateway
        self.protocol = protocol.upper()
        if self.protocol == "LIDO":
            self._stake = gateway.contract(config.lido_steth, LIDO_STETH_ABI)
            self._rebasing = self._stake
            self._wrapped = gateway.contract(config.lido_wsteth, LIDO_WSTETH_ABI)
            self.rebasing_symbol, self.wrapped_symbol = "STETH", "WSTETH"
        elif self.protocol == "ETHERFI":
            self._stake = gateway.contract(config.etherfi_liquidity_pool, ETHERFI_POOL_ABI)
            self._rebasing = gateway.contract(config.etherfi_eeth, ETHERFI_EETH_ABI)
            self._wrapped = gateway.contract(config.etherfi_weeth, ETHERFI_WEETH_ABI)
            self.rebasing_symbol, self.wrapped_symbol = "EETH", "WEETH"
        else:
            raise InvalidOrder(f"unknown liquid staking protocol {protocol!r}; use LIDO or ETHERFI")

    @property
    def wrapped_address(self) -> str:
        """Address of the wrapped (non-rebasing) token."""
        return str(self._wrapped.address)

    @property
    def rebasing_address(self) -> str:
        """Address of the rebasing token."""
        return str(self._rebasing.address)

    def pool_state(self) -> LstPoolState:
        """Read total pooled ether and total shares."""
        pooled = int(self._gateway.call(self._stake.functions.getTotalPooledEther(), step="totalPooled"))
        fn = (
            self._rebasing.functions.getTotalShares()
            if self.protocol == "LIDO"
            else self._rebasing.functions.totalShares()
        )
        return LstPoolState(pooled, int(self._gateway.call(fn, step="totalShares")))

    def stake(self, sender: str, eth_wei: int) -> TxReceipt:
        """Stake ETH (``submit`` for Lido, ``deposit`` for EtherFi)."""
        if eth_wei <= 0:
            raise InvalidOrder(f"stake amount {eth_wei} must be positive")
        fn = (
            self._stake.functions.submit("0x" + "00" * 20)
            if self.protocol == "LIDO"
            else self._stake.functions.deposit()
        )
        return self._gateway.send(fn, step=f"stake {self.protocol}", sender=sender, value=eth_wei)

    def wrap(self, sender: str, amount: int) -> TxReceipt:
        """Approve and wrap ``amount`` of the rebasing token."""
        if amount <= 0:
            raise InvalidOrder(f"wrap amount {amount} must be positive")
        allowance = int(
            self._gateway.call(
                self._rebasing.functions.allowance(sender, self._wrapped.address),
                step="allowance",
            )
        )
        if allowance < amount:
            self._gateway.send(
                self._rebasing.functions.approve(self._wrapped.address, amount),
                step=f"approve {self.rebasing_symbol}",
                sender=sender,
            )
        return self._gateway.send(
            self._wrapped.functions.wrap(amount), step=f"wrap {self.wrapped_symbol}", sender=sender
        )

    def unwrap(self, sender: str, amount: int) -> TxReceipt:
        """Unwrap ``amount`` of the wrapped token."""
        if amount <= 0:
            raise InvalidOrder(f"unwrap amount {amount} must be positive")
        return self._gateway.send(
            self._wrapped.functions.unwrap(amount),
            step=f"unwrap {self.wrapped_symbol}",
            sender=sender,
        )


class WethClient:
    """WETH9 wrap/unwrap."""

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self._gateway = gateway
        self._weth = gateway.contract(config.token("WETH").address, WETH_ABI)

    def wrap(self, sender: str, amount: int) -> TxReceipt:
        """Wrap ``amount`` wei of ETH."""
        return self._gateway.send(
            self._weth.functions.deposit(), step="wrap WETH", sender=sender, value=amount
        )

    def unwrap(self, sender: str, amount: int) -> TxReceipt:
        """Unwrap ``amount`` WETH."""
        return self._gateway.send(self._weth.functions.withdraw(amount), step="unwrap WETH", sender=sender)


class SwapRouterClient:
    """Quotes from a Uniswap-V2-style router (``getAmountsOut``/``getAmountsIn``)."""

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self._gateway = gateway
        self._router = gateway.contract(config.swap_router, UNISWAP_V2_ROUTER_ABI)

    def quote_out(self, amount_in: int, token_in: str, token_out: str) -> int:
        """Return the output for an exact input."""
        out = self._gateway.call(
            self._router.functions.getAmountsOut(amount_in, [token_in, token_out]),
            step="getAmountsOut",
        )
        return int(out[-1])

    def quote_in(self, amount_out: int, token_in: str, token_out: str) -> int:
        """Return the input needed for an exact output."""
        out = self._gateway.call(
            self._router.functions.getAmountsIn(amount_out, [token_in, token_out]),
            step="getAmountsIn",
        )
        return int(out[0])


class MorphoClient:
    """Morpho Blue flash liquidity (loans themselves run through the Instadapp aggregator)."""

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self._config = config
        self._erc20 = Erc20Client(gateway, config)

    def flash_liquidity(self, symbol: str) -> int:
        """Return the token balance Morpho can flash-lend (base units)."""
        return self._erc20.balance_of(symbol, self._config.morpho)


class InstadappClient:
    """
    The wallet's Instadapp DSA: ``cast`` spells, simulate them and estimate their gas.

    Parameters
    ----------
    gateway : ChainGateway
        The chain boundary.
    config : OnchainConfig
        DSA address and limits.
    """

    def __init__(self, gateway: ChainGateway, config: OnchainConfig) -> None:
        self._gateway = gateway
        self._config = config
        self._dsa = gateway.contract(config.dsa, INSTA_ACCOUNT_ABI)

    @property
    def address(self) -> str:
        """The DSA address."""
        return str(self._dsa.address)

    def _cast_fn(self, spells: Sequence[Spell], origin: str) -> Any:
        if len(spells) > self._config.max_spells:
            raise InvalidOrder(f"cast holds {len(spells)} spells, the limit is {self._config.max_spells}")
        names, datas = encode_cast_args(spells)
        return self._dsa.functions.cast(names, datas, origin)

    def cast_call(self, spells: Sequence[Spell], origin: str) -> Any:
        """Return the (unsent) ``cast`` call of ``spells``: what a gate release is bound to."""
        return self._cast_fn(spells, origin)

    def is_auth(self, user: str) -> bool:
        """Return whether ``user`` may cast on the DSA."""
        return bool(self._gateway.call(self._dsa.functions.isAuth(user), step="isAuth"))

    def simulate(self, spells: Sequence[Spell], sender: str, *, step: str) -> None:
        """Run the cast with ``eth_call``; raise the translated error if it would revert."""
        self._gateway.call(self._cast_fn(spells, sender), step=step, sender=sender)

    def estimate_gas(self, spells: Sequence[Spell], sender: str, *, step: str) -> int:
        """Return the node's gas estimate for the cast."""
        return self._gateway.estimate_gas(self._cast_fn(spells, sender), step=step, sender=sender)

    def cast(
        self, spells: Sequence[Spell], sender: str, *, step: str, gas_limit: int | None = None
    ) -> TxReceipt:
        """
        Send the cast and return its receipt.

        Without ``gas_limit`` the gateway simulates and estimates first (limit = estimate ×
        1.2); pass the limit from a prior simulation to skip doing it twice.
        """
        return self._gateway.send(
            self._cast_fn(spells, sender), step=step, sender=sender, gas_limit=gas_limit
        )


__all__ = [
    "MAX_UINT256",
    "AaveV3Client",
    "Erc20Client",
    "InstadappClient",
    "LstClient",
    "MorphoClient",
    "ReserveSnapshot",
    "SwapRouterClient",
    "WethClient",
]
