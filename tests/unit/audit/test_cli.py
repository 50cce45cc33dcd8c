"""The ``audit`` CLI through typer's CliRunner: exit codes and printed results."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nautilus_ext.audit.cli import app
from nautilus_ext.audit.cli import parse_time_ns

runner = CliRunner()


@pytest.fixture
def written(open_store: Callable[..., Any], events: Any, root: str) -> str:
    store = open_store()
    for event in [
        events.decision(id="D-1"),
        events.intent(id="I-1", reference_price=Decimal("42000")),
        events.order(id="O-1"),
        events.fill(id="F-1"),
    ]:
        store.append(event)
    store.close()
    return root


def test_verify_ok(written: str) -> None:
    result = runner.invoke(app, ["verify", written])
    assert result.exit_code == 0, result.output
    assert "OK: 4 records in 1 segments, last seq 3" in result.output


def test_verify_broken_prints_first_broken_link(written: str) -> None:
    segment = next(Path(written, "audit").glob("date=*/*.jsonl"))
    segment.write_bytes(
        segment.read_bytes().replace(b'"rationale":"spread wide"', b'"rationale":"spread thin"')
    )
    result = runner.invoke(app, ["verify", written])
    assert result.exit_code == 1
    assert "BROKEN after 0 good records" in result.output
    assert f"HASH_MISMATCH at {segment}:1 (seq None)" in result.output


def test_show_prints_lineage(written: str) -> None:
    result = runner.invoke(app, ["show", "O-1", "--root", written])
    assert result.exit_code == 0, result.output
    assert "Decision D-1" in result.output
    assert "Fill F-1" in result.output


def test_show_json(written: str) -> None:
    result = runner.invoke(app, ["show", "I-1", "--root", written, "--json"])
    assert result.exit_code == 0
    assert '"query_id": "I-1"' in result.output


def test_show_unknown_id_exits_1(written: str) -> None:
    result = runner.invoke(app, ["show", "nope", "--root", written])
    assert result.exit_code == 1
    assert "no intent, order or fill with id 'nope'" in result.output


def test_bad_storage_option_exits_2(written: str) -> None:
    result = runner.invoke(app, ["verify", written, "-o", "token"])
    assert result.exit_code == 2
    assert "must be KEY=VALUE" in result.output


def test_compare_identical_and_diverged(
    written: str, tmp_path: Path, open_store: Callable[..., Any], events: Any
) -> None:
    assert runner.invoke(app, ["compare", written, written]).output.startswith("identical (4 events)")
    other = open_store(root=str(tmp_path / "other"))
    other.append(events.decision(id="D-1"))
    other.close()
    result = runner.invoke(app, ["compare", written, str(tmp_path / "other")])
    assert result.exit_code == 1
    assert "diverged at event #0" in result.output


def test_daily_writes_html(written: str, tmp_path: Path) -> None:
    out = tmp_path / "daily.html"
    result = runner.invoke(app, ["daily", "2024-01-02", "--root", written, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 intents, 1 orders, 1 fills" in result.output
    assert "Daily audit summary 2024-01-02" in out.read_text()


def test_daily_bad_date_exits_2(written: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["daily", "2024-13-01", "--root", written, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_incident(written: str, clock: Any) -> None:
    result = runner.invoke(app, ["incident", "0", str(clock.now_ns), "--root", written])
    assert result.exit_code == 0, result.output
    assert "Orders: 1 (0 rejected or denied); fills: 1" in result.output


def test_verify_missing_log_is_an_error_not_ok(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "typo")])
    assert result.exit_code == 2
    assert "no audit log under" in result.output


def test_compare_with_missing_log_is_an_error(written: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", written, str(tmp_path / "typo")])
    assert result.exit_code == 2
    assert "no audit log under" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1704153600000000123", 1_704_153_600_000_000_123),
        ("2024-01-02T00:00:00Z", 1_704_153_600_000_000_000),
        ("2024-01-02T01:00:00+01:00", 1_704_153_600_000_000_000),
        ("2024-01-02T00:00:00.000001", 1_704_153_600_000_001_000),
    ],
)
def test_parse_time_ns(text: str, expected: int) -> None:
    assert parse_time_ns(text) == expected


def test_incident_accepts_iso_times_and_refuses_garbage(written: str) -> None:
    ok = runner.invoke(app, ["incident", "2024-01-02T00:00:00Z", "2024-01-03", "--root", written])
    assert ok.exit_code == 0, ok.output
    assert "fills: 1" in ok.output
    bad = runner.invoke(app, ["incident", "yesterday", "2024-01-03", "--root", written])
    assert bad.exit_code == 2
    assert "neither UNIX ns nor ISO 8601" in bad.output


def test_compact(written: str) -> None:
    result = runner.invoke(app, ["compact", "2024-01-02", "--root", written])
    assert result.exit_code == 0, result.output
    assert "compacted 4 records (seq 0..3)" in result.output
    missing = runner.invoke(app, ["compact", "2024-01-05", "--root", written])
    assert missing.exit_code == 2
    assert "no audit records" in missing.output
