"""
AAVE v3 reserve and account math, integer-exact (ports of ReserveLogic and GenericLogic).

The pure functions here are shared by the live path (checking what the chain should report
before and after a bundle) and by the backtest simulator. Amounts are token base units,
prices and values are in the oracle's base currency units (``BASE_CURRENCY_UNIT``, 1e8 for the
USD markets), indices and rates are rays, LTV and thresholds are basis points, health factor is
a wad. References: aave-v3-core v3.0.x ``ReserveLogic.sol``, ``GenericLogic.sol``,
``ValidationLogic.sol``, ``ReserveConfiguration.sol``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from typing import Final

from nautilus_ext.onchain.calculators.ray_math import RAY
from nautilus_ext.onchain.calculators.ray_math import UINT256_MAX
from nautilus_ext.onchain.calculators.ray_math import calculate_compounded_interest
from nautilus_ext.onchain.calculators.ray_math import calculate_linear_interest
from nautilus_ext.onchain.calculators.ray_math import percent_div
from nautilus_ext.onchain.calculators.ray_math import percent_mul
from nautilus_ext.onchain.calculators.ray_math import ray_div
from nautilus_ext.onchain.calculators.ray_math import ray_mul
from nautilus_ext.onchain.calculators.ray_math import wad_div

HEALTH_FACTOR_LIQUIDATION_THRESHOLD: Final[int] = 10**18
"""A position with health factor (wad) below this can be liquidated."""

# ReserveConfiguration.sol bit layout (v3.0.x)
_LTV_MASK: Final[int] = 0xFFFF
_LIQ_THRESHOLD_START: Final[int] = 16
_LIQ_BONUS_START: Final[int] = 32
_DECIMALS_START: Final[int] = 48
_ACTIVE_BIT: Final[int] = 56
_FROZEN_BIT: Final[int] = 57
_BORROWING_BIT: Final[int] = 58
_PAUSED_BIT: Final[int] = 60
_EMODE_CATEGORY_START: Final[int] = 168


@dataclass(frozen=True, slots=True)
class ReserveConfiguration:
    """
    The fields of AAVE's packed ``ReserveConfigurationMap`` this module uses.

    Parameters
    ----------
    ltv_bps : int
        Loan-to-value in basis points.
    liquidation_threshold_bps : int
        Liquidation threshold in basis points.
    liquidation_bonus_bps : int
        Liquidation bonus in basis points (10500 means a 5 % bonus).
    decimals : int
        Token decimals of the underlying asset.
    active, frozen, borrowing_enabled, paused : bool
        Reserve status flags.
    e_mode_category : int
        E-mode category id (0 when none).
    """

    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    decimals: int
    active: bool
    frozen: bool
    borrowing_enabled: bool
    paused: bool
    e_mode_category: int

    @classmethod
    def decode(cls, data: int) -> ReserveConfiguration:
        """Decode the ``configuration.data`` word returned by ``Pool.getReserveData``."""
        if data < 0 or data > UINT256_MAX:
            raise ValueError(f"reserve configuration {data} is not a uint256")
        return cls(
            ltv_bps=data & _LTV_MASK,
            liquidation_threshold_bps=(data >> _LIQ_THRESHOLD_START) & 0xFFFF,
            liquidation_bonus_bps=(data >> _LIQ_BONUS_START) & 0xFFFF,
            decimals=(data >> _DECIMALS_START) & 0xFF,
            active=bool((data >> _ACTIVE_BIT) & 1),
            frozen=bool((data >> _FROZEN_BIT) & 1),
            borrowing_enabled=bool((data >> _BORROWING_BIT) & 1),
            paused=bool((data >> _PAUSED_BIT) & 1),
            e_mode_category=(data >> _EMODE_CATEGORY_START) & 0xFF,
        )

    def encode(self) -> int:
        """Pack the fields into the protocol's configuration word."""
        return (
            self.ltv_bps
            | self.liquidation_threshold_bps << _LIQ_THRESHOLD_START
            | self.liquidation_bonus_bps << _LIQ_BONUS_START
            | self.decimals << _DECIMALS_START
            | int(self.active) << _ACTIVE_BIT
            | int(self.frozen) << _FROZEN_BIT
            | int(self.borrowing_enabled) << _BORROWING_BIT
            | int(self.paused) << _PAUSED_BIT
            | self.e_mode_category << _EMODE_CATEGORY_START
        )


@dataclass(frozen=True, slots=True)
class EModeCategory:
    """
    An AAVE e-mode category (``getEModeCategoryData``).

    Parameters
    ----------
    category_id : int
        The category id (1..255).
    ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps : int
        Risk parameters replacing the reserve's own while the user is in this category.
    """

    category_id: int
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int


