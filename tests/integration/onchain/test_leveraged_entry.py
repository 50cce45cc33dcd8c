"""
Leveraged staking entry on the local EVM: exact leverage math and all-or-nothing atomicity.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.calculators.aave import EModeCategory
from nautilus_ext.onchain.calculators.aave import accrue
from nautilus_ext.onchain.calculators.aave import scaled_amount
from nautilus_ext.onchain.calculators.aave import user_account_data
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.lst import stake_and_wrap
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import aave_borrow
from nautilus_ext.onchain.spells import swap_sell
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.pytest_fixtures import dsa_holdings
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

EQUITY = 10 * ETHER
LAMBDA = Decimal("0.9")


def _fund_dsa(stack: EvmStack, amount: int) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=amount)
    stack.tx(weth.functions.transfer(stack.config.dsa, amount), sender=stack.user)


def test_entry_matches_calculators_to_the_wei(stack: EvmStack, clients: OnchainClients) -> None:
    _fund_dsa(stack, EQUITY)
    aave = clients.aave
    pool_before = clients.lst("ETHERFI").pool_state()
    weth_before = aave.reserve("WETH")
    weeth_before = aave.reserve("WEETH")

    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI")
    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        bundle, timestamp_ns=1
    )

    # Leverage math: F = λ/(1-λ)·E, S = E + F, B = F.
    targets = leverage_targets(EQUITY, LAMBDA)
    assert targets.flash == 90 * ETHER
    assert targets.supply == 100 * ETHER
    assert targets.borrow == targets.flash
    # LST amounts from the share math, reserve indices accrued to the mined block.
    minted = stake_and_wrap(pool_before, targets.supply)
    now = int(stack.w3.eth.get_block(result.receipt.block_number)["timestamp"])
    weth_state = accrue(weth_before.index_state, now)
    weeth_state = accrue(weeth_before.index_state, now)
    expected_scaled_supply = scaled_amount(minted.wrapped_amount, weeth_state.liquidity_index)
    expected_scaled_debt = scaled_amount(targets.borrow, weth_state.variable_borrow_index)

    scaled_supply, _ = aave.scaled_balances("WEETH", stack.config.dsa)
    _, scaled_debt = aave.scaled_balances("WETH", stack.config.dsa)
    assert scaled_supply == expected_scaled_supply
    assert scaled_debt == expected_scaled_debt
    c = stack.contracts
    assert c["a_weeth"].functions.balanceOf(stack.config.dsa).call() == minted.wrapped_amount
    assert c["debt_weth"].functions.balanceOf(stack.config.dsa).call() == targets.borrow
    assert c["weth"].functions.balanceOf(stack.config.dsa).call() == 0
    assert clients.lst("ETHERFI").pool_state() == minted.pool_after

    # Account data (collateral, debt, LTV, threshold, health factor) to the unit.
    positions = aave.user_positions(stack.config.dsa, ["WETH", "WEETH", "WSTETH", "USDT"], now)
    expected = user_account_data(positions, aave.e_mode_category(stack.config.e_mode_category))
    assert result.account == expected
    assert expected.ltv_bps == 9300  # e-mode LTV
    assert abs(result.ltv - LAMBDA) < Decimal("0.0001")
    assert result.health_factor is not None
    assert result.health_factor > Decimal(1)

    # Event structure of decision 22: one wrapper, steps pointing at it, gas last.
    events = result.events
    assert events[0].event is OnchainEventType.ATOMIC_TRANSACTION
    assert events[0].bundle == "LEVERAGED_STAKING_ENTRY"
    assert all(e.parent == 1 for e in events[1:])
    assert [e.order for e in events] == list(range(1, len(events) + 1))
    assert events[-1].event is OnchainEventType.GAS_FEE_PAID
    assert events[-1].amount == result.receipt.fee_wei
    # Sent with the 1.2x buffered limit over the node's estimate.
    sent = stack.w3.eth.get_transaction(result.receipt.tx_hash)
    assert sent["gas"] == result.receipt.gas_limit
    assert result.receipt.gas_used <= result.receipt.gas_limit


def test_borrow_over_ltv_reverts_everything(stack: EvmStack, clients: OnchainClients) -> None:
    _fund_dsa(stack, EQUITY)
    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI")
    # Same bundle, but the borrow asks for twice the flash amount: far beyond the e-mode LTV.
    weth = stack.config.token("WETH").address
    steps = tuple(
        replace(
            s,
            amount=s.amount * 2,
            spell=aave_borrow(stack.config.connectors.aave_v3, weth, s.amount * 2),
        )
        if s.kind is StepKind.BORROW
        else s
        for s in bundle.steps
    )
    greedy = AtomicBundle(
        kind=bundle.kind,
        steps=steps,
        flash_connector=bundle.flash_connector,
        flash_route=bundle.flash_route,
        target=bundle.target,
    )
    before = dsa_holdings(stack)

    with pytest.raises(TransactionReverted) as caught:
        AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
            greedy, timestamp_ns=1
        )
    assert caught.value.details["step"].endswith("BORROW WETH")
    assert "COLLATERAL_CANNOT_COVER_NEW_BORROW" in caught.value.details["reason"]

    # Forced on chain (no simulation), the cast is mined as failed and changes nothing.
    spells = greedy.spells(weth)
    dsa = stack.contracts["dsa"]
    names, datas = [s.connector for s in spells], [s.calldata for s in spells]
    tx_hash = dsa.functions.cast(names, datas, stack.user).transact({"from": stack.user, "gas": 3_000_000})
    assert stack.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 0
    assert dsa_holdings(stack) == before


def test_cowswap_step_is_refused_before_anything_is_sent(stack: EvmStack, clients: OnchainClients) -> None:
    weth = stack.config.token("WETH").address
    weeth = stack.config.token("WEETH").address
    step = BundleStep(
        StepKind.SWAP,
        "WEETH",
        ETHER,
        swap_sell("UNISWAP-V2-A", weth, weeth, ETHER, 0),
        "COWSWAP",
    )
    bundle = AtomicBundle(kind=BundleKind.ORDER_GROUP, steps=(step,))
    block_before = stack.w3.eth.block_number
    with pytest.raises(InvalidOrder, match="CowSwap cannot execute inside an atomic bundle"):
        AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
            bundle, timestamp_ns=1
        )
    assert stack.w3.eth.block_number == block_before


def test_e_mode_category_data_matches_calculator_type(clients: OnchainClients) -> None:
    category = clients.aave.e_mode_category(1)
    assert category == EModeCategory(1, 9300, 9500, 10100)


def test_post_check_flags_a_position_outside_its_target_range(
    stack: EvmStack, clients: OnchainClients
) -> None:
    _fund_dsa(stack, EQUITY)
    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI")
    narrow = replace(bundle, target=TargetRange(Decimal("0.5"), Decimal("0.6"), Decimal("1.01")))
    with pytest.raises(RiskBlocked) as caught:
        AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
            narrow, timestamp_ns=1
        )
    assert caught.value.details["rule"] == "POST_TRADE_RANGE"
    # The bundle did execute (atomically, in full): the error says so and names the tx.
    receipt = stack.w3.eth.get_transaction_receipt(caught.value.details["tx_hash"])
    assert receipt["status"] == 1
    assert stack.contracts["debt_weth"].functions.balanceOf(stack.config.dsa).call() == 90 * ETHER


def test_leveraged_lending_entry(stack: EvmStack, clients: OnchainClients) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=4 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 4 * ETHER), sender=stack.user)
    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        BundlePlanner(clients).leveraged_lending_entry(4 * ETHER, Decimal("0.75")),
        timestamp_ns=0,
    )
    dsa = stack.config.dsa
    assert stack.contracts["a_weth"].functions.balanceOf(dsa).call() == 16 * ETHER
    assert stack.contracts["debt_weth"].functions.balanceOf(dsa).call() == 12 * ETHER
    assert result.ltv == Decimal("0.75")


def test_real_aave_supply_cap_is_named_and_nothing_is_sent(stack: EvmStack, clients: OnchainClients) -> None:
    """AAVE v3 caps a reserve's total supply (whole tokens); the real Pool reverts with code 51."""
    _fund_dsa(stack, EQUITY)
    weeth = stack.config.token("WEETH").address
    stack.tx(stack.contracts["configurator"].functions.setSupplyCap(weeth, 50))
    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI")
    nonce = stack.w3.eth.get_transaction_count(stack.user)
    before = dsa_holdings(stack)
    with pytest.raises(TransactionReverted) as caught:
        AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
            bundle, timestamp_ns=1
        )
    assert caught.value.details["step"].endswith("SUPPLY WEETH")
    assert caught.value.details["reason"] == "51 (SUPPLY_CAP_EXCEEDED)"
    assert stack.w3.eth.get_transaction_count(stack.user) == nonce
    assert dsa_holdings(stack) == before
