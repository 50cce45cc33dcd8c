"""
Betting P&L of a run: per market and per selection, as settled (report section and store rows).

The figures come from :mod:`nautilus_ext.backtest.betting` (a backtest) or the live settlement
reconciliation; this module only holds them and renders them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class SelectionPnL:
    """
    One runner's part of a market's settlement.

    Attributes
    ----------
    selection : str
        Canonical selection (``HOME``, ``OVER``, a runner name...).
    selection_id : int
        Betfair's selection id.
    runner_name : str
        The runner's name (empty if the data has none).
    result : str
        The runner's settled status (``WINNER``, ``LOSER``, ``REMOVED``, ``PLACED``), or the
        market's status while it is open.
    back_stake, lay_stake : Decimal
        Matched stakes.
    pnl : Decimal
        Gross P&L of the runner's bets (before commission, charged per market).
    """

    selection: str
    selection_id: int
    runner_name: str
    result: str
    back_stake: Decimal
    lay_stake: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class MarketPnL:
    """
    One market's settlement (or open exposure when it did not settle within the run).

    Attributes
    ----------
    market_id : str
        Betfair market id.
    instrument_key : str
        The canonical market key the orders named.
    settled : bool
        Whether the market closed (with results) within the run.
    ts_settled_ns : int, optional
        When the market's closing definition was published (UNIX ns).
    gross_pnl, commission, net_pnl : Decimal
        The settlement (zero while open).
    commission_rate : Decimal
        Fraction charged on positive net winnings.
    currency : str
        Account currency.
    selections : list[SelectionPnL]
        Per runner traded.
    """

    market_id: str
    instrument_key: str
    settled: bool
    ts_settled_ns: int | None
    gross_pnl: Decimal
    commission: Decimal
    net_pnl: Decimal
    commission_rate: Decimal
    currency: str
    selections: list[SelectionPnL] = field(default_factory=list)


def realised_betting_pnl(markets: list[MarketPnL]) -> Decimal:
    """Return the realised P&L: the sum of the settled markets' net P&L."""
    return sum((m.net_pnl for m in markets if m.settled), Decimal(0))


def _money(v: Decimal) -> str:
    return f"{v.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"  # display only: sums stay exact


def betting_rows(markets: list[MarketPnL], run_id: str) -> list[dict[str, Any]]:
    """Return one row per market and per selection (the ``betting_pnl`` store cluster)."""
    rows: list[dict[str, Any]] = []
    for m in markets:
        ts = datetime.fromtimestamp((m.ts_settled_ns or 0) / 1e9, tz=UTC)
        base = {
            "run_id": run_id,
            "ts_settled": ts,
            "market_id": m.market_id,
            "instrument_key": m.instrument_key,
            "settled": m.settled,
            "currency": m.currency,
        }
        rows.append(
            {
                **base,
                "level": "MARKET",
                "selection": None,
                "selection_id": None,
                "runner_name": None,
                "result": "SETTLED" if m.settled else "OPEN",
                "back_stake": str(sum((s.back_stake for s in m.selections), Decimal(0))),
                "lay_stake": str(sum((s.lay_stake for s in m.selections), Decimal(0))),
                "gross_pnl": str(m.gross_pnl),
                "commission": str(m.commission),
                "net_pnl": str(m.net_pnl),
            }
        )
        for s in m.selections:
            rows.append(
                {
                    **base,
                    "level": "SELECTION",
                    "selection": s.selection,
                    "selection_id": s.selection_id,
                    "runner_name": s.runner_name,
                    "result": s.result,
                    "back_stake": str(s.back_stake),
                    "lay_stake": str(s.lay_stake),
                    "gross_pnl": str(s.pnl),
                    "commission": None,
                    "net_pnl": None,
                }
            )
    return rows


def betting_section(markets: list[MarketPnL]) -> list[str]:
    """Return the HTML of the betting P&L section (nothing when the run placed no bets)."""
    if not markets:
        return []
    head = ["market", "key", "status", "gross", "commission", "net"]
    market_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(v)}</td>"
            for v in (
                m.market_id,
                m.instrument_key,
                "SETTLED" if m.settled else "OPEN",
                f"{_money(m.gross_pnl)} {m.currency}",
                f"{_money(m.commission)} ({(m.commission_rate * 100).normalize()}%)",
                f"{_money(m.net_pnl)} {m.currency}",
            )
        )
        + "</tr>"
        for m in markets
    )
    sel_head = ["market", "selection", "runner", "result", "back stake", "lay stake", "P&L"]
    sel_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(v)}</td>"
            for v in (
                m.market_id,
                s.selection,
                s.runner_name,
                s.result,
                _money(s.back_stake),
                _money(s.lay_stake),
                _money(s.pnl),
            )
        )
        + "</tr>"
        for m in markets
        for s in m.selections
    )
    total = realised_betting_pnl(markets)
    currency = markets[0].currency
    return [
        "<h2 id='betting'>Betting P&amp;L by market</h2>",
        f"<p>realised (sum of settlements): <b>{_money(total)} {html.escape(currency)}</b></p>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{market_rows}</table>",
        "<h2 id='betting-selections'>Betting P&amp;L by selection</h2>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in sel_head) + f"</tr>{sel_rows}</table>",
    ]


__all__ = ["MarketPnL", "SelectionPnL", "betting_rows", "betting_section", "realised_betting_pnl"]
