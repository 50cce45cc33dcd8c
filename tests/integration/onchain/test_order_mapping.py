"""Unified Orders → protocol calls; an atomic group → one bundle, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NoRouteError
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.order_mapping import OrderMapper
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import aave_set_emode
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext_testkit.chain.gates import backtest_bundle_gate
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack


def _order(seq: int | None, **fields: Any) -> Order:
    base: dict[str, Any] = {
        "operation_id": f"op-{seq}",
        "strategy_id": "defi-1",
        "atomic_group_id": None if seq is None else "g-1",
        "sequence_in_group": seq,
    }
    base.update(fields)
    return Order(**base)


def _entry_group(borrow: str, *, shuffled: bool = False) -> AtomicGroup:
    orders = [
        _order(
            1,
            operation="stake",
            instrument_key="ETHERFI:LST:WEETH@ETHEREUM",
            side="STAKE",
            amount=Decimal(100),
            source_token="WETH",
            metadata={"flash_loan": {"token": "WETH", "amount": "90"}},
        ),
        _order(
            2,
            operation="supply",
            instrument_key="AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM",
            side="SUPPLY",
            amount=Decimal(1),
            function_params={"amount": "all"},
        ),
        _order(
            3,
            operation="borrow",
            instrument_key="AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
            side="BORROW",
            amount=Decimal(borrow),
        ),
    ]
    return AtomicGroup.from_orders(reversed(orders) if shuffled else orders)


def _fund(stack: EvmStack) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=10 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 10 * ETHER), sender=stack.user)


def test_group_becomes_one_flash_bundle_in_sequence_order(stack: EvmStack, clients: OnchainClients) -> None:
    _fund(stack)
    # The DSA enters e-mode first (a standalone cast), then the group runs as one bundle.
    clients.dsa.cast([aave_set_emode("AAVE-V3-A", 1)], stack.user, step="e-mode")
    bundle = OrderMapper(clients).bundle_for_group(_entry_group("90", shuffled=True))
    assert [s.kind for s in bundle.steps] == [
        StepKind.FLASH_BORROW,
        StepKind.UNWRAP_WETH,
        StepKind.STAKE,
        StepKind.WRAP_LST,
        StepKind.SUPPLY,
        StepKind.BORROW,
        StepKind.FLASH_REPAY,
    ]
    result = AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
        bundle, timestamp_ns=7
    )
    dsa = stack.config.dsa
    assert stack.contracts["debt_weth"].functions.balanceOf(dsa).call() == 90 * ETHER
    assert stack.contracts["weeth"].functions.balanceOf(dsa).call() == 0
    assert abs(result.ltv - Decimal("0.9")) < Decimal("0.001")
    assert len(result.events) == len(bundle.event_steps()) + 2


def test_failing_group_changes_nothing(stack: EvmStack, clients: OnchainClients) -> None:
    _fund(stack)
    bundle = OrderMapper(clients).bundle_for_group(_entry_group("95"))
    dsa = stack.config.dsa
    before = (
        stack.contracts["weth"].functions.balanceOf(dsa).call(),
        clients.aave.scaled_balances("WEETH", dsa),
        clients.aave.scaled_balances("WETH", dsa),
    )
    with pytest.raises(TransactionReverted) as caught:
        AtomicBundleExecutor(clients, stack.user, gate=backtest_bundle_gate(clients)).execute(
            bundle, timestamp_ns=7
        )
    # Without e-mode the 72.5 % weETH LTV cannot carry a 95 WETH borrow.
    assert caught.value.details["step"] == "6:BORROW WETH"
    after = (
        stack.contracts["weth"].functions.balanceOf(dsa).call(),
        clients.aave.scaled_balances("WEETH", dsa),
        clients.aave.scaled_balances("WETH", dsa),
    )
    assert after == before


def test_orders_that_cannot_map_are_refused(clients: OnchainClients) -> None:
    mapper = OrderMapper(clients)
    cowswap = _order(
        1,
        operation="swap",
        instrument_key="COWSWAP:SPOT_PAIR:WEETH-WETH@ETHEREUM",
        side="SELL",
        amount=Decimal(1),
        source_token="WEETH",
        target_token="WETH",
        max_slippage=Decimal("0.01"),
    )
    with pytest.raises(InvalidOrder, match="CowSwap cannot execute inside an atomic bundle"):
        mapper.steps_for(cowswap)
    unstake = _order(
        None,
        operation="unstake",
        instrument_key="ETHERFI:LST:WEETH@ETHEREUM",
        side="UNSTAKE",
        amount=Decimal(1),
    )
    with pytest.raises(NoRouteError, match="withdrawal queue"):
        mapper.steps_for(unstake)
    too_precise = _order(
        None,
        operation="supply",
        instrument_key="AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
        side="SUPPLY",
        amount=Decimal("1.0000001"),
    )
    with pytest.raises(InvalidOrder, match="more than 6 decimals"):
        mapper.steps_for(too_precise)
    other_chain = _order(
        None,
        operation="borrow",
        instrument_key="AAVE_V3_ARB:DEBT_TOKEN:DEBTWETH@ARBITRUM",
        side="BORROW",
        amount=Decimal(1),
    )
    with pytest.raises(NoRouteError, match="chain ARBITRUM"):
        mapper.steps_for(other_chain)
    no_slippage = _order(
        None,
        operation="swap",
        instrument_key="UNISWAPV2-ETH:POOL:WEETH-WETH@ETHEREUM",
        side="SELL",
        amount=Decimal(1),
        source_token="WEETH",
        target_token="WETH",
    )
    with pytest.raises(InvalidOrder, match="max_slippage"):
        mapper.steps_for(no_slippage)


def test_swap_and_transfer_orders_map_to_bounded_spells(stack: EvmStack, clients: OnchainClients) -> None:
    mapper = OrderMapper(clients)
    swap = _order(
        None,
        operation="swap",
        instrument_key="UNISWAPV2-ETH:POOL:WEETH-WETH@ETHEREUM",
        side="SELL",
        amount=Decimal("2.5"),
        source_token="WEETH",
        target_token="WETH",
        max_slippage=Decimal("0.01"),
    )
    (step,) = mapper.steps_for(swap)
    assert step.swap is not None
    assert step.amount == 25 * ETHER // 10
    assert step.swap.min_out <= step.swap.quote_out
    transfer = _order(
        None,
        operation="transfer",
        instrument_key="WALLET:SPOT_ASSET:WETH@ETHEREUM",
        side="TRANSFER",
        amount=Decimal("0.5"),
        source_venue="DSA",
        target_venue="WALLET",
        function_params={"to": stack.user},
    )
    (move,) = mapper.steps_for(transfer)
    assert (move.kind, move.asset, move.amount) == (StepKind.TRANSFER, "WETH", ETHER // 2)
