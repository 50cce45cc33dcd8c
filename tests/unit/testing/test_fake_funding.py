"""The fake exchange's funding schedule on a bare matching engine (no server)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext_testkit.fake_exchange import MarketSpec
from nautilus_ext_testkit.fake_exchange import MatchingEngine
from nautilus_ext_testkit.fake_exchange import Side

NOW_MS = 1_796_000_123_456
H_MS = 3_600_000


def _engine(**spec: object) -> MatchingEngine:
    market = MarketSpec(
        symbol="BTC-PERP",
        base="BTC",
        quote="USD",
        tick_size=Decimal("0.5"),
        qty_step=Decimal(1),
        min_qty=Decimal(1),
        **spec,  # type: ignore[arg-type]
    )
    engine = MatchingEngine([market], lambda: NOW_MS, {"USER": Decimal(10), "MM": Decimal(10)})
    engine.seed_book(
        "BTC-PERP", bids=[(Decimal(49_999), Decimal(1_000_000))], asks=[(Decimal(50_001), Decimal(1_000_000))]
    )
    return engine


def test_schedule_starts_at_the_next_boundary_and_moves_on_each_settlement() -> None:
    engine = _engine()
    state = engine.funding.state("BTC-PERP")
    assert state.next_funding_ms == (NOW_MS // (8 * H_MS) + 1) * 8 * H_MS
    engine.funding.configure("BTC-PERP", interval_hours=1, predicted_rate=Decimal("0.0003"))
    first = (NOW_MS // H_MS + 1) * H_MS
    assert state.next_funding_ms == first
    engine.funding.settle()
    assert (state.next_funding_ms, state.rate, state.predicted_rate) == (
        first + H_MS,
        Decimal("0.0003"),
        None,
    )
    assert [(p.ts_ms, p.rate) for p in engine.funding.history("BTC-PERP")] == [(first, Decimal("0.0001"))]


def test_seeded_history_ends_one_interval_before_the_next_funding_and_can_skip() -> None:
    engine = _engine()
    engine.funding.seed_history("BTC-PERP", [Decimal(1) / 10_000 * i for i in range(4)], skip=frozenset({1}))
    nxt = engine.funding.state("BTC-PERP").next_funding_ms
    assert [p.ts_ms for p in engine.funding.history("BTC-PERP")] == [
        nxt - 4 * 8 * H_MS,
        nxt - 2 * 8 * H_MS,
        nxt - 8 * H_MS,
    ]
    assert engine.funding.history("BTC-PERP", start_ms=nxt - 2 * 8 * H_MS, end_ms=nxt - 2 * 8 * H_MS)[
        0
    ].rate == Decimal("0.0002")


def test_inverse_funding_is_paid_in_the_coin() -> None:
    engine = _engine(kind="inverse")
    engine.funding.configure("BTC-PERP", rate=Decimal("0.0001"), mark_price=Decimal(50_000))
    engine.submit("USER", "BTC-PERP", Side.SELL, "market", Decimal(10_000))  # short 10,000 USD
    before = engine.balances["USER"]
    [user] = [s for s in engine.funding.settle("BTC-PERP") if s.account == "USER"]
    # a short receives: 10,000 USD / 50,000 = 0.2 BTC of value, times the rate
    assert user.amount == Decimal("0.00002")
    assert engine.balances["USER"] - before == user.amount == user.balance_after - before


def test_unknown_market_is_refused() -> None:
    with pytest.raises(KeyError, match="ETH"):
        _engine().funding.configure("ETH-PERP", rate=Decimal(0))
