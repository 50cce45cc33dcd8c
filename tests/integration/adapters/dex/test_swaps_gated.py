"""DEX swaps end to end on Anvil through the safety gate: LIVE arming and confirmation, fills equal
to the receipts and balances, each failure's typed error with nothing filled, DRY_RUN sends nothing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.adapters.dex import ApprovalMode
from nautilus_ext.adapters.dex import DexConfig
from nautilus_ext.adapters.dex import InsufficientAllowance
from nautilus_ext.adapters.dex import SwapBelowMinimum
from nautilus_ext.adapters.dex import SwapDeadlineExpired
from nautilus_ext.adapters.dex import build_dex_clients
from nautilus_ext.adapters.dex import router_call
from nautilus_ext.adapters.dex.errors import classify_swap_revert
from nautilus_ext.adapters.dex.execution import SwapPlan
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import buffered_gas_limit
from nautilus_ext.onchain.chain import outstanding_releases
from nautilus_ext.onchain.swap_executor import DexSwapExecutor
from nautilus_ext.onchain.swaps import FixedPriceOracle
from nautilus_ext.onchain.swaps import SwapGate
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext_testkit.chain.dex_world import DAI
from nautilus_ext_testkit.chain.dex_world import E18
from nautilus_ext_testkit.chain.dex_world import USDC
from nautilus_ext_testkit.chain.dex_world import WETH
from nautilus_ext_testkit.chain.dex_world import DexWorld
from nautilus_ext_testkit.chain.gates import safety_config

pytestmark = pytest.mark.slow

START_NS = 1_709_251_200 * 1_000_000_000
ORACLE = FixedPriceOracle(
    {(WETH, DAI): Decimal(2000), (WETH, USDC): Decimal(2000), ("ETH", DAI): Decimal(2000)}
)
V2_KEY = "UNISWAPV2-ETH:POOL:WETH-DAI:3000@ETHEREUM"
V3_KEY = "UNISWAPV3-ETH:POOL:WETH-DAI:3000@ETHEREUM"
V3_500_KEY = "UNISWAPV3-ETH:POOL:WETH-DAI:500@ETHEREUM"
BAL_KEY = "BALANCER-ETH:POOL:WETH-USDC-DAI@ETHEREUM"
WETH_KEY = "WALLET-ETH:SPOT_ASSET:WETH@ETHEREUM"
DAI_KEY = "WALLET-ETH:SPOT_ASSET:DAI@ETHEREUM"


@pytest.fixture
def fresh(world: DexWorld) -> Iterator[DexWorld]:
    # every test starts from the same chain state
    snap = world.chain.node.snapshot()
    try:
        yield world
    finally:
        world.chain.node.revert(snap)


class Rig:
    """A gate, a swap gate and an executor over a guarded gateway for the trader."""

    def __init__(
        self,
        world: DexWorld,
        mode: Mode,
        config: DexConfig | None = None,
        oracle: Any = ORACLE,
        max_position: str = "10000000",
    ) -> None:
        self.world = world
        self.config = config or world.config
        clock = TestClock()
        clock.set_time(START_NS)
        self.events: list[SafetyEvent] = []
        self.gate = SafetyGate(safety_config(mode, max_position=max_position), clock, sink=self.events.append)
        self.gateway = ChainGateway(world.w3, max_fee_per_gas_wei=self.config.max_fee_per_gas_wei)
        self.clients = build_dex_clients(world.w3, self.config)
        self.swap_gate = SwapGate(
            self.gate, self.gateway, self.config, strategy_id="dex-1", wallet=world.trader
        )
        self.swap_gate.adopt_chain_balances("ops")
        self.executor = DexSwapExecutor(
            self.swap_gate, self.gateway, self.config, self.clients.reader, oracle
        )
        self.pools = {str(p.key): p for p in self.clients.provider.discover()}

    def plan(self, key: str, token_in: str, token_out: str, amount_in: int, **kw: Any) -> SwapPlan:
        snap = self.clients.reader.read([self.pools[key]])[key]
        return self.executor.plan(snap, token_in, token_out, amount_in, **kw)

    def marks(self) -> tuple[int, int]:
        w3 = self.world.w3
        return w3.eth.block_number, w3.eth.get_transaction_count(self.world.trader)

    def rules(self) -> list[str]:
        return [e.rule for e in self.events if e.rule is not None and e.rule.startswith("swap_")]


def _refused(rig: Rig, plan: SwapPlan, kind: type[NautilusExtError]) -> NautilusExtError:
    before = rig.marks()
    positions, dirty = dict(rig.gate.oms.positions), rig.gate.status()["dirty"]
    with pytest.raises(kind) as caught:
        rig.executor.execute(plan)
    assert rig.marks() == before  # nothing sent
    assert dict(rig.gate.oms.positions) == positions  # nothing filled
    assert rig.gate.status()["dirty"] == dirty
    assert outstanding_releases() == 0
    return caught.value


def test_live_swap_needs_arm_and_confirmation_then_fills_as_the_receipt_says(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.LIVE)
    w3 = fresh.w3
    plan = rig.plan(V3_KEY, WETH, DAI, 3 * E18, max_slippage=Decimal("0.01"))
    assert plan.min_out == math.floor(plan.quote_out * Decimal("0.99"))

    # not armed: refused by the gate, nothing sent
    error = _refused(rig, plan, RiskBlocked)
    assert error.details["rule"] == "not_armed"
    rig.gate.arm(60, "alice")
    staged = rig.swap_gate.stage([plan])
    assert [str(o.instrument_key) for o in staged.orders] == [V3_KEY, V3_KEY]
    assert staged.assets == (WETH_KEY, DAI_KEY)
    assert staged.orders[0].signed_amount == -Decimal(3)
    assert staged.orders[1].signed_amount == plan.quote_out_tokens
    # armed, staged, not confirmed: refused
    assert _refused(rig, plan, RiskBlocked).details["rule"] == "not_confirmed"
    # a different swap cannot ride on this confirmation
    other = rig.plan(V3_KEY, WETH, DAI, 2 * E18, max_slippage=Decimal("0.01"))
    rig.swap_gate.confirm(staged.intent_hash, "alice")
    assert _refused(rig, other, RiskBlocked).details["rule"] == "not_confirmed"

    weth0, dai0, eth0 = fresh.balance(WETH), fresh.balance(DAI), w3.eth.get_balance(fresh.trader)
    _, nonce0 = rig.marks()
    (fill,) = rig.executor.execute(plan)
    # approval (exact) + swap: two transactions with consecutive nonces
    assert rig.marks()[1] == nonce0 + 2
    router = fresh.chain.contracts["uniswap_v3_router"].address
    assert fresh.tokens[WETH].functions.allowance(fresh.trader, router).call() == 0  # exact, all spent
    # the fill is the receipt: Transfer amounts equal the balance changes and the pure-math quote
    assert (fill.amount_in, fill.amount_out) == (3 * E18, fresh.balance(DAI) - dai0)
    assert weth0 - fresh.balance(WETH) == 3 * E18
    assert fill.amount_out == plan.quote_out
    receipt = w3.eth.get_transaction_receipt(fill.tx_hash)
    assert fill.gas_used == receipt["gasUsed"]
    assert fill.gas_fee_wei == receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert fill.gas_fee_quote == fill.gas_fee_eth * 2000
    tx = w3.eth.get_transaction(fill.tx_hash)
    assert tx["maxFeePerGas"] == rig.config.max_fee_per_gas_wei  # EIP-1559, capped
    # gas limit = eth_estimateGas x 1.2 on the state the swap was sent against
    estimate = w3.eth.estimate_gas(
        {"from": tx["from"], "to": tx["to"], "data": tx["input"]}, block_identifier=receipt["blockNumber"] - 1
    )
    assert tx["gas"] == buffered_gas_limit(estimate) > receipt["gasUsed"]
    approval_fee = eth0 - w3.eth.get_balance(fresh.trader) - fill.gas_fee_wei
    assert approval_fee > 0  # the approval's gas, paid by the trader too
    # audited before and after; positions dirty until the balances are read back
    assert rig.rules()[-3:] == ["swap_sending", "swap_sending", "swap_executed"]
    executed = next(e for e in reversed(rig.events) if e.rule == "swap_executed")
    assert executed.details["tx_hash"] == fill.tx_hash
    assert executed.intent_hash == staged.intent_hash
    assert set(rig.gate.status()["dirty"]) == {WETH_KEY, DAI_KEY}
    assert _refused(rig, other, RiskBlocked).details["rule"] == "dirty_position"
    assert rig.swap_gate.reconcile() == {
        DAI_KEY: True,
        WETH_KEY: True,
        "WALLET-ETH:SPOT_ASSET:USDC@ETHEREUM": True,
    }
    assert not rig.gate.status()["dirty"]
    assert rig.gate.oms.position(DAI_KEY) == Decimal(fresh.balance(DAI)).scaleb(-18)


@pytest.mark.parametrize(
    ("key", "token_out", "amount_in"),
    [(V2_KEY, DAI, E18 // 2), (V3_500_KEY, DAI, 10 * E18), (BAL_KEY, USDC, E18 // 2)],
)
def test_each_router_fills_the_quote(fresh: DexWorld, key: str, token_out: str, amount_in: int) -> None:
    rig = Rig(fresh, Mode.BACKTEST)
    plan = rig.plan(key, WETH, token_out, amount_in)
    out0 = fresh.balance(token_out)
    (fill,) = rig.executor.execute(plan)
    assert fill.amount_out == plan.quote_out == fresh.balance(token_out) - out0
    assert fill.amount_in == amount_in
    assert rig.swap_gate.reconcile([WETH_KEY, f"WALLET-ETH:SPOT_ASSET:{token_out}@ETHEREUM"]) == {
        WETH_KEY: True,
        f"WALLET-ETH:SPOT_ASSET:{token_out}@ETHEREUM": True,
    }


def test_a_swap_that_would_land_below_its_minimum_is_refused_unsent(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.BACKTEST)
    plan = rig.plan(V2_KEY, WETH, DAI, E18 // 2, max_slippage=Decimal("0.001"))
    # someone else moves the pool between the quote and the send
    chain, weth = fresh.chain, fresh.tokens[WETH]
    router = chain.contracts["uniswap_v2_router"]
    chain.send(weth.functions.approve(router.address, 10 * E18))
    chain.send(
        router.functions.swapExactTokensForTokens(
            10 * E18, 0, [weth.address, fresh.tokens[DAI].address], chain.owner, 2**40
        )
    )
    error = _refused(rig, plan, SwapBelowMinimum)
    assert error.details["cause"] == "BELOW_MINIMUM_OUT"
    assert rig.rules()[-1] == "swap_not_sent"


def test_an_expired_deadline_is_refused_unsent(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.BACKTEST)
    plan = rig.plan(V3_KEY, WETH, DAI, E18)
    fresh.chain.node.increase_time(rig.config.deadline_secs + 1)
    assert _refused(rig, plan, SwapDeadlineExpired).details["cause"] == "DEADLINE_EXPIRED"


def test_insufficient_balance_and_allowance_are_refused_unsent(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.BACKTEST)
    too_big = rig.plan(V2_KEY, WETH, DAI, 1001 * E18, max_slippage=Decimal("0.9"))
    error = _refused(rig, too_big, InsufficientBalance)
    assert type(error) is InsufficientBalance
    no_approvals = Rig(fresh, Mode.BACKTEST, fresh.config.model_copy(update={"approval": ApprovalMode.NONE}))
    plan = no_approvals.plan(V2_KEY, WETH, DAI, E18)
    assert _refused(no_approvals, plan, InsufficientAllowance).details["cause"] == "INSUFFICIENT_ALLOWANCE"


def test_a_pool_far_from_the_oracle_is_refused_unsent(fresh: DexWorld) -> None:
    manipulated = FixedPriceOracle({(WETH, DAI): Decimal(2300)})
    rig = Rig(fresh, Mode.BACKTEST, oracle=manipulated)
    plan = rig.plan(V3_KEY, WETH, DAI, E18)
    assert _refused(rig, plan, RiskBlocked).details["rule"] == "ORACLE_DEVIATION"


def test_the_risk_matrix_judges_the_swap_legs_on_their_position_keys(fresh: DexWorld) -> None:
    # the wallet holds 2,000,000 DAI: buying more breaches a 2,000,000 max position on the DAI key
    rig = Rig(fresh, Mode.BACKTEST, max_position="2000000")
    plan = rig.plan(V3_KEY, WETH, DAI, E18)
    error = _refused(rig, plan, RiskBlocked)
    assert error.details["rule"] == "max_position"
    assert DAI_KEY in error.message
    # selling DAI shrinks that position: allowed
    (fill,) = rig.executor.execute(rig.plan(V3_KEY, DAI, WETH, 2000 * E18))
    assert fill.amount_in == 2000 * E18


def test_gas_above_the_cap_is_refused_before_signing(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.BACKTEST, fresh.config.model_copy(update={"max_fee_per_gas_wei": 1}))
    plan = rig.plan(V3_KEY, WETH, DAI, E18)
    before = rig.marks()
    with pytest.raises(RiskBlocked) as caught:
        rig.executor.execute(plan)
    assert caught.value.details["rule"] == "gas_price_cap"
    assert rig.marks() == before
    assert not rig.gate.status()["dirty"]
    assert rig.rules()[-1] == "swap_failed"
    assert outstanding_releases() == 0


@pytest.mark.parametrize("key", [V2_KEY, V3_KEY, BAL_KEY])
def test_router_reverts_map_to_their_typed_errors(fresh: DexWorld, key: str) -> None:
    # the real routers' revert reasons, simulated with eth_call: below minimum, expired deadline
    rig = Rig(fresh, Mode.BACKTEST)
    token_out = USDC if key == BAL_KEY else DAI
    plan = rig.plan(key, WETH, token_out, E18)
    _, spender = router_call(fresh.w3, rig.config, plan, fresh.trader)
    local = ChainGateway(fresh.w3, local_setup=True)
    local.send(fresh.tokens[WETH].functions.approve(spender, E18), step="approve", sender=fresh.trader)
    for bad, kind in (
        (replace(plan, min_out=plan.quote_out + 1), SwapBelowMinimum),
        (replace(plan, deadline=1), SwapDeadlineExpired),
    ):
        call, _ = router_call(fresh.w3, rig.config, bad, fresh.trader)
        with pytest.raises(TransactionReverted) as caught:
            local.call(call, step="swap", sender=fresh.trader)
        assert type(classify_swap_revert(str(caught.value.details["reason"]), "swap")) is kind


def test_dry_run_simulates_against_live_state_and_sends_nothing(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.DRY_RUN)
    plan = rig.plan(V3_KEY, WETH, DAI, 3 * E18)
    before, balances = rig.marks(), (fresh.balance(WETH), fresh.balance(DAI))
    positions = dict(rig.gate.oms.positions)
    (fill,) = rig.executor.execute(plan)
    assert fill.simulated
    assert fill.tx_hash is None
    assert (fill.amount_in, fill.amount_out) == (plan.amount_in, plan.quote_out)
    assert rig.marks() == before
    assert (fresh.balance(WETH), fresh.balance(DAI)) == balances
    assert dict(rig.gate.oms.positions) == positions
    assert rig.rules()[-1] == "swap_simulated"
    assert outstanding_releases() == 0


def test_a_kill_drops_staged_swaps_before_they_reach_the_chain(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.LIVE)
    plan = rig.plan(V3_KEY, WETH, DAI, E18)
    rig.gate.arm(60, "alice")
    staged = rig.swap_gate.stage([plan])
    rig.swap_gate.confirm(staged.intent_hash, "alice")
    report = rig.gate.kill_and_cancel("ops", strategy_id="dex-1")
    assert any("staged swaps" in line for line in report.cancelled)
    # the confirmation went with the staged intent (selling WETH alone would pass a strategy kill)
    assert _refused(rig, plan, RiskBlocked).details["rule"] == "not_confirmed"
    with pytest.raises(RiskBlocked) as again:
        rig.swap_gate.confirm(staged.intent_hash, "alice")
    assert again.value.details["rule"] == "arm_command"


def test_a_swap_mined_after_its_deadline_reverts_typed_and_fills_nothing(fresh: DexWorld) -> None:
    # every block 100 s after the last: the approval lands at +100, the swap at +200 > deadline +150
    rig = Rig(fresh, Mode.BACKTEST, fresh.config.model_copy(update={"deadline_secs": 150}))
    plan = rig.plan(V2_KEY, WETH, DAI, E18 // 2)
    positions = dict(rig.gate.oms.positions)
    weth0 = fresh.balance(WETH)
    fresh.chain.node.rpc("anvil_setBlockTimestampInterval", 100)
    try:
        with pytest.raises(SwapDeadlineExpired) as caught:
            rig.executor.execute(plan)
    finally:
        fresh.chain.node.rpc("anvil_removeBlockTimestampInterval")
    error = caught.value
    assert error.details["cause"] == "DEADLINE_EXPIRED"
    tx_hash = error.details["tx_hash"]
    assert isinstance(tx_hash, str)
    assert fresh.w3.eth.get_transaction_receipt(tx_hash)["status"] == 0  # mined, reverted
    assert fresh.balance(WETH) == weth0
    assert dict(rig.gate.oms.positions) == positions
    assert not rig.gate.status()["dirty"]
    assert rig.rules()[-1] == "swap_failed"
    assert outstanding_releases() == 0


def test_unlimited_approval_only_when_configured_then_no_more_approvals(fresh: DexWorld) -> None:
    rig = Rig(fresh, Mode.BACKTEST, fresh.config.model_copy(update={"approval": ApprovalMode.UNLIMITED}))
    rig.swap_gate = SwapGate(  # reconcile after each swap so the next one is not blocked as dirty
        rig.gate,
        rig.gateway,
        rig.config,
        strategy_id="dex-2",
        wallet=fresh.trader,
        reconcile_after_execution=True,
    )
    rig.swap_gate.adopt_chain_balances("ops")
    rig.executor = DexSwapExecutor(rig.swap_gate, rig.gateway, rig.config, rig.clients.reader, ORACLE)
    router = fresh.chain.contracts["uniswap_v3_router"].address
    _, nonce0 = rig.marks()
    rig.executor.execute(rig.plan(V3_KEY, WETH, DAI, E18))
    assert rig.marks()[1] == nonce0 + 2  # approval + swap
    assert fresh.tokens[WETH].functions.allowance(fresh.trader, router).call() >= 2**255
    rig.executor.execute(rig.plan(V3_KEY, WETH, DAI, E18))
    assert rig.marks()[1] == nonce0 + 3  # the swap alone
