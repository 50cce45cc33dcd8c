"""Backpack through ccxt: client ids, and the corrections of ccxt's parsed orders and positions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.adapters.ccxt.client import apply_error_overrides
from nautilus_ext.adapters.ccxt.parsing.orders import NON_UNIQUE_CLIENT_ID_EXCHANGES
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import fill_from_order_update
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_order
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_position


@given(st.text(min_size=1, max_size=64))
def test_client_id_is_a_deterministic_uint32(coid: str) -> None:
    wire = venue_client_id("backpack", coid)
    assert wire == venue_client_id("backpack", coid)
    assert 0 <= int(wire) < 2**32
    assert str(int(wire)) == wire  # ccxt's safe_integer keeps it (anything else is dropped)


def test_client_ids_differ_and_reuse_is_looked_up_first() -> None:
    ids = {venue_client_id("backpack", f"O-20260101-000000-001-000-{n}") for n in range(1000)}
    assert len(ids) == 1000
    assert "backpack" in NON_UNIQUE_CLIENT_ID_EXCHANGES


def _ws_order(event: str, **fields: object) -> dict[str, Any]:
    """Return ccxt.pro's own parse of a Backpack ``account.orderUpdate`` event."""
    info: dict[str, object] = {"e": event, "E": 1_700_000_000_000_000, "s": "BTC_USDC_PERP"}
    info |= {"S": "Bid", "o": "LIMIT", "f": "GTC", "q": "0.4", "p": "49999.9", "i": "111000000007"}
    info |= {"X": "PartiallyFilled", **fields}
    parsed: dict[str, Any] = ccxtpro.backpack().parse_ws_order(info)
    return parsed


def test_stream_order_filled_is_the_cumulative_quantity() -> None:
    second_fill = _ws_order("orderFill", l="0.2", z="0.3", t=12, L="49999.9", m=True, n="0.1", N="USDC")
    assert second_fill["filled"] == 0.2  # ccxt's reading: this fill only
    fixed = normalize_order("backpack", second_fill)
    assert Decimal(fixed["filled"]) == Decimal("0.3")
    assert Decimal(fixed["remaining"]) == Decimal("0.1")
    # a cancel after fills carries no ``l``: ccxt says nothing was filled, ``z`` says 0.3
    cancel = _ws_order("orderCancelled", z="0.3", X="Cancelled")
    assert Decimal(normalize_order("backpack", cancel)["filled"]) == Decimal("0.3")
    # REST orders (no event type) are already cumulative; other venues are untouched
    rest = {"filled": 0.3, "info": {"executedQuantity": "0.3", "z": "9"}}
    assert normalize_order("backpack", rest) is rest
    assert normalize_order("bybit", second_fill) is second_fill


def test_order_fill_update_carries_a_trade() -> None:
    update = _ws_order("orderFill", l="0.2", z="0.3", t=12, L="49999.9", m=True, n="0.1", N="USDC", c=77)
    trade = fill_from_order_update("backpack", update)
    assert trade is not None
    assert (trade["id"], trade["order"], trade["clientOrderId"]) == ("12", "111000000007", "77")
    assert (trade["amount"], trade["price"], trade["takerOrMaker"]) == ("0.2", "49999.9", "maker")
    assert trade["fee"] == {"cost": "0.1", "currency": "USDC"}
    assert trade["timestamp"] == 1_700_000_000_000
    assert trade["side"] == "buy"
    assert fill_from_order_update("backpack", _ws_order("orderAccepted", z="0")) is None
    assert fill_from_order_update("okx", update) is None


def test_position_size_is_the_signed_net_quantity() -> None:
    # ccxt sizes a position by netExposureQuantity, which includes open orders
    short = {
        "contracts": "0.7",
        "side": "short",
        "info": {"netQuantity": "-0.5", "netExposureQuantity": "0.7"},
    }
    fixed = normalize_position("backpack", short)
    assert (Decimal(fixed["contracts"]), fixed["side"]) == (Decimal("0.5"), "short")
    long = {"contracts": "0.7", "side": "long", "info": {"netQuantity": "0.5"}}
    assert normalize_position("backpack", long)["side"] == "long"
    assert normalize_position("bybit", short) is short


def test_resource_not_found_is_an_order_not_found() -> None:
    exchange = ccxt.backpack()
    assert exchange.exceptions["exact"]["RESOURCE_NOT_FOUND"] is ccxt.ExchangeNotAvailable
    apply_error_overrides(exchange, "backpack")
    assert exchange.exceptions["exact"]["RESOURCE_NOT_FOUND"] is ccxt.OrderNotFound
    assert exchange.exceptions["exact"]["INVALID_SIGNATURE"] is ccxt.AuthenticationError
