"""The fake Betfair's matching: Betfair's ladder, BACK/LAY against the right side, FOK, cancels."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext_testkit.fake_betfair import BetError
from nautilus_ext_testkit.fake_betfair import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds
from nautilus_ext_testkit.fake_betfair import on_ladder

MARKET = "1.240000001"
ARSENAL = 1096


@pytest.fixture
def exchange() -> FakeBetfairExchange:
    ex = FakeBetfairExchange(min_stake=Decimal(1))
    ex.add_market(arsenal_liverpool_match_odds())
    return ex


def _bet(side: str, price: str, size: str, **limit: Any) -> dict[str, Any]:
    return {
        "selectionId": ARSENAL,
        "side": side,
        "orderType": "LIMIT",
        "limitOrder": {"price": price, "size": size, "persistenceType": "LAPSE", **limit},
        "customerOrderRef": "O-1",
    }


@pytest.mark.parametrize(
    ("price", "valid"),
    [
        ("1.01", True),
        ("1.005", False),
        ("2.02", True),
        ("2.01", False),
        ("3.05", True),
        ("3.02", False),
        ("15.5", True),
        ("15.2", False),
        ("1000", True),
        ("1010", False),
    ],
)
def test_ladder(price: str, valid: bool) -> None:
    assert on_ladder(Decimal(price)) is valid


def test_back_matches_the_best_lay_offer_and_consumes_it(exchange: FakeBetfairExchange) -> None:
    # available to back: 2.5 x 100, 2.48 x 250; a BACK at 2.48 takes 2.5 first (price improvement)
    bet = exchange.place(MARKET, _bet("BACK", "2.48", "120"), "S", 1)
    assert bet.matches == [(Decimal("2.5"), Decimal(100)), (Decimal("2.48"), Decimal(20))]
    assert bet.status == "EXECUTION_COMPLETE"
    assert bet.average_price_matched == Decimal("2.50")  # (250 + 49.6) / 120 = 2.4966.. -> 2.50
    runner = exchange.markets[MARKET].runners[ARSENAL]
    assert runner.atb() == [[Decimal("2.48"), Decimal(230)]]
    assert runner.last_traded == Decimal("2.48")


def test_lay_matches_back_offers_at_or_below_its_odds(exchange: FakeBetfairExchange) -> None:
    bet = exchange.place(MARKET, _bet("LAY", "2.52", "150"), None, 1)
    assert bet.matches == [(Decimal("2.52"), Decimal(100))]
    assert (bet.size_remaining, bet.status) == (Decimal(50), "EXECUTABLE")
    assert bet.liability == Decimal("150") * Decimal("1.52")
    assert exchange.exposure() == -Decimal("228.00")
    (cancelled,) = exchange.cancel(MARKET, bet.bet_id, None, 2)
    assert (cancelled.size_cancelled, cancelled.status) == (Decimal(50), "EXECUTION_COMPLETE")
    with pytest.raises(BetError, match="BET_TAKEN_OR_LAPSED"):
        exchange.cancel(MARKET, bet.bet_id, None, 3)


def test_fill_or_kill_lapses_whole_unless_it_can_fill(exchange: FakeBetfairExchange) -> None:
    killed = exchange.place(MARKET, _bet("BACK", "2.5", "150", timeInForce="FILL_OR_KILL"), None, 1)
    assert (killed.size_matched, killed.size_lapsed) == (0, Decimal(150))
    partial = exchange.place(
        MARKET, _bet("BACK", "2.5", "150", timeInForce="FILL_OR_KILL", minFillSize="0"), None, 1
    )
    assert (partial.size_matched, partial.size_lapsed, partial.status) == (
        Decimal(100),
        Decimal(50),
        "EXECUTION_COMPLETE",
    )


@pytest.mark.parametrize(
    ("instruction", "code"),
    [
        (_bet("BACK", "2.51", "2"), "INVALID_ODDS"),
        (_bet("BACK", "2.5", "0.5"), "INVALID_BET_SIZE"),
        ({**_bet("BACK", "2.5", "2"), "selectionId": 1}, "RUNNER_REMOVED"),
        ({**_bet("BACK", "2.5", "2"), "orderType": "MARKET_ON_CLOSE"}, "ERROR_IN_ORDER"),
    ],
)
def test_bad_bets_are_refused_with_betfair_codes(
    exchange: FakeBetfairExchange, instruction: dict[str, Any], code: str
) -> None:
    with pytest.raises(BetError, match=code):
        exchange.place(MARKET, instruction, None, 1)
    with pytest.raises(BetError, match="MARKET_NOT_OPEN_FOR_BETTING"):
        exchange.place("1.999", instruction, None, 1)
    assert exchange.bets == {}
