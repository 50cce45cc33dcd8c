"""
The basis engine's CEX legs, replayed as NautilusTrader positions in a BacktestEngine (one
simulated venue per hedge venue, the registry's perpetuals, the project's funding settlement
module): positions, funding and P&L agree with the engine's own accounting.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest

from nautilus_ext.backtest.basis_legs import replay_cex_legs
from nautilus_ext.basis.backtest import run_backtest
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.generator import generate
from nautilus_ext.errors import InvalidConfig

START, END = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["btc_basis", "usdt_market_neutral"])
def test_cex_legs_match_nautilus_positions(mode: str) -> None:
    tables = generate(START, END, seed=11)  # with the stress window: hedge trades every few hours
    cfg = resolve(RunRequest(mode, "usdt_stable", Decimal(100000), "2024-03-01", "2024-03-31"))
    result = run_backtest(cfg, tables)
    replay = replay_cex_legs(result)
    assert [leg.venue for leg in replay.legs] == ["BINANCE-FUTURES", "BYBIT", "OKX"]
    for leg in replay.legs:
        assert leg.nautilus_position == leg.engine_position != 0
        assert leg.nautilus_funding == leg.engine_funding != 0
        assert leg.nautilus_pnl == leg.engine_pnl
        assert abs(leg.nautilus_commissions - leg.engine_commissions) <= leg.orders * Decimal("1e-8")
    trades = sum(leg.orders for leg in replay.legs)
    assert trades == 3 if mode == "btc_basis" else trades > 30


def test_a_mode_without_cex_legs_is_refused() -> None:
    cfg = resolve(RunRequest("pure_lending", "usdt_stable", Decimal(1000), "2024-03-01", "2024-03-03"))
    result = run_backtest(cfg, generate(START, datetime(2024, 3, 3, tzinfo=UTC), seed=1))
    with pytest.raises(InvalidConfig, match="no CEX legs"):
        replay_cex_legs(result)
