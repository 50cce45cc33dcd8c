"""Staking reward modes, decision-22 event structures, gas debt and the balance sheet."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.onchain.calculators.accounting import BalanceSheet
from nautilus_ext.onchain.calculators.accounting import GasLedger
from nautilus_ext.onchain.calculators.accounting import ShareClass
from nautilus_ext.onchain.calculators.accounting import gas_fee_eth
from nautilus_ext.onchain.calculators.events import BundleStepEvent
from nautilus_ext.onchain.calculators.events import OnchainEvent
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.calculators.events import atomic_bundle_events
from nautilus_ext.onchain.calculators.events import sequential_loop_events
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.calculators.staking import RewardDistribution
from nautilus_ext.onchain.calculators.staking import RewardsMode
from nautilus_ext.onchain.calculators.staking import RewardToken
from nautilus_ext.onchain.calculators.staking import base_yield_eth
from nautilus_ext.onchain.calculators.staking import reward_payments
from nautilus_ext.onchain.calculators.staking import time_weighted_average_balance
from nautilus_ext.onchain.calculators.staking import validate_rewards_mode

H = 3_600 * 10**9  # one hour in ns
DISTRIBUTIONS = [
    RewardDistribution(RewardToken.EIGEN, 10 * H, 0, 10 * H, Decimal("0.5")),
    RewardDistribution(RewardToken.ETHFI, 20 * H, 0, 20 * H, Decimal("2")),
]
BALANCES = [(0, Decimal(10)), (5 * H, Decimal(20))]


def test_reward_modes_pay_discrete_amounts() -> None:
    assert reward_payments(RewardsMode.BASE_ONLY, DISTRIBUTIONS, BALANCES, start_ns=0, end_ns=30 * H) == []
    eigen = reward_payments(RewardsMode.BASE_EIGEN, DISTRIBUTIONS, BALANCES, start_ns=0, end_ns=30 * H)
    assert [(p.token, p.amount, p.payout_ns) for p in eigen] == [(RewardToken.EIGEN, Decimal("7.5"), 10 * H)]
    seasonal = reward_payments(
        RewardsMode.BASE_EIGEN_SEASONAL, DISTRIBUTIONS, BALANCES, start_ns=0, end_ns=30 * H
    )
    assert [p.amount for p in seasonal] == [Decimal("7.5"), Decimal(35)]
    # A payout outside the window is not paid.
    assert (
        reward_payments(RewardsMode.BASE_EIGEN, DISTRIBUTIONS, BALANCES, start_ns=11 * H, end_ns=30 * H) == []
    )


def test_time_weighted_average_and_base_yield() -> None:
    assert time_weighted_average_balance(BALANCES, 0, 10 * H) == Decimal(15)
    assert time_weighted_average_balance([(5 * H, Decimal(8))], 0, 10 * H) == Decimal(4)
    assert base_yield_eth(Decimal(10), Decimal("1.05"), Decimal("1.06")) == Decimal("0.10")


def test_wsteth_only_supports_base_only() -> None:
    validate_rewards_mode("wstETH", RewardsMode.BASE_ONLY)
    validate_rewards_mode("weETH", RewardsMode.BASE_EIGEN_SEASONAL)
    with pytest.raises(InvalidConfig, match="base_only"):
        validate_rewards_mode("wstETH", RewardsMode.BASE_EIGEN)
    with pytest.raises(InvalidConfig):
        RewardDistribution(RewardToken.EIGEN, 1, 5, 5, Decimal(1))


def test_sequential_events_carry_iterations() -> None:
    steps = sequential_loop_schedule(10 * 10**18, Decimal("0.9"), min_step_wei=10**17)
    events = sequential_loop_events(
        steps, timestamp_ns=H, lst_symbol="weETH", borrow_symbol="WETH", gas_fee_wei_per_tx=7
    )
    assert [e.order for e in events] == list(range(1, len(events) + 1))
    assert all(e.timestamp_ns == H and e.parent is None for e in events)
    assert len(events) == 5 * (len(steps) - 1) + 3
    assert events[:5] == [
        OnchainEvent(H, 1, OnchainEventType.GAS_FEE_PAID, "ETH", 7, iteration=1),
        OnchainEvent(H, 2, OnchainEventType.STAKE_DEPOSIT, "ETH", steps[0].stake, iteration=1),
        OnchainEvent(H, 3, OnchainEventType.COLLATERAL_SUPPLIED, "weETH", steps[0].stake, iteration=1),
        OnchainEvent(H, 4, OnchainEventType.GAS_FEE_PAID, "ETH", 7, iteration=1),
        OnchainEvent(H, 5, OnchainEventType.LOAN_CREATED, "WETH", steps[0].borrow, iteration=1),
    ]


def test_atomic_events_link_to_the_wrapper() -> None:
    steps = [
        BundleStepEvent(OnchainEventType.FLASH_BORROW, "WETH", 90),
        BundleStepEvent(OnchainEventType.STAKE_DEPOSIT, "ETH", 100),
        BundleStepEvent(OnchainEventType.COLLATERAL_SUPPLIED, "weETH", 94),
        BundleStepEvent(OnchainEventType.LOAN_CREATED, "WETH", 90),
        BundleStepEvent(OnchainEventType.FLASH_REPAID, "WETH", 90),
    ]
    events = atomic_bundle_events("LEVERAGE_ENTRY", steps, timestamp_ns=H, gas_fee_wei=5, first_order=4)
    assert len(events) == 7
    assert events[0].event is OnchainEventType.ATOMIC_TRANSACTION
    assert events[0].order == 4
    assert all(e.parent == 4 and e.iteration is None for e in events[1:])
    assert events[-1].event is OnchainEventType.GAS_FEE_PAID
    assert events[-1].amount == 5
    with pytest.raises(ValueError, match="not both"):
        OnchainEvent(H, 1, OnchainEventType.SWAP, iteration=1, parent=1)


def test_gas_debt_per_share_class() -> None:
    usdt = GasLedger(ShareClass.USDT, Decimal(0))
    usdt.pay(gas_fee_eth(650_000, 20 * 10**9))
    assert usdt.gas_debt_eth == Decimal("0.013")
    assert usdt.free_eth == 0
    eth = GasLedger(ShareClass.ETH, Decimal(100))
    eth.pay(Decimal("0.013"))
    assert eth.eth_balance == Decimal("99.987")
    assert eth.gas_debt_eth == 0
    with pytest.raises(ValueError, match="cannot pay"):
        GasLedger(ShareClass.ETH, Decimal("0.001")).pay(Decimal("0.01"))


def test_balance_sheet_total() -> None:
    sheet = BalanceSheet(
        cex_balances_usd=Decimal(50_000),
        aave_collateral_usd=Decimal(319_000),
        aave_debt_usd=Decimal(270_000),
        gas_debt_eth=Decimal("0.1"),
        free_eth=Decimal(0),
        free_usdt=Decimal(1_000),
        free_lst_eth=Decimal(1),
        eth_usd_price=Decimal(3_000),
    )
    assert sheet.total_value_usd == Decimal(50_000 + 319_000 - 270_000 - 300 + 3_000 + 1_000)
    assert sheet.total_value_eth == sheet.total_value_usd / Decimal(3_000)
