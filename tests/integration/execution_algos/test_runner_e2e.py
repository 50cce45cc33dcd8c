"""End to end: unified orders from a JSON-lines file through ``run_backtest`` (a BacktestNode over a
real Parquet catalog), with the algorithms wired in by the runner."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.orders import Order

BACKTEST_CONFTEST = Path(__file__).resolve().parents[1] / "backtest" / "conftest.py"
BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"


def _backtest_fixtures() -> Any:
    # the catalog writer of the backtest tests (read, not copied)
    spec = importlib.util.spec_from_file_location("backtest_catalog_fixture", BACKTEST_CONFTEST)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smart_orders_run_through_the_node_and_fill_exactly(tmp_path: Path) -> None:
    fx = _backtest_fixtures()
    catalog = tmp_path / "catalog"
    fx.write_catalog(catalog, minutes=5, books={BIN: fx.BOOKS[BIN]})
    start = fx.START
    orders = [
        Order(
            operation_id=op,
            operation="trade",
            instrument_key=BIN,
            venue="BINANCE-FUTURES",
            side=side,
            amount=amount,
            created_at=start + timedelta(seconds=5),
            smart_execution_enabled=True,
            urgency=urgency,
            metadata=meta,
        )
        for op, side, amount, urgency, meta in [
            # named algorithm with parameters; the others are chosen by urgency with default parameters
            (
                "twap",
                "BUY",
                "0.600",
                "low",
                {"algorithm": "TWAP", "algo_params": {"horizon_secs": 60, "interval_secs": 20}},
            ),
            ("ltm", "SELL", "0.300", "high", None),
            ("pov", "BUY", "0.020", "medium", None),
        ]
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(catalog),
            "start": start,
            "end": start + timedelta(minutes=5),
            "instruments": [BIN],
            "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
            "orders": str(path),
            "output_dir": str(tmp_path / "out"),
        }
    )
    results = {r.operation_id: r for r in run_backtest(spec).results}
    assert {op: r.algorithm_used for op, r in results.items()} == {
        "twap": "TWAP",
        "ltm": "LIMIT_THEN_MARKET",
        "pov": "POV",
    }
    for op, amount in (("twap", "0.600"), ("ltm", "0.300"), ("pov", "0.020")):
        assert results[op].filled_quantity == Decimal(amount), op
        assert results[op].status is ExecutionStatus.FILLED, op
    # three children 20 s apart (each may fill in several prints), all attributed to the parent
    assert sorted({f.ts_ns for f in results["twap"].fills}) == [
        int((start + timedelta(seconds=s)).timestamp()) * 1_000_000_000 for s in (5, 25, 45)
    ]
    assert {f.liquidity for f in results["ltm"].fills} >= {"MAKER"}
