"""``benchmarks/bench_funding.py --smoke`` runs end to end (finder, SQLite and PostgreSQL writes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_funding_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_funding.py"), "--smoke"],
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'testkit'}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "4 venues x 20 symbols = 240 priced pairs" in out
    assert "over the SQLite store" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    # insert and re-upsert rates/s, and the rows the bench checked it left behind
    assert lines["SQLite"][-1] == "160"
    assert lines["PostgreSQL"][-1] == "160"
