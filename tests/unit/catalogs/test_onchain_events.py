"""Decoding real pool logs (RPC and HyperSync shapes) and typed errors for bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nautilus_ext.catalogs.onchain import BlockInfo
from nautilus_ext.catalogs.onchain import PoolSpec
from nautilus_ext.catalogs.onchain import load_events
from nautilus_ext.catalogs.onchain import read_log_files
from nautilus_ext.catalogs.onchain_events import PoolEventKind
from nautilus_ext.catalogs.onchain_events import decode_log
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidData

DATA = Path("/work/shared/data/nautilus_trader/crates/adapters/blockchain/test_data")
PANCAKE = "0x172fcd41e0913e95784454622d1c3724f546f849"


@pytest.mark.parametrize("shape", ["rpc", "hypersync"])
def test_pancakeswap_v3_swap_decodes_with_protocol_fees(shape: str) -> None:
    log = json.loads((DATA / f"pancakeswap_v3_swap_{shape}.json").read_text())
    event = decode_log(log, source="f", index=0)
    assert event is not None
    assert event.kind is PoolEventKind.V3_SWAP_PANCAKE
    assert (event.pool, event.block_number, event.log_index) == (PANCAKE, 0x649BC61, 0x149)
    assert event.values == {
        "amount0": 0x1FCD5B7DDA1AE49C,
        "amount1": -0xDD8BC27211E9D,
        "sqrt_price_x96": 0xA8EDEAE49C411DA42257F71,
        "liquidity": 0x310FDCABCE7B0096DFC84,
        "tick": 0xFFFF06E7 - (1 << 32),
        "protocol_fees_token0": 0x44C737472167,
        "protocol_fees_token1": 0,
    }


@pytest.mark.parametrize("shape", ["rpc", "hypersync"])
def test_set_fee_protocol_decodes(shape: str) -> None:
    log = json.loads((DATA / f"uniswap_v3_set_fee_protocol_{shape}.json").read_text())
    event = decode_log(log, source="f", index=0)
    assert event is not None
    assert event.kind is PoolEventKind.V3_SET_FEE_PROTOCOL
    assert event.values == {"fee_protocol": 6 + (6 << 4)}


def test_real_swap_becomes_a_trade_in_human_units() -> None:
    spec = PoolSpec(PANCAKE, "V3", "CAKE/WBNB-2500.PANCAKESWAPV3", "CAKE", "WBNB", 18, 18, fee_pips=2500)
    logs = read_log_files([DATA / "pancakeswap_v3_swap_rpc.json"])
    load = load_events(logs, [spec], {0x649BC61: BlockInfo(1_700_000_000)})
    (trade,) = load.trades
    # token0 in (2.2916 CAKE), token1 out (0.0038975 WBNB): a sell of base at amount1/amount0
    assert str(trade.size) == "2.291588"
    assert str(trade.price) == "0.001701"
    assert trade.aggressor_side.name == "SELLER"
    assert load.snapshots == []  # no Initialize: no state
    assert load.notes


def _bad(tmp_path: Path, log: object) -> Path:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([{"topics": ["0x" + "00" * 32], "data": "0x"}, log]))  # skipped, then bad
    return p


def test_bad_logs_are_typed_errors_naming_file_and_index(tmp_path: Path) -> None:
    good = json.loads((DATA / "pancakeswap_v3_swap_rpc.json").read_text())
    spec = PoolSpec(PANCAKE, "V3", "CAKE/WBNB-2500.PANCAKESWAPV3", "CAKE", "WBNB", 18, 18, fee_pips=2500)
    for broken in (
        {**good, "data": good["data"][:-64]},  # a word short
        {**good, "data": "0xzz"},
        {k: v for k, v in good.items() if k != "blockNumber"},
        "not a log",
    ):
        path = _bad(tmp_path, broken)
        with pytest.raises(InvalidData) as info:
            load_events(read_log_files([path]), [spec], {0x649BC61: BlockInfo(1)})
        assert info.value.code is ErrorCode.INVALID_DATA
        assert f"{path} log #1" in str(info.value)
    path = tmp_path / "nojson.json"
    path.write_text("{")
    with pytest.raises(InvalidData, match="nojson"):
        read_log_files([path])
    # no timestamp anywhere for the log's block
    with pytest.raises(InvalidData, match="no block timestamp"):
        load_events(read_log_files([DATA / "pancakeswap_v3_swap_rpc.json"]), [spec])


def test_cli_build_onchain_writes_trades_and_refuses_bad_logs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    pool = f"{PANCAKE},V3,CAKE/WBNB-2500.PANCAKESWAPV3,CAKE,WBNB,18,18,2500"
    args = ["catalog", "build-onchain", "-t", str(tmp_path / "cat"), "--pool", pool]
    ok = CliRunner().invoke(
        app, [*args, "--block-time", f"{0x649BC61}=1700000000", str(DATA / "pancakeswap_v3_swap_rpc.json")]
    )
    assert ok.exit_code == 0, ok.output
    assert "trade_tick" in ok.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"topics": ["0x" + "00" * 32], "data": "0x"}, {"topics": "x"}]))
    refused = CliRunner().invoke(app, [*args, str(bad)])
    assert refused.exit_code == 2
    assert "log #1" in refused.output


def test_burn_removes_liquidity_and_clears_empty_ticks() -> None:
    from nautilus_ext.catalogs.onchain import burn
    from nautilus_ext.dex.errors import SwapRefused
    from nautilus_ext.dex.uniswap_v3 import initialize
    from nautilus_ext.dex.uniswap_v3 import mint

    state = initialize(2**96, 3000, 60)  # tick 0
    state = mint(state, -120, 120, 1000)[0]
    state = mint(state, -60, 180, 500)[0]
    after = burn(state, -120, 120, 400)
    assert after.liquidity == 1100
    assert {t.index: (t.liquidity_net, t.liquidity_gross) for t in after.ticks} == {
        -120: (600, 600),
        -60: (500, 500),
        120: (-600, 600),
        180: (-500, 500),
    }
    gone = burn(after, -120, 120, 600)
    assert {t.index for t in gone.ticks} == {-60, 180}
    assert gone.liquidity == 500
    assert burn(gone, -60, 180, 0) is gone  # a fee poke
    with pytest.raises(SwapRefused):
        burn(gone, -60, 180, 501)


def test_pool_spec_parsing() -> None:
    from nautilus_ext.catalogs.onchain import parse_pool_spec
    from nautilus_ext.errors import InvalidConfig

    spec = parse_pool_spec(
        f"{PANCAKE},v3,X/Y-500.UNISWAPV3,X,Y,18,6,500,base=token1,key=UNISWAPV3-ETH:POOL:Y-X:500@ETHEREUM"
    )
    assert (spec.kind, spec.fee_pips, spec.spacing, spec.base_is_token0) == ("V3", 500, 10, False)
    assert spec.instrument_key == "UNISWAPV3-ETH:POOL:Y-X:500@ETHEREUM"
    for bad in (
        f"{PANCAKE},V3,X/Y.U,X,Y,18",
        f"{PANCAKE},V4,X/Y.U,X,Y,18,6",
        f"{PANCAKE},V3,X/Y.U,X,Y,18,6,500,colour=red",
        f"{PANCAKE},V3,X/Y.U,X,Y,18,six",
        f"{PANCAKE},V3,X/Y.U,X,Y,18,6,777",
    ):
        with pytest.raises(InvalidConfig):
            parse_pool_spec(bad)
