"""
Audit reports (seed 001, section 13): the daily summary (self-contained Plotly HTML) and an
incident report skeleton pre-filled from the log.

PnL is *realized* PnL computed from fills alone with the average-cost method per asset, over
the whole log up to the end of the day (so positions opened earlier count), attributed to the
day of the fill that realizes it. ``gross`` is before fees; ``net`` subtracts the fees paid in
the asset's quote currency: ``fee_currency`` unset, or equal to the quote asset of the canonical
instrument key of the fill's Intent (else of the fill's own asset), e.g. USDT fees on
``BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN``. Fees in other currencies (BNB, or BTC on an inverse
contract) are listed apart and not netted: they cannot be converted without prices the log does
not hold. Totals add the
per-asset figures and are meaningful only when the assets share a quote currency.

Slippage of a fill, in basis points, is ``(price - reference) / reference * 10_000`` for a BUY
and the negative of that for a SELL (positive = worse than the reference), where the reference
is the ``reference_price`` of the fill's Intent (the execution service sets it to the
decision price, else the arrival mid). Fills without one are not ranked.

Regime rule (:class:`RegimeRule`): per asset and per time bucket of ``bucket_minutes``, take
the prices the log saw in order (Intent reference prices and fill prices) and, with at least
``min_points`` of them, compute the simple returns ``r_i`` between consecutive prices:

- HIGH_VOLATILITY if the root mean square of ``r_i`` is at least ``high_vol_rms_return``;
- otherwise TREND if the efficiency ratio ``|p_last - p_first| / sum(|p_i - p_(i-1)|)`` is at
  least ``trend_efficiency`` (prices mostly moved one way);
- otherwise MEAN_REVERT (prices went back and forth, or did not move);
- UNCLASSIFIED with fewer than ``min_points`` prices.

Each fill takes the regime of its asset and bucket.
"""

from __future__ import annotations

import html
import itertools
from collections import Counter
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any

import plotly.graph_objects as go
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from nautilus_ext.audit.layout import utc_date_of
from nautilus_ext.audit.lineage import format_ns
from nautilus_ext.audit.records import iter_records
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.schemas import AuditEvent
from nautilus_ext.audit.schemas import CommandEvent
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import FillEvent
from nautilus_ext.audit.schemas import IntentEvent
from nautilus_ext.audit.schemas import OrderEvent
from nautilus_ext.audit.schemas import OrderStatus
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import RiskEvent
from nautilus_ext.audit.schemas import SafeguardEvent
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.audit.schemas import Side
from nautilus_ext.audit.schemas import parse_event
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.instruments.key import InstrumentKey

_NS_PER_MINUTE = 60 * 1_000_000_000
_BPS = Decimal(10_000)


@unique
class Regime(StrEnum):
    """Market regime of an asset over a time bucket (see the module docstring)."""

    TREND = "TREND"  # prices moved mostly one way
    MEAN_REVERT = "MEAN_REVERT"  # prices went back and forth
    HIGH_VOLATILITY = "HIGH_VOLATILITY"  # large moves between observations
    UNCLASSIFIED = "UNCLASSIFIED"  # too few prices to tell


class RegimeRule(BaseModel):
    """
    Thresholds of the regime rule.

    Parameters
    ----------
    bucket_minutes : int
        Bucket length in minutes (default 60).
    min_points : int
        Fewest prices in a bucket to classify it (default 3).
    high_vol_rms_return : Decimal
        RMS simple return between observations at or above which a bucket is high-volatility
        (default 0.005, i.e. 50 bps).
    trend_efficiency : Decimal
        Efficiency ratio at or above which a bucket is trending (default 0.6).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket_minutes: int = Field(default=60, gt=0)
    min_points: int = Field(default=3, ge=3)
    high_vol_rms_return: Decimal = Field(default=Decimal("0.005"), gt=0)
    trend_efficiency: Decimal = Field(default=Decimal("0.6"), gt=0, le=1)


def classify_prices(prices: list[Decimal], rule: RegimeRule) -> Regime:
    """Classify one bucket's ordered prices with ``rule`` (see the module docstring)."""
    if len(prices) < rule.min_points:
        return Regime.UNCLASSIFIED
    returns = [b / a - 1 for a, b in itertools.pairwise(prices)]
    rms = (sum((r * r for r in returns), Decimal(0)) / len(returns)).sqrt()
    if rms >= rule.high_vol_rms_return:
        return Regime.HIGH_VOLATILITY
    path = sum((abs(b - a) for a, b in itertools.pairwise(prices)), Decimal(0))
    if path == 0:
        return Regime.MEAN_REVERT
    efficiency = abs(prices[-1] - prices[0]) / path
    return Regime.TREND if efficiency >= rule.trend_efficiency else Regime.MEAN_REVERT


