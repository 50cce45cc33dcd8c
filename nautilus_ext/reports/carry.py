"""
The carry report: where each two-legged position's money came from, as one Plotly HTML page.

Built only from the store (:class:`~nautilus_ext.persistence.records.PositionRecords`), so the
funding carry and the perp/perp spread strategies feed it alike, in BACKTEST, DRY_RUN, LIVE and
REPLAY. Per position, in its quote currency (exact ``Decimal``, rounded half-even to the
currency's precision as NautilusTrader's ``Money`` is):

- **funding PnL**: the sum of the funding payments recorded for it (received > 0);
- **trading PnL**: what its fills made, gross of fees: sells minus buys (``quantity x price x
  multiplier``), a leg still open valued at its latest monitor mark;
- **fees**: the fills' commissions (paid > 0);
- **slippage**: the fills' cost against the arrival mid (``(price - mid) x quantity x multiplier``
  for a buy, the opposite for a sell; cost > 0). It is *inside* trading PnL, shown apart;
- **net** = funding + trading - fees.

Figures: the attribution per position; the divergence the strategy trades over time with each
position's entry and exit; the leg imbalance (long plus short quantity, signed) at every fill time;
the margin ratio per venue with the warning and urgent thresholds of seed 003. The exact numbers
are embedded as JSON (``<script id='carry-data'>``).
"""

from __future__ import annotations

import html
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import plotly.graph_objects as go

from nautilus_ext.persistence.models import PositionFill
from nautilus_ext.persistence.models import PositionMark
from nautilus_ext.persistence.records import PositionHistory
from nautilus_ext.persistence.types import datetime_to_ns
from nautilus_ext.reports import display

_ZERO: Final = Decimal(0)
HOURS_PER_YEAR: Final = Decimal(24 * 365)
"""Divergence per hour times this is the APR the figures show (the funding finder's convention)."""
MARGIN_WARNING: Final = Decimal("0.20")
"""Seed 003's margin-ratio warning threshold (equity over notional)."""
MARGIN_URGENT: Final = Decimal("0.15")
"""Seed 003's urgent threshold."""


def currency_places(code: str) -> int:
    """Return the decimal places of ``code`` as NautilusTrader's ``Currency`` knows them (else 8)."""
    try:
        from nautilus_trader.model.objects import Currency

        return int(Currency.from_str(code).precision)
    except (ValueError, KeyError, TypeError):
        return display.DEFAULT_PLACES


def round_money(value: Decimal, currency: str) -> Decimal:
    """Return ``value`` rounded half-even to ``currency``'s precision."""
    return value.quantize(Decimal(1).scaleb(-currency_places(currency)), rounding=ROUND_HALF_EVEN)


def fill_cash(fill: PositionFill) -> Decimal:
    """Return a fill's cash flow in the quote currency, before fees (sell > 0, buy < 0)."""
    notional = fill.quantity * fill.price * fill.multiplier
    return notional if fill.side == "SELL" else -notional


def fill_slippage(fill: PositionFill) -> Decimal | None:
    """Return a fill's cost against its arrival mid (cost > 0), or None without a mid."""
    if fill.reference_price is None:
        return None
    diff = (fill.price - fill.reference_price) * fill.quantity * fill.multiplier
    return diff if fill.side == "BUY" else -diff


def _signed(fill: PositionFill) -> Decimal:
    return fill.quantity if fill.side == "BUY" else -fill.quantity


