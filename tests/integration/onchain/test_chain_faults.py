"""
Faults only a real node can inject, on Anvil with the real AAVE v3 / Morpho / Uniswap:
a cast never mined, a nonce taken by another sender, a reorg after our receipt, a gas price
beyond the configured cap, and the RPC connection dropping mid-bundle.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock
from web3 import HTTPProvider
from web3 import Web3

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.chain.gates import safety_config
from nautilus_ext_testkit.chain.rpc_proxy import RpcProxy
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

START_NS = 1_709_251_200 * 1_000_000_000
LAMBDA = Decimal("0.9")
DEBTWETH = "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"


def _gate(clients: OnchainClients) -> tuple[BundleGate, list[SafetyEvent]]:
    clock = TestClock()
    clock.set_time(START_NS)
    events: list[SafetyEvent] = []
    gate = SafetyGate(safety_config(Mode.BACKTEST), clock, sink=events.append)
    bundle_gate = BundleGate(gate, clients, strategy_id="defi-1")
    bundle_gate.adopt_chain_positions("ops", symbols=["WETH", "WEETH"])
    return bundle_gate, events


def _outcomes(events: list[SafetyEvent]) -> list[str]:
    return [e.rule for e in events if e.rule is not None and e.rule.startswith("bundle_")]


def _debt(stack: EvmStack) -> int:
    return int(stack.contracts["debt_weth"].functions.balanceOf(stack.config.dsa).call())


def _unwind(clients: OnchainClients) -> object:
    return BundlePlanner(clients).partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))


@pytest.fixture
def paused(entered_stack: EvmStack) -> Iterator[EvmStack]:
    """Mining paused; the pool emptied and mining restored afterwards."""
    entered_stack.node.set_automine(False)
    try:
        yield entered_stack
    finally:
        entered_stack.node.rpc("anvil_dropAllTransactions")
        entered_stack.node.set_automine(True)


def test_a_cast_never_mined_times_out_into_safe_mode_and_nothing_counts_as_done(paused: EvmStack) -> None:
    stack = paused
    clients = OnchainClients(ChainGateway(stack.w3, receipt_timeout_secs=1.0, local_setup=True), stack.config)
    bundle_gate, events = _gate(clients)
    debt_position = bundle_gate.gate.oms.positions[DEBTWETH]
    with pytest.raises(VenueUnavailable, match="timed out waiting for the receipt"):
        AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(_unwind(clients), timestamp_ns=0)
    assert bundle_gate.gate.safe is not None
    assert _outcomes(events)[-1] == "bundle_outcome_unknown"
    assert "bundle_executed" not in _outcomes(events)
    assert bundle_gate.gate.oms.positions[DEBTWETH] == debt_position
    # the cast sits in the pool, never mined: the chain still holds the old debt
    assert len(stack.node.rpc("txpool_content")["pending"]) == 1
    debt = _debt(stack)
    stack.node.rpc("anvil_dropAllTransactions")
    stack.node.mine()
    assert _debt(stack) >= debt
    assert all(bundle_gate.reconcile().values())


def test_a_nonce_taken_by_another_sender_delays_but_does_not_duplicate(paused: EvmStack) -> None:
    """Another tool of the same account has nonce N pending: our cast takes N+1, both mine once."""
    stack = paused
    clients = OnchainClients(
        ChainGateway(stack.w3, receipt_timeout_secs=10.0, local_setup=True), stack.config
    )
    bundle_gate, events = _gate(clients)
    nonce = stack.w3.eth.get_transaction_count(stack.user)
    stack.contracts["weth"].functions.deposit().transact({"from": stack.user, "value": 1, "gas": 100_000})
    stack.node.rpc("evm_setIntervalMining", 1)
    debt_before = _debt(stack)
    result = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(
        _unwind(clients), timestamp_ns=0
    )
    stack.node.rpc("evm_setIntervalMining", 0)
    tx = stack.w3.eth.get_transaction(result.receipt.tx_hash)
    assert tx["nonce"] == nonce + 1
    assert stack.w3.eth.get_transaction_count(stack.user) == nonce + 2
    assert _outcomes(events).count("bundle_executed") == 1
    assert debt_before - _debt(stack) >= ETHER - 10**12
    assert all(bundle_gate.reconcile().values())


def test_a_reorg_after_our_receipt_is_noticed_and_not_double_counted(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, events = _gate(clients)
    before_reorg = stack.snapshot()
    position_before = bundle_gate.gate.oms.positions[DEBTWETH]
    AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(_unwind(clients), timestamp_ns=0)
    counted = bundle_gate.gate.oms.positions[DEBTWETH]
    assert counted != position_before
    # the block holding our cast is reorganised away
    stack.revert_to(before_reorg)
    matched = bundle_gate.reconcile([DEBTWETH])
    assert matched == {DEBTWETH: False}, "reconciliation must notice the chain lost our cast"
    assert bundle_gate.gate.oms.positions[DEBTWETH] == counted  # nothing counted twice
    assert DEBTWETH in bundle_gate.gate.status()["dirty"]
    assert _outcomes(events).count("bundle_executed") == 1
    # the operator adopts the chain again: the running sum is the chain's, once
    bundle_gate.adopt_chain_positions("ops", symbols=["WETH", "WEETH"])
    assert bundle_gate.gate.oms.positions[DEBTWETH] == position_before
    assert all(bundle_gate.reconcile().values())


def test_a_gas_price_beyond_the_cap_is_refused_before_signing(
    entered_stack: EvmStack,
) -> None:
    stack = entered_stack
    cap = 50 * 10**9
    clients = OnchainClients(ChainGateway(stack.w3, local_setup=True, max_fee_per_gas_wei=cap), stack.config)
    bundle_gate, events = _gate(clients)
    stack.node.rpc("anvil_setNextBlockBaseFeePerGas", hex(400 * 10**9))
    stack.node.mine()
    nonce = stack.w3.eth.get_transaction_count(stack.user)
    with pytest.raises(RiskBlocked) as refused:
        AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(_unwind(clients), timestamp_ns=0)
    assert refused.value.details["rule"] == "gas_price_cap"
    assert refused.value.details["max_fee_per_gas_wei"] == cap
    assert refused.value.details["gas_price_wei"] > cap
    assert stack.w3.eth.get_transaction_count(stack.user) == nonce
    assert _outcomes(events)[-1] == "bundle_not_sent"
    # back under the cap, the same kind of bundle goes through and pays at most the cap
    stack.node.rpc("anvil_setNextBlockBaseFeePerGas", hex(10**9))
    stack.node.mine(2)
    result = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(
        _unwind(clients), timestamp_ns=0
    )
    assert 0 < result.receipt.effective_gas_price <= cap


def test_the_rpc_connection_dropping_mid_bundle_enters_safe_mode(entered_stack: EvmStack) -> None:
    stack = entered_stack
    proxy = RpcProxy(stack.node.url)
    try:
        w3 = Web3(HTTPProvider(proxy.url, request_kwargs={"timeout": 5}))
        clients = OnchainClients(ChainGateway(w3, receipt_timeout_secs=5.0, local_setup=True), stack.config)
        bundle_gate, events = _gate(clients)
        position = bundle_gate.gate.oms.positions[DEBTWETH]
        debt_before = _debt(stack)
        proxy.cut_after = "eth_sendTransaction"
        with pytest.raises(VenueUnavailable):
            AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(
                _unwind(clients), timestamp_ns=0
            )
        assert "eth_sendTransaction" in proxy.forwarded
        assert bundle_gate.gate.safe is not None
        assert _outcomes(events)[-1] == "bundle_outcome_unknown"
        assert bundle_gate.gate.oms.positions[DEBTWETH] == position  # not counted as done
        # the cast did reach the node and is mined (the node may still be at it under load):
        # reconciliation notices the difference
        eventually(lambda: _debt(stack) < debt_before, message="the forwarded cast was never mined")
        proxy.restore()
        assert bundle_gate.reconcile([DEBTWETH]) == {DEBTWETH: False}
    finally:
        proxy.close()
