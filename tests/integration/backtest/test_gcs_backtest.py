"""A backtest reads its catalog from gs:// (the local GCS emulator) and stores results there."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.service import run_and_report
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.orders import Order

from .conftest import START

_GCS_HELPER = Path(__file__).resolve().parents[2] / "support" / "gcs.py"
_spec = importlib.util.spec_from_file_location("nautilus_ext_tests_support_gcs", _GCS_HELPER)
assert _spec is not None
assert _spec.loader is not None
_gcs = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = _gcs
    _spec.loader.exec_module(_gcs)


@pytest.fixture
def emulator() -> Iterator[Any]:
    with _gcs.running_gcs_emulator() as emu:
        yield emu


@pytest.mark.slow
def test_backtest_over_a_gcs_catalog(emulator: Any, small_catalog: Path, tmp_path: Path) -> None:
    import fsspec

    emulator.create_bucket("bt")
    fs = fsspec.filesystem("gcs")
    fs.put(str(small_catalog), "bt/catalog", recursive=True)
    key = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
    order = Order(
        operation_id="g1",
        operation="trade",
        instrument_key=key,
        venue="BINANCE-FUTURES",
        side="BUY",
        amount="0.300",
        created_at=START + timedelta(seconds=20),
    )
    orders = tmp_path / "orders.jsonl"
    orders.write_text(order.to_json() + "\n", encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": "gs://bt/catalog",
            "start": START,
            "end": START + timedelta(minutes=2),
            "instruments": [key],
            "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
            "orders": str(orders),
            "output_dir": str(tmp_path / "out"),
            "results_root": "gs://bt/store",
        }
    )
    outcome, report = run_and_report(spec)
    (result,) = outcome.results
    assert result.status is ExecutionStatus.FILLED
    assert report.is_file()
    from nautilus_ext.storage import ClusterStore

    rows = ClusterStore("gs://bt/store").read_results(START.date(), START.date())
    assert [r.operation_id for r in rows] == ["g1"]