@dataclass(slots=True)
class _Book:
    # Average-cost position of one asset.
    qty: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)

    def apply(self, side: Side, qty: Decimal, price: Decimal) -> Decimal:
        """Apply a fill and return the realized gross PnL it causes."""
        signed = qty if side is Side.BUY else -qty
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            total = abs(self.qty) + qty
            self.avg_price = (abs(self.qty) * self.avg_price + qty * price) / total
            self.qty += signed
            return Decimal(0)
        closing = min(qty, abs(self.qty))
        direction = 1 if self.qty > 0 else -1
        realized = closing * (price - self.avg_price) * direction
        self.qty += signed
        if self.qty == 0:
            self.avg_price = Decimal(0)
        elif (self.qty > 0) != (direction > 0):
            self.avg_price = price  # the position flipped: the remainder opened at this price
        return realized


@dataclass(frozen=True, slots=True)
class SlippageRow:
    """One fill's slippage against its intent's reference price."""

    fill_id: str
    order_id: str
    asset: str
    venue: str
    side: Side
    ts_event: int
    price: Decimal
    reference_price: Decimal
    slippage_bps: Decimal


@dataclass(frozen=True, slots=True)
class AssetPnl:
    """Realized PnL of one asset on the day."""

    asset: str
    gross: Decimal
    fees: Decimal
    net: Decimal
    end_position: Decimal


@dataclass(frozen=True, slots=True)
class RegimeRow:
    """Activity and realized PnL attributed to one regime."""

    regime: Regime
    fills: int
    notional: Decimal
    gross_pnl: Decimal


@dataclass(frozen=True, slots=True)
class DailySummary:
    """The daily summary of section 13 (all figures from the audit log)."""

    day: date
    modes: dict[str, int]
    intents: int
    orders: int
    fills: int
    pnl: list[AssetPnl]
    gross_pnl: Decimal
    net_pnl: Decimal
    other_currency_fees: dict[str, Decimal]
    top_slippage: list[SlippageRow]
    risk_blocks: dict[str, int]
    regimes: list[RegimeRow]
    pnl_curve: list[tuple[int, Decimal]] = field(default_factory=list)


def quote_asset_of(asset: str) -> str | None:
    """Return the quote asset of a canonical instrument key (``None`` for other names)."""
    try:
        quote = InstrumentKey.parse(asset).quote_asset
    except NautilusExtError:
        return None
    return None if quote is None else str(quote)


