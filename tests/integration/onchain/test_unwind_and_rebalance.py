"""Partial unwind, LTV adjustment (both ways), full unwind and in-bundle slippage on one shared position."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.calculators.leverage import unwind_withdraw_value
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.pytest_fixtures import dsa_holdings
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

LAMBDA = Decimal("0.9")


@pytest.mark.slow
def test_partial_unwind_keeps_ltv_and_cashes_out(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
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

    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        bundle, timestamp_ns=0
    )

    debt_after = stack.contracts["debt_weth"].functions.balanceOf(dsa).call()
    assert debt_before - repay - 2 <= debt_after <= debt_before - repay + 2 * 10**12
    assert abs(result.ltv - LAMBDA) < Decimal("0.001")
    cashed_out = clients.erc20.balance_of("WEETH", stack.user) - user_weeth_before
    assert cashed_out == withdraw.amount - swap.amount
    assert clients.erc20.balance_of("WEETH", dsa) == 0


@pytest.mark.slow
def test_ltv_adjustment_down_then_up(entered_stack: EvmStack, entered_clients: OnchainClients) -> None:
    stack, clients = entered_stack, entered_clients
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
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
def test_full_unwind_closes_the_position(entered_stack: EvmStack, entered_clients: OnchainClients) -> None:
    stack, clients = entered_stack, entered_clients
    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        BundlePlanner(clients).full_unwind(max_slippage=Decimal("0.05"), send_to=stack.user),
        timestamp_ns=0,
    )
    dsa = stack.config.dsa
    assert result.account.total_debt_base == 0
    assert result.account.total_collateral_base == 0
    assert clients.aave.scaled_balances("WETH", dsa) == (0, 0)
    assert clients.aave.scaled_balances("WEETH", dsa) == (0, 0)
    assert clients.erc20.balance_of("WEETH", stack.user) > 0


def test_unwind_refused_when_the_pool_cannot_honour_the_oracle_bound(
    entered_clients: OnchainClients,
) -> None:
    with pytest.raises(RiskBlocked) as blocked:
        BundlePlanner(entered_clients).partial_unwind(80 * ETHER, LAMBDA, max_slippage=Decimal("0.001"))
    assert blocked.value.details["rule"] == "SWAP_SLIPPAGE"


def test_swap_beyond_slippage_reverts_everything(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    executor = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients))
    unwind = BundlePlanner(clients).partial_unwind(5 * ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    swap = next(s for s in unwind.steps if s.kind is StepKind.SWAP)
    assert swap.swap is not None
    assert swap.swap.min_out <= swap.swap.quote_out

    # Someone dumps weETH into the pool after planning: the quote falls below the oracle bound.
    c = stack.contracts
    lp = stack.liquidity_provider
    stack.tx(c["eeth"].functions.deposit(), sender=lp, value=400 * ETHER)
    stack.tx(c["weeth"].functions.wrap(c["eeth"].functions.balanceOf(lp).call()), sender=lp)
    dump = c["weeth"].functions.balanceOf(lp).call()
    weeth, weth = stack.config.token("WEETH").address, stack.config.token("WETH").address
    stack.tx(
        c["router"].functions.swapExactTokensForTokens(dump, 0, [weeth, weth], lp, 2**40),
        sender=lp,
    )
    before = dsa_holdings(stack)

    with pytest.raises(RiskBlocked) as blocked:
        executor.execute(unwind, timestamp_ns=2)
    assert blocked.value.details["rule"] == "SWAP_SLIPPAGE"

    # On chain the connector's oracle bound (unitAmt) reverts the whole cast.
    spells = unwind.spells(weth)
    tx_hash = (
        c["dsa"]
        .functions.cast([s.connector for s in spells], [s.calldata for s in spells], stack.user)
        .transact({"from": stack.user, "gas": 3_000_000})
    )
    assert stack.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 0
    assert dsa_holdings(stack) == before
    with pytest.raises(TransactionReverted) as reverted:
        clients.dsa.simulate(spells, stack.user, step="simulate unwind")
    assert "Too much slippage" in reverted.value.details["reason"]
