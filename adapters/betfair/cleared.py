"""
Live settlement: Betfair's cleared orders (``listClearedOrders``) reconciled against our own.

After a market settles, Betfair reports each settled bet's ``profit`` (before commission) and,
grouped by market, the ``commission`` charged. :func:`reconcile_settlement` compares them with
:func:`~nautilus_ext.adapters.betfair.settlement.settle_market` over the bets we matched and the
market's closing definition, bet by bet and for the market, within a tolerance (Betfair rounds
to the penny). :func:`fetch_cleared` reads both reports through NautilusTrader's HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from nautilus_ext.adapters.betfair.settlement import MarketSettlement
from nautilus_ext.errors import VenueUnavailable

PENNY = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ClearedBet:
    """One settled bet as Betfair reports it (``ClearedOrderSummary``, grouped by bet)."""

    bet_id: str
    market_id: str
    selection_id: int
    side: str
    outcome: str
    price_matched: Decimal
    size_settled: Decimal
    profit: Decimal
    price_reduced: bool = False


@dataclass(frozen=True, slots=True)
class ClearedMarket:
    """One settled market as Betfair reports it (``ClearedOrderSummary``, grouped by market)."""

    market_id: str
    profit: Decimal
    commission: Decimal
    bet_count: int


@dataclass(frozen=True, slots=True)
class SettlementCheck:
    """
    Our settlement of a market against Betfair's.

    Attributes
    ----------
    market_id : str
        The market.
    ours, venue : Decimal
        Gross P&L (before commission): ours and Betfair's.
    our_commission, venue_commission : Decimal
        Commission: ours and Betfair's.
    differences : list[str]
        What disagrees beyond the tolerance (empty: reconciled).
    """

    market_id: str
    ours: Decimal
    venue: Decimal
    our_commission: Decimal
    venue_commission: Decimal
    differences: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        """Whether every figure agrees within the tolerance."""
        return not self.differences


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def cleared_bet(summary: Any) -> ClearedBet:
    """Return a :class:`ClearedBet` of a ``betfair_parser`` ``ClearedOrderSummary``."""
    return ClearedBet(
        bet_id=str(summary.bet_id),
        market_id=str(summary.market_id),
        selection_id=int(summary.selection_id),
        side=str(getattr(summary.side, "value", summary.side)),
        outcome=str(summary.bet_outcome or ""),
        price_matched=_dec(summary.price_matched),
        size_settled=_dec(summary.size_settled),
        profit=_dec(summary.profit),
        price_reduced=bool(summary.price_reduced),
    )


def cleared_market(summary: Any) -> ClearedMarket:
    """Return a :class:`ClearedMarket` of a market-grouped ``ClearedOrderSummary``."""
    return ClearedMarket(
        market_id=str(summary.market_id),
        profit=_dec(summary.profit),
        commission=_dec(summary.commission),
        bet_count=int(summary.bet_count or 0),
    )


async def fetch_cleared(client: Any, market_id: str) -> tuple[list[ClearedBet], ClearedMarket | None]:
    """
    Return Betfair's settled bets of ``market_id`` and its market summary (with commission).

    Raises
    ------
    VenueUnavailable
        If Betfair cannot be reached or answers with an error.
    """
    from betfair_parser.exceptions import BetfairError
    from betfair_parser.spec.betting.enums import BetStatus
    from betfair_parser.spec.betting.enums import GroupBy

    try:
        bets = await client.list_cleared_orders(bet_status=BetStatus.SETTLED, market_ids={market_id})
        grouped = await client.list_cleared_orders(
            bet_status=BetStatus.SETTLED, market_ids={market_id}, group_by=GroupBy.MARKET
        )
    except (BetfairError, OSError, RuntimeError) as e:
        raise VenueUnavailable(
            f"listClearedOrders for market {market_id} failed: {e}", venue="BETFAIR"
        ) from e
    market = next((cleared_market(g) for g in grouped if str(g.market_id) == market_id), None)
    return [cleared_bet(b) for b in bets], market


def reconcile_settlement(
    ours: MarketSettlement,
    venue_bets: list[ClearedBet],
    venue_market: ClearedMarket | None,
    tolerance: Decimal = PENNY,
) -> SettlementCheck:
    """
    Compare our settlement of a market with Betfair's cleared orders.

    Our bets are matched to Betfair's by ``bet_id`` (our :class:`MatchedBet` ``bet_id`` is the
    Betfair bet id for live bets; fragments of one bet are summed).
    """
    differences: list[str] = []
    our_by_bet: dict[str, Decimal] = {}
    for s in ours.bets:
        our_by_bet[s.bet.bet_id] = our_by_bet.get(s.bet.bet_id, Decimal(0)) + s.pnl
    venue_by_bet = {b.bet_id: b.profit for b in venue_bets if b.market_id == ours.market_id}
    for bet_id in sorted(set(our_by_bet) | set(venue_by_bet)):
        mine, theirs = our_by_bet.get(bet_id), venue_by_bet.get(bet_id)
        if mine is None:
            differences.append(f"bet {bet_id}: Betfair settled it ({theirs}), we have no such matched bet")
        elif theirs is None:
            differences.append(f"bet {bet_id}: we settled it ({mine}), Betfair reports no cleared order")
        elif abs(mine - theirs) > tolerance:
            differences.append(f"bet {bet_id}: our P&L {mine} != Betfair's {theirs}")
    venue_gross = sum(venue_by_bet.values(), Decimal(0))
    venue_commission = Decimal(0) if venue_market is None else venue_market.commission
    if abs(ours.gross_pnl - venue_gross) > tolerance:
        differences.append(
            f"market {ours.market_id}: our gross P&L {ours.gross_pnl} != Betfair's {venue_gross}"
        )
    if venue_market is None and venue_by_bet:
        differences.append(f"market {ours.market_id}: Betfair reports no market summary (commission unknown)")
    elif abs(ours.commission - venue_commission) > tolerance:
        differences.append(
            f"market {ours.market_id}: our commission {ours.commission} != Betfair's {venue_commission}"
        )
    return SettlementCheck(
        market_id=ours.market_id,
        ours=ours.gross_pnl,
        venue=venue_gross,
        our_commission=ours.commission,
        venue_commission=venue_commission,
        differences=differences,
    )


__all__ = [
    "ClearedBet",
    "ClearedMarket",
    "SettlementCheck",
    "cleared_bet",
    "cleared_market",
    "fetch_cleared",
    "reconcile_settlement",
]
