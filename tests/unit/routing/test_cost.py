"""The venue cost model: book walks, slippage sign conventions and best-venue choice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.routing.cost import VenueQuote
from nautilus_ext.routing.cost import best_venue
from nautilus_ext.routing.cost import estimate_cost
from nautilus_ext.routing.cost import slippage_bps
from nautilus_ext.routing.cost import walk_book

D = Decimal
ASKS = [(D("100"), D("1")), (D("101"), D("2")), (D("103"), D("5"))]


def test_walk_fills_level_by_level_and_stops_when_depth_is_short() -> None:
    w = walk_book(ASKS, D("2.5"), buy=True)
    assert w.filled == D("2.5")
    assert w.notional == D("100") + D("101") * D("1.5")
    assert w.avg_price == (D("100") + D("151.5")) / D("2.5")
    assert w.worst_price == D("101")
    assert w.levels_used == 2
    short = walk_book(ASKS, D("10"), buy=True)
    assert short.filled == D("8")
    assert not short.complete
    assert short.fill_ratio == D("0.8")


def test_limit_price_stops_the_walk() -> None:
    w = walk_book(ASKS, D("5"), D("101"), buy=True)
    assert w.filled == D("3")
    bids = [(D("99"), D("1")), (D("98"), D("1"))]
    assert walk_book(bids, D("2"), D("98.5"), buy=False).filled == D("1")


def test_bad_quantity_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        walk_book(ASKS, D("0"), buy=True)
    with pytest.raises(ValueError, match="reference"):
        slippage_bps(D("1"), D("0"), buy=True)


def test_slippage_is_positive_when_worse_for_us() -> None:
    assert slippage_bps(D("101"), D("100"), buy=True) == D("100")
    assert slippage_bps(D("99"), D("100"), buy=False) == D("100")
    assert slippage_bps(D("99"), D("100"), buy=True) == D("-100")


def test_estimate_includes_taker_fee_and_refuses_unfillable_or_unhealthy() -> None:
    q = VenueQuote("A", ASKS, taker_fee=D("0.0005"), mid=D("99.5"))
    c = estimate_cost(q, D("1"), buy=True)
    assert c.cost_bps == slippage_bps(D("100"), D("99.5"), buy=True) + D("5")
    assert estimate_cost(q, D("100"), buy=True).cost_bps is None
    sick = VenueQuote("B", ASKS, taker_fee=D("0"), mid=D("99.5"), healthy=False)
    assert estimate_cost(sick, D("1"), buy=True).reason == "unhealthy"
    small = VenueQuote("C", ASKS, taker_fee=D("0"), mid=D("99.5"), min_size=D("2"))
    assert "minimum" in estimate_cost(small, D("1"), buy=True).reason


def test_best_venue_prices_all_against_one_reference() -> None:
    cheap = VenueQuote("CHEAP", [(D("100.0"), D("5"))], taker_fee=D("0.0005"), mid=D("99.9"))
    dear = VenueQuote("DEAR", [(D("100.2"), D("5"))], taker_fee=D("0.0002"), mid=D("100.1"))
    thin = VenueQuote("THIN", [(D("99.0"), D("0.1"))], taker_fee=D("0"), mid=D("98.9"))
    best = best_venue([dear, thin, cheap], D("1"), buy=True)
    assert best is not None
    assert best.venue == "CHEAP"  # 100.0 + 5 bps < 100.2 + 2 bps; THIN cannot fill 1
    assert best_venue([thin], D("1"), buy=True) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.integers(1, 1_000)),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 50_000),
)
def test_walk_never_overfills_and_average_is_within_touched_prices(
    levels: list[tuple[int, int]], qty: int
) -> None:
    book = sorted((D(p), D(s)) for p, s in levels)
    w = walk_book(book, D(qty), buy=True)
    assert w.filled <= D(qty)
    assert w.filled == min(D(qty), sum((s for _, s in book), D(0)))
    assert w.avg_price is not None
    assert book[0][0] <= w.avg_price <= (w.worst_price or book[0][0])
