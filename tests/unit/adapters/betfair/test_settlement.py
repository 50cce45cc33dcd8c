"""Betfair settlement against hand-computed cases (winners, losers, a non-runner, a dead heat)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal as D  # noqa: N817 (hand-computed figures read better short)

import pytest

from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.adapters.betfair.markets import BetfairRunner
from nautilus_ext.adapters.betfair.settlement import BetOutcome
from nautilus_ext.adapters.betfair.settlement import BetSide
from nautilus_ext.adapters.betfair.settlement import CommissionSpec
from nautilus_ext.adapters.betfair.settlement import MatchedBet
from nautilus_ext.adapters.betfair.settlement import market_liability
from nautilus_ext.adapters.betfair.settlement import settle_bet
from nautilus_ext.adapters.betfair.settlement import settle_market
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidData

BACK, LAY = BetSide.BACK, BetSide.LAY
REMOVED_AT = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
BEFORE = datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
AFTER = datetime(2024, 5, 1, 14, 30, tzinfo=UTC)


def _market(
    *runners: BetfairRunner, status: str = "CLOSED", winners: int = 1, rate: str = "5"
) -> BetfairMarket:
    return BetfairMarket(
        market_id="1.1",
        market_type="MATCH_ODDS",
        status=status,
        number_of_winners=winners,
        market_base_rate=D(rate),
        runners=runners,
    )


TWO = _market(BetfairRunner(1, status="WINNER"), BetfairRunner(2, status="LOSER"))


def test_back_on_the_winner_and_lay_on_the_loser_with_commission() -> None:
    s = settle_market(TWO, [MatchedBet(1, BACK, D("3.15"), D(10)), MatchedBet(2, LAY, D("1.6"), D(10))])
    # BACK 10 @ 3.15 wins 10 x 2.15 = 21.50; LAY 10 @ 1.6 on the loser keeps the backer's 10
    assert s.gross_pnl == D("31.50")
    assert s.by_selection == {1: D("21.50"), 2: D(10)}
    assert s.commission == D("1.5750")  # 5% market base rate on net winnings
    assert s.net_pnl == D("29.9250")
    assert [b.outcome for b in s.bets] == [BetOutcome.WON, BetOutcome.WON]


def test_losing_market_pays_no_commission() -> None:
    s = settle_market(TWO, [MatchedBet(2, BACK, D("1.6"), D(10)), MatchedBet(1, LAY, D(3), D(10))])
    # BACK on the loser loses 10; LAY 10 @ 3.0 on the winner pays 10 x 2 = 20
    assert (s.gross_pnl, s.commission, s.net_pnl) == (D(-30), D(0), D(-30))
    assert [b.outcome for b in s.bets] == [BetOutcome.LOST, BetOutcome.LOST]


def test_commission_nets_winners_against_losers_within_the_market() -> None:
    bets = [MatchedBet(1, BACK, D(2), D(10)), MatchedBet(2, BACK, D(2), D(4))]
    s = settle_market(TWO, bets, CommissionSpec(rate=D("0.02"), discount=D("0.5")))
    assert s.gross_pnl == D(6)  # +10 - 4
    assert s.commission_rate == D("0.01")
    assert s.commission == D("0.06")


def test_non_runner_voids_its_bets_and_reduces_earlier_prices_of_the_others() -> None:
    market = _market(
        BetfairRunner(1, status="WINNER"),
        BetfairRunner(2, status="LOSER"),
        BetfairRunner(3, status="REMOVED", adjustment_factor=D("25.0"), removal_date=REMOVED_AT),
    )
    bets = [
        MatchedBet(1, BACK, D(4), D(10), matched_at=BEFORE, bet_id="early"),  # 4.0 x 0.75 = 3.0
        MatchedBet(1, BACK, D(4), D(10), matched_at=AFTER, bet_id="late"),  # not reduced
        MatchedBet(3, BACK, D(5), D(10), matched_at=BEFORE, bet_id="non-runner"),  # void
        MatchedBet(2, LAY, D(2), D(10), matched_at=BEFORE, bet_id="lay-loser"),  # +10
    ]
    s = settle_market(market, bets, CommissionSpec(rate=D("0.05"), discount=D("0.2")))
    by_id = {b.bet.bet_id: b for b in s.bets}
    assert by_id["early"].settled_odds == D("3.00")
    assert by_id["early"].pnl == D("20.00")
    assert by_id["late"].settled_odds == D(4)
    assert by_id["late"].pnl == D(30)
    assert by_id["non-runner"].outcome is BetOutcome.VOID
    assert by_id["non-runner"].pnl == 0
    assert by_id["lay-loser"].pnl == D(10)
    assert s.gross_pnl == D("60.00")
    assert s.commission == D("2.4000")  # 5% less a 20% discount = 4% of 60
    assert s.net_pnl == D("57.6000")


def test_dead_heat_halves_the_stake_settled_at_full_odds() -> None:
    market = _market(
        BetfairRunner(1, status="WINNER"), BetfairRunner(2, status="WINNER"), BetfairRunner(3, status="LOSER")
    )
    back = settle_bet(MatchedBet(1, BACK, D(5), D(10)), market)
    lay = settle_bet(MatchedBet(2, LAY, D(3), D(10)), market)
    assert back.outcome is BetOutcome.DEAD_HEAT
    assert back.pnl == D(15)  # 5 x (5 - 1) won, 5 lost
    assert lay.pnl == D(-5)  # the backer's 5 x 2 - 5, reversed


def test_placed_settles_as_a_winner_in_a_place_market() -> None:
    market = _market(
        BetfairRunner(1, status="WINNER"),
        BetfairRunner(2, status="PLACED"),
        BetfairRunner(3, status="LOSER"),
        winners=2,
    )
    assert settle_bet(MatchedBet(2, BACK, D("2.5"), D(4)), market).pnl == D("6.0")


def test_unsettled_market_and_unknown_runner_are_data_errors() -> None:
    with pytest.raises(InvalidData, match="not settled"):
        settle_bet(MatchedBet(1, BACK, D(2), D(1)), _market(BetfairRunner(1), status="OPEN"))
    with pytest.raises(InvalidData, match="no runner 9"):
        settle_bet(MatchedBet(9, BACK, D(2), D(1)), TWO)


def test_commission_spec_rejects_out_of_range_values() -> None:
    with pytest.raises(InvalidConfig):
        CommissionSpec(rate=D("1.5"))
    with pytest.raises(InvalidConfig):
        CommissionSpec(discount=D("-0.1"))


def test_liability_is_the_worst_outcome_across_runners() -> None:
    bets = [MatchedBet(1, BACK, D(3), D(10)), MatchedBet(2, LAY, D("1.6"), D(10))]
    # runner 1 wins: +20 + 10 = +30; runner 2 wins: -10 - 6 = -16
    assert market_liability([1, 2], bets) == D("16.0")
    # a working LAY 5 @ 3 on runner 1: runner 1 wins +20; runner 2 wins -11
    assert market_liability([1, 2], bets, [MatchedBet(1, LAY, D(3), D(5))]) == D("11.0")
    # a three-runner market: the unbacked runner winning loses the BACK, keeps the LAY
    assert market_liability([1, 2, 3], [MatchedBet(1, BACK, D(3), D(10))]) == D(10)
    assert MatchedBet(1, LAY, D(4), D(10)).liability == D(30)
