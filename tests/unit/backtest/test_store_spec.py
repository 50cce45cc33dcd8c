"""The backtest YAML's ``store:`` section (strategies keeping positions in the store)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.errors import InvalidConfig

BASE = {
    "kind": "strategy",
    "catalog": "catalog",
    "start": "2024-01-01T23:00:00Z",
    "end": "2024-01-02T10:00:00Z",
    "instruments": ["BYBIT:PERPETUAL:BTC-USDT@LIN"],
    "venues": [{"venue": "BYBIT", "starting_balances": ["1000 USDT"]}],
    "data": ["order_book_deltas", "funding_rates", "mark_prices"],
    "strategy": {"strategy_path": "a.b:C", "config_path": "a.b:D"},
    "output_dir": "out",
    "run_id": "carry",
}


def _load(tmp_path: Path, **changes: object) -> BacktestSpec:
    file = tmp_path / "bt.yaml"
    file.write_text(yaml.safe_dump({**BASE, **changes}), encoding="utf-8")
    return BacktestSpec.from_yaml(file)


def test_default_store_is_the_runs_own_sqlite_file(tmp_path: Path) -> None:
    spec = _load(tmp_path, store={})
    assert spec.store_url() == f"sqlite:///{(tmp_path / 'out' / 'carry.db').resolve()}"
    assert _load(tmp_path, store={"db_url": "postgresql://u@h/db"}).store_url() == "postgresql://u@h/db"
    assert _load(tmp_path).store_url() is None


def test_store_section_is_validated(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig, match="carry_reprot"):
        _load(tmp_path, store={"carry_reprot": True})
    with pytest.raises(InvalidConfig, match="only a strategy-driven backtest"):
        _load(tmp_path, kind="orders", orders="o.jsonl", strategy=None, store={})
    with pytest.raises(InvalidConfig, match=r"data\.0: .*funding_rates"):
        _load(tmp_path, data=["funding_ratez"])
