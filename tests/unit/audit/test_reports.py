"""Daily summary and incident report: figures checked by hand."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.audit import CommandKind
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import RiskAction
from nautilus_ext.audit import SafeguardKind
from nautilus_ext.audit import Side
from nautilus_ext.audit.reports import Regime
from nautilus_ext.audit.reports import RegimeRule
from nautilus_ext.audit.reports import classify_prices
from nautilus_ext.audit.reports import incident_report
from nautilus_ext.audit.reports import load_events
from nautilus_ext.audit.reports import render_daily_html
from nautilus_ext.audit.reports import summarize_day
from nautilus_ext.errors import InvalidConfig

DAY = date(2024, 1, 2)
DAY_NS = 86_400 * 1_000_000_000
D = Decimal


@pytest.fixture
def day_events(events: Any, clock: Any) -> list[Any]:
    """BTC: buy 2 @ 101, sell 3 @ 109 (flip), buy 1 @ 105; ETH carried in from the day before."""
    day0 = clock.now_ns
    return [
        events.fill(
            id="F-eth-0",
            asset="ETH-USDT",
            qty=D(1),
            price=D(10),
            fees=D(0),
            order_id="O-eth",
            intent_id=None,
            ts_event=day0 - DAY_NS,
        ),
        events.intent(id="I-1", reference_price=D(100)),
        events.order(id="O-1", intent_id="I-1"),
        events.fill(
            id="F-1",
            side=Side.BUY,
            qty=D(2),
            price=D(101),
            fees=D("0.2"),
            order_id="O-1",
            intent_id="I-1",
        ),
        events.intent(id="I-2", side=Side.SELL, reference_price=D(110)),
        events.order(id="O-2", intent_id="I-2", side=Side.SELL),
        events.fill(
            id="F-2",
            side=Side.SELL,
            qty=D(3),
            price=D(109),
            fees=D("0.3"),
            order_id="O-2",
            intent_id="I-2",
        ),
        events.intent(id="I-3"),
        events.order(id="O-3", intent_id="I-3"),
        events.fill(
            id="F-3",
            side=Side.BUY,
            qty=D(1),
            price=D(105),
            fees=D("0.01"),
            fee_currency="BNB",
            order_id="O-3",
            intent_id="I-3",
        ),
        events.fill(
            id="F-eth-1",
            asset="ETH-USDT",
            side=Side.SELL,
            qty=D(1),
            price=D(12),
            fees=D(0),
            order_id="O-eth",
            intent_id=None,
        ),
        events.risk(id="R-1", action=RiskAction.BLOCK),
        events.risk(id="R-2", action=RiskAction.BLOCK),
        events.risk(id="R-3", rule="LOSS_KILL", action=RiskAction.HALT),
        events.risk(id="R-4", action=RiskAction.ALLOW),
        events.fill(id="F-next", qty=D(5), price=D(1), ts_event=day0 + DAY_NS),
    ]


def test_counts_and_pnl(day_events: list[Any]) -> None:
    summary = summarize_day(day_events, DAY)
    assert (summary.intents, summary.orders, summary.fills) == (3, 3, 4)
    assert summary.modes == {"BACKTEST": 14}
    btc, eth = summary.pnl
    # BTC: close 2 @ 109 vs 101 = +16; close 1 short @ 105 vs 109 = +4; quote fees 0.5
    assert (btc.asset, btc.gross, btc.fees, btc.net, btc.end_position) == (
        "BTC-USDT",
        D(20),
        D("0.5"),
        D("19.5"),
        D(0),
    )
    # ETH: bought 1 @ 10 the day before, sold @ 12 today
    assert (eth.gross, eth.net, eth.end_position) == (D(2), D(2), D(0))
    assert (summary.gross_pnl, summary.net_pnl) == (D(22), D("21.5"))
    assert summary.other_currency_fees == {"BNB": D("0.01")}
    assert summary.pnl_curve[-1][1] == D("21.5")


def test_slippage_outliers_are_signed_by_side(day_events: list[Any]) -> None:
    summary = summarize_day(day_events, DAY, top_n=1)
    assert [(s.fill_id, s.slippage_bps) for s in summary.top_slippage] == [("F-1", D("100.00"))]
    both = summarize_day(day_events, DAY).top_slippage
    assert [(s.fill_id, s.slippage_bps) for s in both] == [
        ("F-1", D("100.00")),
        ("F-2", D("90.91")),
    ]


def test_risk_blocks(day_events: list[Any]) -> None:
    assert summarize_day(day_events, DAY).risk_blocks == {"MAX_POSITION": 2, "LOSS_KILL": 1}


def test_regime_breakdown(day_events: list[Any]) -> None:
    rows = {r.regime: r for r in summarize_day(day_events, DAY).regimes}
    # BTC prices 100, 101, 110, 109, 105 within the hour: RMS return far above 0.5%.
    assert rows[Regime.HIGH_VOLATILITY].fills == 3
    assert rows[Regime.HIGH_VOLATILITY].gross_pnl == D(20)
    assert rows[Regime.HIGH_VOLATILITY].notional == D(2 * 101 + 3 * 109 + 105)
    # ETH has a single price on the day.
    assert rows[Regime.UNCLASSIFIED].fills == 1


@pytest.mark.parametrize(
    ("prices", "regime"),
    [
        (["100", "100.1", "100.2", "100.3"], Regime.TREND),
        (["100", "100.2", "100", "100.2", "100"], Regime.MEAN_REVERT),
        (["100", "102", "100"], Regime.HIGH_VOLATILITY),
        (["100", "100", "100"], Regime.MEAN_REVERT),
        (["100", "101"], Regime.UNCLASSIFIED),
    ],
)
def test_regime_rule(prices: list[str], regime: Regime) -> None:
    assert classify_prices([D(p) for p in prices], RegimeRule()) is regime


def test_regime_rule_thresholds_are_configurable() -> None:
    prices = [D("100"), D("102"), D("104")]
    assert classify_prices(prices, RegimeRule()) is Regime.HIGH_VOLATILITY
    assert classify_prices(prices, RegimeRule(high_vol_rms_return=D("0.05"))) is Regime.TREND


def test_html_is_self_contained(day_events: list[Any]) -> None:
    page = render_daily_html(summarize_day(day_events, DAY))
    assert page.startswith("<!DOCTYPE html>")
    assert "Daily audit summary 2024-01-02" in page
    assert re.search(r"<script[^>]*\ssrc=", page) is None  # plotly.js is inlined, not fetched
    assert len(page) > 1_000_000
    assert "MAX_POSITION" in page
    assert "Fees in other currencies, not netted: 0.01 BNB" in page


def test_html_escapes_log_text(events: Any) -> None:
    evil = [events.risk(rule="<script>alert(1)</script>", action=RiskAction.BLOCK)]
    page = render_daily_html(summarize_day(evil, DAY))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_summary_from_a_written_log(open_store: Callable[..., Any], day_events: list[Any], root: str) -> None:
    store = open_store()
    for event in day_events:
        store.append(event)
    store.close()
    assert summarize_day(load_events(root), DAY).net_pnl == D("21.5")


def test_incident_report_is_prefilled(events: Any, clock: Any) -> None:
    start = clock.now_ns
    timeline = [
        events.intent(id="I-1", mode=Mode.LIVE),
        events.safeguard(id="G-1", kind=SafeguardKind.RECONCILE_MISMATCH, venue="BYBIT"),
        events.order(id="O-1", status=OrderStatus.REJECTED, reason="INSUFFICIENT_BALANCE"),
        events.safeguard(id="G-2", kind=SafeguardKind.SAFE_MODE_ENTER),
        events.command(id="C-1", command=CommandKind.KILL, actor="alice", reason="flip-flop"),
        events.fill(id="F-1"),
    ]
    late = events.safeguard(id="G-late", kind=SafeguardKind.FEED_STALE, ts_event=start + DAY_NS)
    text = incident_report([*timeline, late], start, start + 3_600 * 1_000_000_000)
    assert "Date: 2024-01-02 (UTC)" in text
    assert "Modes: BACKTEST, LIVE" in text
    assert "Orders: 1 (1 rejected or denied); fills: 1" in text
    assert "Anomalies recorded: 4" in text
    assert "SAFEGUARD RECONCILE_MISMATCH asset=BTC-USDT venue=BYBIT" in text
    assert "ORDER O-1 REJECTED at BINANCE: INSUFFICIENT_BALANCE" in text
    assert "COMMAND KILL ACCEPTED by alice on S-1: flip-flop" in text
    assert "G-late" not in text
    assert "FEED_STALE" not in text
    assert "Root cause: TO BE COMPLETED BY THE OPERATOR" in text
    assert "(0.003 s between the first and last anomaly)" in text


def test_incident_window_must_be_ordered() -> None:
    with pytest.raises(InvalidConfig, match="must be after"):
        incident_report([], 10, 10)


def test_load_events_until_day_skips_later_days(
    open_store: Callable[..., Any], day_events: list[Any], root: str
) -> None:
    store = open_store()
    for event in day_events:
        store.append(event)
    store.close()
    assert len(load_events(root)) == len(day_events)
    assert [e.id for e in load_events(root, until_day=DAY)][-1] == "R-4"  # F-next is the day after
    assert len(load_events(root, until_day=date(2024, 1, 1))) == 1
