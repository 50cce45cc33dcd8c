"""``nautilus-ext cme rolls|session``."""

from __future__ import annotations

from typer.testing import CliRunner

from nautilus_ext.cli import app

runner = CliRunner()


def test_rolls_lists_the_year() -> None:
    out = runner.invoke(app, ["cme", "rolls", "cl", "--year", "2024"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "CL: ENERGY_25TH, roll TWO_LEGS"
    assert len(lines) == 2 + 12
    assert lines[2].split()[:4] == ["CLG4", "2024-01-22", "-", "2024-01-18"]
    assert lines[2].split()[4] == "CME:FUTURE:WTI-USD-240122@LIN"
    zn = runner.invoke(app, ["cme", "rolls", "ZN", "--year", "2024"])
    assert zn.output.splitlines()[2].split()[:4] == ["ZNH4", "2024-03-19", "2024-02-29", "2024-02-27"]


def test_session_open_and_closed() -> None:
    closed = runner.invoke(app, ["cme", "session", "ES", "--at", "2024-09-11T21:30:00Z"])
    assert closed.exit_code == 0, closed.output
    assert "closed; next open 2024-09-11T22:00:00+00:00" in closed.output
    opened = runner.invoke(app, ["cme", "session", "CL", "--at", "2024-09-11T20:00:00"])
    assert "open until 2024-09-11T21:00:00+00:00" in opened.output


def test_errors_are_named() -> None:
    out = runner.invoke(app, ["cme", "rolls", "GC", "--year", "2024"])
    assert out.exit_code == 2
    assert "no roll rules for futures root 'GC'" in out.output
    bad = runner.invoke(app, ["cme", "session", "ES", "--at", "yesterday"])
    assert bad.exit_code == 2
    assert "ISO 8601" in bad.output
