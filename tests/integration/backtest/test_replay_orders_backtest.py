"""A backtest reading its orders from storage (configs/backtests/demo_orders.yaml) replays identically."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from nautilus_ext.audit import verify_log
from nautilus_ext.audit.records import iter_records
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import replay_run
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.backtest.safety import SAFETY_AUDIT_DIR
from nautilus_ext.orders import Order
from nautilus_ext.storage import ClusterStore

from .conftest import START

REPO = Path(__file__).resolve().parents[3]
BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
BYB = "BYBIT:PERPETUAL:BTC-USDT@LIN"


def _orders() -> list[Order]:
    return [
        Order(
            operation_id=f"op-{n}",
            operation="trade",
            instrument_key=key,
            venue=key.split(":")[0],
            side="BUY" if n % 2 else "SELL",
            amount="0.200",
            created_at=START + timedelta(seconds=20 + 15 * n),
        )
        for n, key in enumerate([BIN, BYB, BIN, BYB])
    ]


def _demo_orders_spec(tmp_path: Path, catalog: Path) -> BacktestSpec:
    # the shipped YAML, pointed at the test catalog and a storage root holding the orders
    store = tmp_path / "store"
    ClusterStore(str(store)).write_orders(_orders())
    raw = yaml.safe_load((REPO / "configs/backtests/demo_orders.yaml").read_text())
    raw.update(
        catalog=str(catalog),
        orders=str(store),
        results_root=None,
        output_dir=str(tmp_path / "reports"),
        start="2024-03-01T00:00:00Z",
        end="2024-03-01T00:03:00Z",
        instruments=[BIN, BYB],
        audit_root=str(tmp_path / "rec"),
    )
    return BacktestSpec.model_validate(raw)


@pytest.mark.slow
def test_demo_orders_from_storage_replays_identical_including_the_safety_log(
    small_catalog: Path, tmp_path: Path
) -> None:
    spec = _demo_orders_spec(tmp_path, small_catalog)
    outcome = run_backtest(spec)
    assert sum(1 for r in outcome.results if r.fills) == 4
    assert verify_log(str(tmp_path / "rec" / SAFETY_AUDIT_DIR)).ok

    same = replay_run(tmp_path / "rec", tmp_path / "r1")
    assert same.identical, same.describe()
    strategy_events = len(list(iter_records(str(tmp_path / "rec"))))
    safety_events = len(list(iter_records(str(tmp_path / "rec" / SAFETY_AUDIT_DIR))))
    assert safety_events >= 4  # the gate's ALLOW decisions at least
    assert same.compared == strategy_events + safety_events

    # the orders changed in storage: the content hash (not a temporary path) says so
    spec_file = tmp_path / "rec" / "run.json"
    changed = _orders()
    changed[0] = changed[0].model_copy(update={"amount": changed[0].amount * 2})
    ClusterStore(str(tmp_path / "store")).write_orders(changed)
    assert json.loads(spec_file.read_text())["orders"] == str(tmp_path / "store")
    diff = replay_run(tmp_path / "rec", tmp_path / "r2")
    assert not diff.identical
    assert diff.divergence is not None
    assert (diff.divergence.index, diff.divergence.field) == (0, "config_hash")
