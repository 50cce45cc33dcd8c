"""
Betfair settlement, in the bettor's terms: pure functions over matched bets and a closed market.

Rules (Betfair Exchange, "Rules & Regulations", Part B, and the commission page):

- A BACK on a winner wins ``stake * (odds - 1)``; on a loser it loses the stake.
- A LAY is the other side: it pays ``stake * (odds - 1)`` when the runner wins and wins the
  stake when it loses.
- ``PLACED`` (place markets) settles as a winner.
- Bets on a ``REMOVED`` runner (a non-runner) are void: stake returned, no profit or loss.
- A removed runner's **reduction factor** (``adjustmentFactor``, percent) reduces the odds of
  bets on the other runners matched before its removal: ``odds * (1 - factor / 100)``, applied
  once per such removal (never below 1.0). Bets matched after the removal are not reduced.
- **Dead heat**: when more runners win than the market has places (``numberOfWinners``), the
  stake on each tied winner is divided by ``winners / places`` (a dead heat of two in a
  one-winner market settles half the stake at full odds and loses the other half for a BACK;
  the reverse for a LAY).
- **Commission** is charged on the account's net winnings per market, only when positive:
  ``net * rate * (1 - discount)``. The rate defaults to the market's base rate
  (``marketBaseRate``, percent); the discount applies only where the market allows it.

Money is ``Decimal`` throughout; results are rounded to the cent only for display by callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from enum import unique

from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidData

ONE: Decimal = Decimal(1)
HUNDRED: Decimal = Decimal(100)


@unique
class BetSide(StrEnum):
    """Which side of a bet."""

    BACK = "BACK"  # for the selection
    LAY = "LAY"  # against the selection


@unique
class BetOutcome(StrEnum):
    """How a matched bet settled."""

    WON = "WON"  # the bet's holder won (BACK on a winner, LAY on a loser)
    LOST = "LOST"  # the bet's holder lost
    VOID = "VOID"  # a bet on a non-runner: stake returned
    DEAD_HEAT = "DEAD_HEAT"  # a tied winner: part of the stake settled at full odds


@dataclass(frozen=True, slots=True)
class MatchedBet:
    """
    One matched bet (or matched part of one).

    Attributes
    ----------
    selection_id : int
        The runner.
    side : BetSide
        BACK or LAY.
    odds : Decimal
        The matched price.
    stake : Decimal
        The matched stake (account currency).
    matched_at : datetime, optional
        When it matched (decides whether a later removal's reduction factor applies); without
        it, every removal is assumed to come after the bet.
    bet_id : str
        An identifier for reports (order id, Betfair bet id).
    """

    selection_id: int
    side: BetSide
    odds: Decimal
    stake: Decimal
    matched_at: datetime | None = None
    bet_id: str = ""

    @property
    def liability(self) -> Decimal:
        """What the bet can lose: the stake for a BACK, ``stake * (odds - 1)`` for a LAY."""
        return self.stake if self.side is BetSide.BACK else self.stake * (self.odds - ONE)


@dataclass(frozen=True, slots=True)
class CommissionSpec:
    """
    Commission on net market winnings.

    Attributes
    ----------
    rate : Decimal, optional
        Fraction of net winnings (``0.05`` = 5%); ``None`` uses the market's base rate.
    discount : Decimal
        The account's discount as a fraction of the rate (``0.1`` = 10% off), in [0, 1].
    """

    rate: Decimal | None = None
    discount: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.rate is not None and not Decimal(0) <= self.rate < ONE:
            raise InvalidConfig(f"commission rate must be a fraction in [0, 1), got {self.rate}")
        if not Decimal(0) <= self.discount <= ONE:
            raise InvalidConfig(f"commission discount must be a fraction in [0, 1], got {self.discount}")

    def rate_for(self, market: BetfairMarket) -> Decimal:
        """Return the commission fraction charged on ``market``'s net winnings."""
        rate = market.market_base_rate / HUNDRED if self.rate is None else self.rate
        discount = self.discount if market.discount_allowed else Decimal(0)
        return rate * (ONE - discount)


@dataclass(frozen=True, slots=True)
class BetSettlement:
    """How one matched bet settled: its outcome, the odds it settled at and its P&L."""

    bet: MatchedBet
    outcome: BetOutcome
    settled_odds: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class MarketSettlement:
    """
    One market's settlement.

    Attributes
    ----------
    market_id : str
        The market.
    gross_pnl : Decimal
        Sum of the bets' P&L before commission.
    commission : Decimal
        Charged on positive net winnings.
    net_pnl : Decimal
        ``gross_pnl - commission`` (the realised P&L of the market).
    by_selection : dict[int, Decimal]
        Gross P&L per runner.
    bets : tuple[BetSettlement, ...]
        Each bet's settlement.
    commission_rate : Decimal
        The fraction charged (after the discount).
    """

    market_id: str
    gross_pnl: Decimal
    commission: Decimal
    net_pnl: Decimal
    by_selection: dict[int, Decimal] = field(default_factory=dict)
    bets: tuple[BetSettlement, ...] = ()
    commission_rate: Decimal = Decimal(0)


def reduced_odds(bet: MatchedBet, market: BetfairMarket) -> Decimal:
    """Return ``bet``'s odds after the reduction factors of runners removed after it matched."""
    odds = bet.odds
    for r in market.runners:
        if r.status not in ("REMOVED", "REMOVED_VACANT") or r.selection_id == bet.selection_id:
            continue
        if not r.adjustment_factor:
            continue
        if bet.matched_at is not None and r.removal_date is not None and bet.matched_at >= r.removal_date:
            continue  # matched after the removal: the price already reflected it
        odds = odds * (ONE - r.adjustment_factor / HUNDRED)
    return max(odds, ONE)


def dead_heat_factor(market: BetfairMarket) -> Decimal:
    """Return the share of stake settled at full odds on a winner (1 without a dead heat)."""
    winners = sum(1 for r in market.runners if r.status in ("WINNER", "PLACED"))
    places = max(market.number_of_winners, 1)
    return ONE if winners <= places else Decimal(places) / Decimal(winners)


def settle_bet(bet: MatchedBet, market: BetfairMarket) -> BetSettlement:
    """
    Settle one matched bet on a closed market.

    Raises
    ------
    InvalidData
        If the market is not settled or does not hold the bet's runner.
    """
    runner = next((r for r in market.runners if r.selection_id == bet.selection_id), None)
    if runner is None:
        raise InvalidData(f"market {market.market_id} has no runner {bet.selection_id} (bet {bet.bet_id})")
    if not market.settled:
        raise InvalidData(f"market {market.market_id} is not settled (status {market.status})")
    back = bet.side is BetSide.BACK
    if runner.status in ("REMOVED", "REMOVED_VACANT", "HIDDEN"):
        return BetSettlement(bet, BetOutcome.VOID, bet.odds, Decimal(0))
    odds = reduced_odds(bet, market)
    if runner.status in ("WINNER", "PLACED"):
        f = dead_heat_factor(market)
        win = bet.stake * f * (odds - ONE) - bet.stake * (ONE - f)  # the backer's P&L
        outcome = BetOutcome.DEAD_HEAT if f < ONE else (BetOutcome.WON if back else BetOutcome.LOST)
        return BetSettlement(bet, outcome, odds, win if back else -win)
    # LOSER
    return BetSettlement(
        bet, BetOutcome.LOST if back else BetOutcome.WON, odds, -bet.stake if back else bet.stake
    )


def settle_market(
    market: BetfairMarket, bets: list[MatchedBet], commission: CommissionSpec | None = None
) -> MarketSettlement:
    """
    Settle every matched bet on a closed market and charge commission on net winnings.

    Raises
    ------
    InvalidData
        If the market is not settled or lacks a bet's runner.
    """
    settled = tuple(settle_bet(b, market) for b in bets)
    gross = sum((s.pnl for s in settled), Decimal(0))
    by_selection: dict[int, Decimal] = {}
    for s in settled:
        by_selection[s.bet.selection_id] = by_selection.get(s.bet.selection_id, Decimal(0)) + s.pnl
    rate = (commission or CommissionSpec()).rate_for(market)
    charged = gross * rate if gross > 0 else Decimal(0)
    return MarketSettlement(
        market_id=market.market_id,
        gross_pnl=gross,
        commission=charged,
        net_pnl=gross - charged,
        by_selection=by_selection,
        bets=settled,
        commission_rate=rate,
    )


def market_liability(
    market_runners: list[int], bets: list[MatchedBet], working: list[MatchedBet] | None = None
) -> Decimal:
    """
    Return the worst-case loss on a market (positive), over every runner winning in turn.

    ``working`` bets (unmatched, still on the book) count as if matched: the liability a venue
    reserves for them. A bet on a runner not in ``market_runners`` still counts.
    """
    all_bets = list(bets) + list(working or [])
    runners = set(market_runners) | {b.selection_id for b in all_bets}
    worst = Decimal(0)
    for winner in runners:
        pnl = Decimal(0)
        for b in all_bets:
            backer = b.stake * (b.odds - ONE) if b.selection_id == winner else -b.stake
            pnl += backer if b.side is BetSide.BACK else -backer
        worst = min(worst, pnl)
    return -worst


__all__ = [
    "BetOutcome",
    "BetSettlement",
    "BetSide",
    "CommissionSpec",
    "MarketSettlement",
    "MatchedBet",
    "dead_heat_factor",
    "market_liability",
    "reduced_odds",
    "settle_bet",
    "settle_market",
]
