"""Strategy-driven backtest: a Nautilus strategy emitting unified Orders, run from YAML."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.cli import app
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.results import ExecutionStatus

REPO = Path(__file__).resolve().parents[3]


def _yaml(tmp_path: Path, catalog: Path, **overrides: object) -> Path:
    raw = yaml.safe_load((REPO / "configs/backtests/demo_strategy.yaml").read_text())
    raw.update(
        catalog=str(catalog),
        output_dir=str(tmp_path / "reports"),
        start="2024-03-01T00:00:00Z",
        end="2024-03-01T00:10:00Z",
    )
    raw["strategy"]["config"].update(window=20, threshold_bps="0.2", cooldown_secs=30)
    raw.update(overrides)
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.slow
def test_strategy_emits_unified_orders_that_fill_and_respect_its_cap(
    small_catalog: Path, tmp_path: Path
) -> None:
    spec = BacktestSpec.from_yaml(_yaml(tmp_path, small_catalog))
    outcome = run_backtest(spec)
    assert outcome.results, "the strategy must have traded on the wiggling trade prints"
    assert all(
        r.strategy_id is not None and r.strategy_id.startswith("MeanReversionStrategy")
        for r in outcome.results
    )
    assert all(r.status is ExecutionStatus.FILLED for r in outcome.results)
    signed = [r.filled_quantity * (1 if r.side == "BUY" else -1) for r in outcome.results]
    running = Decimal(0)
    for s in signed:
        running += s
        assert abs(running) <= Decimal("0.050")


@pytest.mark.slow
def test_cli_backtest_writes_a_report(small_catalog: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backtest", str(_yaml(tmp_path, small_catalog))])
    assert result.exit_code == 0, result.output
    report = Path(result.output.strip().splitlines()[-1].removeprefix("report: "))
    assert report.is_file()
    assert "Backtest demo-strategy" in report.read_text(encoding="utf-8")


def test_bad_yaml_is_a_typed_error_naming_the_field(tmp_path: Path, small_catalog: Path) -> None:
    path = _yaml(tmp_path, small_catalog, end="2024-02-01T00:00:00Z", kind="orders")
    with pytest.raises(InvalidConfig) as err:
        BacktestSpec.from_yaml(path)
    assert "end" in err.value.message
    assert "orders: required" in err.value.message
    path = _yaml(tmp_path, small_catalog, surprise=1)
    with pytest.raises(InvalidConfig, match="surprise"):
        BacktestSpec.from_yaml(path)
    result = CliRunner().invoke(app, ["backtest", str(path)])
    assert result.exit_code == 2
    assert "INVALID_CONFIG" in result.output
