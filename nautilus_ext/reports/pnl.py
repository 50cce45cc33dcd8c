"""
The PnL breakdown of a backtest report: trading PnL, fees and funding PnL, kept apart.

Trading PnL is NautilusTrader's realised PnL of the positions (it nets the commissions of the
fills in the settlement currency); fees are the run's commissions by currency; funding PnL is the
sum of the funding payments settled on open perpetual positions
(:mod:`nautilus_ext.backtest.funding`, which books them as :class:`FundingPayment` records defined
here so reports need nothing above them). Numbers are exact decimals; nothing is converted.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """
    One settled payment on one position (positive = received, negative = paid).

    ``size`` is the signed position size (long > 0) in instrument units at settlement.
    """

    instrument_id: str
    position_id: str
    ts_ns: int
    size: Decimal
    mark: Decimal
    rate: Decimal
    amount: Decimal
    currency: str

    def to_json(self) -> str:
        """Return the payment as one JSON line (decimals as strings)."""
        return json.dumps({k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, line: str) -> FundingPayment:
        """Parse a line written by :meth:`to_json`."""
        raw = json.loads(line)
        return cls(
            instrument_id=raw["instrument_id"],
            position_id=raw["position_id"],
            ts_ns=int(raw["ts_ns"]),
            size=Decimal(raw["size"]),
            mark=Decimal(raw["mark"]),
            rate=Decimal(raw["rate"]),
            amount=Decimal(raw["amount"]),
            currency=raw["currency"],
        )


def funding_totals(payments: Iterable[FundingPayment]) -> dict[str, Decimal]:
    """Return the net funding PnL per currency (positive = received)."""
    totals: dict[str, Decimal] = {}
    for p in payments:
        totals[p.currency] = totals.get(p.currency, Decimal(0)) + p.amount
    return totals


def realised_trading_pnl(positions_report: Any) -> dict[str, Decimal]:
    """Return the positions' realised PnL by currency from a Nautilus positions report."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    if positions_report is None or len(positions_report) == 0 or "realized_pnl" not in positions_report:
        return {}
    for text in positions_report["realized_pnl"].astype(str):
        amount, _, currency = text.strip().partition(" ")
        try:
            totals[currency or "?"] += Decimal(amount.replace(",", ""))
        except InvalidOperation:
            continue  # "None" for a position without a realised PnL yet
    return dict(totals)


def pnl_breakdown(
    positions_report: Any, fees: dict[str, Decimal], payments: list[FundingPayment]
) -> list[dict[str, str]]:
    """Return one row per currency: trading PnL (realised, after fees), fees, funding PnL."""
    trading = realised_trading_pnl(positions_report)
    funding = funding_totals(payments)
    rows = []
    for ccy in sorted(set(trading) | set(fees) | set(funding)):
        rows.append(
            {
                "currency": ccy,
                "trading PnL (realised, after fees)": str(trading.get(ccy, Decimal(0))),
                "fees paid": str(fees.get(ccy, Decimal(0))),
                "funding PnL": str(funding.get(ccy, Decimal(0))),
            }
        )
    return rows


def pnl_section(positions_report: Any, fees: dict[str, Decimal], payments: list[FundingPayment]) -> list[str]:
    """Return the HTML of the PnL breakdown and the funding payments table."""

    def table(rows: list[dict[str, str]]) -> str:
        if not rows:
            return "<p>none</p>"
        cols = list(rows[0])
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in cols) + "</tr>" for r in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    payment_rows = [
        {
            "time (UTC)": datetime.fromtimestamp(p.ts_ns / 1e9, tz=UTC).isoformat(),
            "instrument": p.instrument_id,
            "position": p.position_id,
            "size": str(p.size),
            "mark": str(p.mark),
            "rate": str(p.rate),
            "payment": f"{p.amount} {p.currency}",
        }
        for p in payments
    ]
    return [
        "<h2 id='pnl'>PnL: trading, fees, funding</h2>",
        table(pnl_breakdown(positions_report, fees, payments)),
        f"<h2 id='funding'>Funding payments ({len(payments)})</h2>",
        table(payment_rows),
    ]


__all__ = ["FundingPayment", "funding_totals", "pnl_breakdown", "pnl_section", "realised_trading_pnl"]
