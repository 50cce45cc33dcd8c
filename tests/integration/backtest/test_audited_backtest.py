"""Backtests write Intent -> Order -> Fill audit events; two runs are identical, a change is located."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nautilus_ext.audit import show
from nautilus_ext.audit import verify_log
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.replay import compare_logs

REPO = Path(__file__).resolve().parents[3]


def _spec(tmp_path: Path, catalog: Path, name: str, threshold: str) -> BacktestSpec:
    raw = yaml.safe_load((REPO / "configs/backtests/demo_strategy.yaml").read_text())
    raw.update(
        catalog=str(catalog),
        output_dir=str(tmp_path / "reports"),
        start="2024-03-01T00:00:00Z",
        end="2024-03-01T00:10:00Z",
        audit_root=str(tmp_path / name),
    )
    raw["strategy"]["config"].update(window=20, threshold_bps=threshold, cooldown_secs=30)
    return BacktestSpec.model_validate(raw)


@pytest.mark.slow
def test_two_runs_are_identical_and_a_parameter_change_is_located(
    small_catalog: Path, tmp_path: Path
) -> None:
    first = run_backtest(_spec(tmp_path, small_catalog, "a", "0.2"))
    run_backtest(_spec(tmp_path, small_catalog, "b", "0.2"))
    run_backtest(_spec(tmp_path, small_catalog, "c", "0.3"))

    for name in ("a", "b", "c"):
        assert verify_log(str(tmp_path / name)).ok

    same = compare_logs(str(tmp_path / "a"), str(tmp_path / "b"))
    assert same.identical, same

    diff = compare_logs(str(tmp_path / "a"), str(tmp_path / "c"))
    assert not diff.identical
    assert diff.divergence is not None
    assert diff.divergence.field == "config_hash"  # the changed parameter is in the run's config hash

    # lineage of the first filled order: intent -> order -> fill
    filled = next(r for r in first.results if r.fills)
    lineage = show(f"intent:{filled.operation_id}", str(tmp_path / "a"))
    assert lineage is not None
    assert lineage.intent is not None
    assert lineage.intent.qty == filled.requested_quantity
    assert [o.status for o in lineage.orders] == ["SUBMITTED"]
    assert sum(f.qty for f in lineage.fills) == filled.filled_quantity
    assert [f.price for f in lineage.fills] == [f.price for f in filled.fills]


@pytest.mark.slow
def test_replay_of_a_recorded_run_is_identical_and_a_tampered_spec_diverges(
    small_catalog: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from nautilus_ext.backtest.runner import replay_run
    from nautilus_ext.cli import app

    run_backtest(_spec(tmp_path, small_catalog, "rec", "0.2"))
    result = CliRunner().invoke(app, ["replay", str(tmp_path / "rec"), "--workdir", str(tmp_path / "r1")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("identical (")

    run_file = tmp_path / "rec" / "run.json"
    spec = json.loads(run_file.read_text())
    spec["strategy"]["config"]["trade_size"] = "0.020"
    run_file.write_text(json.dumps(spec))
    diff = replay_run(tmp_path / "rec", tmp_path / "r2")
    assert not diff.identical
    assert diff.divergence is not None
    assert diff.divergence.field == "config_hash"
