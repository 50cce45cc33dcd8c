"""
Live Betfair settlement: our settlement of a closed market, reconciled with Betfair's.

When a market closes, :func:`reconcile_closed_market` settles the bets this node matched on it
(every ``OrderFilled`` of its runners in the cache, each fill a matched bet at its odds, its
Betfair bet id the order's venue order id) against the market's closing definition, reads
Betfair's cleared orders (``listClearedOrders`` per bet and per market, with the commission)
through the node's Betfair execution client, and compares the two
(:func:`~nautilus_ext.adapters.betfair.cleared.reconcile_settlement`).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderFilled

from nautilus_ext.adapters.betfair.cleared import SettlementCheck
from nautilus_ext.adapters.betfair.cleared import fetch_cleared
from nautilus_ext.adapters.betfair.cleared import reconcile_settlement
from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.adapters.betfair.settlement import BetSide
from nautilus_ext.adapters.betfair.settlement import CommissionSpec
from nautilus_ext.adapters.betfair.settlement import MatchedBet
from nautilus_ext.adapters.betfair.settlement import settle_market


def matched_bets_in_cache(cache: Any, market_id: str) -> list[MatchedBet]:
    """Return every fill of this node's orders on ``market_id``'s runners as matched bets."""
    bets: list[MatchedBet] = []
    for order in cache.orders():
        inst = cache.instrument(order.instrument_id)
        if inst is None or str(getattr(inst, "market_id", "")) != market_id:
            continue
        for event in order.events:
            if not isinstance(event, OrderFilled):
                continue
            bets.append(
                MatchedBet(
                    selection_id=int(inst.selection_id),
                    # NautilusTrader sends a BACK as a SELL and a LAY as a BUY
                    side=BetSide.LAY if event.order_side == OrderSide.BUY else BetSide.BACK,
                    odds=event.last_px.as_decimal(),
                    stake=event.last_qty.as_decimal(),
                    matched_at=datetime.fromtimestamp(event.ts_event / 1e9, tz=UTC),
                    bet_id=str(event.venue_order_id),
                )
            )
    return bets


async def reconcile_closed_market(
    http_client: Any,
    cache: Any,
    market_definition: dict[str, Any],
    market_id: str,
    commission: CommissionSpec | None = None,
    tolerance: Decimal = Decimal("0.01"),
) -> SettlementCheck:
    """
    Settle ``market_id`` from this node's fills and reconcile it with Betfair's cleared orders.

    Parameters
    ----------
    http_client : BetfairHttpClient
        The node's Betfair HTTP client (logged in).
    cache : Cache
        The node's cache (orders, fills, instruments).
    market_definition : dict
        The market's closing definition (the stream's field names).
    market_id : str
        The market.
    commission : CommissionSpec, optional
        Rate (default: the market's base rate) and the account's discount.
    tolerance : Decimal, default 0.01
        Largest difference accepted per bet and per market.

    Raises
    ------
    InvalidData
        If the market is not settled in ``market_definition``.
    VenueUnavailable
        If Betfair's cleared orders cannot be read.
    """
    market = BetfairMarket.from_definition(market_id, market_definition)
    ours = settle_market(market, matched_bets_in_cache(cache, market_id), commission)
    venue_bets, venue_market = await fetch_cleared(http_client, market_id)
    return reconcile_settlement(ours, venue_bets, venue_market, tolerance)


__all__ = ["matched_bets_in_cache", "reconcile_closed_market"]
