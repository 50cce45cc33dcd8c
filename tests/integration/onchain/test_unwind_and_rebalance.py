"""Partial unwind, LTV adjustment (both ways), full unwind and leveraged lending on the local EVM."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import RiskBlocked
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.calculators.leverage import unwind_withdraw_value
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.testing.stack import ETHER
from nautilus_ext.onchain.testing.stack import EvmStack

LAMBDA = Decimal("0.9")


def _enter(stack: EvmStack, clients: OnchainClients, equity: int = 10 * ETHER) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=equity)
    stack.tx(weth.functions.transfer(stack.config.dsa, equity), sender=stack.user)
    AtomicBundleExecutor(clients, stack.user).execute(
        BundlePlanner(clients).leveraged_staking_entry(equity, LAMBDA), timestamp_ns=0
    )


@pytest.mark.slow
def test_partial_unwind_keeps_ltv_and_cashes_out(stack: EvmStack, clients: OnchainClients) -> None:
    _enter(stack, clients)
    dsa = stack.config.dsa
    debt_before = stack.contracts["debt_weth"].functions.balanceOf(dsa).call()
    user_weeth_before = clients.erc20.balance_of("WEETH", stack.user)
    repay = 9 * ETHER
    bundle = BundlePlanner(clients).partial_unwind(
        repay, LAMBDA, max_slippage=Decimal("0.01"), cash_out_to=stack.user
    )
    assert [s.kind for s in bundle.steps] == [
        StepKind.FLASH_BORROW,
        StepKind.REPAY,
        StepKind.WITHDRAW,
        StepKind.SWAP,
        StepKind.TRANSFER,
        StepKind.FLASH_REPAY,
    ]
    withdraw = next(s for s in bundle.steps if s.kind is StepKind.WITHDRAW)
    price_weth = clients.aave.asset_price("WETH")
    price_weeth = clients.aave.asset_price("WEETH")
    assert withdraw.amount == unwind_withdraw_value(repay, LAMBDA) * price_weth // price_weeth
    swap = next(s for s in bundle.steps if s.kind is StepKind.SWAP)

    result = AtomicBundleExecutor(clients, stack.user).execute(bundle, timestamp_ns=0)

    debt_after = stack.contracts["debt_weth"].functions.balanceOf(dsa).call()
    assert debt_before - repay - 2 <= debt_after <= debt_before - repay + 2 * 10**12
    assert abs(result.ltv - LAMBDA) < Decimal("0.001")
    cashed_out = clients.erc20.balance_of("WEETH", stack.user) - user_weeth_before
    assert cashed_out == withdraw.amount - swap.amount
    assert clients.erc20.balance_of("WEETH", dsa) == 0


@pytest.mark.slow
def test_ltv_adjustment_down_then_up(stack: EvmStack, clients: OnchainClients) -> None:
    _enter(stack, clients)
    executor = AtomicBundleExecutor(clients, stack.user)
    planner = BundlePlanner(clients)
    down = executor.execute(
        planner.ltv_adjustment(Decimal("0.85"), max_slippage=Decimal("0.03")), timestamp_ns=0
    )
    assert abs(down.ltv - Decimal("0.85")) < Decimal("0.0005")
    up = executor.execute(
        planner.ltv_adjustment(Decimal("0.88"), max_slippage=Decimal("0.03")), timestamp_ns=0
    )
    assert abs(up.ltv - Decimal("0.88")) < Decimal("0.0005")
    assert up.health_factor is not None
    assert up.health_factor > Decimal("1.05")


@pytest.mark.slow
def test_full_unwind_closes_the_position(stack: EvmStack, clients: OnchainClients) -> None:
    _enter(stack, clients, equity=5 * ETHER)
    result = AtomicBundleExecutor(clients, stack.user).execute(
        BundlePlanner(clients).full_unwind(max_slippage=Decimal("0.03"), send_to=stack.user),
        timestamp_ns=0,
    )
    dsa = stack.config.dsa
    assert result.account.total_debt_base == 0
    assert result.account.total_collateral_base == 0
    assert clients.aave.scaled_balances("WETH", dsa) == (0, 0)
    assert clients.aave.scaled_balances("WEETH", dsa) == (0, 0)
    assert clients.erc20.balance_of("WEETH", stack.user) > 0


def test_unwind_refused_when_the_pool_cannot_honour_the_oracle_bound(
    stack: EvmStack, clients: OnchainClients
) -> None:
    _enter(stack, clients)
    with pytest.raises(RiskBlocked) as blocked:
        BundlePlanner(clients).partial_unwind(80 * ETHER, LAMBDA, max_slippage=Decimal("0.001"))
    assert blocked.value.details["rule"] == "SWAP_SLIPPAGE"


def test_leveraged_lending_entry(stack: EvmStack, clients: OnchainClients) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=4 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 4 * ETHER), sender=stack.user)
    result = AtomicBundleExecutor(clients, stack.user).execute(
        BundlePlanner(clients).leveraged_lending_entry(4 * ETHER, Decimal("0.75")),
        timestamp_ns=0,
    )
    dsa = stack.config.dsa
    assert stack.contracts["a_weth"].functions.balanceOf(dsa).call() == 16 * ETHER
    assert stack.contracts["debt_weth"].functions.balanceOf(dsa).call() == 12 * ETHER
    assert result.ltv == Decimal("0.75")
