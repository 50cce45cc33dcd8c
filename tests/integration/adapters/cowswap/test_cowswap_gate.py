"""
CowSwap orders through the safety gate on Anvil: decision and audit before posting, fills
from settlement Trade events reconciled against wallet balances, nothing filled on failure.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.adapters.cowswap import CowOrderCancelled
from nautilus_ext.adapters.cowswap import CowOrderExpired
from nautilus_ext.adapters.cowswap import CowOrderStatus
from nautilus_ext.adapters.cowswap import CowSwapExecution
from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import PositionMismatch
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.cowswap import CowSwapGate
from nautilus_ext.onchain.cowswap import CowToken
from nautilus_ext.orders import AtomicGroup
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.events import AuditSink
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext_testkit.chain.gates import safety_config
from tests.integration.adapters.cowswap.conftest import CowWorld

pytestmark = pytest.mark.slow

START_NS = 1_709_251_200 * 1_000_000_000
POOL_KEY = "COWSWAP-ETH:POOL:WETH-USDC@ETHEREUM"
WETH_KEY = "COWSWAP-ETH:SPOT_ASSET:WETH@ETHEREUM"
USDC_KEY = "COWSWAP-ETH:SPOT_ASSET:USDC@ETHEREUM"


def _swap(amount: str = "0.5", op: str = "cow-1", key: str = POOL_KEY, **kw: Any) -> Order:
    return Order(
        operation_id=op,
        operation="swap",
        instrument_key=key,
        side="SELL",
        amount=Decimal(amount),
        source_token="WETH",
        target_token="USDC",
        max_slippage=Decimal("0.01"),
        strategy_id="cow-strat",
        **kw,
    )


def _gated(
    world: CowWorld, mode: Mode, *, sink: Any = None, approve: int | None = None, **risk: Any
) -> tuple[CowSwapGate, CowSwapExecution, list[SafetyEvent], str]:
    owner, ex = world.user(weth=10**18, approve=approve)
    clock = TestClock()
    clock.set_time(START_NS)
    events: list[SafetyEvent] = []
    gate = SafetyGate(safety_config(mode, **risk), clock, sink=sink or events.append)
    tokens = [
        CowToken(symbol, world.chain.tokens[symbol].address, world.chain.decimals[symbol])
        for symbol in ("WETH", "USDC")
    ]
    cow_gate = CowSwapGate(gate, ex, tokens, strategy_id="cow-strat", registry=InstrumentRegistry.default())
    cow_gate.adopt_wallet_balances("ops")
    return cow_gate, ex, events, owner


def _run(ex: CowSwapExecution, coro: Any) -> Any:
    async def main() -> Any:
        try:
            return await coro
        finally:
            await ex.http.close()

    return asyncio.run(main())


def _rules(events: list[SafetyEvent]) -> list[str]:
    return [str(e.rule) for e in events if e.rule is not None]


def test_gated_swap_fills_from_trade_events_and_reconciles_with_balances(world: CowWorld) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.DRY_RUN)
    gate = cow_gate.gate
    result = _run(ex, cow_gate.submit(_swap()))
    assert result.status is CowOrderStatus.FULFILLED
    (fill,) = result.outcome.fills
    (event,) = ex.chain.trade_events(order_uid=result.uid)
    assert (fill.sell_amount, fill.buy_amount, fill.tx_hash) == (
        event.sell_amount,
        event.buy_amount,
        event.tx_hash,
    )
    # the positions moved by exactly what the chain recorded, and the balance read confirmed them
    assert gate.oms.position(WETH_KEY) == Decimal("0.5")
    assert gate.oms.position(USDC_KEY) == Decimal(fill.buy_amount).scaleb(-6)
    assert Decimal(world.chain.balance("USDC", owner)).scaleb(-6) == gate.oms.position(USDC_KEY)
    assert gate.status()["dirty"] == []
    rules = _rules(events)
    order = ["gate", "gate", "cowswap_posting", "cowswap_posted", "cowswap_filled"]  # one gate ALLOW per leg
    assert [r for r in rules if r in set(order)] == order
    filled = next(e for e in events if e.rule == "cowswap_filled")
    assert filled.details["cow_order_uid"] == result.uid
    assert filled.details["tx_hash"] == fill.tx_hash


def test_live_needs_an_arm_and_a_confirmation_of_exactly_this_order(world: CowWorld) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.LIVE)
    gate = cow_gate.gate

    async def flow() -> Any:
        order = _swap(op="cow-live")
        intent = await cow_gate.prepare(order)
        with pytest.raises(RiskBlocked) as unarmed:
            await cow_gate.submit(order, intent=intent)
        assert unarmed.value.details["rule"] == "not_armed"
        gate.arm(60, "alice")
        cow_gate.stage(intent)
        with pytest.raises(RiskBlocked) as unconfirmed:
            await cow_gate.submit(order, intent=intent)
        assert unconfirmed.value.details["rule"] == "not_confirmed"
        assert world.book.orders.get(intent.uid) is None  # nothing reached the order book
        cow_gate.confirm(intent.uid, "alice")  # by the CoW order UID it binds
        return await cow_gate.submit(order, intent=intent)

    result = _run(ex, flow())
    assert result.status is CowOrderStatus.FULFILLED
    assert world.chain.balance("WETH", owner) == 10**18 // 2
    posting = next(e for e in events if e.rule == "cowswap_posting")
    assert posting.intent_hash is not None


def test_risk_refusal_posts_nothing_and_fills_nothing(world: CowWorld) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.DRY_RUN, max_trade_size_by_asset={WETH_KEY: "0.1"})
    with pytest.raises(RiskBlocked) as refused:
        _run(ex, cow_gate.submit(_swap()))
    assert refused.value.details["rule"] == "max_trade_size"
    assert "cowswap_posting" not in _rules(events)
    assert world.book.get_trades(owner, None) == []
    assert cow_gate.gate.oms.position(WETH_KEY) == 1


def test_order_book_refusal_is_audited_and_fills_nothing(world: CowWorld) -> None:
    cow_gate, ex, events, _owner = _gated(world, Mode.DRY_RUN, approve=10**15)
    with pytest.raises(InsufficientBalance):
        _run(ex, cow_gate.submit(_swap()))
    rules = _rules(events)
    assert rules.index("cowswap_posting") < rules.index("cowswap_not_posted")
    assert cow_gate.gate.oms.position(WETH_KEY) == 1
    assert cow_gate.gate.status()["dirty"] == []


def test_expired_order_is_a_typed_error_and_fills_nothing(world: CowWorld) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.DRY_RUN)
    world.set_settling(False)

    async def flow() -> Any:
        intent = await cow_gate.prepare(_swap(op="cow-exp"))
        task = asyncio.create_task(cow_gate.submit(intent.order, intent=intent))
        while intent.uid not in world.book.orders:
            await asyncio.sleep(0.02)
        world.chain.dex.node.increase_time(ex.config.valid_for_secs + 10)
        world.set_settling(True)
        return await task

    with pytest.raises(CowOrderExpired):
        _run(ex, flow())
    assert "cowswap_expired" in _rules(events)
    assert cow_gate.gate.oms.position(WETH_KEY) == 1
    assert world.chain.balance("WETH", owner) == 10**18


@pytest.mark.parametrize("on_chain", [False, True])
def test_cancel_through_the_gate_fills_nothing(world: CowWorld, on_chain: bool) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.DRY_RUN)
    world.set_settling(False)

    async def flow() -> Any:
        intent = await cow_gate.prepare(_swap(op=f"cow-cancel-{on_chain}"))
        task = asyncio.create_task(cow_gate.submit(intent.order, intent=intent))
        while intent.uid not in world.book.orders:
            await asyncio.sleep(0.02)
        try:
            await cow_gate.cancel(intent, on_chain=on_chain)
        finally:
            world.set_settling(True)
            with pytest.raises(CowOrderCancelled):
                await task

    with pytest.raises(CowOrderCancelled) as cancelled:
        _run(ex, flow())
    assert cancelled.value.details["invalidated"] is on_chain
    rules = _rules(events)
    assert rules.index("cancel") < rules.index("cowswap_cancel_sent") < rules.index("cowswap_cancelled")
    assert cow_gate.gate.oms.position(WETH_KEY) == 1
    assert world.chain.balance("WETH", owner) == 10**18


def test_an_order_routed_elsewhere_is_refused_before_anything(world: CowWorld) -> None:
    cow_gate, ex, events, _ = _gated(world, Mode.DRY_RUN)
    uniswap = _swap(key="UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM")
    with pytest.raises(InvalidOrder, match="routes to UNISWAPV3-ETH"):
        _run(ex, cow_gate.submit(uniswap))
    assert "gate" not in _rules(events)


def test_cowswap_in_an_atomic_group_stays_an_error(world: CowWorld) -> None:
    cow_gate, ex, _, _ = _gated(world, Mode.DRY_RUN)
    group = AtomicGroup.from_orders([_swap(atomic_group_id="g-1", sequence_in_group=0)])
    with pytest.raises(InvalidOrder) as refused:
        _run(ex, cow_gate.submit(group.orders[0]))
    assert refused.value.details["rule"] == "COWSWAP_IN_ATOMIC_BUNDLE"


def test_audit_log_holds_the_decision_before_and_the_fill_after(world: CowWorld, tmp_path: Path) -> None:
    clock = TestClock()
    clock.set_time(START_NS)
    context = AuditContext(
        mode=Mode.DRY_RUN,
        strategy_id="GLOBAL",
        version_hash="a" * 64,
        config_hash="b" * 64,
        clock=clock,
        wall_clock=clock,
    )
    with AuditStore(AuditStoreConfig(root=str(tmp_path), fsync=False)) as store:
        cow_gate, ex, _, _ = _gated(world, Mode.DRY_RUN, sink=AuditSink(store.append, context))
        result = _run(ex, cow_gate.submit(_swap(op="cow-audit")))
        store.flush()
    assert verify_log(str(tmp_path)).ok
    risk = [r.event for r in iter_records(str(tmp_path)) if r.event["event_type"] == "RISK"]
    rules = [e["rule"] for e in risk]
    assert rules.index("gate") < rules.index("cowswap_posting") < rules.index("cowswap_filled")
    filled = next(e for e in risk if e["rule"] == "cowswap_filled")
    assert filled["details"]["cow_order_uid"] == result.uid


def test_kill_cancels_open_cow_orders_and_nothing_fills(world: CowWorld) -> None:
    cow_gate, ex, events, owner = _gated(world, Mode.DRY_RUN)
    world.set_settling(False)

    async def flow() -> Any:
        intent = await cow_gate.prepare(_swap(op="cow-kill"))
        task = asyncio.create_task(cow_gate.submit(intent.order, intent=intent))
        while not cow_gate.open_orders():
            await asyncio.sleep(0.02)
        report = cow_gate.gate.kill_and_cancel("ops", "cow-strat", "test kill")
        world.set_settling(True)
        with pytest.raises(CowOrderCancelled):
            await task
        return intent, report

    intent, report = _run(ex, flow())
    assert report.not_cancelled == ()
    assert any(intent.uid[:18] in c for c in report.cancelled)
    assert world.book.orders[intent.uid].status == "cancelled"
    assert cow_gate.open_orders() == []
    rules = _rules(events)
    assert rules.index("kill_cancel") < rules.index("cowswap_cancelled")
    assert cow_gate.gate.oms.position(WETH_KEY) == 1
    assert world.chain.balance("WETH", owner) == 10**18


def test_trades_disagreeing_with_the_chain_enter_safe_mode_and_fill_nothing(world: CowWorld) -> None:
    cow_gate, ex, events, _ = _gated(world, Mode.DRY_RUN)

    def misreport(on: bool) -> None:
        world.book.misreport_trades = on

    world.server.call(lambda: misreport(True))
    try:
        with pytest.raises(PositionMismatch):
            _run(ex, cow_gate.submit(_swap(op="cow-lie")))
    finally:
        world.server.call(lambda: misreport(False))
    assert cow_gate.gate.safe is not None
    assert "cowswap_outcome_unknown" in _rules(events)
    assert "cowswap_filled" not in _rules(events)
    assert cow_gate.gate.oms.position(WETH_KEY) == 1  # nothing recorded as filled
