"""A backtest that cannot read its catalog fails with a typed error and keeps the stored results."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nautilus_ext.cli import app
from nautilus_ext.orders import Order
from nautilus_ext.storage import ClusterStore

from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
runner = CliRunner()


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _config(tmp_path: Path, catalog: Path) -> Path:
    orders = [
        Order(
            operation_id=op,
            operation="trade",
            instrument_key=BIN,
            venue="BINANCE-FUTURES",
            side="BUY",
            amount=amount,
            created_at=START + timedelta(seconds=secs),
        )
        for op, amount, secs in (("fills", "0.100", 30), ("lot", "0.0005", 40))
    ]
    orders_file = tmp_path / "orders.jsonl"
    orders_file.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    config = tmp_path / f"{catalog.name}.yaml"
    spec = {
        "run_id": "keep",
        "kind": "orders",
        "catalog": str(catalog),
        "start": START.isoformat(),
        "end": (START + timedelta(minutes=10)).isoformat(),
        "instruments": [BIN],
        "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
        "orders": str(orders_file),
        "results_root": str(tmp_path / "store"),
        "output_dir": str(tmp_path / "out"),
    }
    config.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return config


def _break(kind: str, good: Path, tmp_path: Path) -> Path:
    if kind == "missing":
        return tmp_path / "no-such-catalog"
    if kind == "file":
        f = tmp_path / "catalog-file"
        f.write_bytes(b"PAR1")
        return f
    bad = tmp_path / "corrupt-catalog"
    shutil.copytree(good, bad)
    victim = sorted((bad / "data").rglob("*.parquet"))[-1]
    victim.write_bytes(victim.read_bytes()[:100])
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["missing", "file", "corrupt"])
def test_a_failed_run_never_replaces_stored_results(kind: str, small_catalog: Path, tmp_path: Path) -> None:
    good = runner.invoke(app, ["backtest", str(_config(tmp_path, small_catalog))])
    assert good.exit_code == 0, good.output
    stored = ClusterStore(tmp_path / "store").read_results(START.date(), START.date())
    assert {r.kind for r in stored} >= {"FILL", "REJECTED"}
    before = _digest(tmp_path / "store")
    report_before = (tmp_path / "out" / "keep.html").read_bytes()

    bad = runner.invoke(app, ["backtest", str(_config(tmp_path, _break(kind, small_catalog, tmp_path)))])

    assert not isinstance(bad.exception, Exception) or isinstance(bad.exception, SystemExit)
    assert bad.exit_code == 2, bad.output
    assert "[INVALID_CONFIG]" in bad.output
    assert _digest(tmp_path / "store") == before
    assert (tmp_path / "out" / "keep.html").read_bytes() == report_before
