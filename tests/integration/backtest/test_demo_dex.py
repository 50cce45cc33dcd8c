"""`make demo`'s DEX leg: a pool recorded on Anvil, loaded, and a CEX-vs-DEX routed order in the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nautilus_ext.backtest.demo import run_demo
from nautilus_ext_testkit.chain.demo_dex import record

pytestmark = pytest.mark.slow


def test_demo_report_shows_the_routed_order(tmp_path: Path) -> None:
    recording = tmp_path / "dex_recording.json"
    rec = record(recording, price=59_500.0, start_ts=1_704_149_400)
    assert len(rec["logs"]) == len(json.loads(recording.read_text())["logs"]) > 20
    lines: list[str] = []
    report = run_demo(tmp_path / "out", dex_recording=recording, say=lines.append)
    routed = next(line for line in lines if "routed" in line)
    assert "CEX:BYBIT" in routed
    assert "UNISWAPV3:" in routed
    html = report.read_text()
    assert "demo-route-dex" in html
    assert "demo-route-cex" in html
    assert "BTC-USDT-500.UNISWAPV3" in html  # the pool's fills are plotted
    for op in ("demo-route-dex", "demo-route-cex"):  # both legs filled (row: id, venue, key, side, status)
        assert re.search(op + r"</td>(<td>[^<]*</td>){3}<td>FILLED</td>", html), op