@dataclass(frozen=True, slots=True)
class PositionAttribution:
    """
    One position's carry attribution (money in ``currency``, rounded to its precision).

    ``open_long``/``open_short`` are the legs' signed quantities left after every fill;
    ``unmarked`` names the legs still open that had no price to value them at (valued at zero).
    """

    position_id: uuid.UUID
    strategy_name: str
    symbol: str
    long_venue: str
    short_venue: str
    status: str
    exit_reason: str | None
    opened_at: datetime
    closed_at: datetime | None
    currency: str
    funding: Decimal
    trading: Decimal
    fees: Decimal
    slippage: Decimal
    fills: int
    funding_payments: int
    open_long: Decimal = _ZERO
    open_short: Decimal = _ZERO
    unmarked: tuple[str, ...] = ()

    @property
    def net(self) -> Decimal:
        """Return funding + trading - fees."""
        return self.funding + self.trading - self.fees

    def as_row(self) -> dict[str, str]:
        """Return the position as an exact JSON-friendly row."""
        return {
            "position_id": str(self.position_id),
            "strategy": self.strategy_name,
            "symbol": self.symbol,
            "long_venue": self.long_venue,
            "short_venue": self.short_venue,
            "status": self.status,
            "exit_reason": self.exit_reason or "",
            "opened_at": self.opened_at.isoformat(),
            "closed_at": "" if self.closed_at is None else self.closed_at.isoformat(),
            "currency": self.currency,
            "funding": format(self.funding, "f"),
            "trading": format(self.trading, "f"),
            "fees": format(self.fees, "f"),
            "slippage": format(self.slippage, "f"),
            "net": format(self.net, "f"),
            "fills": str(self.fills),
            "funding_payments": str(self.funding_payments),
            "open_long": format(self.open_long, "f"),
            "open_short": format(self.open_short, "f"),
            "unmarked": ",".join(self.unmarked),
        }


@dataclass(frozen=True, slots=True)
class CarrySummary:
    """The totals of a set of positions in one currency."""

    currency: str
    positions: int
    funding: Decimal
    trading: Decimal
    fees: Decimal
    slippage: Decimal

    @property
    def net(self) -> Decimal:
        """Return funding + trading - fees."""
        return self.funding + self.trading - self.fees

    def as_row(self) -> dict[str, str]:
        """Return the totals as an exact JSON-friendly row."""
        return {
            "currency": self.currency,
            "positions": str(self.positions),
            "funding": format(self.funding, "f"),
            "trading": format(self.trading, "f"),
            "fees": format(self.fees, "f"),
            "slippage": format(self.slippage, "f"),
            "net": format(self.net, "f"),
        }


def attribute(history: PositionHistory) -> list[PositionAttribution]:
    """Return the carry attribution of every position of ``history`` (in its order)."""
    fills: dict[uuid.UUID, list[PositionFill]] = defaultdict(list)
    for f in history.fills:
        fills[f.position_id].append(f)
    marks: dict[uuid.UUID, list[PositionMark]] = defaultdict(list)
    for m in history.marks:
        marks[m.position_id].append(m)
    funding: dict[uuid.UUID, list[Decimal]] = defaultdict(list)
    funding_ccy: dict[uuid.UUID, str] = {}
    for p in history.funding:
        if p.position_id is not None:
            funding[p.position_id].append(p.payment_amount)
            funding_ccy.setdefault(p.position_id, p.currency)
    out = []
    for position in history.positions:
        own = fills.get(position.id, [])
        currency = own[0].quote_currency if own else funding_ccy.get(position.id, "USDT")
        trading = sum((fill_cash(f) for f in own), _ZERO)
        fees = sum((f.fee for f in own if f.fee_currency == currency), _ZERO)
        slippage = sum((s for f in own if (s := fill_slippage(f)) is not None), _ZERO)
        open_qty = {"LONG": _ZERO, "SHORT": _ZERO}
        multiplier = {"LONG": Decimal(1), "SHORT": Decimal(1)}
        for f in own:
            open_qty[f.leg] = open_qty.get(f.leg, _ZERO) + _signed(f)
            multiplier[f.leg] = f.multiplier
        unmarked = []
        last = marks[position.id][-1] if marks.get(position.id) else None
        for leg, qty in open_qty.items():
            if qty == 0:
                continue
            price = None if last is None else (last.long_price if leg == "LONG" else last.short_price)
            if price is None:
                unmarked.append(leg)
                continue
            trading += qty * price * multiplier[leg]  # what closing at the mark would bring
        out.append(
            PositionAttribution(
                position_id=position.id,
                strategy_name=position.strategy_name,
                symbol=position.symbol,
                long_venue=position.long_venue,
                short_venue=position.short_venue,
                status=position.status,
                exit_reason=position.exit_reason,
                opened_at=position.opened_at,
                closed_at=position.closed_at,
                currency=currency,
                funding=round_money(sum(funding.get(position.id, []), _ZERO), currency),
                trading=round_money(trading, currency),
                fees=round_money(fees, currency),
                slippage=round_money(slippage, currency),
                fills=len(own),
                funding_payments=len(funding.get(position.id, [])),
                open_long=open_qty["LONG"],
                open_short=open_qty["SHORT"],
                unmarked=tuple(unmarked),
            )
        )
    return out


