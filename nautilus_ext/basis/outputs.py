"""
Files of a basis backtest (seed 003 decisions 17 and 28).

``<out>/``::

    summary.json            headline figures (APY, max drawdown, worst HF, gas, rebalances ...)
    effective_config.json   the configuration after CLI overrides and corrections
    hourly_pnl.csv          one row per hour: equity, P&L by component (share-class currency),
                            HF, LTV, leverage, margin ratios, on-chain/CEX/net delta
    event_log.csv           every event with timestamp, global order, iteration/parent
    balance_sheet.csv       one row per hour: every line, total assets, total debts, equity
    plots/*.html            Plotly: cumulative P&L, P&L components, delta neutrality, margin
                            ratios (warning/urgent bands), health factor, LTV, leverage
    report.html             everything above in one page; liquidations in red
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from nautilus_ext.basis.backtest import BacktestResult
from nautilus_ext.basis.ledger import COMPONENTS
from nautilus_ext.basis.ledger import CONTEXT

RED = "#d62728"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(CONTEXT), "f")  # exact, without trailing zeros
    return str(value)


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def _floats(rows: Sequence[dict[str, Any]], key: str) -> list[float | None]:
    return [None if r.get(key) is None else float(r[key]) for r in rows]


def figures(result: BacktestResult) -> dict[str, go.Figure]:
    """Build the run's Plotly figures by file stem."""
    engine = result.engine
    rows = engine.hourly
    ccy = engine.ccy
    unit = ccy.upper()
    x = [r["timestamp"] for r in rows]
    title = f"{result.config.mode.mode} / {result.config.share_class.name}"
    liq = [e for e in engine.events if e.severity == "liquidation"]
    figs: dict[str, go.Figure] = {}

    fig = go.Figure(go.Scatter(x=x, y=_floats(rows, f"cumulative_pnl_{ccy}"), name="cumulative P&L"))
    for e in liq:
        fig.add_vline(x=e.timestamp, line_color=RED, line_dash="dot")
    fig.update_layout(title=f"Cumulative P&L ({unit}) - {title}", yaxis_title=unit)
    figs["cumulative_pnl"] = fig

    fig = go.Figure()
    for k in COMPONENTS:
        ys = _floats(rows, f"cumulative_{k}_{ccy}")
        if any(y for y in ys):
            fig.add_trace(go.Scatter(x=x, y=ys, name=k, stackgroup=None))
    fig.update_layout(title=f"P&L components, cumulative ({unit}) - {title}", yaxis_title=unit)
    figs["pnl_components"] = fig

    asset = engine.asset.lower()
    fig = go.Figure()
    for key, name in (
        (f"onchain_delta_{asset}", "on-chain"),
        (f"cex_delta_{asset}", "CEX"),
        (f"net_delta_{asset}", "net"),
    ):
        fig.add_trace(go.Scatter(x=x, y=_floats(rows, key), name=name))
    fig.update_layout(title=f"Delta neutrality ({engine.asset}) - {title}", yaxis_title=engine.asset)
    figs["delta_neutrality"] = fig

    reb = result.config.mode.rebalancing
    fig = go.Figure()
    for leg in engine.legs:
        fig.add_trace(go.Scatter(x=x, y=_floats(rows, f"margin_ratio_{leg.venue}"), name=leg.venue))
    if engine.legs:
        mm = max(leg.maintenance_margin for leg in engine.legs)
        fig.add_hrect(
            y0=float(reb.margin_urgent_threshold),
            y1=float(reb.margin_warning_threshold),
            fillcolor="orange",
            opacity=0.15,
            line_width=0,
            annotation_text="warning",
        )
        fig.add_hrect(
            y0=float(mm),
            y1=float(reb.margin_urgent_threshold),
            fillcolor=RED,
            opacity=0.15,
            line_width=0,
            annotation_text="urgent",
        )
        fig.add_hline(y=float(mm), line_color=RED, annotation_text="maintenance (liquidation)")
    fig.update_layout(title=f"CEX margin ratios - {title}", yaxis_title="equity / notional")
    figs["margin_ratios"] = fig

    fig = go.Figure(go.Scatter(x=x, y=_floats(rows, "health_factor"), name="health factor"))
    fig.add_hline(y=float(reb.health_factor_threshold), line_color="orange", annotation_text="rebalance")
    fig.add_hline(y=1.0, line_color=RED, annotation_text="liquidation")
    fig.update_layout(title=f"AAVE health factor - {title}")
    figs["health_factor"] = fig

    fig = go.Figure(go.Scatter(x=x, y=_floats(rows, "ltv"), name="LTV"))
    fig.add_hline(
        y=result.config.mode.aave.liquidation_threshold_bps / 10_000,
        line_color=RED,
        annotation_text="liquidation threshold",
    )
    fig.update_layout(title=f"AAVE LTV - {title}")
    figs["ltv"] = fig

    fig = go.Figure(go.Scatter(x=x, y=_floats(rows, "leverage"), name="leverage"))
    fig.update_layout(title=f"On-chain leverage (collateral / equity) - {title}")
    figs["leverage"] = fig
    return figs