def summarize_day(
    events: Iterable[AuditEvent],
    day: date,
    *,
    rule: RegimeRule | None = None,
    top_n: int = 10,
) -> DailySummary:
    """
    Compute the daily summary of ``day`` (UTC) from events in log order.

    Parameters
    ----------
    events : Iterable[AuditEvent]
        Events in log order; earlier days are used for carried-in positions.
    day : date
        The UTC day to summarize.
    rule : RegimeRule, optional
        Regime thresholds (default :class:`RegimeRule`).
    top_n : int
        How many slippage outliers to keep.
    """
    rule = rule or RegimeRule()
    books: dict[str, _Book] = defaultdict(_Book)
    references: dict[str, Decimal] = {}
    quotes: dict[str, str] = {}  # intent id -> quote asset of its canonical key
    modes: Counter[str] = Counter()
    intents: set[str] = set()
    orders: set[str] = set()
    day_fills: list[tuple[FillEvent, Decimal]] = []
    gross: dict[str, Decimal] = defaultdict(Decimal)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    other_fees: dict[str, Decimal] = defaultdict(Decimal)
    observations: dict[tuple[str, int], list[tuple[int, Decimal]]] = defaultdict(list)
    risk_blocks: Counter[str] = Counter()
    slippage: list[SlippageRow] = []
    curve: list[tuple[int, Decimal]] = []
    running = Decimal(0)
    bucket_ns = rule.bucket_minutes * _NS_PER_MINUTE
    for event in events:
        event_day = utc_date_of(event.ts_event)
        if event_day > day:
            continue  # after the day: neither PnL nor positions at its end
        on_day = event_day == day
        if isinstance(event, IntentEvent):
            if event.reference_price is not None:
                references[event.id] = event.reference_price
            quote = quote_asset_of(event.asset)
            if quote is not None:
                quotes[event.id] = quote
        if isinstance(event, FillEvent):
            realized = books[event.asset].apply(event.side, event.qty, event.price)
            if not on_day:
                continue
            day_fills.append((event, realized))
            gross[event.asset] += realized
            quote = quotes.get(event.intent_id or "") or quote_asset_of(event.asset)
            in_quote = event.fee_currency is None or event.fee_currency == quote
            if in_quote:
                fees[event.asset] += event.fees
            else:
                assert event.fee_currency is not None
                other_fees[event.fee_currency] += event.fees
            running += realized - (event.fees if in_quote else 0)
            curve.append((event.ts_event, running))
            bucket = (event.asset, event.ts_event // bucket_ns)
            observations[bucket].append((event.ts_event, event.price))
            reference = references.get(event.intent_id or "")
            if reference is not None:
                bps = (event.price - reference) / reference * _BPS
                bps = bps if event.side is Side.BUY else -bps
                slippage.append(
                    SlippageRow(
                        event.id,
                        event.order_id,
                        event.asset,
                        event.venue,
                        event.side,
                        event.ts_event,
                        event.price,
                        reference,
                        bps.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN),
                    )
                )
        if not on_day:
            continue
        modes[str(event.mode)] += 1
        if isinstance(event, IntentEvent):
            intents.add(event.id)
            if event.reference_price is not None:
                bucket = (event.asset, event.ts_event // bucket_ns)
                observations[bucket].append((event.ts_event, event.reference_price))
        elif isinstance(event, OrderEvent):
            orders.add(event.id)
        elif isinstance(event, RiskEvent) and event.action in (RiskAction.BLOCK, RiskAction.HALT):
            risk_blocks[event.rule] += 1
    regimes = {
        key: classify_prices([p for _, p in sorted(points, key=lambda x: x[0])], rule)
        for key, points in observations.items()
    }
    by_regime: dict[Regime, list[Decimal]] = {r: [Decimal(0), Decimal(0), Decimal(0)] for r in Regime}
    for fill, realized in day_fills:
        row = by_regime[regimes[(fill.asset, fill.ts_event // bucket_ns)]]
        row[0] += 1
        row[1] += fill.qty * fill.price
        row[2] += realized
    pnl = [
        AssetPnl(asset, gross[asset], fees[asset], gross[asset] - fees[asset], books[asset].qty)
        for asset in sorted(set(gross) | set(fees))
    ]
    return DailySummary(
        day=day,
        modes=dict(modes),
        intents=len(intents),
        orders=len(orders),
        fills=len(day_fills),
        pnl=pnl,
        gross_pnl=sum((p.gross for p in pnl), Decimal(0)),
        net_pnl=sum((p.net for p in pnl), Decimal(0)),
        other_currency_fees=dict(other_fees),
        top_slippage=sorted(slippage, key=lambda s: s.slippage_bps, reverse=True)[:top_n],
        risk_blocks=dict(risk_blocks),
        regimes=[RegimeRow(r, int(v[0]), v[1], v[2]) for r, v in by_regime.items() if v[0] > 0],
        pnl_curve=curve,
    )


def chain_warning(root: str, storage_options: dict[str, Any] | None = None) -> str | None:
    """
    Verify the hash chain under ``root``; return a one-line warning if it does not verify.

    Reports are built from whatever the log holds, so a report on a broken chain (a deleted,
    altered or reordered record, or a torn final line) must say so: pass the warning to
    :func:`render_daily_html` and :func:`incident_report`, which show it first.

    Returns
    -------
    str or None
        None when every record verifies.
    """
    report = verify_log(root, storage_options)
    if report.broken is None:
        return None
    broken = report.broken
    return (
        f"the audit chain under {root} does not verify: {broken.kind} at {broken.path}:{broken.line} "
        f"(seq {broken.seq}): {broken.message}. Only the first {report.records} records are proven "
        "intact; figures below may be incomplete or wrong. Run `nautilus-ext audit verify` for details."
    )


def load_events(
    root: str, storage_options: dict[str, Any] | None = None, *, until_day: date | None = None
) -> list[AuditEvent]:
    """Read and validate every event under ``root`` (up to ``until_day``), in log order."""
    records = iter_records(root, storage_options, until_day=until_day)
    return [parse_event(record.event) for record in records]


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_daily_html(summary: DailySummary, *, chain_warning: str | None = None) -> str:
    """
    Render the summary as one self-contained HTML page (plotly.js inlined).

    A ``chain_warning`` (see :func:`chain_warning`) is shown as a banner above everything else.
    """
    figures = []
    curve = go.Figure(
        go.Scatter(
            x=[format_ns(ts) for ts, _ in summary.pnl_curve],
            y=[str(v) for _, v in summary.pnl_curve],
            mode="lines+markers",
        )
    )
    curve.update_layout(title="Cumulative realized net PnL (quote-currency fees)")
    figures.append(curve)
    regimes = go.Figure(
        go.Bar(
            x=[str(r.regime) for r in summary.regimes],
            y=[str(r.gross_pnl) for r in summary.regimes],
        )
    )
    regimes.update_layout(title="Realized gross PnL by regime")
    figures.append(regimes)
    slip = go.Figure(
        go.Bar(
            x=[s.fill_id for s in summary.top_slippage],
            y=[str(s.slippage_bps) for s in summary.top_slippage],
        )
    )
    slip.update_layout(title="Top slippage outliers (bps, positive = worse)")
    figures.append(slip)
    plots = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(index == 0)) for index, fig in enumerate(figures)
    )
    modes = ", ".join(f"{m} ({n})" for m, n in sorted(summary.modes.items())) or "none"
    other_fees = ", ".join(f"{v} {c}" for c, v in sorted(summary.other_currency_fees.items()))
    sections = [
        _warning_banner(chain_warning),
        f"<h1>Daily audit summary {summary.day.isoformat()} (UTC)</h1>",
        f"<p>Mode: {html.escape(modes)}</p>",
        _table(
            ["Intents", "Orders", "Fills", "Gross PnL", "Net PnL"],
            [[summary.intents, summary.orders, summary.fills, summary.gross_pnl, summary.net_pnl]],
        ),
        "<p>Realized PnL, average-cost method; totals assume a common quote currency."
        + (f" Fees in other currencies, not netted: {html.escape(other_fees)}." if other_fees else "")
        + "</p>",
        "<h2>PnL by asset</h2>",
        _table(
            ["Asset", "Gross", "Fees", "Net", "End position"],
            [[p.asset, p.gross, p.fees, p.net, p.end_position] for p in summary.pnl],
        ),
        "<h2>Top slippage outliers</h2>",
        _table(
            ["Fill", "Order", "Asset", "Venue", "Side", "Time", "Price", "Reference", "bps"],
            [
                [
                    s.fill_id,
                    s.order_id,
                    s.asset,
                    s.venue,
                    s.side,
                    format_ns(s.ts_event),
                    s.price,
                    s.reference_price,
                    s.slippage_bps,
                ]
                for s in summary.top_slippage
            ],
        ),
        "<h2>Risk blocks triggered</h2>",
        _table(["Rule", "Count"], [[k, v] for k, v in sorted(summary.risk_blocks.items())]),
        "<h2>Regime breakdown</h2>",
        _table(
            ["Regime", "Fills", "Notional", "Gross PnL"],
            [[r.regime, r.fills, r.notional, r.gross_pnl] for r in summary.regimes],
        ),
        plots,
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Audit summary {summary.day.isoformat()}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px}</style></head><body>"
        + "".join(sections)
        + "</body></html>"
    )


def _warning_banner(warning: str | None) -> str:
    if warning is None:
        return ""
    return (
        "<div role='alert' style='background:#b00020;color:#fff;padding:12px;font-size:1.2em'>"
        f"<strong>WARNING: AUDIT CHAIN DOES NOT VERIFY.</strong> {html.escape(warning)}</div>"
    )


_QUIET_SAFEGUARDS = frozenset({SafeguardKind.CLEAN, SafeguardKind.RECONCILE_OK, SafeguardKind.FEED_HEALTHY})
_BAD_STATUSES = frozenset({OrderStatus.REJECTED, OrderStatus.DENIED})


def _is_anomaly(event: AuditEvent) -> bool:
    if isinstance(event, SafeguardEvent):
        return event.kind not in _QUIET_SAFEGUARDS
    if isinstance(event, RiskEvent):
        return event.action is not RiskAction.ALLOW
    if isinstance(event, OrderEvent):
        return event.status in _BAD_STATUSES
    if isinstance(event, CommandEvent):
        return event.command in (CommandKind.KILL, CommandKind.DISARM)
    return False


def _describe(event: AuditEvent) -> str:
    if isinstance(event, SafeguardEvent):
        return f"SAFEGUARD {event.kind} asset={event.asset or '-'} venue={event.venue or '-'}"
    if isinstance(event, RiskEvent):
        return f"RISK {event.rule} {event.action} {event.reason_code or ''} on {event.subject_id}"
    if isinstance(event, OrderEvent):
        return f"ORDER {event.id} {event.status} at {event.venue}: {event.reason or ''}".rstrip(": ")
    if isinstance(event, CommandEvent):
        return (
            f"COMMAND {event.command} {event.outcome} by {event.actor} on {event.target}"
            f"{': ' + event.reason if event.reason else ''}"
        )
    return f"{event.event_type} {event.id}"


def incident_report(
    events: Iterable[AuditEvent], start_ns: int, end_ns: int, *, chain_warning: str | None = None
) -> str:
    """
    Return the incident report skeleton (section 13) for ``[start_ns, end_ns)``, as Markdown.

    Impact, the evidence timeline and mitigation commands are filled from the log; root cause
    and follow-up actions are left for the operator. A ``chain_warning`` (see
    :func:`chain_warning`) is shown first.

    Raises
    ------
    InvalidConfig
        If the window is empty or reversed.
    """
    if end_ns <= start_ns:
        raise InvalidConfig(f"incident window end {end_ns} must be after start {start_ns}")
    window = [e for e in events if start_ns <= e.ts_event < end_ns]
    anomalies = [e for e in window if _is_anomaly(e)]
    fills = [e for e in window if isinstance(e, FillEvent)]
    orders = {e.id for e in window if isinstance(e, OrderEvent)}
    rejected = {e.id for e in window if isinstance(e, OrderEvent) and e.status in _BAD_STATUSES}
    commands = [e for e in window if isinstance(e, CommandEvent)]
    modes = sorted({str(e.mode) for e in window})
    strategies = sorted({e.strategy_id for e in window})
    notional: dict[str, Decimal] = defaultdict(Decimal)
    for f in fills:
        notional[f.asset] += f.qty * f.price
    if anomalies:
        duration = (
            f"{format_ns(anomalies[0].ts_event)} to {format_ns(anomalies[-1].ts_event)} "
            f"({(anomalies[-1].ts_event - anomalies[0].ts_event) / 1e9:.3f} s between the first "
            "and last anomaly)"
        )
    else:
        duration = "no anomaly recorded in the window"
    lines = [
        "# Incident report (skeleton pre-filled from the audit log)",
        "",
        *([f"> **WARNING: AUDIT CHAIN DOES NOT VERIFY.** {chain_warning}", ""] if chain_warning else []),
        f"Date: {utc_date_of(start_ns).isoformat()} (UTC)",
        f"Window: {format_ns(start_ns)} to {format_ns(end_ns)}",
        f"Duration: {duration}",
        "Impact:",
        f"- Modes: {', '.join(modes) or 'none'}; strategies: {', '.join(strategies) or 'none'}",
        f"- Orders: {len(orders)} ({len(rejected)} rejected or denied); fills: {len(fills)}",
        *[f"- Filled notional {asset}: {value}" for asset, value in sorted(notional.items())],
        f"- Anomalies recorded: {len(anomalies)}",
        "Root cause: TO BE COMPLETED BY THE OPERATOR",
        "Evidence timeline:",
        *[f"- {format_ns(e.ts_event)} {_describe(e)}" for e in anomalies],
        "Mitigation:",
        *([f"- {format_ns(e.ts_event)} {_describe(e)}" for e in commands] or ["- none recorded"]),
        "Follow-up actions: TO BE COMPLETED BY THE OPERATOR",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "AssetPnl",
    "DailySummary",
    "Regime",
    "RegimeRow",
    "RegimeRule",
    "SlippageRow",
    "chain_warning",
    "classify_prices",
    "incident_report",
    "load_events",
    "render_daily_html",
    "summarize_day",
]
