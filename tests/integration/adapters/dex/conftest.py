"""A DEX world on Anvil (real Uniswap V2/V3 and Balancer bytecode) shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nautilus_ext_testkit.chain.dex_world import DexWorld
from nautilus_ext_testkit.chain.dex_world import start_dex_world


@pytest.fixture(scope="module")
def world() -> Iterator[DexWorld]:
    w = start_dex_world()
    try:
        yield w
    finally:
        w.close()