def summarise(attributions: Iterable[PositionAttribution]) -> list[CarrySummary]:
    """Return the totals per currency (sums of the rounded per-position figures)."""
    by_ccy: dict[str, list[PositionAttribution]] = defaultdict(list)
    for a in attributions:
        by_ccy[a.currency].append(a)
    return [
        CarrySummary(
            currency=ccy,
            positions=len(items),
            funding=sum((a.funding for a in items), _ZERO),
            trading=sum((a.trading for a in items), _ZERO),
            fees=sum((a.fees for a in items), _ZERO),
            slippage=sum((a.slippage for a in items), _ZERO),
        )
        for ccy, items in sorted(by_ccy.items())
    ]


def leg_imbalance(fills: Sequence[PositionFill]) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """
    Return ``(ts_ns, long, short, imbalance)`` at every fill time of one position (oldest first).

    ``long``/``short`` are the legs' signed quantities after every fill at that time (fills of
    both legs at one instant count together); the imbalance is their sum (zero when the legs
    hedge each other; > 0 means net long).
    """
    long_qty = short_qty = _ZERO
    out: list[tuple[int, Decimal, Decimal, Decimal]] = []
    for f in sorted(fills, key=lambda f: (f.ts, f.trade_id)):
        if f.leg == "LONG":
            long_qty += _signed(f)
        else:
            short_qty += _signed(f)
        step = (datetime_to_ns(f.ts), long_qty, short_qty, long_qty + short_qty)
        if out and out[-1][0] == step[0]:
            out[-1] = step
        else:
            out.append(step)
    return out


# -- HTML ------------------------------------------------------------------------------------


def _f(value: Decimal | None) -> float | None:
    # plotting only: figures need floats; tables and the embedded JSON keep exact decimals
    return None if value is None else float(value)


def _ts(values: Sequence[datetime]) -> Any:
    import numpy as np

    return np.array([datetime_to_ns(v) for v in values], dtype="datetime64[ns]")


def _label(a: PositionAttribution) -> str:
    return f"{str(a.position_id)[:8]} {a.symbol} L:{a.long_venue}/S:{a.short_venue}"


def _attribution_figure(rows: list[PositionAttribution]) -> go.Figure:
    fig = go.Figure()
    x = [_label(a) for a in rows]
    for name, values in (
        ("funding PnL", [a.funding for a in rows]),
        ("trading PnL", [a.trading for a in rows]),
        ("fees", [-a.fees for a in rows]),
    ):
        fig.add_trace(go.Bar(x=x, y=[_f(v) for v in values], name=name))
    fig.add_trace(
        go.Scatter(x=x, y=[_f(a.net) for a in rows], mode="markers", marker={"size": 12}, name="net")
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=[_f(-a.slippage) for a in rows], mode="markers", marker={"symbol": "x"}, name="-slippage"
        )
    )
    ccy = ", ".join(sorted({a.currency for a in rows})) or "quote currency"
    fig.update_layout(
        title=f"Carry attribution per position ({ccy}; fees negative; slippage is inside trading PnL)",
        barmode="relative",
        yaxis_title=ccy,
    )
    return fig


