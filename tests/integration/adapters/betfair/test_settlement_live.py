"""
Live settlement against the fake Betfair: ``listClearedOrders`` reconciled against our own.

Bets go through NautilusTrader's Betfair HTTP client; the fake settles the market (its own
arithmetic, in the test kit), pushes the CLOSED definition, and reports cleared orders. Our
settlement, from the bets we matched and that definition, must agree bet by bet and on
commission; a wrong commission rate shows as a difference.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from betfair_parser.spec.betting.enums import OrderProjection
from betfair_parser.spec.betting.enums import Side
from betfair_parser.spec.betting.orders import PlaceOrders
from betfair_parser.spec.betting.type_definitions import LimitOrder
from betfair_parser.spec.betting.type_definitions import PlaceInstruction

from nautilus_ext.adapters.betfair import BetfairCredentials
from nautilus_ext.adapters.betfair import BetfairUrlHttpClient
from nautilus_ext.adapters.betfair.cleared import fetch_cleared
from nautilus_ext.adapters.betfair.cleared import reconcile_settlement
from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.adapters.betfair.settlement import BetSide
from nautilus_ext.adapters.betfair.settlement import CommissionSpec
from nautilus_ext.adapters.betfair.settlement import MatchedBet
from nautilus_ext.adapters.betfair.settlement import settle_market
from nautilus_ext_testkit.fake_betfair import FakeBetfair

MARKET = "1.240000001"
ARSENAL, DRAW, LIVERPOOL = 1096, 58805, 56323


def _place(selection: int, side: Side, price: float, size: float) -> PlaceOrders:
    return PlaceOrders.with_params(
        market_id=MARKET,
        instructions=[
            PlaceInstruction(
                order_type="LIMIT",
                selection_id=selection,
                side=side,
                limit_order=LimitOrder(price=price, size=size, persistence_type="LAPSE"),
            )
        ],
    )


async def _bets_and_settle(
    fake: FakeBetfair, results: dict[int, str], **kw: Any
) -> tuple[Any, list[MatchedBet]]:
    client = BetfairUrlHttpClient(
        BetfairCredentials(fake.username, fake.password, fake.app_key), fake.base_url
    )
    await client.connect()
    await client.place_orders(_place(ARSENAL, Side.BACK, 2.5, 10.0))  # matches 2.5
    await client.place_orders(_place(LIVERPOOL, Side.LAY, 3.1, 4.0))  # matches 3.1
    await client.place_orders(_place(DRAW, Side.BACK, 3.4, 2.0))  # matches 3.4
    ours = [
        MatchedBet(
            selection_id=int(o.selection_id),
            side=BetSide(o.side.value),
            odds=Decimal(str(o.average_price_matched)),
            stake=Decimal(str(o.size_matched)),
            bet_id=str(o.bet_id),
        )
        for o in await client.list_current_orders(order_projection=OrderProjection.ALL)
    ]
    fake.settle_market(MARKET, results, **kw)
    return client, ours


def test_cleared_orders_reconcile_with_our_settlement(fake_betfair: FakeBetfair) -> None:
    async def run() -> None:
        client, ours = await _bets_and_settle(
            fake_betfair, {ARSENAL: "WINNER", DRAW: "LOSER", LIVERPOOL: "LOSER"}
        )
        market = BetfairMarket.from_definition(MARKET, fake_betfair.exchange.market_definition(MARKET))
        assert market.settled
        mine = settle_market(market, ours, CommissionSpec())
        # by hand: BACK 10 @ 2.5 wins 15; LAY 4 @ 3.1 on a loser keeps 4; BACK 2 @ 3.4 loses 2
        assert mine.gross_pnl == Decimal(17)
        assert mine.commission == Decimal("0.85")  # 5% base rate of the fake's market
        venue_bets, venue_market = await fetch_cleared(client, MARKET)
        assert len(venue_bets) == 3
        assert venue_market is not None
        assert venue_market.commission == Decimal("0.85")
        check = reconcile_settlement(mine, venue_bets, venue_market)
        assert check.reconciled, check.differences
        assert (check.ours, check.venue) == (Decimal(17), Decimal(17))
        # our computation with the wrong rate disagrees with Betfair, and says where
        wrong = settle_market(market, ours, CommissionSpec(rate=Decimal("0.02")))
        check = reconcile_settlement(wrong, venue_bets, venue_market)
        assert not check.reconciled
        assert check.differences == [f"market {MARKET}: our commission 0.3400 != Betfair's 0.85"]
        # a bet we never matched (missing from our side) is named
        check = reconcile_settlement(
            settle_market(market, ours[:2], CommissionSpec()), venue_bets, venue_market
        )
        assert any("we have no such matched bet" in d for d in check.differences)
        # the account moved by the net
        assert fake_betfair.exchange.balance == Decimal(1000) + Decimal("16.15")

    asyncio.run(run())


def test_non_runner_voids_and_reduces_consistently_with_betfair(fake_betfair: FakeBetfair) -> None:
    async def run() -> None:
        client, ours = await _bets_and_settle(
            fake_betfair,
            {ARSENAL: "WINNER", DRAW: "REMOVED", LIVERPOOL: "LOSER"},
            adjustment_factors={DRAW: Decimal("20")},
        )
        market = BetfairMarket.from_definition(MARKET, fake_betfair.exchange.market_definition(MARKET))
        mine = settle_market(market, ours, CommissionSpec())
        by_sel = mine.by_selection
        assert by_sel[DRAW] == 0  # void
        assert by_sel[ARSENAL] == Decimal("10.000")  # 2.5 x 0.8 = 2.0: 10 x 1.0
        assert by_sel[LIVERPOOL] == Decimal(4)
        venue_bets, venue_market = await fetch_cleared(client, MARKET)
        check = reconcile_settlement(mine, venue_bets, venue_market)
        assert check.reconciled, check.differences
        assert {b.selection_id: b.outcome for b in venue_bets}[DRAW] == "VOID"

    asyncio.run(run())