@dataclass(frozen=True, slots=True)
class ReserveIndexState:
    """
    The interest-accrual state of one reserve.

    Parameters
    ----------
    liquidity_index : int
        Cumulated liquidity index (ray) at ``last_update_timestamp``.
    variable_borrow_index : int
        Cumulated variable borrow index (ray) at ``last_update_timestamp``.
    current_liquidity_rate : int
        Annual supply rate (ray).
    current_variable_borrow_rate : int
        Annual variable borrow rate (ray).
    last_update_timestamp : int
        Unix seconds of the last index update.
    scaled_variable_debt : int
        Total scaled variable debt of the reserve (the borrow index only moves when non-zero).
    """

    liquidity_index: int
    variable_borrow_index: int
    current_liquidity_rate: int
    current_variable_borrow_rate: int
    last_update_timestamp: int
    scaled_variable_debt: int = 0

    def __post_init__(self) -> None:
        if self.liquidity_index < RAY or self.variable_borrow_index < RAY:
            raise ValueError("indices start at one ray and never decrease")
        if self.current_liquidity_rate < 0 or self.current_variable_borrow_rate < 0:
            raise ValueError("rates must be non-negative")


def _elapsed(state: ReserveIndexState, now: int) -> int:
    if now < state.last_update_timestamp:
        raise ValueError(f"timestamp {now} precedes the last update {state.last_update_timestamp}")
    return now - state.last_update_timestamp


def normalized_income(state: ReserveIndexState, now: int) -> int:
    """
    Return the liquidity index as of ``now`` (``ReserveLogic.getNormalizedIncome``).

    Supply interest accrues linearly between updates.
    """
    elapsed = _elapsed(state, now)
    if elapsed == 0:
        return state.liquidity_index
    return ray_mul(calculate_linear_interest(state.current_liquidity_rate, elapsed), state.liquidity_index)


def normalized_debt(state: ReserveIndexState, now: int) -> int:
    """
    Return the variable borrow index as of ``now`` (``ReserveLogic.getNormalizedDebt``).

    Borrow interest compounds (the protocol's third-order approximation).
    """
    elapsed = _elapsed(state, now)
    if elapsed == 0:
        return state.variable_borrow_index
    return ray_mul(
        calculate_compounded_interest(state.current_variable_borrow_rate, elapsed),
        state.variable_borrow_index,
    )


def accrue(state: ReserveIndexState, now: int) -> ReserveIndexState:
    """
    Return the state after ``ReserveLogic.updateState`` at ``now``.

    As in the protocol, the liquidity index only moves when the supply rate is non-zero and
    the borrow index only moves when the reserve has scaled variable debt.
    """
    elapsed = _elapsed(state, now)
    liquidity_index = state.liquidity_index
    borrow_index = state.variable_borrow_index
    if state.current_liquidity_rate != 0:
        liquidity_index = ray_mul(
            calculate_linear_interest(state.current_liquidity_rate, elapsed), liquidity_index
        )
    if state.scaled_variable_debt != 0:
        borrow_index = ray_mul(
            calculate_compounded_interest(state.current_variable_borrow_rate, elapsed),
            borrow_index,
        )
    return replace(
        state,
        liquidity_index=liquidity_index,
        variable_borrow_index=borrow_index,
        last_update_timestamp=now,
    )


def scaled_amount(amount: int, index: int) -> int:
    """
    Return the scaled units minted or burnt for ``amount`` at ``index`` (``amount.rayDiv(index)``).

    This is what ``AToken.mint``/``burn`` and ``VariableDebtToken.mint``/``burn`` record.
    """
    return ray_div(amount, index)


def balance_of_scaled(scaled_balance: int, index: int) -> int:
    """Return the token balance for a scaled balance (``scaled.rayMul(index)``)."""
    return ray_mul(scaled_balance, index)


def value_in_base(amount: int, price: int, decimals: int) -> int:
    """
    Convert a token amount to base currency the protocol's way (``amount * price / 10**dec``).

    Parameters
    ----------
    amount : int
        Token base units.
    price : int
        Oracle price of one whole token in base currency units.
    decimals : int
        Token decimals.
    """
    unit: int = 10**decimals
    return (amount * price) // unit


@dataclass(frozen=True, slots=True)
class UserReservePosition:
    """
    One reserve as seen by ``GenericLogic.calculateUserAccountData`` for one user.

    Parameters
    ----------
    asset : str
        Underlying asset address or symbol (identification only).
    scaled_a_token_balance : int
        The user's ``AToken.scaledBalanceOf``.
    scaled_variable_debt : int
        The user's ``VariableDebtToken.scaledBalanceOf``.
    normalized_income : int
        Reserve liquidity index as of now (ray).
    normalized_debt : int
        Reserve variable borrow index as of now (ray).
    price : int
        Oracle price in base currency units.
    configuration : ReserveConfiguration
        The reserve's risk configuration.
    using_as_collateral : bool
        Whether the user's supply counts as collateral.
    """

    asset: str
    scaled_a_token_balance: int
    scaled_variable_debt: int
    normalized_income: int
    normalized_debt: int
    price: int
    configuration: ReserveConfiguration
    using_as_collateral: bool = True

    @property
    def supply_balance(self) -> int:
        """Underlying redeemable by the user (``aToken.balanceOf``)."""
        return balance_of_scaled(self.scaled_a_token_balance, self.normalized_income)

    @property
    def debt_balance(self) -> int:
        """Underlying owed by the user (``variableDebtToken.balanceOf``)."""
        return balance_of_scaled(self.scaled_variable_debt, self.normalized_debt)


