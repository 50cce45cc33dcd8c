"""Unified ``swap`` Orders through routing, the SOR_DEFI service and the gate: the same code in
DRY_RUN (simulated against live pool state, nothing sent) and LIVE (armed, confirmed), on Anvil."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.adapters.dex import PoolSnapshot
from nautilus_ext.adapters.dex import build_dex_clients
from nautilus_ext.errors import NoRouteError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.execution.dex_swaps import DexSwapService
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.swap_executor import DexSwapExecutor
from nautilus_ext.onchain.swaps import FixedPriceOracle
from nautilus_ext.onchain.swaps import SwapGate
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext_testkit.chain.dex_world import DAI
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


@pytest.fixture
def fresh(world: DexWorld) -> Iterator[DexWorld]:
    snap = world.chain.node.snapshot()
    try:
        yield world
    finally:
        world.chain.node.revert(snap)


def _registry(pool_keys: Sequence[str]) -> InstrumentRegistry:
    default = InstrumentRegistry.default()
    return InstrumentRegistry(
        venues=[default.venue(v) for v in ("UNISWAPV3-ETH", "UNISWAPV2-ETH", "BALANCER-ETH")],
        instruments=[
            InstrumentAttributes(instrument_key=k, tick_size="0.000001", size_increment="0.00000001")
            for k in pool_keys
        ],
    )


def halves(
    snapshots: Sequence[PoolSnapshot], token_in: str, token_out: str, amount_in: int
) -> list[tuple[PoolSnapshot, int]]:
    """A two-way split for the test: half to each of the two deepest-paying pools."""
    ranked = sorted(
        snapshots,
        key=lambda s: -s.state.quote_exact_input(s.pool.index(token_in), s.pool.index(token_out), amount_in),
    )
    return [(ranked[0], amount_in // 2), (ranked[1], amount_in - amount_in // 2)]


class Service:
    def __init__(self, world: DexWorld, mode: Mode, registry_keys: Sequence[str], **kw: Any) -> None:
        clock = TestClock()
        clock.set_time(START_NS)
        self.events: list[SafetyEvent] = []
        self.gate = SafetyGate(safety_config(mode, max_position="10000000"), clock, sink=self.events.append)
        gateway = ChainGateway(world.w3, max_fee_per_gas_wei=world.config.max_fee_per_gas_wei)
        clients = build_dex_clients(world.w3, world.config)
        self.swap_gate = SwapGate(self.gate, gateway, world.config, strategy_id="sor-1", wallet=world.trader)
        self.swap_gate.adopt_chain_balances("ops")
        executor = DexSwapExecutor(self.swap_gate, gateway, world.config, clients.reader, ORACLE)
        self.feed = clients.feed(clients.provider.discover())
        self.service = DexSwapService(_registry(registry_keys), self.feed, executor, **kw)


def _order(key: str, amount: str, **kw: Any) -> Order:
    return Order(
        operation_id=kw.pop("operation_id", "swap-1"),
        operation="swap",
        instrument_key=key,
        side="SELL",
        amount=Decimal(amount),
        source_token=WETH,
        target_token=DAI,
        max_slippage=Decimal("0.01"),
        strategy_id="sor-1",
        **kw,
    )


def _marks(world: DexWorld) -> tuple[int, int]:
    return world.w3.eth.block_number, world.w3.eth.get_transaction_count(world.trader)


def _run(world: DexWorld, mode: Mode) -> tuple[Service, Any]:
    svc = Service(world, mode, [V2_KEY, V3_KEY, V3_500_KEY], allocator=halves)
    order = _order("UNISWAPV3-ETH:SPOT_PAIR:WETH-DAI@ETHEREUM", "2", smart_execution_enabled=True)
    if mode is Mode.LIVE:
        with pytest.raises(RiskBlocked):
            svc.service.submit(order)  # not armed
        svc.gate.arm(60, "alice")
        staged = svc.service.stage(order)
        svc.swap_gate.confirm(staged.intent_hash, "alice")
    return svc, svc.service.submit(order)


def test_sor_defi_in_dry_run_simulates_on_live_state_and_sends_nothing(fresh: DexWorld) -> None:
    before = _marks(fresh)
    svc, result = _run(fresh, Mode.DRY_RUN)
    assert result.algorithm == "SOR_DEFI"
    assert {str(c.key) for c in result.route.candidates} == {V2_KEY, V3_KEY, V3_500_KEY}
    assert len(result.fills) == 2
    assert all(f.simulated and f.tx_hash is None for f in result.fills)
    assert [f.amount_out for f in result.fills] == [p.quote_out for p in result.plans]
    assert result.amount_in == Decimal(2)
    assert _marks(fresh) == before
    assert [e.rule for e in svc.events if e.rule == "swap_simulated"] == ["swap_simulated"] * 2


def test_sor_defi_in_live_is_the_same_code_armed_and_confirmed(fresh: DexWorld) -> None:
    # what DRY_RUN simulated is what LIVE fills, on the same state
    snap = fresh.chain.node.snapshot()
    _, dry = _run(fresh, Mode.DRY_RUN)
    fresh.chain.node.revert(snap)
    dai0 = fresh.balance(DAI)
    svc, live = _run(fresh, Mode.LIVE)
    assert [str(p.pool.key) for p in live.plans] == [str(p.pool.key) for p in dry.plans]
    assert [f.amount_out for f in live.fills] == [f.amount_out for f in dry.fills]
    assert not any(f.simulated for f in live.fills)
    assert fresh.balance(DAI) - dai0 == sum(f.amount_out for f in live.fills)
    # one decision covered both children (one confirmation spent), each child its own receipt
    assert len({f.tx_hash for f in live.fills}) == 2
    assert [e.rule for e in svc.events if e.rule == "swap_executed"] == ["swap_executed"] * 2
    assert svc.swap_gate.reconcile()["WALLET-ETH:SPOT_ASSET:DAI@ETHEREUM"] is True


def test_a_pool_order_without_smart_execution_takes_its_pool(fresh: DexWorld) -> None:
    svc = Service(fresh, Mode.BACKTEST, [V2_KEY, V3_KEY])
    result = svc.service.submit(_order(V2_KEY, "0.5"))
    assert result.algorithm == "BEST_VENUE"
    assert [str(p.pool.key) for p in result.plans] == [V2_KEY]
    assert result.fills[0].amount_out == result.plans[0].quote_out


def test_candidates_without_live_state_are_excluded_with_a_reason(fresh: DexWorld) -> None:
    svc = Service(
        fresh, Mode.DRY_RUN, [V2_KEY, V3_KEY, V3_500_KEY, "UNISWAPV3-ETH:POOL:WETH-DAI:10000@ETHEREUM"]
    )
    result = svc.service.prepare(
        _order("UNISWAPV3-ETH:SPOT_PAIR:WETH-DAI@ETHEREUM", "1", smart_execution_enabled=True)
    )
    assert result.excluded == {"UNISWAPV3-ETH:POOL:WETH-DAI:10000@ETHEREUM": "NO_POOL_STATE"}
    # the best single pool by default
    assert len(result.plans) == 1
    with pytest.raises(NoRouteError):
        svc.service.prepare(_order("UNISWAPV3-ETH:POOL:WETH-DAI:10000@ETHEREUM", "1"))
