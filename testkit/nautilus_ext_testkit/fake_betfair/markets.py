"""Markets for the fake Betfair, matching the shipped instrument registry (``configs/instruments``)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

from nautilus_ext_testkit.fake_betfair.exchange import Market
from nautilus_ext_testkit.fake_betfair.exchange import Runner


def arsenal_liverpool_match_odds() -> Market:
    """
    Return the registry's Arsenal v Liverpool MATCH_ODDS market (``1.240000001``) with a book.

    Selection ids are Betfair's (Arsenal 1096, The Draw 58805, Liverpool 56323); each runner has
    two levels a side, one tick apart at the touch.
    """

    def runner(selection_id: int, name: str, back: str, lay: str, tick: str) -> Runner:
        b, lay_, t = Decimal(back), Decimal(lay), Decimal(tick)
        return Runner(
            selection_id=selection_id,
            name=name,
            available_to_back={b: Decimal(100), b - t: Decimal(250)},
            available_to_lay={lay_: Decimal(100), lay_ + t: Decimal(250)},
        )

    return Market(
        market_id="1.240000001",
        market_name="Match Odds",
        market_type="MATCH_ODDS",
        event_type_id="1",
        event_type_name="Soccer",
        competition_id="10932509",
        competition_name="English Premier League",
        event_id="34010101",
        event_name="Arsenal v Liverpool",
        country_code="GB",
        start=datetime(2025, 3, 15, 15, 0, tzinfo=UTC),
        runners={
            1096: runner(1096, "Arsenal", "2.5", "2.52", "0.02"),
            58805: runner(58805, "The Draw", "3.4", "3.45", "0.05"),
            56323: runner(56323, "Liverpool", "3.05", "3.1", "0.05"),
        },
    )