@dataclass(frozen=True, slots=True)
class AccountData:
    """
    The tuple returned by ``Pool.getUserAccountData``.

    Parameters
    ----------
    total_collateral_base, total_debt_base, available_borrows_base : int
        Values in base currency units.
    current_liquidation_threshold_bps, ltv_bps : int
        Collateral-weighted averages in basis points.
    health_factor : int
        Wad; ``2**256 - 1`` when there is no debt.
    """

    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    current_liquidation_threshold_bps: int
    ltv_bps: int
    health_factor: int

    def current_ltv(self) -> Decimal:
        """Return the position's actual debt/collateral ratio (0 with no collateral)."""
        if self.total_collateral_base == 0:
            return Decimal(0)
        return Decimal(self.total_debt_base) / Decimal(self.total_collateral_base)


def health_factor(total_collateral_base: int, total_debt_base: int, liq_threshold_bps: int) -> int:
    """
    Return the health factor (wad) as ``GenericLogic`` computes it.

    ``(collateral.percentMul(threshold)).wadDiv(debt)``, or ``2**256 - 1`` with no debt.
    """
    if total_debt_base == 0:
        return UINT256_MAX
    return wad_div(percent_mul(total_collateral_base, liq_threshold_bps), total_debt_base)


def available_borrows(total_collateral_base: int, total_debt_base: int, ltv_bps: int) -> int:
    """Return what more can be borrowed in base currency (``calculateAvailableBorrows``)."""
    capacity = percent_mul(total_collateral_base, ltv_bps)
    return 0 if capacity < total_debt_base else capacity - total_debt_base


def user_account_data(
    positions: Sequence[UserReservePosition],
    e_mode: EModeCategory | None = None,
) -> AccountData:
    """
    Compute ``Pool.getUserAccountData`` from the user's reserves (``calculateUserAccountData``).

    Parameters
    ----------
    positions : Sequence[UserReservePosition]
        Every reserve where the user supplies or borrows, in the pool's reserve order.
    e_mode : EModeCategory, optional
        The user's e-mode category; reserves in that category use its LTV and threshold.

    Returns
    -------
    AccountData
        Exactly what the protocol returns for the same state.
    """
    total_collateral = 0
    total_debt = 0
    weighted_ltv = 0
    weighted_threshold = 0
    for position in positions:
        config = position.configuration
        ltv = config.ltv_bps
        threshold = config.liquidation_threshold_bps
        if e_mode is not None and config.e_mode_category == e_mode.category_id:
            ltv = e_mode.ltv_bps
            threshold = e_mode.liquidation_threshold_bps
        unit: int = 10**config.decimals
        if threshold != 0 and position.using_as_collateral:
            balance_base = (
                ray_mul(position.scaled_a_token_balance, position.normalized_income) * position.price
            ) // unit
            total_collateral += balance_base
            weighted_ltv += balance_base * ltv
            weighted_threshold += balance_base * threshold
        if position.scaled_variable_debt != 0:
            debt = ray_mul(position.scaled_variable_debt, position.normalized_debt)
            total_debt += (debt * position.price) // unit
    avg_ltv = weighted_ltv // total_collateral if total_collateral else 0
    avg_threshold = weighted_threshold // total_collateral if total_collateral else 0
    return AccountData(
        total_collateral_base=total_collateral,
        total_debt_base=total_debt,
        available_borrows_base=available_borrows(total_collateral, total_debt, avg_ltv),
        current_liquidation_threshold_bps=avg_threshold,
        ltv_bps=avg_ltv,
        health_factor=health_factor(total_collateral, total_debt, avg_threshold),
    )


def borrow_allowed(account: AccountData, amount_base: int) -> bool:
    """
    Return whether ``ValidationLogic.validateBorrow`` lets a borrow of ``amount_base`` through.

    Checks the three collateral rules: collateral present, health factor above 1 and
    ``(debt + amount).percentDiv(ltv) <= collateral``.
    """
    if account.total_collateral_base == 0 or account.ltv_bps == 0:
        return False
    if account.health_factor <= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        return False
    needed = percent_div(account.total_debt_base + amount_base, account.ltv_bps)
    return needed <= account.total_collateral_base


__all__ = [
    "HEALTH_FACTOR_LIQUIDATION_THRESHOLD",
    "AccountData",
    "EModeCategory",
    "ReserveConfiguration",
    "ReserveIndexState",
    "UserReservePosition",
    "accrue",
    "available_borrows",
    "balance_of_scaled",
    "borrow_allowed",
    "health_factor",
    "normalized_debt",
    "normalized_income",
    "scaled_amount",
    "user_account_data",
    "value_in_base",
]