def _divergence_figure(history: PositionHistory, rows: list[PositionAttribution]) -> go.Figure:
    fig = go.Figure()
    by_id = {a.position_id: a for a in rows}
    marks: dict[uuid.UUID, list[PositionMark]] = defaultdict(list)
    for m in history.marks:
        marks[m.position_id].append(m)
    for position in history.positions:
        own = [m for m in marks.get(position.id, []) if m.divergence is not None]
        name = _label(by_id[position.id])
        if own:
            fig.add_trace(
                go.Scatter(
                    x=_ts([m.ts for m in own]),
                    y=[_f(_apr(m.divergence)) for m in own],
                    mode="lines",
                    name=name,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=_ts([position.opened_at]),
                y=[_f(_apr(position.entry_divergence))],
                mode="markers",
                marker={"symbol": "triangle-up", "size": 12, "color": "green"},
                name=f"entry {str(position.id)[:8]}",
            )
        )
        if position.closed_at is not None:
            before = [m for m in own if m.ts <= position.closed_at]
            exit_value = before[-1].divergence if before else position.current_divergence
            fig.add_trace(
                go.Scatter(
                    x=_ts([position.closed_at]),
                    y=[_f(_apr(exit_value))],
                    mode="markers",
                    marker={"symbol": "triangle-down", "size": 12, "color": "red"},
                    name=f"exit {str(position.id)[:8]} ({position.exit_reason or 'closed'})",
                )
            )
    fig.add_hline(y=0, line_dash="dot")
    fig.update_layout(
        title="Divergence (short minus long funding, APR) with entry and exit points",
        xaxis_title="time",
        yaxis_title="APR",
    )
    return fig


def _apr(per_hour: Decimal | None) -> Decimal | None:
    return None if per_hour is None else per_hour * HOURS_PER_YEAR


def _imbalance_figure(history: PositionHistory, rows: list[PositionAttribution]) -> go.Figure:
    fig = go.Figure()
    by_position: dict[uuid.UUID, list[PositionFill]] = defaultdict(list)
    for f in history.fills:
        by_position[f.position_id].append(f)
    for a in rows:
        steps = leg_imbalance(by_position.get(a.position_id, []))
        if not steps:
            continue
        fig.add_trace(
            go.Scatter(
                x=_np_ns([s[0] for s in steps]),
                y=[_f(s[3]) for s in steps],
                mode="lines+markers",
                line={"shape": "hv"},
                name=_label(a),
                text=[f"long {s[1]} / short {s[2]}" for s in steps],
            )
        )
    fig.update_layout(
        title="Leg imbalance at every fill time (long + short quantity, base units; 0 = hedged)",
        xaxis_title="time",
        yaxis_title="base units",
    )
    return fig


def _np_ns(values: Sequence[int]) -> Any:
    import numpy as np

    return np.array(values, dtype="datetime64[ns]")


def _margin_figure(history: PositionHistory, warning: Decimal, urgent: Decimal) -> go.Figure:
    fig = go.Figure()
    by_venue: dict[str, list[Any]] = defaultdict(list)
    for m in history.margins:
        if m.margin_ratio is not None:
            by_venue[m.venue].append(m)
    for venue, items in sorted(by_venue.items()):
        fig.add_trace(
            go.Scatter(
                x=_ts([m.ts for m in items]),
                y=[_f(m.margin_ratio) for m in items],
                mode="lines",
                name=venue,
                text=[f"equity {m.equity} / notional {m.notional} {m.currency}" for m in items],
            )
        )
    fig.add_hline(y=float(warning), line_dash="dash", line_color="orange", annotation_text="warning")
    fig.add_hline(y=float(urgent), line_dash="dash", line_color="red", annotation_text="urgent")
    fig.update_layout(
        title="Margin ratio per venue (equity / gross notional of open positions)",
        xaxis_title="time",
        yaxis_title="ratio",
    )
    return fig


