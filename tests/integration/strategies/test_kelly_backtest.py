"""The Kelly value-betting example backtested over the real Betfair historical files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.backtest.kelly_demo import run_kelly_demo


@pytest.mark.slow
def test_kelly_demo_over_real_files_settles_every_bet(tmp_path: Path, shared_data: Path) -> None:
    d = shared_data / "nautilus_trader/tests/test_data/betfair"
    files = [d / "1-166564490.bz2", d / "1-166811431.bz2", d / "1-180305278.bz2"]
    result = run_kelly_demo(files, tmp_path / "out", say=lambda _: None)
    # the seeded toy model bets three times (numbers fixed by the seed and the data)
    assert [(x["market_id"], x["side"], x["selection"], x["odds"], x["stake"]) for x in result.decisions] == [
        ("1.166811431", "BACK", "HOME", "1.41", "4.24"),
        ("1.166811431", "LAY", "AWAY", "3.4", "9.80"),
        ("1.180305278", "LAY", "HOME", "1.45", "50.00"),
    ]
    by_market = {m.market_id: m for m in result.markets}
    # by hand: Minnesota (HOME) lost, Cleveland (AWAY) won: -4.24 - 9.80 x 2.4 = -27.76
    assert by_market["1.166811431"].settled
    assert by_market["1.166811431"].net_pnl == Decimal("-27.7600")
    # Mumbai (HOME) won: the LAY pays 50 x 0.45 = 22.50
    assert by_market["1.180305278"].net_pnl == Decimal("-22.5000")
    text = result.report.read_text(encoding="utf-8")
    for title in ("Edge (model - implied) vs outcome", "Bankroll over time", "Betting P&amp;L by market"):
        assert title in text
    assert "realised P&amp;L -50.26 · final bankroll 949.74" in text
