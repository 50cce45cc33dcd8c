"""Recorder pieces that need no node: its config, the root check, the catalog digests."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.replay.recorder import MarketDataRecorderConfig
from nautilus_ext.replay.recorder import catalog_digests
from nautilus_ext.replay.recorder import check_record_root


def test_config_round_trips_through_json() -> None:
    config = MarketDataRecorderConfig(root="/tmp/run", venues=("BYBIT",), manifest_json="{}", flush_every=10)
    assert MarketDataRecorderConfig.parse(config.json()) == config


def test_a_root_holding_a_recording_is_refused(tmp_path: Path) -> None:
    check_record_root(tmp_path / "new")  # absent: fine
    (tmp_path / "audit").mkdir()
    check_record_root(tmp_path)  # other folders (the audit log) may live there
    (tmp_path / "catalog").mkdir()
    with pytest.raises(InvalidConfig, match="already holds a recording"):
        check_record_root(tmp_path)


def test_digests_cover_every_file_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "data" / "trade_tick").mkdir(parents=True)
    (tmp_path / "data" / "trade_tick" / "a.parquet").write_bytes(b"abc")
    digests = catalog_digests(tmp_path)
    assert digests == {
        "data/trade_tick/a.parquet": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    }
