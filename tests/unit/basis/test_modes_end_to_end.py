"""
One end-to-end run per mode on a fixed generated data set (30 days with the stress window).

Each run checks, at every hour: the balance-sheet identity (assets - debts = equity, exact
Decimal) and the P&L identity (equity - capital = sum of the cumulative components, exact);
that every P&L column is in the share class's currency; and the event-log structure
(global order, on-the-hour timestamps, bundle steps pointing to their wrapper).
"""

from __future__ import annotations

import decimal
import json
from decimal import Decimal

import pytest

from nautilus_ext.basis.ledger import COMPONENTS
from nautilus_ext.basis.ledger import CONTEXT
from tests.unit.basis.conftest import RunMode
from tests.unit.basis.conftest import pnl_columns

MODES = [
    ("pure_lending", "usdt_stable"),
    ("btc_basis", "usdt_stable"),
    ("eth_staking_only", "eth_directional"),
    ("eth_leveraged", "eth_directional"),
    ("usdt_market_neutral_no_leverage", "usdt_stable"),
    ("usdt_market_neutral", "usdt_stable"),
]


@pytest.mark.parametrize(("mode", "share_class"), MODES)
def test_mode_identities_every_hour(
    mode: str, share_class: str, run_mode: RunMode, stress_tables: dict
) -> None:
    result = run_mode(mode, share_class, stress_tables)
    engine = result.engine
    ccy = "usd" if share_class == "usdt_stable" else "eth"
    other = "eth" if ccy == "usd" else "usd"
    assert len(engine.hourly) == 30 * 24
    capital = result.config.capital
    exact = decimal.localcontext(CONTEXT)  # 80 digits: every sum below is exact
    exact.__enter__()
    for row, sheet in zip(engine.hourly, engine.sheet, strict=True):
        assert sheet["timestamp"] == row["timestamp"]
        lines = [v for k, v in sheet.items() if k.endswith(f"({ccy})")]
        assets = sum((v for v in lines if v >= 0), Decimal(0))
        debts = -sum((v for v in lines if v < 0), Decimal(0))
        assert sheet[f"total_assets_{ccy}"] == assets
        assert sheet[f"total_debts_{ccy}"] == debts
        assert assets - debts == sheet[f"equity_{ccy}"] == row[f"equity_{ccy}"]
        cumulative = sum((row[f"cumulative_{k}_{ccy}"] for k in COMPONENTS), Decimal(0))
        assert row[f"equity_{ccy}"] - capital == cumulative == row[f"cumulative_pnl_{ccy}"]
        hourly = sum((row[f"{k}_{ccy}"] for k in COMPONENTS), Decimal(0))
        assert hourly == row[f"net_pnl_{ccy}"]
        for column in pnl_columns(row):
            assert column.endswith(f"_{ccy}"), column
            assert not column.endswith(f"_{other}"), column
    exact.__exit__(None, None, None)
    orders = [e.order for e in engine.events]
    assert orders == list(range(1, len(orders) + 1))
    by_order = {e.order: e for e in engine.events}
    for e in engine.events:
        assert e.timestamp.minute == 0
        assert e.timestamp.second == 0
        assert not (e.iteration is not None and e.parent is not None)
        if e.parent is not None:
            assert by_order[e.parent].event == "ATOMIC_TRANSACTION"
            assert by_order[e.parent].timestamp == e.timestamp
        assert e.status == "completed"
        assert e.tx_hash is None
        assert json.loads(e.balances)  # decision 13: the balance sheet after every event
    summary = result.summary
    assert summary["hours"] == 720
    assert Decimal(summary["final_equity"]) == engine.hourly[-1][f"equity_{ccy}"]


def test_the_stress_window_trips_every_trigger(run_mode: RunMode, stress_tables: dict) -> None:
    result = run_mode("usdt_market_neutral", "usdt_stable", stress_tables)
    c = result.engine.counters
    assert c.margin_support >= 1  # shorts lose margin as ETH rises
    assert c.hedge_adjustment >= 1  # the depeg moves the on-chain delta
    assert c.emergency_deleverage >= 1  # 9 % depeg at 5x: HF 1.07 < 1.10
    assert c.divergence_flags >= 1
    assert c.arbitrage_alerts >= 1
    assert c.aave_liquidations == 0
    assert c.cex_liquidations == 0
    events = {e.event for e in result.engine.events}
    assert {
        "REBALANCE_MARGIN_SUPPORT",
        "REBALANCE_EMERGENCY_DELEVERAGE",
        "REBALANCE_HEDGE_ADJUSTMENT",
    } <= events
    bundles = {e.bundle for e in result.engine.events if e.event == "ATOMIC_TRANSACTION"}
    assert bundles == {"LEVERAGE_ENTRY", "DELEVERAGE_FOR_MARGIN", "EMERGENCY_DELEVERAGE"}
    assert result.summary["worst_health_factor"] > 1.0