def _summary_html(summary: dict[str, Any]) -> str:
    rows = []
    for key, value in summary.items():
        if key == "pnl_components":  # exact strings in summary.json, cents/microether here
            value = {k: f"{Decimal(v):,.6f}" for k, v in value.items()}
        elif key in ("final_equity", "gas_spent_usd", "gas_spent_eth"):
            value = f"{Decimal(value):,.6f}"
        text = json.dumps(value) if isinstance(value, dict | list) else str(value)
        style = ""
        if key == "liquidations" and isinstance(value, dict) and any(value.values()):
            style = f' style="color:{RED};font-weight:bold"'
        rows.append(f"<tr><th>{html.escape(key)}</th><td{style}>{html.escape(text)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_results(result: BacktestResult, out: Path) -> Path:
    """
    Write every output of a run under ``out``; return the combined report's path.
    """
    out.mkdir(parents=True, exist_ok=True)
    engine = result.engine
    (out / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    (out / "effective_config.json").write_text(
        json.dumps(result.config.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    _write_csv(out / "hourly_pnl.csv", engine.hourly)
    _write_csv(out / "event_log.csv", [dataclasses.asdict(e) for e in engine.events])
    _write_csv(out / "balance_sheet.csv", engine.sheet)
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    figs = figures(result)
    for name, fig in figs.items():
        fig.write_html(plots / f"{name}.html", include_plotlyjs="directory")
    liq = [e for e in engine.events if e.severity == "liquidation"]
    banner = ""
    if liq:
        items = "".join(
            f"<li>{html.escape(e.timestamp.isoformat())} {html.escape(e.event)} on {html.escape(e.venue)}: "
            f"{html.escape(e.note)}</li>"
            for e in liq
        )
        banner = (
            f'<div style="color:{RED};border:2px solid {RED};padding:8px"><h2>LIQUIDATED '
            f"({len(liq)} events)</h2><ul>{items}</ul></div>"
        )
    parts = [
        "<html><head><meta charset='utf-8'><title>basis backtest</title>",
        "<style>body{font-family:sans-serif;margin:20px} th{text-align:left;padding-right:12px}</style>",
        "</head><body>",
        f"<h1>Basis backtest: {html.escape(result.config.mode.mode)} / "
        f"{html.escape(result.config.share_class.name)}</h1>",
        banner,
        _summary_html(result.summary),
    ]
    for i, fig in enumerate(figs.values()):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    parts.append("</body></html>")
    report = out / "report.html"
    report.write_text("\n".join(parts), encoding="utf-8")
    return report


def write_comparison(results: Sequence[BacktestResult], out: Path) -> Path:
    """Write ``comparison.csv``, ``comparison.json`` and ``comparison.html`` (one table, one chart)."""
    out.mkdir(parents=True, exist_ok=True)
    table = [comparison_row(r) for r in results]
    _write_csv(out / "comparison.csv", table)
    (out / "comparison.json").write_text(json.dumps(table, indent=2, default=str) + "\n", encoding="utf-8")
    modes = [row["mode"] for row in table]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=modes, y=[row["apy"] * 100 for row in table], name="APY %"))
    fig.add_trace(go.Bar(x=modes, y=[row["max_drawdown"] * 100 for row in table], name="max drawdown %"))
    fig.update_layout(barmode="group", title="Basis modes over the same period", yaxis_title="%")
    head = "".join(f"<th>{html.escape(k)}</th>" for k in table[0]) if table else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="color:{RED}"><b>{html.escape(str(v))}</b></td>'
            if k == "liquidations" and v
            else f"<td>{html.escape(_fmt(v))}</td>"
            for k, v in row.items()
        )
        + "</tr>"
        for row in table
    )
    page = (
        "<html><head><meta charset='utf-8'><title>basis compare</title>"
        "<style>body{font-family:sans-serif;margin:20px} td,th{padding:4px 10px;text-align:right}</style>"
        "</head><body>"
        f"<h1>Basis modes compared</h1><table><tr>{head}</tr>{body}</table>"
        + fig.to_html(full_html=False, include_plotlyjs="inline")
        + "</body></html>"
    )
    path = out / "comparison.html"
    path.write_text(page, encoding="utf-8")
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def comparison_row(result: BacktestResult) -> dict[str, Any]:
    """One line of the comparison table."""
    s = result.summary
    ccy = result.engine.ccy
    return {
        "mode": s["mode"],
        "share_class": s["share_class"],
        "apy": s["apy"],
        "max_drawdown": s["max_drawdown"],
        "worst_health_factor": s["worst_health_factor"],
        "gas_spent_eth": float(Decimal(s["gas_spent_eth"])),
        "gas_spent": f"{Decimal(s[f'gas_spent_{ccy}']):.2f} {ccy.upper()}",
        "rebalances": s["rebalances"]["total"],
        "liquidations": s["liquidations"]["aave"] + s["liquidations"]["cex"],
    }


__all__ = ["comparison_row", "figures", "write_comparison", "write_results"]
