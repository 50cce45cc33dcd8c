"""
One self-contained Plotly HTML report per backtest run.

Sections: summary, safety gate (denials by code), PnL over time in one currency (balances and
open positions marked to the quote currency, :mod:`nautilus_ext.reports.marking`), positions,
fills over price, slippage by venue and by order size, realised versus estimated cost, fill ratios, fees,
transaction-cost analysis (:mod:`nautilus_ext.reports.tca`: realised versus estimated cost,
implementation shortfall, by venue, asset and time bucket) and the per-order results table.
Every figure is built from the run's own results; nothing is sampled. Tables show numbers a
person can read (:mod:`nautilus_ext.reports.display`: instrument precision, ratios to a few
significant digits, no ``nan``); the embedded JSON (``tca-data``, ``pnl-data``) keeps every digit.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupExecutionResult
from nautilus_ext.reports import display
from nautilus_ext.reports.betting import MarketPnL
from nautilus_ext.reports.betting import betting_section
from nautilus_ext.reports.display import InstrumentDisplay
from nautilus_ext.reports.display import lookup
from nautilus_ext.reports.gate import GateSummary
from nautilus_ext.reports.marking import PnlCurve
from nautilus_ext.reports.marking import pnl_curve
from nautilus_ext.reports.pnl import FundingPayment
from nautilus_ext.reports.pnl import pnl_section
from nautilus_ext.reports.tca import TcaAggregate
from nautilus_ext.reports.tca import TcaReport
from nautilus_ext.reports.tca import Weighting
from nautilus_ext.reports.tca import analyse
from nautilus_ext.reports.tca import inputs_from_results


def _f(value: Decimal | None) -> float | None:
    # plotting only: figures need floats; every number in tables stays an exact Decimal string
    return None if value is None else float(value)


def summarise(results: list[ExecutionResult]) -> dict[str, Any]:
    """Return the run summary: counts by status, notional, fees by currency, mean slippage."""
    counts = {s.value: 0 for s in ExecutionStatus}
    notional = Decimal(0)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    weighted_slip = Decimal(0)
    slip_qty = Decimal(0)
    fill_models: dict[str, set[str]] = defaultdict(set)
    for r in results:
        counts[r.status.value] += 1
        avg = r.avg_fill_price
        if avg is not None:
            notional += avg * r.filled_quantity
        if r.fee_currency is not None:
            fees[r.fee_currency] += r.fees
        if r.slippage_bps is not None and r.avg_fill_price is not None:
            w = r.filled_quantity * r.avg_fill_price
            weighted_slip += r.slippage_bps * w
            slip_qty += w
        if r.venue is not None:
            fill_models[r.venue].add(str(r.fill_model))
    return {
        "orders": len(results),
        "by_status": counts,
        "filled_notional": notional,
        "fees": dict(fees),
        "notional_weighted_slippage_bps": (weighted_slip / slip_qty) if slip_qty else None,
        "fill_models": {v: sorted(m) for v, m in sorted(fill_models.items())},
    }


_BPS_PLACES = 3
"""Decimal places of bps figures in the orders table."""


def _display(row: dict[str, Any], instruments: Mapping[str, InstrumentDisplay]) -> dict[str, Any]:
    # the table rounds for reading (see nautilus_ext.reports.display); stored results keep every digit
    info = lookup(instruments, row.get("nautilus_instrument_id"), row.get("instrument_key"))
    out = dict(row)
    for name in ("requested_quantity", "filled_quantity", "unwound_quantity"):
        out[name] = display.quantity(row.get(name), info)
    out["limit_price"] = display.price(row.get("limit_price"), info)
    for name in ("arrival_mid", "avg_fill_price", "decision_price", "end_mid"):
        out[name] = display.price(row.get(name), info, derived=True)
    out["fill_ratio"] = display.ratio(row.get("fill_ratio"))
    out["fees"] = display.money(row.get("fees"), row.get("fee_currency"))
    for name in ("slippage_bps", "estimated_cost_bps"):
        out[name] = display.fixed(row.get(name), _BPS_PLACES)
    out["time_to_complete_ms"] = display.trimmed(row.get("time_to_complete_ms"), 3)
    return out


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(display.cell(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pnl_figure(curve: PnlCurve) -> go.Figure:
    fig = go.Figure()
    x = _ts(curve.ts_ns)
    for venue, values in sorted(curve.by_venue.items()):
        fig.add_trace(go.Scatter(x=x, y=[_f(v) for v in values], mode="lines", name=venue))
    if curve.total:
        fig.add_trace(
            go.Scatter(x=x, y=[_f(v) for v in curve.total], mode="lines", name="total", line={"width": 3})
        )
    unit = curve.currency or "n/a"
    note = f" (not marked: {', '.join(curve.unmarked)})" if curve.unmarked else ""
    fig.update_layout(
        title=f"PnL over time in {unit}: balances and open positions marked to {unit}{note}",
        xaxis_title="time",
        yaxis_title=f"PnL ({unit})",
    )
    return fig


def _exact(value: Decimal) -> str:
    # every digit, no trailing zeros (a product of two 8-place amounts has 16 places)
    return format(value.normalize(), "f") if value else "0"


def pnl_data(curve: PnlCurve) -> dict[str, Any]:
    """Return the PnL curve as the report embeds it (``id='pnl-data'``): exact decimal strings."""
    return {
        "currency": curve.currency,
        "ts_ns": curve.ts_ns,
        "total": [_exact(v) for v in curve.total],
        "by_venue": {k: [_exact(v) for v in vs] for k, vs in sorted(curve.by_venue.items())},
        "unmarked": curve.unmarked,
    }


def _fills_figure(results: list[ExecutionResult]) -> go.Figure:
    fig = go.Figure()
    by_inst: dict[str, list[ExecutionResult]] = defaultdict(list)
    for r in results:
        if r.nautilus_instrument_id is not None:
            by_inst[r.nautilus_instrument_id].append(r)
    for inst, rs in sorted(by_inst.items()):
        xs, ys, texts = [], [], []
        for r in rs:
            for f in r.fills:
                xs.append(f.ts_ns)
                ys.append(_f(f.price))
                texts.append(f"{r.operation_id} {r.side} {f.quantity} @ {f.price} ({f.liquidity})")
        fig.add_trace(go.Scatter(x=_ts(xs), y=ys, mode="markers", name=f"fills {inst}", text=texts))
        arrivals = [(r.ts_decision_ns, _f(r.arrival_mid)) for r in rs if r.arrival_mid is not None]
        if arrivals:
            fig.add_trace(
                go.Scatter(
                    x=_ts([a[0] for a in arrivals]),
                    y=[a[1] for a in arrivals],
                    mode="markers",
                    marker={"symbol": "x"},
                    name=f"arrival mid {inst}",
                )
            )
    fig.update_layout(
        title="Fills over price (x = arrival mid at decision)", xaxis_title="time", yaxis_title="price"
    )
    return fig


def _ts(ns: list[int]) -> Any:
    # numpy datetime64 keeps nanoseconds without pandas' lossy python-datetime conversion
    import numpy as np

    return np.array(ns, dtype="datetime64[ns]")


def _slippage_figure(results: list[ExecutionResult]) -> go.Figure:
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("by venue", "by order size", "realised vs estimated cost")
    )
    by_venue: dict[str, list[float]] = defaultdict(list)
    for r in results:
        slip = _f(r.slippage_bps)
        if slip is not None and r.venue is not None:
            by_venue[r.venue].append(slip)
    for venue, vals in sorted(by_venue.items()):
        fig.add_trace(go.Box(y=vals, name=venue, boxpoints="all"), row=1, col=1)
    filled = [r for r in results if r.slippage_bps is not None]
    fig.add_trace(
        go.Scatter(
            x=[_f(r.requested_quantity) for r in filled],
            y=[_f(r.slippage_bps) for r in filled],
            mode="markers",
            text=[r.operation_id for r in filled],
            name="slippage vs size",
        ),
        row=1,
        col=2,
    )
    costed = [r for r in filled if r.estimated_cost_bps is not None]
    fee_bps = [
        (r.fees / (r.avg_fill_price * r.filled_quantity) * 10_000)
        if r.avg_fill_price and r.filled_quantity and r.fee_currency
        else Decimal(0)
        for r in costed
    ]
    fig.add_trace(
        go.Scatter(
            x=[_f(r.estimated_cost_bps) for r in costed],
            y=[_f((r.slippage_bps or Decimal(0)) + fb) for r, fb in zip(costed, fee_bps, strict=True)],
            mode="markers",
            text=[r.operation_id for r in costed],
            name="realised (slippage + fees) vs estimate",
        ),
        row=1,
        col=3,
    )
    fig.update_yaxes(title_text="bps")
    fig.update_layout(title="Slippage versus arrival mid (bps, positive = worse)", showlegend=False)
    return fig


def _ratio_fee_figure(results: list[ExecutionResult]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("fill ratio per order", "fees by venue"))
    fig.add_trace(
        go.Bar(x=[r.operation_id for r in results], y=[_f(r.fill_ratio) for r in results], name="fill ratio"),
        row=1,
        col=1,
    )
    fees: dict[str, Decimal] = defaultdict(Decimal)
    for r in results:
        if r.venue is not None and r.fee_currency is not None:
            fees[f"{r.venue} ({r.fee_currency})"] += r.fees
    fig.add_trace(go.Bar(x=list(fees), y=[_f(v) for v in fees.values()], name="fees"), row=1, col=2)
    fig.update_layout(showlegend=False)
    return fig


GROUP_COLUMNS = [
    "group_id",
    "legs",
    "status",
    "neutralise_policy",
    "target_quantity",
    "net",
    "imbalance",
    "net_exposure",
    "neutralising_fills",
    "rollback_cost",
    "reason",
]

TCA_ORDER_COLUMNS = [
    "operation_id",
    "venue",
    "instrument_key",
    "side",
    "status",
    "bucket",
    "requested_quantity",
    "filled_quantity",
    "avg_fill_price",
    "arrival_mid",
    "decision_price",
    "end_mid",
    "estimated_cost_bps",
    "slippage_bps",
    "fee_bps",
    "realised_cost_bps",
    "cost_error_bps",
    "execution_bps",
    "opportunity_bps",
    "shortfall_bps",
    "fees_in_shortfall",
]
TCA_AGGREGATE_COLUMNS = [
    "dimension",
    "key",
    "orders",
    "filled_orders",
    "requested_quantity",
    "filled_quantity",
    "fill_ratio",
    "estimated_cost_bps",
    "realised_cost_bps",
    "slippage_bps",
    "fee_bps",
    "shortfall_bps",
]
TCA_BPS_PLACES = 4
"""Decimal places of bps figures in the TCA tables (the embedded JSON keeps every digit)."""


def tca_display(
    row: dict[str, Any], instruments: Mapping[str, InstrumentDisplay] | None = None
) -> dict[str, Any]:
    """
    Return a TCA row as the report's tables show it.

    bps rounded to ``TCA_BPS_PLACES``, fill ratios to a few significant digits, prices and
    quantities at the instrument's precision (of the row's asset, when it names one).
    """
    known = instruments or {}
    info = lookup(
        known, row.get("instrument_key"), row.get("key") if row.get("dimension") == "asset" else None
    )
    out = dict(row)
    for name, value in row.items():
        if name.endswith("_bps"):
            out[name] = display.fixed(value, TCA_BPS_PLACES)
        elif name.endswith("_quantity"):
            out[name] = display.quantity(value, info)
        elif name in ("avg_fill_price", "arrival_mid", "decision_price", "end_mid"):
            out[name] = display.price(value, info, derived=True)
        elif name == "fill_ratio":
            out[name] = display.ratio(value)
    return out


def _tca_figures(tca: TcaReport) -> list[go.Figure]:
    scatter = go.Figure()
    both = [o for o in tca.orders if o.realised_cost_bps is not None and o.estimated_cost_bps is not None]
    xs = [_f(o.estimated_cost_bps) for o in both]
    ys = [_f(o.realised_cost_bps) for o in both]
    scatter.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            text=[f"{o.operation_id} {o.venue} {o.side} {o.filled_quantity}" for o in both],
            name="orders",
        )
    )
    if both:
        lo = min(v for v in xs + ys if v is not None)
        hi = max(v for v in xs + ys if v is not None)
        scatter.add_trace(
            go.Scatter(
                x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dot"}, name="realised = estimated"
            )
        )
    scatter.update_layout(
        title="TCA: realised cost (slippage + fees vs arrival mid) versus the pre-trade estimate",
        xaxis_title="estimated cost (bps)",
        yaxis_title="realised cost (bps)",
    )
    bars = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("by venue", "by asset", f"by {tca.bucket_secs}s bucket"),
    )
    metrics = (
        ("estimated_cost_bps", "estimated cost"),
        ("realised_cost_bps", "realised cost"),
        ("slippage_bps", "slippage"),
        ("shortfall_bps", "implementation shortfall"),
    )
    for col, groups in enumerate((tca.by_venue, tca.by_asset, tca.by_bucket), start=1):
        for n, (name, label) in enumerate(metrics):
            bars.add_trace(
                go.Bar(
                    x=[g.key for g in groups],
                    y=[_f(getattr(g, name)) for g in groups],
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1,
                    marker={"color": ("#636efa", "#ef553b", "#00cc96", "#ab63fa")[n]},
                ),
                row=1,
                col=col,
            )
    bars.update_yaxes(title_text="bps")
    bars.update_layout(
        title=f"TCA aggregates ({tca.weighting.lower()}-weighted; positive = cost)", barmode="group"
    )
    return [scatter, bars]


def tca_section(tca: TcaReport, instruments: Mapping[str, InstrumentDisplay] | None = None) -> list[str]:
    """Return the HTML parts of the TCA section (figures added by the caller)."""
    aggregates: list[TcaAggregate] = [tca.total, *tca.by_venue, *tca.by_asset, *tca.by_bucket]
    data = json.dumps(tca.to_dict(), sort_keys=True).replace("</", "<\\/")
    return [
        "<h2 id='tca'>Transaction-cost analysis</h2>",
        "<p class='meta'>bps, positive = cost. slippage: average fill versus the arrival mid; "
        "realised cost: slippage + fees, comparable with the pre-trade estimate (book impact + "
        "taker fee); implementation shortfall: versus the decision price, unfilled quantity valued "
        f"at the mid when the order ended, fees included. Aggregates are {tca.weighting.lower()}-"
        f"weighted (filled quantity for costs, requested quantity for shortfall); time buckets of "
        f"{tca.bucket_secs}s by decision time (UTC).</p>",
        "<h3>Aggregates</h3>",
        "<div id='tca-aggregates'>"
        + _table([tca_display(a.as_row(), instruments) for a in aggregates], TCA_AGGREGATE_COLUMNS)
        + "</div>",
        "<h3>Per order</h3>",
        "<div id='tca-orders'>"
        + _table([tca_display(o.as_row(), instruments) for o in tca.orders], TCA_ORDER_COLUMNS)
        + "</div>",
        f"<script type='application/json' id='tca-data'>{data}</script>",
    ]


def gate_section(gate: GateSummary) -> list[str]:
    """Return the HTML of the safety-gate section: limits used, orders allowed, denials by code."""
    rows = [
        {"code": code, "rule": rule, "orders": count, "first message": gate.examples.get((code, rule), "")}
        for (code, rule), count in sorted(gate.denials.items())
    ]
    return [
        "<h2>Safety gate</h2>",
        "<p class='meta'>The same gate and chokepoint as LIVE and DRY_RUN judged every order. "
        f"Limits: {html.escape(gate.source)} (hash {html.escape(gate.limits_hash[:16])}). "
        f"Orders allowed (execution-algorithm children included): {gate.allowed}; "
        f"denied: {gate.denied}.</p>",
        "<div id='safety-gate'>" + _table(rows, ["code", "rule", "orders", "first message"]) + "</div>",
    ]


_CSS = """
body { font-family: -apple-system, Segoe UI, Roboto, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; margin-bottom: 1.5em; }
table { border-collapse: collapse; font-size: 12px; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em 1.2em; min-width: 10em; }
.card b { display: block; font-size: 1.4em; }
"""

RESULT_COLUMNS = [
    "operation_id",
    "instrument_key",
    "venue",
    "side",
    "order_type",
    "requested_quantity",
    "filled_quantity",
    "fill_ratio",
    "arrival_mid",
    "avg_fill_price",
    "slippage_bps",
    "estimated_cost_bps",
    "fees",
    "fee_currency",
    "time_to_complete_ms",
    "status",
    "reason",
    "algorithm_requested",
    "algorithm_used",
    "fill_model",
    "atomic_group_id",
    "unwound_quantity",
]


def _position_row(row: dict[str, Any], instruments: Mapping[str, InstrumentDisplay]) -> dict[str, Any]:
    info = lookup(instruments, row.get("instrument_id"))
    out = {k: display.cell(v) for k, v in row.items()}
    if "quantity" in row:
        out["quantity"] = display.quantity(row["quantity"], info)
    for name in ("avg_px_open", "avg_px_close"):
        if name in row:
            out[name] = display.price(row[name], info, derived=True)
    pnl = row.get("realized_pnl")
    if not display.is_missing(pnl):
        amount, _, currency = str(pnl).partition(" ")
        out["realized_pnl"] = f"{display.money(amount, currency or None)} {currency}".strip()
    return out


def _group_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in ("target_quantity", "imbalance", "net_exposure", "rollback_cost"):
        out[name] = display.trimmed(row.get(name))
    out["net"] = {k: display.trimmed(v) for k, v in (row.get("net") or {}).items()}
    return out


def write_report(
    path: str | Path,
    *,
    title: str,
    results: list[ExecutionResult],
    account_reports: dict[str, Any] | None = None,
    positions_report: Any = None,
    meta: dict[str, str] | None = None,
    groups: list[GroupExecutionResult] | None = None,
    tca_bucket_secs: int = 3600,
    tca_weighting: Weighting = Weighting.QUANTITY,
    funding_payments: list[FundingPayment] | None = None,
    gate: GateSummary | None = None,
    instruments: Mapping[str, InstrumentDisplay] | None = None,
    betting: list[MarketPnL] | None = None,
) -> Path:
    """
    Write the self-contained HTML report and return its path.

    Parameters
    ----------
    path : str or Path
        Output file (parent folders are created).
    title : str
        Report title.
    results : list[ExecutionResult]
        Per-order results of the run.
    account_reports : dict, optional
        Nautilus account reports (DataFrames) by venue, for the equity curve.
    positions_report : DataFrame, optional
        Nautilus positions report.
    meta : dict, optional
        Extra run facts shown under the title (run id, data span, fill model...).
    groups : list[GroupExecutionResult], optional
        Atomic groups of the run (ATOMIC_LEGS): status, net exposure, rollback cost.
    tca_bucket_secs : int, default 3600
        Time bucket of the transaction-cost analysis, in seconds.
    tca_weighting : Weighting, default QUANTITY
        How TCA aggregates weight orders.
    funding_payments : list[FundingPayment], optional
        Funding settled on perp positions (funding-aware backtests): the report shows trading
        PnL, fees and funding PnL apart, and every payment.
    gate : GateSummary, optional
        What the run's safety gate allowed and denied (denials by taxonomy code and rule).
    instruments : Mapping[str, InstrumentDisplay], optional
        Precision and currencies of the run's instruments, by Nautilus id and canonical key:
        tables round to them, and the PnL curve marks balances with them.
    betting : list[MarketPnL], optional
        Betfair markets traded: settled P&L per market and per selection.

    Raises
    ------
    InvalidConfig
        If ``tca_bucket_secs`` is not positive.
    """
    tca = analyse(inputs_from_results(results), bucket_secs=tca_bucket_secs, weighting=tca_weighting)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    cards = [
        ("orders", summary["orders"]),
        *[(k.lower(), v) for k, v in summary["by_status"].items()],
        ("filled notional", f"{summary['filled_notional']:.2f}"),
        *[(f"fees {c}", f"{v:.4f}") for c, v in summary["fees"].items()],
        (
            "slippage (notional-weighted, bps)",
            "n/a"
            if summary["notional_weighted_slippage_bps"] is None
            else f"{summary['notional_weighted_slippage_bps']:.3f}",
        ),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<div class='meta'>"
        + " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in (meta or {}).items())
        + "</div>",
        "<div class='cards'>"
        + "".join(f"<div class='card'>{html.escape(k)}<b>{html.escape(str(v))}</b></div>" for k, v in cards)
        + "</div>",
        "<h2>Fill model by venue</h2>",
        _table(
            [{"venue": v, "fill model": ", ".join(m)} for v, m in summary["fill_models"].items()],
            ["venue", "fill model"],
        ),
    ]
    if gate is not None:
        parts += gate_section(gate)
    known = dict(instruments or {})
    curve = pnl_curve(account_reports or {}, results, known)
    figures = [_pnl_figure(curve), _fills_figure(results), _slippage_figure(results)]
    figures.append(_ratio_fee_figure(results))
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    pnl_json = json.dumps(pnl_data(curve), sort_keys=True).replace("</", "<\\/")
    parts.append(f"<script type='application/json' id='pnl-data'>{pnl_json}</script>")
    if positions_report is not None and len(positions_report) > 0:
        cols = [
            c
            for c in ("instrument_id", "side", "quantity", "avg_px_open", "avg_px_close", "realized_pnl")
            if c in positions_report.columns
        ]
        rows = [_position_row(r, known) for r in positions_report.reset_index()[cols].to_dict("records")]
        parts += ["<h2>Positions</h2>", "<div id='positions'>" + _table(rows, cols) + "</div>"]
    parts += pnl_section(positions_report, summary["fees"], funding_payments or [])  # funding-aware
    parts += betting_section(betting or [])
    if groups:
        rows = [_group_row(g.summary()) for g in groups]
        parts += ["<h2 id='groups'>Atomic groups</h2>", _table(rows, GROUP_COLUMNS)]
    parts += tca_section(tca, known)
    parts += [fig.to_html(full_html=False, include_plotlyjs=False) for fig in _tca_figures(tca)]
    parts += [
        "<h2>Orders</h2>",
        "<div id='orders'>"
        + _table([_display(r.summary(), known) for r in results], RESULT_COLUMNS)
        + "</div>",
        "</body></html>",
    ]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
