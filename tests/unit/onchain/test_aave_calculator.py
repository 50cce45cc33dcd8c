"""AAVE reserve/account math: configuration word, index accrual, account data, borrow rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.onchain.calculators.aave import HEALTH_FACTOR_LIQUIDATION_THRESHOLD
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.aave import ReserveIndexState
from nautilus_ext.onchain.calculators.aave import UserReservePosition
from nautilus_ext.onchain.calculators.aave import accrue
from nautilus_ext.onchain.calculators.aave import borrow_allowed
from nautilus_ext.onchain.calculators.aave import health_factor
from nautilus_ext.onchain.calculators.aave import normalized_debt
from nautilus_ext.onchain.calculators.aave import normalized_income
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.ray_math import RAY
from nautilus_ext.onchain.calculators.ray_math import SECONDS_PER_YEAR
from nautilus_ext.onchain.calculators.ray_math import UINT256_MAX
from nautilus_ext.onchain.calculators.ray_math import WAD

WETH_CFG = ReserveConfiguration(8000, 8250, 10500, 18, True, False, True, False, 1)
WEETH_CFG = ReserveConfiguration(7250, 7500, 10500, 18, True, False, False, False, 1)


configurations = st.builds(
    ReserveConfiguration,
    ltv_bps=st.integers(0, 0xFFFF),
    liquidation_threshold_bps=st.integers(0, 0xFFFF),
    liquidation_bonus_bps=st.integers(0, 0xFFFF),
    decimals=st.integers(0, 0xFF),
    active=st.booleans(),
    frozen=st.booleans(),
    borrowing_enabled=st.booleans(),
    paused=st.booleans(),
    e_mode_category=st.integers(0, 0xFF),
)


@given(configurations)
def test_configuration_round_trips(config: ReserveConfiguration) -> None:
    assert ReserveConfiguration.decode(config.encode()) == config


def test_configuration_bit_layout_matches_reserve_configuration_sol() -> None:
    # LTV bits 0-15, threshold 16-31, bonus 32-47, decimals 48-55, active 56, e-mode 168-175.
    word = 8000 | 8250 << 16 | 10500 << 32 | 18 << 48 | 1 << 56 | 1 << 58 | 1 << 168
    assert ReserveConfiguration.decode(word) == WETH_CFG


def test_liquidity_index_is_linear_and_borrow_index_compounds() -> None:
    state = ReserveIndexState(RAY, RAY, 21 * RAY // 1000, 29 * RAY // 1000, 1_000, 10)
    year_later = 1_000 + SECONDS_PER_YEAR
    assert normalized_income(state, year_later) == RAY + 21 * RAY // 1000
    debt_index = normalized_debt(state, year_later)
    assert RAY + 29 * RAY // 1000 < debt_index < RAY + 30 * RAY // 1000
    after = accrue(state, year_later)
    assert after.liquidity_index == normalized_income(state, year_later)
    assert after.variable_borrow_index == debt_index
    assert after.last_update_timestamp == year_later


def test_borrow_index_stays_without_debt_as_in_update_state() -> None:
    state = ReserveIndexState(RAY, RAY, 0, 29 * RAY // 1000, 0, scaled_variable_debt=0)
    after = accrue(state, 3600)
    assert after.variable_borrow_index == RAY
    assert after.liquidity_index == RAY
    with pytest.raises(ValueError, match="precedes"):
        accrue(after, 10)


def _position(
    symbol: str, supply: int, debt: int, price: int, cfg: ReserveConfiguration
) -> UserReservePosition:
    return UserReservePosition(symbol, supply, debt, RAY, RAY, price, cfg)


def test_account_data_by_hand() -> None:
    positions = [
        _position("WEETH", 100 * WAD, 0, 3_190_00000000, WEETH_CFG),
        _position("WETH", 0, 240 * WAD, 3_000_00000000, WETH_CFG),
    ]
    data = user_account_data(positions)
    assert data.total_collateral_base == 319_000_00000000
    assert data.total_debt_base == 720_000_00000000 // 1  # 240 * 3000
    assert data.ltv_bps == 7250
    assert data.current_liquidation_threshold_bps == 7500
    # (319000 * 0.75) / 720000 in wad, rounded half up
    assert data.health_factor == (319_000 * 7500 * WAD // 10_000 * 10**8 + 360_000 * 10**8) // (
        720_000 * 10**8
    )
    assert data.available_borrows_base == 0
    e_mode = EModeCategory(1, 9300, 9500, 10100)
    data_e = user_account_data(positions, e_mode)
    assert data_e.ltv_bps == 9300
    assert data_e.current_liquidation_threshold_bps == 9500
    assert data_e.health_factor > data.health_factor


def test_health_factor_without_debt_is_max() -> None:
    assert health_factor(10**8, 0, 8000) == UINT256_MAX


def test_borrow_rule_follows_validation_logic() -> None:
    positions = [_position("WEETH", 100 * WAD, 0, 3_000_00000000, WEETH_CFG)]
    account = user_account_data(positions, EModeCategory(1, 9300, 9500, 10100))
    # 93 % of 300,000 USD of collateral can be borrowed, not a unit more.
    assert borrow_allowed(account, 279_000_00000000)
    assert not borrow_allowed(account, 279_000_00000000 + 10**5)
    empty = user_account_data([])
    assert not borrow_allowed(empty, 1)
    assert HEALTH_FACTOR_LIQUIDATION_THRESHOLD == WAD


def test_current_ltv_is_exact_decimal() -> None:
    data = user_account_data(
        [
            _position("WEETH", 10 * WAD, 0, 3_000_00000000, WEETH_CFG),
            _position("WETH", 0, 9 * WAD, 3_000_00000000, WETH_CFG),
        ]
    )
    assert data.current_ltv() == Decimal("0.9")
