"""The safety gate in front of the chain: arming, confirmation by bundle hash, SAFE mode, kills,
the risk matrix, dirty positions and the audit trail, against the local EVM stand-ins."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import SafeModeActive
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import aave_withdraw
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.control import ControlEndpoint
from nautilus_ext_testkit.chain.gates import safety_config
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

START_NS = 1_709_251_200 * 1_000_000_000
LAMBDA = Decimal("0.9")
AWEETH = "AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM"
DEBTWETH = "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM"


def _gate(
    clients: OnchainClients,
    mode: Mode,
    *,
    reconcile: bool = False,
    sink: Any = None,
    **risk: Any,
) -> tuple[BundleGate, list[SafetyEvent]]:
    clock = TestClock()
    clock.set_time(START_NS)
    events: list[SafetyEvent] = []
    gate = SafetyGate(safety_config(mode, **risk), clock, sink=sink or events.append)
    bundle_gate = BundleGate(gate, clients, strategy_id="defi-1", reconcile_after_execution=reconcile)
    bundle_gate.adopt_chain_positions("ops", symbols=["WETH", "WEETH"])
    return bundle_gate, events


def _marks(stack: EvmStack) -> tuple[int, int]:
    # what a sent bundle changes: the chain's height and the sender's nonce
    return stack.w3.eth.block_number, stack.w3.eth.get_transaction_count(stack.user)


def _refused(
    executor: AtomicBundleExecutor, bundle: AtomicBundle, stack: EvmStack, rule: str
) -> NautilusExtError:
    before = _marks(stack)
    with pytest.raises(NautilusExtError) as caught:
        executor.execute(bundle, timestamp_ns=0)
    assert caught.value.details["rule"] == rule, caught.value
    assert _marks(stack) == before
    return caught.value


def _debt(stack: EvmStack) -> int:
    return int(stack.contracts["debt_weth"].functions.balanceOf(stack.config.dsa).call())


def _outcomes(events: list[SafetyEvent]) -> list[SafetyEvent]:
    return [e for e in events if e.rule is not None and e.rule.startswith("bundle_")]


@pytest.mark.slow
def test_live_needs_an_arm_and_a_confirmation_of_exactly_this_bundle(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, events = _gate(clients, Mode.LIVE)
    gate = bundle_gate.gate
    # a production gateway (not the fixtures' local-setup one): every write needs a release
    guarded = OnchainClients(ChainGateway(stack.w3), stack.config)
    executor = AtomicBundleExecutor(guarded, stack.user, gate=bundle_gate)
    planner = BundlePlanner(clients)
    unwind = planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    other = planner.partial_unwind(2 * ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    assert bundle_hash(unwind) != bundle_hash(other)

    # the raw client path around the executor: refused before anything is signed
    before = _marks(stack)
    with pytest.raises(RiskBlocked) as raw:
        guarded.dsa.cast(executor.prepare(unwind).spells, stack.user, step="raw cast")
    assert raw.value.details["rule"] == "not_released"
    assert _marks(stack) == before

    # LIVE, not armed: refused, nothing on chain
    _refused(executor, unwind, stack, "not_armed")
    gate.arm(60, "alice")
    staged = bundle_gate.stage(unwind)
    bundle_gate.stage(other)
    assert {str(o.instrument_key) for o in staged.orders} == {AWEETH, DEBTWETH}
    assert all(o.atomic_group_id == staged.bundle_hash for o in staged.orders)
    assert [o.signed_amount < 0 for o in staged.orders] == [True, True]  # repay and withdraw
    # armed and staged, not confirmed: refused
    _refused(executor, unwind, stack, "not_confirmed")
    # a wrong hash confirms nothing
    with pytest.raises(RiskBlocked) as wrong:
        bundle_gate.confirm("0" * 64, "alice")
    assert wrong.value.details["rule"] == "arm_command"
    _refused(executor, unwind, stack, "not_confirmed")
    # confirming A cannot release B
    bundle_gate.confirm(staged.intent_hash, "alice")
    _refused(executor, other, stack, "not_confirmed")

    debt_before = _debt(stack)
    before = _marks(stack)
    result = executor.execute(unwind, timestamp_ns=0)
    assert _marks(stack) == (before[0] + 1, before[1] + 1)  # exactly one transaction
    assert debt_before - ETHER - 2 <= _debt(stack) <= debt_before - ETHER + 2 * 10**12
    executed = _outcomes(events)[-1]
    assert executed.rule == "bundle_executed"
    assert executed.intent_hash == staged.intent_hash
    assert executed.details["bundle_hash"] == bundle_hash(unwind)
    assert executed.details["tx_hash"] == result.receipt.tx_hash
    assert executed.details["gas_used"] == result.receipt.gas_used > 0
    # the confirmation is spent, and the positions are dirty until read back from chain
    assert set(gate.status()["dirty"]) == {AWEETH, DEBTWETH}
    _refused(executor, unwind, stack, "dirty_position")
    assert bundle_gate.reconcile() == {
        "AAVE_V3_ETH:A_TOKEN:AWETH@ETHEREUM": True,
        AWEETH: True,
        "AAVE_V3_ETH:DEBT_TOKEN:DEBTWEETH@ETHEREUM": True,
        DEBTWETH: True,
    }
    assert gate.status()["dirty"] == []
    # a bundle can be confirmed by its bundle hash too (the gate records the intent's hash)
    fresh = planner.partial_unwind(2 * ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    staged_fresh = bundle_gate.confirm(bundle_gate.stage(fresh).bundle_hash, "alice")
    confirmed = {i["intent_hash"]: i["confirmed_by"] for i in gate.status()["staged"]}
    assert confirmed[staged_fresh.intent_hash] == "alice"


@pytest.mark.slow
def test_safe_mode_refuses_new_risk_and_lets_an_unwind_through(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.LIVE)
    gate = bundle_gate.gate
    executor = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate)
    planner = BundlePlanner(clients)
    more_risk = planner.ltv_adjustment(Decimal("0.91"), max_slippage=Decimal("0.03"))
    unwind = planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    gate.kill("ops", None, "drill")
    assert gate.status()["safe"]["code"] == "SAFE_MODE"
    gate.arm(60, "alice")  # SAFE mode dropped the arm; a fresh one still cannot add risk
    bundle_gate.confirm(bundle_gate.stage(more_risk).intent_hash, "alice")
    # the operator's control endpoint confirms a staged bundle like any staged intent
    staged = bundle_gate.stage(unwind)
    endpoint = ControlEndpoint(gate, "t" * 32)
    endpoint.start()
    try:
        reply = endpoint.execute({"command": "confirm", "intent_hash": staged.intent_hash, "actor": "alice"})
        status = endpoint.execute({"command": "status"})
    finally:
        endpoint.stop()
    assert reply["ok"], reply
    assert reply["operation_id"] == staged.orders[0].operation_id
    assert staged.intent_hash in {i["intent_hash"] for i in status["status"]["staged"]}
    refused = _refused(executor, more_risk, stack, "safe_mode")
    assert isinstance(refused, SafeModeActive)
    assert refused.code is ErrorCode.SAFE_MODE
    debt_before = _debt(stack)
    executor.execute(unwind, timestamp_ns=0)
    assert _debt(stack) < debt_before


@pytest.mark.slow
def test_strategy_kill_refuses_new_risk_in_backtest_too(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST)
    executor = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate)
    more_risk = BundlePlanner(clients).ltv_adjustment(Decimal("0.91"), max_slippage=Decimal("0.03"))
    bundle_gate.gate.kill("ops", "defi-1", "drill")
    refused = _refused(executor, more_risk, stack, "kill_switch")
    assert refused.code is ErrorCode.RISK_BLOCKED
    bundle_gate.gate.release_strategy("ops", "defi-1")
    executor.execute(more_risk, timestamp_ns=0)


@pytest.mark.slow
def test_dirty_until_an_onchain_snapshot_and_a_mismatch_enters_safe_mode(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST)
    gate = bundle_gate.gate
    executor = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate)
    planner = BundlePlanner(clients)
    executor.execute(planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01")), timestamp_ns=0)
    assert set(gate.status()["dirty"]) == {AWEETH, DEBTWETH}
    second = planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    _refused(executor, second, stack, "dirty_position")
    # the snapshot reads the positions from chain: they match the running sums, so clean
    assert all(bundle_gate.reconcile([AWEETH, DEBTWETH]).values())
    assert gate.status()["dirty"] == []
    executor.execute(second, timestamp_ns=0)
    assert all(bundle_gate.reconcile().values())

    # the position changes behind the gate's back: the next snapshot disagrees -> SAFE mode
    weeth = stack.config.token("WEETH").address
    clients.dsa.cast([aave_withdraw("AAVE-V3-A", weeth, ETHER)], stack.user, step="behind the gate")
    matched = bundle_gate.reconcile()
    assert matched[AWEETH] is False
    assert gate.status()["safe"]["code"] == "POSITION_MISMATCH"
    _refused(
        executor, planner.ltv_adjustment(Decimal("0.91"), max_slippage=Decimal("0.03")), stack, "safe_mode"
    )


_OPS = (
    "arm",
    "disarm",
    "stage_up",
    "stage_down",
    "confirm_up",
    "confirm_down",
    "confirm_wrong",
    "prepare_up",
    "prepare_down",
    "kill",
    "release_up",
    "release_down",
)


@pytest.mark.slow
def test_no_bundle_is_released_without_arm_and_matching_confirmation_nor_new_risk_in_safe_mode(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    planner = BundlePlanner(clients)
    bundles = {
        "up": planner.ltv_adjustment(Decimal("0.91"), max_slippage=Decimal("0.03")),  # new risk
        "down": planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01")),  # reduces
    }
    positions = _gate(clients, Mode.LIVE)[0].gate.oms.positions
    height = stack.w3.eth.block_number

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ops=st.lists(st.sampled_from(_OPS), max_size=16))
    # the paths random draws reach rarely, always run
    @example(ops=["kill", "arm", "prepare_up", "release_up", "prepare_down", "release_down"])
    @example(ops=["arm", "prepare_down", "stage_up", "release_up", "confirm_wrong", "release_down"])
    @example(ops=["arm", "prepare_up", "disarm", "arm", "release_up", "prepare_up", "release_up"])
    def run(ops: list[str]) -> None:
        clock = TestClock()
        clock.set_time(START_NS)
        gate = SafetyGate(safety_config(Mode.LIVE), clock, sink=lambda _: None)
        for key, quantity in positions.items():
            gate.oms.resync(key, quantity, "ops")
        bundle_gate = BundleGate(gate, clients, strategy_id="defi-1")
        armed, safe = False, False
        staged = {"up": False, "down": False}
        confirmed = {"up": False, "down": False}
        for op in ops:
            clock.advance_time(clock.timestamp_ns() + 1_000_000_000)
            verb, _, name = op.partition("_")
            if verb == "arm":
                if armed:
                    with pytest.raises(RiskBlocked):
                        gate.arm(600, "alice")
                else:
                    gate.arm(600, "alice")
                    armed = True
            elif verb == "disarm":
                gate.disarm("alice")
                armed, confirmed = False, dict.fromkeys(confirmed, False)
            elif verb == "kill":
                gate.kill("ops", None, "drill")
                if not safe:  # entering SAFE mode ends the arm and its confirmations
                    armed, confirmed = False, dict.fromkeys(confirmed, False)
                # every kill drops the bundles staged and not yet sent (they must be staged again)
                staged, confirmed = dict.fromkeys(staged, False), dict.fromkeys(confirmed, False)
                safe = True
            if verb in ("stage", "prepare"):
                bundle_gate.stage(bundles[name])
                if not staged[name]:
                    staged[name], confirmed[name] = True, False
            if verb == "prepare":  # stage then confirm, the operator's usual pair
                verb = "confirm"
            if verb in ("arm", "disarm", "kill", "stage"):
                continue
            if verb == "confirm":
                digest = "f" * 64 if name == "wrong" else bundle_hash(bundles[name])
                ok = name != "wrong" and staged[name] and armed and not confirmed[name]
                if ok:
                    bundle_gate.confirm(digest, "alice")
                    confirmed[name] = True
                else:
                    with pytest.raises(RiskBlocked):
                        bundle_gate.confirm(digest, "alice")
            else:
                expected = armed and staged[name] and confirmed[name] and not (safe and name == "up")
                error: NautilusExtError | None = None
                try:
                    bundle_gate.release(bundles[name])
                except NautilusExtError as e:
                    error = e
                allowed = error is None
                assert allowed == expected, (ops, op, error)
                if error is not None:
                    assert error.details["rule"] in {"not_armed", "not_confirmed", "safe_mode"}, error
                if allowed:  # one confirmation, one release
                    staged[name], confirmed[name] = False, False
        assert stack.w3.eth.block_number == height  # a decision never sends anything

    run()


def test_a_local_setup_gateway_is_refused_on_a_public_chain() -> None:
    # a node reporting Ethereum mainnet's chain id (1): local_setup would write without a gate
    mainnet = SimpleNamespace(eth=SimpleNamespace(chain_id=1))
    with pytest.raises(InvalidConfig, match="chain 1"):
        ChainGateway(mainnet, local_setup=True)
    assert not ChainGateway(mainnet).local_setup


def test_a_loss_on_chain_kills_the_strategy(entered_stack: EvmStack, entered_clients: OnchainClients) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST, strategy_loss_limit="1000")
    executor = AtomicBundleExecutor(clients, stack.user, gate=bundle_gate)
    assert bundle_gate.update_pnl() == 0
    # weETH's oracle price falls 2 %: ~95 weETH of collateral against a WETH debt loses equity
    oracle, weeth = stack.contracts["oracle"], stack.contracts["weeth"]
    price = int(oracle.functions.getAssetPrice(weeth.address).call())
    stack.tx(oracle.functions.setAssetPrice(weeth.address, price * 98 // 100))
    bundle_gate.reconcile()
    pnl = bundle_gate.update_pnl()
    assert pnl is not None
    assert pnl < Decimal(-1000), pnl
    assert bundle_gate.gate.halts.killed("defi-1") is not None, bundle_gate.gate.status()
    # the drop took the LTV from 0.90 to about 0.918: 0.925 is more risk, a killed strategy's
    more_risk = BundlePlanner(clients).ltv_adjustment(Decimal("0.925"), max_slippage=Decimal("0.03"))
    refused = _refused(executor, more_risk, stack, "kill_switch")
    assert refused.code is ErrorCode.RISK_BLOCKED
