"""The opportunity finder: per-hour divergence across intervals, costs, break-even, filters, ranking."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding import FundingRateSample
from nautilus_ext.funding.finder import Fees
from nautilus_ext.funding.finder import OpportunityFilter
from nautilus_ext.funding.finder import find_opportunities

T0 = 1_735_689_600 * 1_000_000_000
HOUR = 3_600 * 1_000_000_000
FEES = {
    "BINANCE": Fees(Decimal("0.0002"), Decimal("0.0005")),
    "BYBIT": Fees(Decimal("0.0002"), Decimal("0.00055")),
    "HYPERLIQUID": Fees(Decimal("0.0001"), Decimal("0.00035")),
}
PRICES = {"USDT": Decimal(1), "USDC": Decimal("1.0002")}


def _s(
    venue: str, rate: str, interval: int, quote: str = "USDT", base: str = "BTC", **kw: object
) -> FundingRateSample:
    fields: dict[str, object] = {
        "venue": venue,
        "instrument_key": f"{venue}:PERPETUAL:{base}-{quote}@LIN",
        "base": base,
        "quote": quote,
        "rate": Decimal(rate),
        "interval_hours": Decimal(interval),
        "ts_ns": T0,
        "mark_price": Decimal(50_000),
        "open_interest": Decimal(1_000),
        "volume_24h": Decimal(500_000_000),
    }
    fields.update(kw)
    return FundingRateSample(**fields)  # type: ignore[arg-type]


SAMPLES = [
    _s("BINANCE", "0.0008", 8),  # 0.0001 / h
    _s("BYBIT", "-0.00008", 8),  # -0.00001 / h
    _s("HYPERLIQUID", "0.00002", 1, quote="USDC"),  # 0.00002 / h
]


def test_ranks_pairs_by_net_apr_with_exact_costs() -> None:
    result = find_opportunities(SAMPLES, FEES, OpportunityFilter(), quote_prices=PRICES)
    pairs = [(o.long.venue, o.short.venue) for o in result.opportunities]
    assert pairs == [("BYBIT", "BINANCE"), ("HYPERLIQUID", "BINANCE"), ("BYBIT", "HYPERLIQUID")]
    best = result.opportunities[0]
    assert best.divergence_per_hour == Decimal("0.00011")
    assert best.divergence_apr == Decimal("0.9636")
    assert best.fee_cost == Decimal("0.0021")  # entry + exit, taker, both legs
    assert best.basis_cost == 0
    assert best.depth_cost is None
    assert best.break_even_hours == Decimal("0.0021") / Decimal("0.00011")
    assert best.net_return == Decimal("0.00011") * 168 - Decimal("0.0021")
    assert best.net_apr == (Decimal("0.00011") * 168 - Decimal("0.0021")) / 168 * 8760


def test_a_usdc_leg_against_a_usdt_leg_pays_the_stablecoin_basis() -> None:
    result = find_opportunities(SAMPLES, FEES, OpportunityFilter(), quote_prices=PRICES)
    cross = next(o for o in result.opportunities if o.long.venue == "HYPERLIQUID")
    assert cross.basis_cost == abs(Decimal("1.0002") / Decimal(1) - 1)
    without_price = find_opportunities(SAMPLES, FEES, OpportunityFilter(), quote_prices={"USDT": Decimal(1)})
    assert {(o.long.venue, o.short.venue) for o in without_price.opportunities} == {("BYBIT", "BINANCE")}
    assert any("no USD price for quote USDC" in why for *_, why in without_price.skipped)


class _Books:
    def __init__(
        self, books: dict[str, tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]]
    ) -> None:
        self._books = books

    def levels(
        self, instrument_key: str, *, buy: bool
    ) -> tuple[Sequence[tuple[Decimal, Decimal]], Decimal | None]:
        if instrument_key not in self._books:
            return [], None
        asks, bids = self._books[instrument_key]
        return (asks if buy else bids), (asks[0][0] + bids[0][0]) / 2


def test_depth_cost_walks_the_intended_size_at_entry_and_exit() -> None:
    book = (
        [(Decimal(50_010), Decimal(1)), (Decimal(50_020), Decimal(5))],
        [(Decimal(49_990), Decimal(1)), (Decimal(49_980), Decimal(5))],
    )
    books = _Books({"BYBIT:PERPETUAL:BTC-USDT@LIN": book, "BINANCE:PERPETUAL:BTC-USDT@LIN": book})
    criteria = OpportunityFilter(
        size_usd=Decimal(100_000), bases=frozenset({"BTC"}), venues=frozenset({"BYBIT", "BINANCE"})
    )
    (best,) = find_opportunities(SAMPLES, FEES, criteria, quote_prices=PRICES, books=books).opportunities
    # 2 BTC: buy avg 50015 (15 over the 50000 mid), sell avg 49985: 0.0003 each way, per leg
    assert best.long.depth_cost == Decimal("0.0006")
    assert best.short.depth_cost == Decimal("0.0006")
    assert best.total_cost == Decimal("0.0021") + Decimal("0.0012")
    too_big = OpportunityFilter(
        size_usd=Decimal(1_000_000), require_depth=True, venues=frozenset({"BYBIT", "BINANCE"})
    )
    result = find_opportunities(SAMPLES, FEES, too_big, quote_prices=PRICES, books=books)
    assert result.opportunities == []
    assert ("BTC", "BYBIT", "BINANCE", "no book deep enough for the size") in result.skipped


def test_filters_and_limits() -> None:
    low_oi = [*SAMPLES[:2], _s("HYPERLIQUID", "0.00002", 1, quote="USDC", open_interest=Decimal("0.1"))]
    criteria = OpportunityFilter(min_open_interest_usd=Decimal(1_000_000))
    result = find_opportunities(low_oi, FEES, criteria, quote_prices=PRICES)
    assert {o.long.venue for o in result.opportunities} == {"BYBIT"}
    assert ("BTC", "HYPERLIQUID", "", "open interest below minimum") in result.skipped
    assert (
        len(find_opportunities(SAMPLES, FEES, OpportunityFilter(limit=1), quote_prices=PRICES).opportunities)
        == 1
    )
    strict = OpportunityFilter(max_break_even_hours=Decimal(20), min_net_apr=Decimal("0.5"))
    assert [
        (o.long.venue, o.short.venue)
        for o in find_opportunities(SAMPLES, FEES, strict, quote_prices=PRICES).opportunities
    ] == [("BYBIT", "BINANCE")]
    stale = [_s("BINANCE", "0.0008", 8, ts_ns=T0 - 5 * HOUR), *SAMPLES[1:]]
    fresh_only = find_opportunities(
        stale, FEES, OpportunityFilter(max_age_hours=Decimal(2)), quote_prices=PRICES, now_ns=T0
    )
    assert all("BINANCE" not in (o.long.venue, o.short.venue) for o in fresh_only.opportunities)
    no_fees = find_opportunities(
        SAMPLES, {"BINANCE": FEES["BINANCE"]}, OpportunityFilter(), quote_prices=PRICES
    )
    assert no_fees.opportunities == []
    assert any(why.startswith("no fees for") for *_, why in no_fees.skipped)


def test_the_newest_sample_per_instrument_wins() -> None:
    old = _s("BINANCE", "-0.0008", 8, ts_ns=T0 - HOUR)
    result = find_opportunities([old, *SAMPLES], FEES, OpportunityFilter(), quote_prices=PRICES)
    assert result.opportunities[0].short.sample.rate == Decimal("0.0008")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size_usd": Decimal(0)},
        {"holding_hours": Decimal(-1)},
        {"limit": 0},
        {"min_open_interest_usd": Decimal(-1)},
    ],
)
def test_each_filter_rule_can_fail(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidConfig):
        OpportunityFilter(**kwargs)  # type: ignore[arg-type]
