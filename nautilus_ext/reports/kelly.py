"""
The Kelly value-betting report: edge against outcome, bankroll over time, P&L by market.

Inputs are the strategy's decisions (JSON lines written by
:class:`~nautilus_ext.strategies.kelly_betting.KellyValueBettingStrategy`) and the settled
markets of the run (:class:`~nautilus_ext.reports.betting.MarketPnL`); the page is one
self-contained HTML file with Plotly figures and the betting tables.
"""

from __future__ import annotations

import html
import json
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_ext.reports.betting import MarketPnL
from nautilus_ext.reports.betting import betting_section
from nautilus_ext.reports.betting import realised_betting_pnl

_CENT = Decimal("0.01")


def read_decisions(path: str | Path) -> list[dict[str, Any]]:
    """Return the decisions a run wrote (an absent file: none)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def bet_outcomes(decisions: list[dict[str, Any]], markets: list[MarketPnL]) -> list[dict[str, Any]]:
    """
    Return each decision with its runner's result (``WINNER``...), whether the bet won, and the
    selection's settled P&L share (``None`` while the market is open).
    """
    results = {(m.market_id, s.selection_id): (s.result, m.settled) for m in markets for s in m.selections}
    out = []
    for d in decisions:
        result, settled = results.get((d["market_id"], int(d["selection_id"])), ("OPEN", False))
        won: bool | None = None
        if settled and result in ("WINNER", "PLACED", "LOSER"):
            runner_won = result in ("WINNER", "PLACED")
            won = runner_won if d["side"] == "BACK" else not runner_won
        out.append({**d, "result": result, "won": won})
    return out


def bankroll_curve(start: Decimal, markets: list[MarketPnL]) -> list[tuple[datetime, Decimal]]:
    """Return the bankroll after each settlement, in settlement order (starting point first)."""
    settled = sorted(
        (m for m in markets if m.settled and m.ts_settled_ns), key=lambda m: m.ts_settled_ns or 0
    )
    if not settled:
        return []
    first = datetime.fromtimestamp((settled[0].ts_settled_ns or 0) / 1e9, tz=UTC)
    points = [(first, start)]
    bankroll = start
    for m in settled:
        bankroll += m.net_pnl
        points.append((datetime.fromtimestamp((m.ts_settled_ns or 0) / 1e9, tz=UTC), bankroll))
    return points


def write_kelly_report(
    path: str | Path,
    *,
    title: str,
    decisions: list[dict[str, Any]],
    markets: list[MarketPnL],
    bankroll: Decimal,
) -> Path:
    """Write the report and return its path."""
    import plotly.graph_objects as go

    rows = bet_outcomes(decisions, markets)
    figs = []
    edge = go.Figure()
    for label, want in (("won", True), ("lost", False), ("open", None)):
        pts = [r for r in rows if r["won"] is want]
        if pts:
            edge.add_trace(
                go.Scatter(
                    x=[float(r["edge"]) for r in pts],
                    y=[float(r["model_probability"]) for r in pts],
                    mode="markers",
                    name=f"{label} ({len(pts)})",
                    text=[f"{r['side']} {r['selection']} @ {r['odds']} x {r['stake']}" for r in pts],
                )
            )
    edge.update_layout(
        title="Edge (model - implied) vs outcome", xaxis_title="edge", yaxis_title="model probability"
    )
    figs.append(edge)
    curve = bankroll_curve(bankroll, markets)
    figs.append(
        go.Figure(
            go.Scatter(
                x=[t for t, _ in curve], y=[float(b) for _, b in curve], mode="lines+markers", name="bankroll"
            ),
            layout={"title": "Bankroll over time (after each settlement)", "yaxis_title": "account currency"},
        )
    )
    figs.append(
        go.Figure(
            go.Bar(x=[m.market_id for m in markets], y=[float(m.net_pnl) for m in markets], name="net P&L"),
            layout={"title": "Net P&L by market (after commission)", "yaxis_title": "account currency"},
        )
    )
    total = realised_betting_pnl(markets)
    won = sum(1 for r in rows if r["won"] is True)
    lost = sum(1 for r in rows if r["won"] is False)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>bets: {len(rows)} · won {won} · lost {lost} · starting bankroll {bankroll} · "
        f"realised P&amp;L {total.quantize(_CENT)} · final bankroll {(bankroll + total).quantize(_CENT)}</p>",
    ]
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    parts += betting_section(markets)
    head = [
        "time (UTC)",
        "market",
        "selection",
        "side",
        "odds",
        "stake",
        "model",
        "implied",
        "edge",
        "result",
    ]
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                datetime.fromtimestamp(r["ts_ns"] / 1e9, tz=UTC).isoformat(),
                r["market_id"],
                r["selection"],
                r["side"],
                r["odds"],
                r["stake"],
                f"{Decimal(r['model_probability']):.4f}",
                f"{Decimal(r['implied_probability']):.4f}",
                f"{Decimal(r['edge']):+.4f}",
                r["result"],
            )
        )
        + "</tr>"
        for r in rows
    )
    parts += [
        "<h2 id='decisions'>Decisions</h2>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{body}</table>",
        "</body></html>",
    ]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


__all__ = ["bankroll_curve", "bet_outcomes", "read_decisions", "write_kelly_report"]
