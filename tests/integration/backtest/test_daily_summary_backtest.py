"""The daily summary of a real backtest's audit log nets its fees and ranks its slippage."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.audit.reports import load_events
from nautilus_ext.audit.reports import render_daily_html
from nautilus_ext.audit.reports import summarize_day
from nautilus_ext.audit.schemas import IntentEvent
from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.orders import Order

from .conftest import START

BIN = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"


def _order(op: str, side: str, amount: str, secs: int, decision_price: str | None = None) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=BIN,
        venue="BINANCE-FUTURES",
        side=side,
        amount=amount,
        created_at=START + timedelta(seconds=secs),
        metadata={"decision_price": decision_price} if decision_price else {},
    )


@pytest.mark.slow
def test_daily_summary_nets_fees_and_ranks_slippage_against_the_arrival_mid(
    small_catalog: Path, tmp_path: Path
) -> None:
    orders = [
        _order("buy", "BUY", "1.000", 30),  # walks past the touch: positive slippage
        _order("sell", "SELL", "1.000", 90),
        _order("stated", "BUY", "0.100", 120, decision_price="59990"),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(o.to_json() + "\n" for o in orders), encoding="utf-8")
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(small_catalog),
            "start": START,
            "end": START + timedelta(minutes=3),
            "instruments": [BIN],
            "venues": [{"venue": "BINANCE-FUTURES", "starting_balances": ["1000000 USDT"]}],
            "orders": str(path),
            "output_dir": str(tmp_path / "out"),
            "audit_root": str(tmp_path / "audit"),
        }
    )
    outcome = run_backtest(spec)
    res = {r.operation_id: r for r in outcome.results}
    assert all(r.fills for r in res.values())

    events = load_events(str(tmp_path / "audit"))
    intents = {e.id: e for e in events if isinstance(e, IntentEvent)}
    assert intents["intent:buy"].reference_price == res["buy"].arrival_mid
    assert intents["intent:stated"].reference_price == Decimal("59990")

    summary = summarize_day(events, START.date())
    fees = sum((r.fees for r in res.values()), Decimal(0))
    assert fees > 0
    assert summary.other_currency_fees == {}  # USDT fees on a USDT-quoted contract are netted
    assert summary.net_pnl == summary.gross_pnl - fees
    assert len(summary.top_slippage) == summary.fills == sum(len(r.fills) for r in res.values())
    worst = summary.top_slippage[0]
    assert worst.reference_price in (res["buy"].arrival_mid, res["sell"].arrival_mid, Decimal("59990"))
    page = render_daily_html(summary)
    assert "not netted" not in page
    outliers = page.split("<h2>Top slippage outliers</h2>", 1)[1].split("</table>", 1)[0]
    assert outliers.count("<tr>") == 1 + len(summary.top_slippage)  # header + one row per fill