_CSS = """
body { font-family: -apple-system, Segoe UI, Roboto, sans-serif; margin: 2em; color: #222; }
.meta { color: #666; margin-bottom: 1.5em; }
table { border-collapse: collapse; font-size: 12px; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
"""

SUMMARY_COLUMNS: Final = ["currency", "positions", "funding", "trading", "fees", "slippage", "net"]
POSITION_COLUMNS: Final = [
    "position_id",
    "strategy",
    "symbol",
    "long_venue",
    "short_venue",
    "status",
    "exit_reason",
    "opened_at",
    "closed_at",
    "fills",
    "funding_payments",
    "funding",
    "trading",
    "fees",
    "slippage",
    "net",
    "currency",
    "unmarked",
]
_MONEY = ("funding", "trading", "fees", "slippage", "net")


def _table(rows: list[dict[str, str]], columns: Sequence[str], table_id: str) -> str:
    def shown(row: dict[str, str], column: str) -> str:
        value = row.get(column, "")
        if column in _MONEY:
            return display.money(value, row.get("currency"))
        return value

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(shown(r, c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True, slots=True)
class CarryReport:
    """What :func:`write_carry_report` wrote: the file and the numbers in it."""

    path: Path
    positions: list[PositionAttribution] = field(default_factory=list)
    summary: list[CarrySummary] = field(default_factory=list)


def write_carry_report(
    path: str | Path,
    history: PositionHistory,
    *,
    title: str = "Carry report",
    meta: dict[str, str] | None = None,
    margin_warning: Decimal = MARGIN_WARNING,
    margin_urgent: Decimal = MARGIN_URGENT,
) -> CarryReport:
    """
    Write the self-contained carry report of ``history`` to ``path`` and return its numbers.

    Parameters
    ----------
    path : str or Path
        Output HTML file (parent folders are created).
    history : PositionHistory
        The positions and their records (:meth:`PositionRecords.history`).
    title : str
        Report title.
    meta : dict, optional
        Facts shown under the title (store, strategies, span).
    margin_warning, margin_urgent : Decimal
        Margin-ratio thresholds drawn on the margin figure (seed 003: 0.20 and 0.15).
    """
    rows = attribute(history)
    summary = summarise(rows)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "summary": [s.as_row() for s in summary],
        "positions": [a.as_row() for a in rows],
    }
    figures = [
        _attribution_figure(rows),
        _divergence_figure(history, rows),
        _imbalance_figure(history, rows),
        _margin_figure(history, margin_warning, margin_urgent),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<div class='meta'>"
        + " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in (meta or {}).items())
        + "</div>",
        "<p class='meta'>Money in the positions' quote currency, rounded to its precision. "
        "Trading PnL: sells minus buys at the fill prices, gross of fees, an open leg valued at "
        "its latest mark; slippage: cost of the fills against the arrival mid (already inside "
        "trading PnL); net = funding + trading - fees.</p>",
        "<h2 id='summary'>Summary</h2>",
        _table([s.as_row() for s in summary], SUMMARY_COLUMNS, "carry-summary"),
        "<h2 id='positions'>Positions</h2>",
        _table([a.as_row() for a in rows], POSITION_COLUMNS, "carry-positions"),
    ]
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    parts += [f"<script type='application/json' id='carry-data'>{payload}</script>", "</body></html>"]
    out.write_text("\n".join(parts), encoding="utf-8")
    return CarryReport(out, rows, summary)


__all__ = [
    "MARGIN_URGENT",
    "MARGIN_WARNING",
    "CarryReport",
    "CarrySummary",
    "PositionAttribution",
    "attribute",
    "currency_places",
    "fill_cash",
    "fill_slippage",
    "leg_imbalance",
    "round_money",
    "summarise",
    "write_carry_report",
]
