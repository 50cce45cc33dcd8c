"""Canonical selections of Betfair markets, both ways, from market definitions."""

from __future__ import annotations

import pytest

from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.adapters.betfair.markets import BetfairRunner
from nautilus_ext.adapters.betfair.markets import parse_betting_instrument_id
from nautilus_ext.errors import InvalidInstrumentKey


def _md(market_type: str, event: str, runners: list[tuple[int, str | None, int]]) -> BetfairMarket:
    return BetfairMarket.from_definition(
        "1.5",
        {
            "marketType": market_type,
            "eventName": event,
            "status": "OPEN",
            "runners": [
                {"id": i, "sortPriority": p, "status": "ACTIVE", **({"name": n} if n else {})}
                for i, n, p in runners
            ],
        },
    )


def test_football_match_odds_home_away_draw_both_ways() -> None:
    m = _md(
        "MATCH_ODDS", "Arsenal v Chelsea", [(11, "Arsenal", 1), (22, "Chelsea", 2), (58805, "The Draw", 3)]
    )
    assert {r.selection_id: m.selection_of(r) for r in m.runners} == {11: "HOME", 22: "AWAY", 58805: "DRAW"}
    assert m.runner_for("home").selection_id == 11
    assert m.runner_for("Draw").selection_id == 58805
    assert m.runner_for("22").selection_id == 22  # selection id
    assert m.runner_for("chelsea").selection_id == 22  # runner name


def test_us_sports_at_sign_lists_the_away_side_first() -> None:
    # a real file: "Cleveland Cavaliers @ Minnesota Timberwolves"
    m = _md(
        "MATCH_ODDS",
        "Cleveland Cavaliers @ Minnesota Timberwolves",
        [(60424, "Cleveland Cavaliers", 1), (237478, "Minnesota Timberwolves", 2)],
    )
    assert m.runner_for("AWAY").selection_id == 60424
    assert m.runner_for("HOME").selection_id == 237478


def test_nameless_runners_fall_back_to_sort_priority() -> None:
    m = _md("MATCH_ODDS", "", [(60424, None, 2), (237491, None, 1)])
    assert m.runner_for("HOME").selection_id == 237491
    assert m.runner_for("AWAY").selection_id == 60424
    ou = _md("OVER_UNDER_25", "", [(47972, None, 1), (47973, None, 2)])
    assert ou.runner_for("UNDER").selection_id == 47972
    assert ou.runner_for("OVER").selection_id == 47973
    named = _md("OVER_UNDER_25", "", [(2, "Over 2.5 Goals", 2), (1, "Under 2.5 Goals", 1)])
    assert named.runner_for("over").selection_id == 2
    btts = _md("BOTH_TEAMS_TO_SCORE", "", [(30246, "Yes", 1), (110503, "No", 2)])
    assert btts.runner_for("NO").selection_id == 110503


def test_racing_trades_by_runner_name_or_selection_id() -> None:
    m = _md("WIN", "2m Hcap", [(1001, "Sea Biscuit", 1), (1002, "Red Rum", 2)])
    assert m.runner_for("red rum").selection_id == 1002
    assert m.runner_for("1001").selection_id == 1001
    with pytest.raises(InvalidInstrumentKey, match="no runner"):
        m.runner_for("HOME")


def test_definition_fields_reach_the_model() -> None:
    m = BetfairMarket.from_definition(
        "1.9",
        {
            "marketType": "WIN",
            "status": "CLOSED",
            "numberOfWinners": 1,
            "marketBaseRate": 7,
            "betDelay": 5,
            "inPlay": True,
            "runners": [
                {"id": 1, "status": "WINNER", "sortPriority": 1},
                {
                    "id": 2,
                    "status": "REMOVED",
                    "sortPriority": 2,
                    "adjustmentFactor": 21.3,
                    "removalDate": "2024-05-01T14:00:00.000Z",
                },
            ],
        },
        names={1: "Alpha", 2: "Beta"},
    )
    assert m.settled
    assert m.bet_delay == 5
    assert m.in_play
    assert str(m.market_base_rate) == "7"
    removed = m.runners[1]
    assert removed.name == "Beta"
    assert str(removed.adjustment_factor) == "21.3"
    assert removed.removal_date is not None
    assert removed.removal_date.hour == 14
    assert isinstance(m.runners[0], BetfairRunner)


def test_betting_instrument_ids_parse_to_market_and_selection() -> None:
    assert parse_betting_instrument_id("1-166811431-60424-None.BETFAIR") == ("1.166811431", 60424, 0)
    with pytest.raises(InvalidInstrumentKey):
        parse_betting_instrument_id("BTCUSDT.BINANCE")
