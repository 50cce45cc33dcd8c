"""
Pytest fixtures for the on-chain suite (imported by the test conftests).

Compile once (cached on disk), deploy once per session, isolate each test with an EVM snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.testing.compile import CompiledContract
from nautilus_ext.onchain.testing.compile import compile_contracts
from nautilus_ext.onchain.testing.stack import EvmStack
from nautilus_ext.onchain.testing.stack import deploy_stack


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
def session_stack(evm_cache_dir: Path, compiled_contracts: dict[str, CompiledContract]) -> EvmStack:
    """The stand-in protocol stack, deployed once per session."""
    return deploy_stack(evm_cache_dir)


@pytest.fixture
def stack(session_stack: EvmStack) -> Iterator[EvmStack]:
    """The session stack, rolled back to its deployed state after each test."""
    snapshot = session_stack.snapshot()
    yield session_stack
    session_stack.revert_to(snapshot)


@pytest.fixture
def clients(stack: EvmStack) -> OnchainClients:
    """Module clients pointed at the stand-ins."""
    return OnchainClients(ChainGateway(stack.w3), stack.config)
