"""Pure schedule functions and the slippage guard: exact sums, lot and minimum sizes, errors."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.common import AlgoReport
from nautilus_ext.execution_algos.common import StopReason
from nautilus_ext.execution_algos.common import allocate_units
from nautilus_ext.execution_algos.common import beyond_cap
from nautilus_ext.execution_algos.common import param_decimal
from nautilus_ext.execution_algos.common import param_int
from nautilus_ext.execution_algos.common import round_to_lot
from nautilus_ext.execution_algos.common import slippage_cap_price
from nautilus_ext.execution_algos.limit_then_market import maker_price
from nautilus_ext.execution_algos.pov import pov_child_size
from nautilus_ext.execution_algos.shortfall import ac_holdings
from nautilus_ext.execution_algos.shortfall import ac_kappa
from nautilus_ext.execution_algos.shortfall import is_schedule
from nautilus_ext.execution_algos.sor import VenueBook
from nautilus_ext.execution_algos.sor import sor_split
from nautilus_ext.execution_algos.twap import twap_schedule
from nautilus_ext.execution_algos.vwap import volume_profile
from nautilus_ext.execution_algos.vwap import vwap_schedule

LOTS = st.sampled_from([Decimal("0.001"), Decimal("0.01"), Decimal("1"), Decimal("0.5")])


@settings(max_examples=300, deadline=None)
@given(
    lot=LOTS,
    units=st.integers(min_value=1, max_value=50_000),
    min_lots=st.integers(min_value=1, max_value=20),
    horizon=st.integers(min_value=1, max_value=3_600),
    interval=st.integers(min_value=1, max_value=600),
    size_jitter=st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.5")]),
    time_jitter=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("0.9")]),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_twap_schedule_sums_to_parent_on_the_lot_grid_above_min(
    lot: Decimal,
    units: int,
    min_lots: int,
    horizon: int,
    interval: int,
    size_jitter: Decimal,
    time_jitter: Decimal,
    seed: int,
) -> None:
    total = lot * units
    min_size = lot * min_lots
    kwargs = {"lot": lot, "min_size": min_size, "size_jitter": size_jitter, "time_jitter": time_jitter}
    if interval > horizon:
        with pytest.raises(InvalidOrder):
            twap_schedule(total, horizon_secs=horizon, interval_secs=interval, seed=seed, **kwargs)
        return
    if total < min_size:
        with pytest.raises(InvalidOrder, match="minimum"):
            twap_schedule(total, horizon_secs=horizon, interval_secs=interval, seed=seed, **kwargs)
        return
    slices = twap_schedule(total, horizon_secs=horizon, interval_secs=interval, seed=seed, **kwargs)
    sizes = [s for _, s in slices]
    assert sum(sizes) == total
    assert all(s >= min_size and s % lot == 0 for s in sizes)
    offsets = [t for t, _ in slices]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0
    assert offsets[-1] < horizon * 1_000_000_000
    assert len(slices) <= horizon // interval
    again = twap_schedule(total, horizon_secs=horizon, interval_secs=interval, seed=seed, **kwargs)
    assert again == slices  # seeded: reproducible


def test_twap_schedule_is_even_without_jitter_and_merges_small_slices() -> None:
    lot = Decimal("0.001")
    even = twap_schedule(Decimal("1.000"), horizon_secs=60, interval_secs=10, lot=lot)
    assert [s for _, s in even] == [Decimal("0.167")] * 4 + [Decimal("0.166")] * 2
    assert [t // 1_000_000_000 for t, _ in even] == [0, 10, 20, 30, 40, 50]
    merged = twap_schedule(
        Decimal("0.005"), horizon_secs=60, interval_secs=10, lot=lot, min_size=Decimal("0.002")
    )
    assert sum(s for _, s in merged) == Decimal("0.005")
    assert all(s >= Decimal("0.002") for _, s in merged)


def test_twap_schedule_refuses_off_grid_quantities() -> None:
    with pytest.raises(InvalidOrder, match="lot size"):
        twap_schedule(Decimal("1.0005"), horizon_secs=60, interval_secs=10, lot=Decimal("0.001"))


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10_000),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=60),
    min_units=st.integers(min_value=1, max_value=50),
)
def test_allocate_units_is_exact_and_tradable(total: int, weights: list[int], min_units: int) -> None:
    ws = [Decimal(w) for w in weights]
    if not any(weights):
        with pytest.raises(InvalidConfig):
            allocate_units(total, ws, min_units)
        return
    alloc = allocate_units(total, ws, min_units)
    assert sum(alloc) == total
    assert len(alloc) == len(weights)
    nonzero = [a for a in alloc if a > 0]
    if total >= min_units:
        assert all(a >= min_units for a in nonzero)


@given(
    arrival=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    bps=st.integers(min_value=0, max_value=500),
    buy=st.booleans(),
)
def test_cap_price_is_on_grid_and_never_beyond_the_allowed_fraction(
    arrival: Decimal, bps: int, buy: bool
) -> None:
    tick = Decimal("0.01")
    frac = Decimal(bps) / 10_000
    cap = slippage_cap_price(arrival, frac, buy=buy, tick=tick)
    assert cap % tick == 0
    if buy:
        assert arrival * (1 + frac) - tick < cap <= arrival * (1 + frac)
        assert beyond_cap(cap + tick, cap, buy=True)
        assert not beyond_cap(cap, cap, buy=True)
    else:
        assert arrival * (1 - frac) <= cap < arrival * (1 - frac) + tick
        assert beyond_cap(cap - tick, cap, buy=False)
        assert not beyond_cap(cap, cap, buy=False)


def test_parameters_refuse_floats_and_garbage() -> None:
    assert param_decimal({"x": "0.5"}, "x", None) == Decimal("0.5")
    assert param_decimal({}, "x", Decimal(1)) == Decimal(1)
    with pytest.raises(InvalidOrder, match="decimal string"):
        param_decimal({"x": 0.5}, "x", None)
    with pytest.raises(InvalidOrder, match="not a number"):
        param_decimal({"x": "half"}, "x", None)
    with pytest.raises(InvalidOrder, match="finite"):
        param_decimal({"x": "NaN"}, "x", None)
    assert param_int({"n": "30"}, "n", 1) == 30
    assert param_int({}, "n", 7) == 7
    with pytest.raises(InvalidOrder, match="whole number"):
        param_int({"n": "30.5"}, "n", 1)
    assert round_to_lot(Decimal("0.0019"), Decimal("0.001")) == Decimal("0.001")
    assert round_to_lot(Decimal("-1"), Decimal("0.001")) == 0


def test_report_round_trips_through_json() -> None:
    report = AlgoReport(
        algorithm="TWAP",
        primary_id="O-1",
        parent_quantity=Decimal("1.000"),
        arrival_price=Decimal("60000.5"),
        filled_quantity=Decimal("0.5"),
        stop_reason=StopReason.MAX_SLIPPAGE,
        children=["O-1-E1"],
    )
    assert AlgoReport.from_json(report.to_json()) == report


@given(
    bid_ticks=st.integers(min_value=1, max_value=1_000_000),
    spread_ticks=st.integers(min_value=1, max_value=20),
    inside=st.integers(min_value=1, max_value=10),
    buy=st.booleans(),
)
def test_maker_price_never_crosses_and_joins_or_improves(
    bid_ticks: int, spread_ticks: int, inside: int, buy: bool
) -> None:
    tick = Decimal("0.1")
    bid, ask = bid_ticks * tick, (bid_ticks + spread_ticks) * tick
    price = maker_price(bid, ask, tick, buy=buy, ticks_inside=inside)
    assert bid <= price < ask if buy else bid < price <= ask
    assert price % tick == 0
    expected = ask - inside * tick if buy else bid + inside * tick
    if inside < spread_ticks:
        assert price == expected


def test_maker_price_refuses_a_crossed_book() -> None:
    assert maker_price(Decimal("99.9"), Decimal("100.0"), Decimal("0.1"), buy=True) == Decimal("99.9")
    assert maker_price(Decimal("99.9"), Decimal("100.0"), Decimal("0.1"), buy=False) == Decimal("100.0")
    with pytest.raises(InvalidOrder, match="crossed"):
        maker_price(Decimal("100"), Decimal("100"), Decimal("0.1"), buy=True)


@given(
    observed=st.integers(min_value=0, max_value=100_000),
    pct=st.integers(min_value=1, max_value=100),
    filled=st.integers(min_value=0, max_value=5_000),
    working=st.integers(min_value=0, max_value=500),
    parent=st.integers(min_value=1, max_value=10_000),
    min_lots=st.integers(min_value=1, max_value=10),
    max_lots=st.one_of(st.none(), st.integers(min_value=10, max_value=1_000)),
)
def test_pov_child_never_exceeds_participation_remaining_or_max(
    observed: int, pct: int, filled: int, working: int, parent: int, min_lots: int, max_lots: int | None
) -> None:
    lot = Decimal("0.001")
    remaining = max(Decimal(0), (parent - filled - working) * lot)
    participation = Decimal(pct) / 100
    size = pov_child_size(
        observed_volume=observed * lot,
        participation=participation,
        filled=filled * lot,
        working=working * lot,
        remaining=remaining,
        lot=lot,
        min_child=min_lots * lot,
        max_child=None if max_lots is None else max_lots * lot,
    )
    assert size % lot == 0
    assert size <= remaining
    if size > 0:
        assert size >= min_lots * lot
        assert filled * lot + working * lot + size <= observed * lot * participation
        if max_lots is not None:
            assert size <= max_lots * lot


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=1, max_value=20_000),
    min_lots=st.integers(min_value=1, max_value=10),
    volumes=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=30),
    start_bucket=st.integers(min_value=0, max_value=1439),
)
def test_vwap_schedule_sums_and_follows_the_profile(
    units: int, min_lots: int, volumes: list[int], start_bucket: int
) -> None:
    lot = Decimal("0.001")
    day0 = 1_709_251_200_000_000_000
    ticks = [
        (day0 + ((start_bucket + k) % 1440) * 60 * 10**9, Decimal(v) * lot)
        for k, v in enumerate(volumes)
        if v
    ]
    profile = volume_profile(ticks, 60)
    total, min_size = units * lot, min_lots * lot
    horizon = len(volumes) * 60
    start = day0 + 86_400 * 10**9 + start_bucket * 60 * 10**9  # the next day, same time of day
    if total < min_size:
        with pytest.raises(InvalidOrder):
            vwap_schedule(
                total,
                start_ns=start,
                horizon_secs=horizon,
                bucket_secs=60,
                profile=profile,
                lot=lot,
                min_size=min_size,
            )
        return
    slices, used = vwap_schedule(
        total,
        start_ns=start,
        horizon_secs=horizon,
        bucket_secs=60,
        profile=profile,
        lot=lot,
        min_size=min_size,
    )
    assert used == any(volumes)
    assert sum(s for _, s in slices) == total
    assert all(s >= min_size and s % lot == 0 for _, s in slices)
    if used and units >= min_lots * len(volumes):
        # with enough lots, no zero-volume bucket gets a child
        quiet = {k * 60 * 10**9 for k, v in enumerate(volumes) if v == 0}
        assert not quiet & {t for t, _ in slices}


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=1, max_value=20_000),
    min_lots=st.integers(min_value=1, max_value=10),
    kappa_milli=st.integers(min_value=0, max_value=100),
    horizon=st.integers(min_value=10, max_value=1_800),
    interval=st.integers(min_value=1, max_value=300),
)
def test_is_schedule_sums_exactly_and_front_loads(
    units: int, min_lots: int, kappa_milli: int, horizon: int, interval: int
) -> None:
    lot = Decimal("0.001")
    total, min_size = units * lot, min_lots * lot
    kappa = Decimal(kappa_milli) / 1000
    if interval > horizon or total < min_size:
        with pytest.raises(InvalidOrder):
            is_schedule(
                total, horizon_secs=horizon, interval_secs=interval, kappa=kappa, lot=lot, min_size=min_size
            )
        return
    slices = is_schedule(
        total, horizon_secs=horizon, interval_secs=interval, kappa=kappa, lot=lot, min_size=min_size
    )
    assert sum(s for _, s in slices) == total
    assert all(s >= min_size and s % lot == 0 for _, s in slices)
    held = ac_holdings(kappa, horizon, list(range(0, horizon + 1, interval)))
    assert held[0] == 1
    assert all(a >= b for a, b in itertools.pairwise(held))


def test_is_trajectory_is_twap_at_zero_kappa_and_front_loaded_with_urgency() -> None:
    lot = Decimal("0.001")
    flat = is_schedule(Decimal("1.000"), horizon_secs=300, interval_secs=30, kappa=Decimal(0), lot=lot)
    assert [s for _, s in flat] == [Decimal("0.100")] * 10
    low = ac_kappa(Decimal("0.0001"), Decimal(1), Decimal(100))
    high = ac_kappa(Decimal("0.01"), Decimal(1), Decimal(100))
    assert high == Decimal("0.01")
    low_sizes = [
        s for _, s in is_schedule(Decimal("1.000"), horizon_secs=300, interval_secs=30, kappa=low, lot=lot)
    ]
    high_sizes = [
        s for _, s in is_schedule(Decimal("1.000"), horizon_secs=300, interval_secs=30, kappa=high, lot=lot)
    ]
    assert high_sizes[0] > low_sizes[0] > Decimal("0.100")
    assert high_sizes[-1] < low_sizes[-1] < Decimal("0.100")
    assert high_sizes == sorted(high_sizes, reverse=True)
    with pytest.raises(InvalidOrder):
        ac_kappa(Decimal(-1), Decimal(1), Decimal(1))


LEVELS = st.lists(
    st.tuples(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=5_000)), max_size=8
)


@settings(max_examples=200, deadline=None)
@given(
    a=LEVELS,
    b=LEVELS,
    fee_a=st.sampled_from([Decimal("0"), Decimal("0.001"), Decimal("0.01")]),
    healthy_b=st.booleans(),
    units=st.integers(min_value=0, max_value=20_000),
    buy=st.booleans(),
    cap_ticks=st.one_of(st.none(), st.integers(min_value=1, max_value=200)),
)
def test_sor_split_respects_amount_lots_minimums_depth_health_and_cap(
    a: list[tuple[int, int]],
    b: list[tuple[int, int]],
    fee_a: Decimal,
    healthy_b: bool,
    units: int,
    buy: bool,
    cap_ticks: int | None,
) -> None:
    def book(
        name: str, levels: list[tuple[int, int]], fee: Decimal, lot: str, minimum: str, healthy: bool
    ) -> VenueBook:
        base = Decimal(100)
        prices = [base + Decimal(t) / 10 if buy else base - Decimal(t) / 10 for t, _ in levels]
        return VenueBook(
            venue=name,
            levels=[(p, Decimal(s) / 1000) for p, (_, s) in zip(prices, levels, strict=True)],
            taker_fee=fee,
            lot=Decimal(lot),
            min_size=Decimal(minimum),
            healthy=healthy,
        )

    books = [
        book("A", a, fee_a, "0.001", "0.005", True),
        book("B", b, Decimal("0.001"), "0.01", "0.01", healthy_b),
    ]
    cap = (
        None
        if cap_ticks is None
        else (Decimal(100) + Decimal(cap_ticks) / 10 if buy else Decimal(100) - Decimal(cap_ticks) / 10)
    )
    amount = Decimal(units) / 1000
    slices = sor_split(books, amount, buy=buy, cap=cap)
    assert sum(s.quantity for s in slices) <= amount
    grid = {bk.venue: bk for bk in books}
    for s in slices:
        bk = grid[s.venue]
        assert bk.healthy
        assert s.quantity % bk.lot == 0
        assert s.quantity >= bk.min_size
        if cap is not None:
            assert not beyond_cap(s.limit_price, cap, buy=buy)
        reachable = sum(
            (size for px, size in bk.levels if (px <= s.limit_price if buy else px >= s.limit_price)),
            Decimal(0),
        )
        assert s.quantity <= reachable


def test_sor_split_takes_the_cheapest_fee_inclusive_levels_first() -> None:
    cheap_but_costly_fee = VenueBook(
        "A", [(Decimal("100.0"), Decimal("1"))], Decimal("0.01"), Decimal("0.001"), Decimal("0.001")
    )
    pricier_low_fee = VenueBook(
        "B", [(Decimal("100.5"), Decimal("1"))], Decimal("0.001"), Decimal("0.001"), Decimal("0.001")
    )
    slices = sor_split([cheap_but_costly_fee, pricier_low_fee], Decimal("1.5"), buy=True)
    # 100.0 * 1.01 = 101.0 > 100.5 * 1.001 = 100.6: B first, then A for the rest
    assert [(s.venue, s.quantity) for s in slices] == [("A", Decimal("0.500")), ("B", Decimal("1.000"))]
