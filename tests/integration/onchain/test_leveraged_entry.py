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
from nautilus_ext.onchain.testing.stack import ETHER
from nautilus_ext.onchain.testing.stack import EvmStack

EQUITY = 10 * ETHER
LAMBDA = Decimal("0.9")


def _fund_dsa(stack: EvmStack, amount: int) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=amount)
    stack.tx(weth.functions.transfer(stack.config.dsa, amount), sender=stack.user)


def _holdings(stack: EvmStack) -> dict[str, int]:
    """Every balance a bundle could touch: DSA tokens, aTokens, debts, pools, lenders."""
    c = stack.contracts
    dsa = stack.config.dsa
    out: dict[str, int] = {"dsa_eth": stack.w3.eth.get_balance(dsa)}
    for name in ("weth", "eeth", "weeth", "steth", "wsteth", "usdt"):
        out[f"dsa_{name}"] = c[name].functions.balanceOf(dsa).call()
    for name in ("a_weth", "a_weeth", "debt_weth", "debt_weeth"):
        out[f"scaled_{name}"] = c[name].functions.scaledBalanceOf(dsa).call()
    out["morpho_weth"] = c["weth"].functions.balanceOf(stack.config.morpho).call()
    out["router_reserve0"] = c["router"].functions.reserve0().call()
    out["router_reserve1"] = c["router"].functions.reserve1().call()
    out["eeth_total_shares"] = c["eeth"].functions.getTotalShares().call()
    out["emode"] = c["pool"].functions.getUserEMode(dsa).call()
    return out


def test_entry_matches_calculators_to_the_wei(stack: EvmStack, clients: OnchainClients) -> None:
    _fund_dsa(stack, EQUITY)
    aave = clients.aave
    pool_before = clients.lst("ETHERFI").pool_state()
    weth_before = aave.reserve("WETH")
    weeth_before = aave.reserve("WEETH")

    bundle = BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI")
    result = AtomicBundleExecutor(clients, stack.user).execute(bundle, timestamp_ns=1)

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
    assert result.receipt.gas_limit >= result.receipt.gas_used


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
    before = _holdings(stack)

    with pytest.raises(TransactionReverted) as caught:
        AtomicBundleExecutor(clients, stack.user).execute(greedy, timestamp_ns=1)
    assert caught.value.details["step"].endswith("BORROW WETH")
    assert "COLLATERAL_CANNOT_COVER_NEW_BORROW" in caught.value.details["reason"]

    # Forced on chain (no simulation), the cast is mined as failed and changes nothing.
    spells = greedy.spells(weth)
    dsa = stack.contracts["dsa"]
    names, datas = [s.connector for s in spells], [s.calldata for s in spells]
    tx_hash = dsa.functions.cast(names, datas, stack.user).transact({"from": stack.user, "gas": 3_000_000})
    assert stack.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 0
    assert _holdings(stack) == before


def test_swap_beyond_slippage_reverts_everything(stack: EvmStack, clients: OnchainClients) -> None:
    _fund_dsa(stack, EQUITY)
    executor = AtomicBundleExecutor(clients, stack.user)
    executor.execute(
        BundlePlanner(clients).leveraged_staking_entry(EQUITY, LAMBDA, protocol="ETHERFI"),
        timestamp_ns=1,
    )
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
    before = _holdings(stack)

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
    assert _holdings(stack) == before
    with pytest.raises(TransactionReverted) as reverted:
        clients.dsa.simulate(spells, stack.user, step="simulate unwind")
    assert "Too much slippage" in reverted.value.details["reason"]


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
        AtomicBundleExecutor(clients, stack.user).execute(bundle, timestamp_ns=1)
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
        AtomicBundleExecutor(clients, stack.user).execute(narrow, timestamp_ns=1)
    assert caught.value.details["rule"] == "POST_TRADE_RANGE"
    # The bundle did execute (atomically, in full): the error says so and names the tx.
    receipt = stack.w3.eth.get_transaction_receipt(caught.value.details["tx_hash"])
    assert receipt["status"] == 1
    assert stack.contracts["debt_weth"].functions.balanceOf(stack.config.dsa).call() == 90 * ETHER
