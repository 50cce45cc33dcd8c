"""The bundle gate's risk matrix and audit trail on a fresh stand-in stack (no position yet)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.onchain.order_mapping import OrderMapper
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.events import AuditSink
from nautilus_ext_testkit.chain.gates import safety_config
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

from .test_gated_executor import AWEETH
from .test_gated_executor import DEBTWETH
from .test_gated_executor import START_NS
from .test_gated_executor import _gate
from .test_gated_executor import _marks
from .test_gated_executor import _refused


def test_executor_cannot_be_built_without_a_gate(clients: OnchainClients, stack: EvmStack) -> None:
    with pytest.raises(InvalidConfig, match="needs a BundleGate"):
        AtomicBundleExecutor(clients, stack.user, gate=None)  # type: ignore[arg-type]


def _entry_group(borrow: str, *, supply: str | None = None) -> AtomicGroup:
    supply_fields: dict[str, Any] = (
        {"amount": Decimal(1), "function_params": {"amount": "all"}}
        if supply is None
        else {"amount": Decimal(supply)}
    )
    orders = [
        Order(
            operation_id="op-1",
            operation="stake",
            instrument_key="ETHERFI:LST:WEETH@ETHEREUM",
            side="STAKE",
            amount=Decimal(100),
            source_token="WETH",
            strategy_id="defi-1",
            atomic_group_id="g-1",
            sequence_in_group=1,
            metadata={"flash_loan": {"token": "WETH", "amount": "90"}},
        ),
        Order(
            operation_id="op-2",
            operation="supply",
            instrument_key=AWEETH,
            side="SUPPLY",
            strategy_id="defi-1",
            atomic_group_id="g-1",
            sequence_in_group=2,
            **supply_fields,
        ),
        Order(
            operation_id="op-3",
            operation="borrow",
            instrument_key=DEBTWETH,
            side="BORROW",
            amount=Decimal(borrow),
            strategy_id="defi-1",
            atomic_group_id="g-1",
            sequence_in_group=3,
        ),
    ]
    return AtomicGroup.from_orders(orders)


def _fund(stack: EvmStack) -> None:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=10 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 10 * ETHER), sender=stack.user)


def test_risk_matrix_blocks_with_the_rule_name(stack: EvmStack, clients: OnchainClients) -> None:
    _fund(stack)
    bundle = OrderMapper(clients).bundle_for_group(_entry_group("90"))
    small_trades, _ = _gate(clients, Mode.BACKTEST, max_trade_size_by_asset={DEBTWETH: "50"})
    refused = _refused(
        AtomicBundleExecutor(clients, stack.user, gate=small_trades), bundle, stack, "max_trade_size"
    )
    assert refused.code is ErrorCode.RISK_BLOCKED
    assert refused.details["max_amount"] == "50"
    small_book, _ = _gate(clients, Mode.BACKTEST, max_position_by_asset={AWEETH: "50"})
    staged = small_book.intent(bundle)
    # "supply everything" is sized from the chain: 100 ETH staked and wrapped into weETH
    supply = next(o for o in staged.orders if str(o.instrument_key) == AWEETH)
    assert Decimal(90) < supply.amount < Decimal(100)
    refused = _refused(
        AtomicBundleExecutor(clients, stack.user, gate=small_book), bundle, stack, "max_position"
    )
    assert AWEETH in refused.message


def test_reverted_bundle_is_audited_and_changes_no_position(
    stack: EvmStack, clients: OnchainClients, tmp_path: Path
) -> None:
    _fund(stack)
    clock = TestClock()
    clock.set_time(START_NS)
    context = AuditContext(
        mode=Mode.BACKTEST,
        strategy_id="GLOBAL",
        version_hash="a" * 64,
        config_hash="b" * 64,
        clock=clock,
        wall_clock=clock,
    )
    with AuditStore(AuditStoreConfig(root=str(tmp_path), fsync=False)) as store:
        gate = SafetyGate(safety_config(Mode.BACKTEST), clock, sink=AuditSink(store.append, context))
        bundle_gate = BundleGate(gate, clients, strategy_id="defi-1")
        bundle_gate.adopt_chain_positions("ops", symbols=["WETH", "WEETH"])
        # without e-mode the 72.5 % weETH LTV cannot carry a 95 WETH borrow: the cast reverts
        bundle = OrderMapper(clients).bundle_for_group(_entry_group("95"))
        before = _marks(stack)
        with pytest.raises(TransactionReverted) as caught:
            AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(bundle, timestamp_ns=0)
        assert caught.value.details["step"] == "6:BORROW WETH"
        assert _marks(stack) == before
        # a revert is not a fill: no position moved and nothing is dirty
        assert gate.oms.position(AWEETH) == 0
        assert gate.oms.position(DEBTWETH) == 0
        assert gate.status()["dirty"] == []
        store.flush()
    assert verify_log(str(tmp_path)).ok
    risk = [r.event for r in iter_records(str(tmp_path)) if r.event["event_type"] == "RISK"]
    rules = [(e["rule"], e["action"]) for e in risk]
    assert rules.index(("gate", "ALLOW")) < rules.index(("bundle_reverted", "BLOCK"))
    reverted = next(e for e in risk if e["rule"] == "bundle_reverted")
    assert reverted["reason_code"] == "TRANSACTION_REVERTED"
    assert reverted["details"]["bundle_hash"] == bundle_hash(bundle)
    assert reverted["details"]["outcome"] == "reverted"
    assert reverted["details"]["step"] == "6:BORROW WETH"


def test_only_live_sends_to_a_public_chain(stack: EvmStack, clients: OnchainClients) -> None:
    _fund(stack)
    bundle = OrderMapper(clients).bundle_for_group(_entry_group("90"))
    # the same stand-ins configured as Ethereum mainnet (chain id 1)
    mainnet = OnchainClients(clients.gateway, clients.config.model_copy(update={"chain_id": 1}))
    bundle_gate, events = _gate(mainnet, Mode.BACKTEST)
    executor = AtomicBundleExecutor(mainnet, stack.user, gate=bundle_gate)
    refused = _refused(executor, bundle, stack, "LIVE_ONLY_CHAIN")
    assert refused.code is ErrorCode.RISK_BLOCKED
    assert refused.details["chain_id"] == 1
    assert events[-1].rule == "LIVE_ONLY_CHAIN"
