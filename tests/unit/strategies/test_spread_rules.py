"""The perp/perp spread strategy's pure decisions (gap detector, maker price, unwind, budget)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.spread_rules import Book
from nautilus_ext.strategies.spread_rules import Direction
from nautilus_ext.strategies.spread_rules import RepriceBudget
from nautilus_ext.strategies.spread_rules import SpreadCosts
from nautilus_ext.strategies.spread_rules import UnwindReason
from nautilus_ext.strategies.spread_rules import UnwindRules
from nautilus_ext.strategies.spread_rules import inventory_room
from nautilus_ext.strategies.spread_rules import latency_allowance
from nautilus_ext.strategies.spread_rules import maker_price
from nautilus_ext.strategies.spread_rules import mid_spread
from nautilus_ext.strategies.spread_rules import needs_reprice
from nautilus_ext.strategies.spread_rules import taker_opportunity
from nautilus_ext.strategies.spread_rules import unwind_reason
from nautilus_ext.strategies.spread_rules import vwap

D = Decimal
COSTS = SpreadCosts(
    taker_fee_a=D("0.00045"),
    taker_fee_b=D("0.00055"),
    maker_fee_a=D("0.00015"),
    latency_allowance=D("0.0001"),
    min_edge=D("0.0002"),
)
ZERO_COSTS = SpreadCosts(D(0), D(0), D(0), D(0), D(0))


def book(
    mid: str,
    half: str = "0.5",
    sizes: tuple[str, ...] = ("1", "2"),
    step: str = "0.5",
    lot: str = "0.001",
    usd: str = "1",
) -> Book:
    m, h, s = D(mid), D(half), D(step)
    return Book(
        bids=[(m - h - s * i, D(q)) for i, q in enumerate(sizes)],
        asks=[(m + h + s * i, D(q)) for i, q in enumerate(sizes)],
        mid=m,
        lot=D(lot),
        usd=D(usd),
    )


def test_vwap_walks_levels_and_refuses_what_the_book_cannot_fill() -> None:
    levels = [(D(100), D(1)), (D(101), D(1))]
    assert vwap(levels, D(1)) == D(100)
    assert vwap(levels, D(2)) == D("100.5")
    assert vwap(levels, D(3)) is None
    assert vwap(levels, D(0)) is None


def test_a_gap_net_of_fees_buys_the_cheap_book_and_sells_the_rich_one() -> None:
    a, b = book("60000"), book("60100")  # B 16.7 bp rich
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.001"), cap=D(10))
    assert found is not None
    assert found.direction is Direction.BUY_A_SELL_B
    assert found.quantity == D(3)  # both books' whole depth lies within 10 bp
    assert found.buy_price == (D("60000.5") + 2 * D("60001")) / 3
    expected = (
        (found.sell_price - found.buy_price) / found.buy_price - D("0.00045") - D("0.00055") - D("0.0001")
    )
    assert found.edge == expected
    # the other way round
    found = taker_opportunity(b, a, costs=COSTS, max_slippage=D("0.001"), cap=D(10))
    assert found is not None
    assert found.direction is Direction.SELL_A_BUY_B


def test_fees_and_latency_eat_a_small_gap() -> None:
    a, b = book("60000"), book("60005")  # 0.8 bp: below 10 bp of fees
    assert taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.001"), cap=D(10)) is None
    assert taker_opportunity(a, b, costs=ZERO_COSTS, max_slippage=D("0.001"), cap=D(10)) is not None


def test_size_is_capped_by_depth_within_slippage_and_by_the_cap_on_the_coarser_lot() -> None:
    a, b = book("60000", lot="0.00001"), book("60100")
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.001"), cap=D("0.12345"))
    assert found is not None
    assert found.quantity == D("0.123")
    # a band too narrow for the second level: only the touch
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.00001"), cap=D(10))
    assert found is not None
    assert found.quantity == D(1)
    assert taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.001"), cap=D(0)) is None


def test_a_deep_level_that_would_eat_the_edge_is_left_out() -> None:
    # B's second bid is far below: selling into it kills the edge, the size stops at the touch
    a = book("60000", sizes=("1", "1"))
    b = Book(
        bids=[(D(60100), D(1)), (D(59990), D(5))], asks=[(D(60101), D(1))], mid=D("60100.5"), lot=D("0.001")
    )
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.01"), cap=D(10))
    assert found is not None
    assert found.quantity == D(1)


def test_quotes_in_different_stablecoins_are_compared_in_usd() -> None:
    # B's USDT at 0.995: its 60100 is 59799.5 USD, below A's 60000 (1:1 it would be above)
    a, b = book("60000"), book("60100", usd="0.995")
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D("0.001"), cap=D(10))
    assert found is not None
    assert found.direction is Direction.SELL_A_BUY_B
    par = taker_opportunity(a, book("60100"), costs=COSTS, max_slippage=D("0.001"), cap=D(10))
    assert par is not None
    assert par.direction is Direction.BUY_A_SELL_B


@settings(max_examples=200, deadline=None)
@given(
    a_mid=st.integers(50_000, 70_000),
    gap=st.integers(-300, 300),
    cap=st.decimals(min_value=D("0.001"), max_value=D(5), places=3),
    slip_bps=st.integers(0, 50),
)
def test_any_opportunity_clears_its_costs_and_fits_books_and_cap(
    a_mid: int, gap: int, cap: Decimal, slip_bps: int
) -> None:
    a, b = book(str(a_mid)), book(str(a_mid + gap))
    found = taker_opportunity(a, b, costs=COSTS, max_slippage=D(slip_bps) / 10_000, cap=cap)
    if found is None:
        return
    assert found.edge >= COSTS.min_edge
    assert 0 < found.quantity <= cap
    assert found.quantity % D("0.001") == 0
    buy, sell = (a, b) if found.direction is Direction.BUY_A_SELL_B else (b, a)
    assert vwap(buy.asks, found.quantity) == found.buy_price
    assert vwap(sell.bids, found.quantity) == found.sell_price
    assert found.sell_price > found.buy_price


def test_mid_spread_and_unwind_reasons() -> None:
    assert mid_spread(Direction.BUY_A_SELL_B, D(100), D(101), D(1), D(1)) == D("0.01")
    assert mid_spread(Direction.SELL_A_BUY_B, D(100), D(101), D(1), D(1)) == D("-0.01")
    rules = UnwindRules(exit_spread=D(0), max_hold_ns=10)
    kw = {"opened_ns": 0, "rules": rules}
    assert unwind_reason(D("0.001"), now_ns=1, healthy=True, **kw) is None
    assert unwind_reason(D("0"), now_ns=1, healthy=True, **kw) is UnwindReason.SPREAD_CLOSED
    assert unwind_reason(D("0.001"), now_ns=10, healthy=True, **kw) is UnwindReason.MAX_HOLD
    assert unwind_reason(D("0.001"), now_ns=1, healthy=False, **kw) is UnwindReason.VENUE_UNHEALTHY
    assert unwind_reason(None, now_ns=1, healthy=True, **kw) is UnwindReason.VENUE_UNHEALTHY
    with pytest.raises(InvalidConfig, match="max_hold_ns"):
        UnwindRules(max_hold_ns=0)


def test_maker_bid_pays_against_the_hedge_after_all_costs_and_never_crosses() -> None:
    b = book("60000")  # bids 59999.5 (1), 59999 (2)
    price = maker_price(True, D("0.5"), D(59990), D(60010), D(1), b, costs=COSTS, max_slippage=D("0.001"))
    bound = D("59999.5") * (1 - D("0.00055") - D("0.0001")) / (1 + D("0.00015") + D("0.0002"))
    assert price == D(int(bound))
    # the bound is above A's ask: the bid steps back inside A's book
    price = maker_price(True, D("0.5"), D(59000), D(59100), D(1), b, costs=COSTS, max_slippage=D("0.001"))
    assert price == D(59099)
    # an offer on A
    price = maker_price(False, D("0.5"), D(59990), D(60010), D(1), b, costs=COSTS, max_slippage=D("0.001"))
    low = D("60000.5") * (1 + D("0.00055") + D("0.0001")) / (1 - D("0.00015") - D("0.0002"))
    assert price is not None
    assert price >= low
    assert price - low < 1
    # more than B's book holds, or a hedge beyond the slippage band: no price
    assert maker_price(True, D(10), D(1), D(2), D(1), b, costs=COSTS, max_slippage=D("0.001")) is None
    assert maker_price(True, D(3), D(1), D(2), D(1), b, costs=COSTS, max_slippage=D("0.000001")) is None


@settings(max_examples=200, deadline=None)
@given(
    b_mid=st.integers(50_000, 70_000),
    a_off=st.integers(-200, 200),
    qty=st.decimals(min_value=D("0.001"), max_value=D(3), places=3),
    buy=st.booleans(),
)
def test_a_maker_fill_at_the_quoted_price_hedged_at_the_vwap_keeps_the_edge(
    b_mid: int, a_off: int, qty: Decimal, buy: bool
) -> None:
    b = book(str(b_mid))
    a_bid, a_ask = D(b_mid + a_off - 5), D(b_mid + a_off + 5)
    price = maker_price(buy, qty, a_bid, a_ask, D("0.1"), b, costs=COSTS, max_slippage=D("0.001"))
    if price is None:
        return
    hedge = vwap(b.bids if buy else b.asks, qty)
    assert hedge is not None
    if buy:
        assert price < a_ask
        pnl = hedge * (1 - COSTS.taker_fee_b) - price * (1 + COSTS.maker_fee_a)
    else:
        assert price > a_bid
        pnl = price * (1 - COSTS.maker_fee_a) - hedge * (1 + COSTS.taker_fee_b)
    assert pnl >= price * COSTS.min_edge - hedge * COSTS.latency_allowance * 2 - D("1e-9")


def test_reprice_only_when_it_matters() -> None:
    assert needs_reprice(D(100), None, buy_on_a=True, tolerance=D(5))
    assert needs_reprice(D(100), D(99), buy_on_a=True, tolerance=D(5))  # bid now too high: loses
    assert not needs_reprice(D(100), D(103), buy_on_a=True, tolerance=D(5))  # better, within tolerance
    assert needs_reprice(D(100), D(106), buy_on_a=True, tolerance=D(5))
    assert needs_reprice(D(100), D(101), buy_on_a=False, tolerance=D(5))  # offer now too low
    assert not needs_reprice(D(100), D(98), buy_on_a=False, tolerance=D(5))


def test_the_reprice_budget_leaves_a_protective_cancel_below_the_gate_limit() -> None:
    budget = RepriceBudget(3, 60)
    assert budget.may_place(0)
    budget.record_cancel(0)
    assert budget.may_place(1)
    budget.record_cancel(1)
    assert not budget.may_place(2)  # 2 used of 3: the third is kept for a protective cancel
    assert not budget.may_reprice(2)
    assert budget.may_place(61)  # the first slid out of the window
    with pytest.raises(InvalidConfig):
        RepriceBudget(1, 60)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), max_size=60))
def test_a_strategy_following_the_budget_never_reaches_its_limit(actions: list[bool]) -> None:
    # each step: place when allowed, then cancel (protective cancels always allowed): the
    # cancels in any window never reach the limit, so the gate's flip-flop SAFE never fires
    budget = RepriceBudget(4, 10)
    resting = False
    for now, cancel in enumerate(actions):
        if not resting and budget.may_place(now):
            resting = True
        elif resting and cancel:
            budget.record_cancel(now)
            resting = False
        assert budget.used(now) < 4


def test_inventory_room_and_latency_allowance() -> None:
    assert inventory_room(D("0.3"), buy_on_a=True, max_inventory=D("0.5")) == D("0.2")
    assert inventory_room(D("0.3"), buy_on_a=False, max_inventory=D("0.5")) == D("0.8")
    assert inventory_room(D("0.7"), buy_on_a=True, max_inventory=D("0.5")) == 0
    assert latency_allowance(200, D(5)) == D("0.0001")
    with pytest.raises(InvalidConfig):
        latency_allowance(-1, D(5))
    with pytest.raises(InvalidConfig, match="min_edge"):
        SpreadCosts(D(0), D(0), D(0), D(0), D(-1))
