"""
Pytest fixtures for the on-chain suite (imported by the test conftests).

One Anvil per session, started from the dumped protocol world (deployed once and cached, see
:mod:`nautilus_ext_testkit.chain.stack`); each test is isolated with an EVM snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.compile import CompiledContract
from nautilus_ext_testkit.chain.compile import compile_contracts
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.chain.stack import deploy_stack


@pytest.fixture(scope="session")
def evm_cache_dir() -> Path:
    """
    Compiler output cache in the system temp dir, shared across sessions.

    Entries are keyed by source hash and compiler version, so a stale entry is never used.
    """
    return Path(tempfile.gettempdir()) / "nautilus-ext-vyper-cache"


@pytest.fixture(scope="session")
def compiled_contracts(evm_cache_dir: Path) -> dict[str, CompiledContract]:
    """Every stand-in compiled once per session."""
    return compile_contracts(evm_cache_dir)


@pytest.fixture(scope="session")
def session_stack(evm_cache_dir: Path, compiled_contracts: dict[str, CompiledContract]) -> Iterator[EvmStack]:
    """The protocol world on one Anvil per session (stopped at the end)."""
    stack = deploy_stack(evm_cache_dir)
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture
def stack(session_stack: EvmStack) -> Iterator[EvmStack]:
    """The session stack, rolled back to its deployed state after each test."""
    snapshot = session_stack.snapshot()
    yield session_stack
    session_stack.revert_to(snapshot)


@pytest.fixture
def clients(stack: EvmStack) -> OnchainClients:
    """Module clients pointed at the stand-ins."""
    return OnchainClients(ChainGateway(stack.w3, local_setup=True), stack.config)


ENTERED_EQUITY_WEI = 10 * 10**18
"""Equity of the shared leveraged position (WETH wei)."""


@pytest.fixture(scope="module")
def entered_snapshot(session_stack: EvmStack) -> Iterator[int]:
    """
    Enter one leveraged weETH position (E = 10 WETH, λ = 0.9) per test module and snapshot it.

    The chain returns to its pre-entry state when the module finishes.
    """
    from decimal import Decimal

    from nautilus_ext.onchain.executor import AtomicBundleExecutor
    from nautilus_ext.onchain.planner import BundlePlanner
    from nautilus_ext_testkit.chain.gates import backtest_bundle_gate

    base = session_stack.snapshot()
    weth = session_stack.contracts["weth"]
    session_stack.tx(weth.functions.deposit(), sender=session_stack.user, value=ENTERED_EQUITY_WEI)
    session_stack.tx(
        weth.functions.transfer(session_stack.config.dsa, ENTERED_EQUITY_WEI),
        sender=session_stack.user,
    )
    clients = OnchainClients(ChainGateway(session_stack.w3, local_setup=True), session_stack.config)
    AtomicBundleExecutor(clients, session_stack.user, gate=backtest_bundle_gate(clients)).execute(
        BundlePlanner(clients).leveraged_staking_entry(ENTERED_EQUITY_WEI, Decimal("0.9")),
        timestamp_ns=0,
    )
    entered = session_stack.snapshot()
    yield entered
    session_stack.revert_to(base)


@pytest.fixture
def entered_stack(session_stack: EvmStack, entered_snapshot: int) -> Iterator[EvmStack]:
    """The session stack holding the module's leveraged position, restored after each test."""
    session_stack.revert_to(entered_snapshot)
    yield session_stack
    session_stack.revert_to(entered_snapshot)


@pytest.fixture
def entered_clients(entered_stack: EvmStack) -> OnchainClients:
    """Module clients for :func:`entered_stack`."""
    return OnchainClients(ChainGateway(entered_stack.w3, local_setup=True), entered_stack.config)


def dsa_holdings(stack: EvmStack) -> dict[str, int]:
    """Every balance a bundle could touch: DSA tokens, aTokens, debts, pools, lenders."""
    c = stack.contracts
    dsa = stack.config.dsa
    out: dict[str, int] = {"dsa_eth": stack.w3.eth.get_balance(dsa)}
    for name in ("weth", "eeth", "weeth", "steth", "wsteth", "usdt"):
        out[f"dsa_{name}"] = c[name].functions.balanceOf(dsa).call()
    for name in ("a_weth", "a_weeth", "debt_weth", "debt_weeth"):
        out[f"scaled_{name}"] = c[name].functions.scaledBalanceOf(dsa).call()
    out["morpho_weth"] = c["weth"].functions.balanceOf(stack.config.morpho).call()
    reserve0, reserve1, _ = c["pair_weeth_weth"].functions.getReserves().call()
    out["pair_reserve0"] = reserve0
    out["pair_reserve1"] = reserve1
    out["eeth_total_shares"] = c["eeth"].functions.getTotalShares().call()
    out["emode"] = c["pool"].functions.getUserEMode(dsa).call()
    return out
