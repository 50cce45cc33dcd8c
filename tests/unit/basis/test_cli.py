"""``nautilus-ext basis``: backtest, compare, generate and import through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from nautilus_ext.basis.generator import generate
from nautilus_ext.cli import app

runner = CliRunner()
PLOTS = {
    "cumulative_pnl",
    "pnl_components",
    "delta_neutrality",
    "margin_ratios",
    "health_factor",
    "ltv",
    "leverage",
}


def test_backtest_writes_every_output_with_cli_overrides(tmp_path: Path) -> None:
    out = tmp_path / "umn"
    result = runner.invoke(
        app,
        [
            "basis",
            "backtest",
            "--mode",
            "usdt_market_neutral",
            "--share-class",
            "usdt_stable",
            "--capital",
            "100000",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-11",
            "--target-ltv",
            "0.75",
            "--set",
            "leverage.execution=sequential",
            "--out",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "APY" in result.output
    assert "report:" in result.output
    for name in (
        "summary.json",
        "effective_config.json",
        "hourly_pnl.csv",
        "event_log.csv",
        "balance_sheet.csv",
        "report.html",
    ):
        assert (out / name).is_file(), name
    assert {p.stem for p in (out / "plots").glob("*.html")} == PLOTS
    summary = json.loads((out / "summary.json").read_text())
    assert summary["hours"] == 240
    assert summary["currency"] == "USD"
    effective = json.loads((out / "effective_config.json").read_text())
    assert effective["mode"]["leverage"]["target_ltv"] == "0.75"
    assert effective["overrides"] == {"leverage.execution": "sequential", "leverage.target_ltv": "0.75"}
    with (out / "hourly_pnl.csv").open() as fh:
        header = next(csv.reader(fh))
    assert "cumulative_pnl_usd" in header
    assert not any(h.endswith("_eth") and "pnl" in h for h in header)
    with (out / "event_log.csv").open() as fh:
        events = list(csv.DictReader(fh))
    assert {"iteration", "parent", "order", "timestamp"} <= set(events[0])
    assert any(e["iteration"] for e in events)  # the sequential loop


def test_compare_runs_all_six_modes(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "basis",
            "compare",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-06",
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["mode"] for r in rows] == [
        "pure_lending",
        "btc_basis",
        "eth_staking_only",
        "eth_leveraged",
        "usdt_market_neutral_no_leverage",
        "usdt_market_neutral",
    ]
    assert {"apy", "max_drawdown", "worst_health_factor", "gas_spent_eth", "rebalances"} <= set(rows[0])
    assert (tmp_path / "comparison.html").is_file()
    assert (tmp_path / "eth_leveraged" / "report.html").is_file()


def test_contradiction_exits_with_the_message() -> None:
    result = runner.invoke(
        app,
        [
            "basis",
            "backtest",
            "--mode",
            "eth_leveraged",
            "--share-class",
            "usdt_stable",
            "--capital",
            "1",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--no-progress",
        ],
    )
    assert result.exit_code == 2
    assert "USDT staking requires hedging" in result.output


def _export(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_import_csv_exports_then_backtest_from_disk(tmp_path: Path) -> None:
    tables = generate(datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 4, tzinfo=UTC), seed=2)
    spot = _export(
        tmp_path / "spot.csv",
        ["timestamp", "asset", "price"],
        [[r["ts"].isoformat(), r["asset"], r["price"]] for r in tables["spot"]],
    )
    aave = _export(
        tmp_path / "aave.csv",
        ["timestamp", "reserve", "liquidity_index", "variable_borrow_index"],
        [
            [int(r["ts"].timestamp()), r["reserve"], r["liquidity_index"], r["variable_borrow_index"]]
            for r in tables["aave"]
        ],
    )
    gas = _export(
        tmp_path / "gas.csv",
        ["timestamp", "gas_price_gwei"],
        [[r["ts"].isoformat(), r["gas_price_gwei"]] for r in tables["gas"]],
    )
    data = tmp_path / "data"
    result = runner.invoke(
        app,
        [
            "basis",
            "import",
            "--start",
            "2024-02-01",
            "--end",
            "2024-02-04",
            "--out",
            str(data),
            "--spot-csv",
            str(spot),
            "--aave-csv",
            str(aave),
            "--gas-csv",
            str(gas),
        ],
    )
    assert result.exit_code == 0, result.output
    args = [
        "basis",
        "backtest",
        "--mode",
        "pure_lending",
        "--share-class",
        "usdt_stable",
        "--capital",
        "5000",
        "--start",
        "2024-02-01",
        "--end",
        "2024-02-04",
        "--no-progress",
    ]
    from_disk = runner.invoke(app, [*args, "--data", str(data), "--out", str(tmp_path / "a")])
    generated = runner.invoke(app, [*args, "--seed", "2", "--out", str(tmp_path / "b")])
    assert from_disk.exit_code == 0, from_disk.output
    assert generated.exit_code == 0, generated.output
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["final_equity"] == b["final_equity"]
    missing = runner.invoke(
        app,
        [
            "basis",
            "backtest",
            "--mode",
            "btc_basis",
            "--share-class",
            "usdt_stable",
            "--capital",
            "5000",
            "--start",
            "2024-02-01",
            "--end",
            "2024-02-04",
            "--data",
            str(data),
            "--no-progress",
        ],
    )
    assert missing.exit_code == 2
    assert "perp/BINANCE-FUTURES/BTC" in missing.output
