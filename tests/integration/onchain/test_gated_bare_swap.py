"""A bare swap through the DSA is judged by the bundle gate on the DSA's SPOT_ASSET keys (it used
to be refused as a bundle with no position leg): risk matrix, arming, fills and reconciliation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.errors import RiskBlocked
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.order_mapping import OrderMapper
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext_testkit.chain.gates import safety_config
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

pytestmark = pytest.mark.slow

WETH_KEY = "WALLET-ETH:SPOT_ASSET:WETH@ETHEREUM"
WEETH_KEY = "WALLET-ETH:SPOT_ASSET:WEETH@ETHEREUM"


def _bundle(stack: EvmStack, clients: OnchainClients) -> AtomicBundle:
    weth = stack.contracts["weth"]
    stack.tx(weth.functions.deposit(), sender=stack.user, value=10 * ETHER)
    stack.tx(weth.functions.transfer(stack.config.dsa, 10 * ETHER), sender=stack.user)
    swap = Order(
        operation_id="swap-1",
        operation="swap",
        instrument_key="UNISWAPV2-ETH:POOL:WEETH-WETH@ETHEREUM",
        side="SELL",
        amount=Decimal(1),
        source_token="WETH",
        target_token="WEETH",
        max_slippage=Decimal("0.02"),
        strategy_id="defi-1",
    )
    return AtomicBundle(kind=BundleKind.ORDER_GROUP, steps=tuple(OrderMapper(clients).steps_for(swap)))


def _gate(clients: OnchainClients, mode: Mode, **risk: str) -> tuple[BundleGate, list[SafetyEvent]]:
    clock = TestClock()
    clock.set_time(1_709_251_200 * 10**9)
    events: list[SafetyEvent] = []
    gate = SafetyGate(safety_config(mode, **risk), clock, sink=events.append)
    return BundleGate(gate, clients, strategy_id="defi-1", reconcile_after_execution=True), events


def test_a_bare_swap_is_judged_on_spot_asset_keys_filled_and_reconciled(
    stack: EvmStack, clients: OnchainClients
) -> None:
    bundle = _bundle(stack, clients)
    bundle_gate, events = _gate(clients, Mode.BACKTEST)
    staged = bundle_gate.intent(bundle)
    legs = {o.metadata["position_key"]: o for o in staged.orders if o.metadata}
    assert set(legs) == {WETH_KEY, WEETH_KEY}
    assert legs[WETH_KEY].signed_amount == -1
    swap = bundle.steps[0].swap
    assert swap is not None
    assert legs[WEETH_KEY].signed_amount == Decimal(swap.quote_out).scaleb(-18) > 0
    # the holdings were adopted from chain on first sight
    assert bundle_gate.gate.oms.position(WETH_KEY) == 10
    weeth = stack.contracts["weeth"]
    weeth0 = weeth.functions.balanceOf(stack.config.dsa).call()
    AtomicBundleExecutor(clients, stack.user, gate=bundle_gate).execute(bundle, timestamp_ns=0)
    assert weeth.functions.balanceOf(stack.config.dsa).call() - weeth0 == swap.quote_out
    # the fills moved the running sums, the chain read-back confirmed them: nothing dirty
    assert bundle_gate.gate.oms.position(WETH_KEY) == 9
    assert not bundle_gate.gate.status()["dirty"]
    assert [e.rule for e in events if e.rule == "bundle_executed"] == ["bundle_executed"]


def test_the_risk_matrix_and_arming_apply_to_a_bare_swap(stack: EvmStack, clients: OnchainClients) -> None:
    bundle = _bundle(stack, clients)
    # buying WEETH past its max position is refused on the WEETH key (selling WETH only shrinks)
    small, _ = _gate(clients, Mode.BACKTEST, max_position="0.5")
    with pytest.raises(RiskBlocked) as caught:
        small.release(bundle)
    assert caught.value.details["rule"] == "max_position"
    assert WEETH_KEY in caught.value.message
    # LIVE: an arm and a confirmation of this swap are needed, as for any order
    live, _ = _gate(clients, Mode.LIVE)
    with pytest.raises(RiskBlocked) as unarmed:
        live.release(bundle)
    assert unarmed.value.details["rule"] == "not_armed"
    live.gate.arm(60, "alice")
    staged = live.stage(bundle)
    live.confirm(staged.intent_hash, "alice")
    release = live.release(bundle)
    assert release.intent_hash == staged.intent_hash
