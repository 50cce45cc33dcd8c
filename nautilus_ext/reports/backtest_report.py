"""
One self-contained Plotly HTML report per backtest run.

Sections: summary, equity (account balances over time), positions, fills over price,
slippage by venue and by order size, realised versus estimated cost, fill ratios, fees,
transaction-cost analysis (:mod:`nautilus_ext.reports.tca`: realised versus estimated cost,
implementation shortfall, by venue, asset and time bucket) and the per-order results table.
Every figure is built from the run's own results; nothing is sampled.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nautilus_ext.backtest.funding import FundingPayment
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.results import GroupExecutionResult
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


_DISPLAY_PLACES = {
    "slippage_bps": 3,
    "estimated_cost_bps": 3,
    "avg_fill_price": 8,
    "fees": 8,
    "fill_ratio": 4,
}


def _display(row: dict[str, Any]) -> dict[str, Any]:
    # the table rounds for reading; stored results keep every digit
    out = dict(row)
    for name, places in _DISPLAY_PLACES.items():
        value = out.get(name)
        if value is not None:
            rounded = Decimal(value).quantize(Decimal(1).scaleb(-places))
            out[name] = format(rounded.normalize(), "f") if rounded else "0"
    return out


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>" for c in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _equity_figure(account_reports: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for venue, report in sorted(account_reports.items()):
        if report is None or len(report) == 0:
            continue
        for currency, frame in report.groupby("currency"):
            totals = [float(Decimal(str(x))) for x in frame["total"]]
            fig.add_trace(
                go.Scatter(
                    x=frame.index.to_numpy(dtype="datetime64[ns]"),
                    y=totals,
                    mode="lines",
                    name=f"{venue} {currency}",
                )
            )
    fig.update_layout(title="Account balance (total) over time", xaxis_title="time", yaxis_title="balance")
    return fig


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


def tca_display(row: dict[str, Any]) -> dict[str, Any]:
    """Return a TCA row as the report's tables show it: bps rounded to ``TCA_BPS_PLACES``."""
    out = dict(row)
    for name, value in row.items():
        if name.endswith("_bps") and value is not None:
            rounded = Decimal(value).quantize(Decimal(1).scaleb(-TCA_BPS_PLACES))
            out[name] = format(rounded, "f")
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


def tca_section(tca: TcaReport) -> list[str]:
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
        + _table([tca_display(a.as_row()) for a in aggregates], TCA_AGGREGATE_COLUMNS)
        + "</div>",
        "<h3>Per order</h3>",
        "<div id='tca-orders'>"
        + _table([tca_display(o.as_row()) for o in tca.orders], TCA_ORDER_COLUMNS)
        + "</div>",
        f"<script type='application/json' id='tca-data'>{data}</script>",
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
    figures = [_equity_figure(account_reports or {}), _fills_figure(results), _slippage_figure(results)]
    figures.append(_ratio_fee_figure(results))
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    if positions_report is not None and len(positions_report) > 0:
        cols = [
            c
            for c in ("instrument_id", "side", "quantity", "avg_px_open", "avg_px_close", "realized_pnl")
            if c in positions_report.columns
        ]
        rows = positions_report.reset_index()[cols].astype(str).to_dict("records")
        parts += ["<h2>Positions</h2>", _table(rows, cols)]
    parts += pnl_section(positions_report, summary["fees"], funding_payments or [])  # funding-aware
    if groups:
        parts += ["<h2 id='groups'>Atomic groups</h2>", _table([g.summary() for g in groups], GROUP_COLUMNS)]
    parts += tca_section(tca)
    parts += [fig.to_html(full_html=False, include_plotlyjs=False) for fig in _tca_figures(tca)]
    parts += [
        "<h2>Orders</h2>",
        _table([_display(r.summary()) for r in results], RESULT_COLUMNS),
        "</body></html>",
    ]
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
