"""The backtest venue over time: accrual, LST price growth, rewards and the balance sheet."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import ReserveConfiguration
from nautilus_ext.onchain.calculators.aave import ReserveIndexState
from nautilus_ext.onchain.calculators.accounting import GasLedger
from nautilus_ext.onchain.calculators.accounting import ShareClass
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.calculators.lst import lst_price_in_base
from nautilus_ext.onchain.calculators.ray_math import RAY
from nautilus_ext.onchain.calculators.staking import RewardDistribution
from nautilus_ext.onchain.calculators.staking import RewardsMode
from nautilus_ext.onchain.calculators.staking import RewardToken
from nautilus_ext.onchain.calculators.staking import reward_payments
from nautilus_ext.onchain.simulation import GasModel
from nautilus_ext.onchain.simulation import SimReserve
from nautilus_ext.onchain.simulation import SimulatedOnchainVenue

ETH = 10**18
DAY = 86_400
T0 = 1_715_472_000  # 2024-05-12 00:00 UTC
ETH_USD = 3_000 * 10**8
E_MODE = EModeCategory(1, 9300, 9500, 10100)


def _venue(share_class: ShareClass, eth: Decimal) -> SimulatedOnchainVenue:
    pool = LstPoolState(total_pooled_ether=1_050 * ETH, total_shares=1_000 * ETH)
    weeth_price = lst_price_in_base(pool.amount_for_shares(ETH), ETH_USD)
    weth = SimReserve(
        "WETH",
        ReserveConfiguration(8000, 8250, 10500, 18, True, False, True, False, 1),
        ReserveIndexState(RAY, RAY, 21 * RAY // 1000, 29 * RAY // 1000, T0),
        ETH_USD,
        10_000 * ETH,
    )
    weeth = SimReserve(
        "WEETH",
        ReserveConfiguration(7250, 7500, 10500, 18, True, False, False, False, 1),
        ReserveIndexState(RAY, RAY, 0, 0, T0),
        weeth_price,
        0,
    )
    venue = SimulatedOnchainVenue(
        reserves=[weth, weeth],
        lst_pools={"WEETH": pool},
        gas=GasModel(gas_price_wei=20 * 10**9, atomic_entry_gas=650_000, per_transaction_gas=150_000),
        gas_ledger=GasLedger(share_class, eth),
        start_timestamp=T0,
    )
    venue.set_e_mode(E_MODE)
    return venue


def test_thirty_days_of_a_leveraged_position() -> None:
    venue = _venue(ShareClass.USDT, Decimal(0))
    venue.deposit_to_wallet("WETH", 10 * ETH)
    venue.leveraged_entry(
        10 * ETH, Decimal("0.9"), lst_symbol="WEETH", atomic=True, timestamp_ns=T0 * 10**9, min_step_wei=1
    )
    start = venue.balance_sheet(eth_usd_price=Decimal(3000), cex_balances_usd=Decimal(0))
    # Equity ~ 10 ETH minus the entry gas (0.013 ETH as gas debt) and rounding.
    assert abs(start.total_value_eth - Decimal("9.987")) < Decimal("0.0001")

    # 30 days: WETH debt compounds at 2.9 %, weETH's rate grows 0.3 % (staking rewards).
    pool = venue.lst_pool("WEETH")
    rebased = LstPoolState(pool.total_pooled_ether * 1003 // 1000, pool.total_shares)
    venue.set_lst_pool("WEETH", rebased)
    weeth_price = lst_price_in_base(rebased.amount_for_shares(ETH), ETH_USD)
    venue.advance(T0 + 30 * DAY, prices={"WEETH": weeth_price})
    debt = venue.debt_balance("WETH")
    assert 90 * ETH < debt < 90 * ETH * 10024 // 10000  # ~0.24 % interest in 30 days
    after = venue.balance_sheet(eth_usd_price=Decimal(3000), cex_balances_usd=Decimal(0))
    assert venue.account_data().health_factor > 10**18
    # 100 ETH of collateral gaining 0.3 % beats 90 ETH of debt paying ~0.24 %.
    assert after.total_value_eth > start.total_value_eth

    # EIGEN weekly rewards are discrete payments on the weETH held in AAVE.
    held = Decimal(venue.supply_balance("WEETH")) / Decimal(ETH)
    distributions = [
        RewardDistribution(
            RewardToken.EIGEN, (T0 + 7 * DAY) * 10**9, T0 * 10**9, (T0 + 7 * DAY) * 10**9, Decimal("0.001")
        ),
    ]
    paid = reward_payments(
        RewardsMode.BASE_EIGEN,
        distributions,
        [(T0 * 10**9, held)],
        start_ns=T0 * 10**9,
        end_ns=(T0 + 30 * DAY) * 10**9,
    )
    assert [p.amount for p in paid] == [held * Decimal("0.001")]


def test_eth_share_class_cannot_go_into_gas_debt() -> None:
    venue = _venue(ShareClass.ETH, Decimal("0.001"))
    venue.deposit_to_wallet("WETH", 10 * ETH)
    with pytest.raises(ValueError, match="cannot pay"):
        venue.leveraged_entry(
            10 * ETH, Decimal("0.9"), lst_symbol="WEETH", atomic=True, timestamp_ns=0, min_step_wei=1
        )
    assert venue.wallet_balance("WETH") == 10 * ETH
    assert venue.scaled_balances("WEETH") == (0, 0)
    with pytest.raises(InsufficientBalance):
        venue.supply("WETH", 11 * ETH, timestamp_ns=0)
