"""
Settle the Betfair markets a backtest traded, from the catalog's market definitions.

A market settles when its ``CLOSED`` definition (runner results ``WINNER``/``LOSER``/``REMOVED``/
``PLACED``) was published within the run's span; the settlement rules are Betfair's
(:mod:`nautilus_ext.adapters.betfair.settlement`). Every matched fill of a bet order is a
matched bet: its odds the fill price, its stake the fill quantity, its time the fill time (which
decides whether a later non-runner's reduction factor applies). Markets still open at the end of
the run are reported as open, with their matched stakes and no P&L.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.adapters.betfair.markets import parse_betting_instrument_id
from nautilus_ext.adapters.betfair.settlement import BetSide
from nautilus_ext.adapters.betfair.settlement import CommissionSpec
from nautilus_ext.adapters.betfair.settlement import MatchedBet
from nautilus_ext.adapters.betfair.settlement import settle_market
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.reports.betting import MarketPnL
from nautilus_ext.reports.betting import SelectionPnL


def matched_bets(results: list[ExecutionResult]) -> dict[str, tuple[str, list[MatchedBet]]]:
    """Return market id -> (canonical market key, matched bets) from a run's bet results."""
    out: dict[str, tuple[str, list[MatchedBet]]] = {}
    for r in results:
        if r.side not in ("BACK", "LAY"):
            continue
        for f in r.fills:
            iid = f.instrument_id or r.nautilus_instrument_id
            if iid is None:
                continue
            try:
                market_id, selection_id, _ = parse_betting_instrument_id(iid)
            except InvalidInstrumentKey:
                continue
            bets = out.setdefault(market_id, (r.instrument_key, []))[1]
            bets.append(
                MatchedBet(
                    selection_id=selection_id,
                    side=BetSide(r.side),
                    odds=f.price,
                    stake=f.quantity,
                    matched_at=datetime.fromtimestamp(f.ts_ns / 1e9, tz=UTC),
                    bet_id=f"{r.operation_id}/{f.trade_id}",
                )
            )
    return out


def settle_run(
    results: list[ExecutionResult],
    markets: dict[str, tuple[BetfairMarket, int]],
    end_ns: int,
    commission: CommissionSpec,
    currency: str,
) -> list[MarketPnL]:
    """
    Settle every market with matched bets in ``results``.

    Parameters
    ----------
    results : list[ExecutionResult]
        The run's results (non-bet results are ignored).
    markets : dict[str, tuple[BetfairMarket, int]]
        Market id -> (latest definition, its publish time in UNIX ns).
    end_ns : int
        The run's end: a market closing later stays open.
    commission : CommissionSpec
        Rate (default: each market's base rate) and discount.
    currency : str
        Account currency (for display).
    """
    out: list[MarketPnL] = []
    for market_id, (key, bets) in sorted(matched_bets(results).items()):
        market, ts = markets.get(market_id, (None, None))
        stakes: dict[tuple[int, BetSide], Decimal] = defaultdict(Decimal)
        for b in bets:
            stakes[(b.selection_id, b.side)] += b.stake
        traded = sorted({b.selection_id for b in bets})
        settled = market is not None and market.settled and ts is not None and ts <= end_ns
        if market is not None and settled:
            s = settle_market(market, bets, commission)
            gross, charged, net, rate = s.gross_pnl, s.commission, s.net_pnl, s.commission_rate
            pnl = s.by_selection
        else:
            gross = charged = net = rate = Decimal(0)
            pnl = {}
        runners = {r.selection_id: r for r in (market.runners if market is not None else ())}
        selections = []
        for sid in traded:
            runner = runners.get(sid)
            selections.append(
                SelectionPnL(
                    selection=str(sid) if market is None or runner is None else market.selection_of(runner),
                    selection_id=sid,
                    runner_name=(runner.name if runner is not None else None) or "",
                    result=runner.status if runner is not None and settled else "OPEN",
                    back_stake=stakes[(sid, BetSide.BACK)],
                    lay_stake=stakes[(sid, BetSide.LAY)],
                    pnl=pnl.get(sid, Decimal(0)),
                )
            )
        out.append(
            MarketPnL(
                market_id=market_id,
                instrument_key=key,
                settled=settled,
                ts_settled_ns=ts if settled else None,
                gross_pnl=gross,
                commission=charged,
                net_pnl=net,
                commission_rate=rate,
                currency=currency,
                selections=selections,
            )
        )
    return out


def settle_backtest(
    results: list[ExecutionResult], catalog: str, end_ns: int, commission: CommissionSpec, currency: str
) -> list[MarketPnL]:
    """
    Settle a backtest's bets against the market definitions of its (local) catalog.

    Raises
    ------
    InvalidData
        If the catalog's market sidecar is corrupt.
    """
    if not any(r.side in ("BACK", "LAY") and r.fills for r in results):
        return []
    from nautilus_ext.catalogs.betfair import read_market_entries
    from nautilus_ext.catalogs.target import parse_target

    entries = read_market_entries(parse_target(catalog))
    markets = {
        market_id: (
            BetfairMarket.from_definition(
                market_id, e["definition"], {int(k): v for k, v in e.get("names", {}).items()}
            ),
            int(e["ts"]),
        )
        for market_id, e in entries.items()
    }
    return settle_run(results, markets, end_ns, commission, currency)


__all__ = ["matched_bets", "settle_backtest", "settle_run"]
