"""Pool logs from eth_getLogs on Anvil (real Uniswap bytecode) rebuild the pool state at every block."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.catalogs.onchain import PoolSpec
from nautilus_ext.catalogs.onchain import fetch_logs
from nautilus_ext.catalogs.onchain import load_events
from nautilus_ext.catalogs.onchain import write_onchain
from nautilus_ext_testkit.chain.dex_history import PoolHistory
from nautilus_ext_testkit.chain.dex_history import v2_history
from nautilus_ext_testkit.chain.dex_history import v3_history
from nautilus_ext_testkit.chain.dex_pools import DexChain
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chain() -> Iterator[DexChain]:
    c = start_dex_chain()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def histories(chain: DexChain) -> tuple[PoolHistory, PoolHistory]:
    return v3_history(chain), v2_history(chain)


def _specs(v3: PoolHistory, v2: PoolHistory) -> list[PoolSpec]:
    return [
        PoolSpec(v3.pool.address, "V3", "T0/T1-3000.UNISWAPV3", "T0", "T1", 18, 18, fee_pips=3000),
        PoolSpec(v2.pool.address, "V2", "T0/T1.UNISWAPV2", "T0", "T1", 18, 18),
    ]


def test_rebuilt_state_equals_the_pool_at_every_block(
    chain: DexChain, histories: tuple[PoolHistory, PoolHistory], tmp_path: Path
) -> None:
    v3, v2 = histories
    specs = _specs(v3, v2)
    logs, blocks = fetch_logs(chain.w3, [s.address for s in specs], v3.first_block, v2.last_block, chunk=7)
    load = load_events(logs, specs, blocks)
    assert load.events["V3_MINT"] == 4
    assert load.events["V3_BURN"] >= 1
    assert load.events["V3_SWAP"] == 4
    assert load.events["V2_SYNC"] >= 2
    assert load.events["V2_SWAP"] == 1
    v3_snaps = [s for s in load.snapshots if s.kind == "V3"]
    v2_snaps = [s for s in load.snapshots if s.kind == "V2"]
    assert len(v3_snaps) >= 8
    assert len(v2_snaps) >= 2
    for snap in v3_snaps:
        _assert_v3_equal(v3.pool, snap)
    for snap in v2_snaps:
        r0, r1, _ = v2.pool.functions.getReserves().call(block_identifier=snap.block_number)
        assert (int(snap.reserve0), int(snap.reserve1)) == (r0, r1)
        assert snap.base_fee_wei == blocks[snap.block_number].base_fee_wei > 0
    # trades: one per swap, in human units
    assert len([t for t in load.trades if "UNISWAPV3" in str(t.instrument_id)]) == 4
    rows = write_onchain(load, specs, tmp_path / "cat")
    assert rows["trade_tick"] == 5
    assert rows["custom_dex_pool_state"] == len(load.snapshots)
    _read_back(tmp_path / "cat", load)


def _assert_v3_equal(pool: Any, snap: Any) -> None:
    block = snap.block_number
    state = snap.pool_state()
    slot0 = pool.functions.slot0().call(block_identifier=block)
    assert (state.sqrt_price_x96, state.tick, state.fee_protocol) == (slot0[0], slot0[1], slot0[5])
    assert state.liquidity == pool.functions.liquidity().call(block_identifier=block)
    spacing = pool.functions.tickSpacing().call()
    seen = {t.index for t in state.ticks}
    # every rebuilt tick matches the pool's, and the bitmap words around them list no other tick
    for t in state.ticks:
        gross, net, *_ = pool.functions.ticks(t.index).call(block_identifier=block)
        assert (t.liquidity_gross, t.liquidity_net) == (gross, net)
    words = {(t.index // spacing) >> 8 for t in state.ticks} | {(state.tick // spacing) >> 8}
    for word in words:
        bitmap = pool.functions.tickBitmap(word).call(block_identifier=block)
        on_chain = {((word << 8) + bit) * spacing for bit in range(256) if bitmap >> bit & 1}
        assert on_chain == {i for i in seen if (i // spacing) >> 8 == word}


def _read_back(root: Path, load: Any) -> None:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.catalogs.custom import DexPoolState

    catalog = ParquetDataCatalog(str(root))
    snaps = [c.data for c in catalog.custom_data(DexPoolState)]
    assert [s.block_number for s in snaps] == [s.block_number for s in load.snapshots]
    assert snaps[-1].pool_state() == load.snapshots[-1].pool_state()
    assert len(catalog.trade_ticks()) == 5
