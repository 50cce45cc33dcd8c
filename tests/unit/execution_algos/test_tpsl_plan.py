"""The TPSL exit plan as pure functions: tranches, trimming, targets, trailing arithmetic, parsing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.execution_algos.tpsl import TPSLExecAlgorithmConfig
from nautilus_ext.execution_algos.tpsl_plan import exit_targets
from nautilus_ext.execution_algos.tpsl_plan import parse_exit_plan
from nautilus_ext.execution_algos.tpsl_plan import protected_quantity
from nautilus_ext.execution_algos.tpsl_plan import split_tranches
from nautilus_ext.execution_algos.tpsl_plan import trail_trigger
from nautilus_ext.execution_algos.tpsl_plan import trim_to_cap

LOTS = st.sampled_from([Decimal("0.001"), Decimal("0.01"), Decimal("1"), Decimal("0.5")])
TICK = Decimal("0.1")


@st.composite
def fractions(draw: st.DrawFn) -> list[Decimal]:
    weights = draw(st.lists(st.integers(1, 100), min_size=1, max_size=5))
    total = sum(weights)
    out = [Decimal(w) / Decimal(total) for w in weights[:-1]]
    out = [f.quantize(Decimal("0.0001")) for f in out]
    last = Decimal(1) - sum(out, Decimal(0))
    if last <= 0:
        return [Decimal(1)]
    return [*out, last]


@given(
    units=st.integers(0, 100_000),
    lot=LOTS,
    min_lots=st.integers(1, 50),
    fracs=fractions(),
    dust=st.integers(0, 9),
)
def test_tranches_sum_to_the_position_in_whole_lots_above_the_minimum(
    units: int, lot: Decimal, min_lots: int, fracs: list[Decimal], dust: int
) -> None:
    min_size = lot * min_lots
    quantity = units * lot + lot * dust / 10  # an off-grid quantity exits only its whole lots
    sizes = split_tranches(quantity, fracs, lot, min_size)
    assert len(sizes) == len(fracs)
    if units < min_lots:
        assert sizes == [0] * len(fracs)
        return
    assert sum(sizes) == units * lot
    for size in sizes:
        assert size == 0 or (size >= min_size and size % lot == 0)


def test_even_split_and_merge_of_a_tranche_below_the_minimum() -> None:
    assert split_tranches(Decimal("1.000"), [Decimal("0.5")] * 2, Decimal("0.001")) == [
        Decimal("0.5"),
        Decimal("0.5"),
    ]
    # 0.1 lot tranche below a 0.2 minimum is merged into the next one
    assert split_tranches(
        Decimal("1.0"), [Decimal("0.1"), Decimal("0.9")], Decimal("0.1"), Decimal("0.2")
    ) == [Decimal(0), Decimal("1.0")]


@given(
    sizes=st.lists(st.integers(0, 1000), min_size=1, max_size=5),
    cap_units=st.integers(-5, 3000),
    lot=LOTS,
    min_lots=st.integers(1, 20),
)
def test_trim_never_exceeds_the_cap_and_keeps_the_nearest_tranches(
    sizes: list[int], cap_units: int, lot: Decimal, min_lots: int
) -> None:
    before = [s * lot for s in sizes]
    cap = cap_units * lot
    after = trim_to_cap(before, cap, lot, lot * min_lots)
    assert sum(after) <= max(cap, Decimal(0))
    assert all(Decimal(0) <= a <= b for a, b in zip(after, before, strict=True))
    if sum(before) <= cap:
        assert after == before
    # trimmed farthest first: once a tranche was cut, every farther one is zero
    cut = [i for i, (a, b) in enumerate(zip(after, before, strict=True)) if a < b]
    if cut:
        assert all(a == 0 for a in after[cut[0] + 1 :])
    for a in after:
        assert a == 0 or (a >= min(lot * min_lots, a) and a % lot == 0)


@given(
    entry_units=st.integers(0, 5000),
    filled_units=st.lists(st.integers(0, 3000), min_size=2, max_size=2),
    live=st.lists(st.booleans(), min_size=2, max_size=2),
    gap_units=st.integers(0, 5000),
)
def test_exit_targets_never_exceed_the_protected_quantity(
    entry_units: int, filled_units: list[int], live: list[bool], gap_units: int
) -> None:
    lot = Decimal("0.001")
    entry = entry_units * lot
    tp_filled = [min(u * lot, entry / 2) for u in filled_units]
    protected = protected_quantity(entry, sum(tp_filled, Decimal(0)), gap_units * lot, lot)
    targets = exit_targets(
        entry_filled=entry,
        tp_filled=tp_filled,
        tp_live=live,
        fractions=[Decimal("0.5"), Decimal("0.5")],
        protected=protected,
        lot=lot,
    )
    assert protected >= 0
    assert sum(targets) <= protected
    assert all(t == 0 for t, ok in zip(targets, live, strict=True) if not ok)


def test_protected_quantity_subtracts_exits_and_the_gap() -> None:
    lot = Decimal("0.001")
    assert protected_quantity(Decimal("1"), Decimal("0.5"), Decimal(0), lot) == Decimal("0.5")
    assert protected_quantity(Decimal("1"), Decimal("0"), Decimal("0.4"), lot) == Decimal("0.6")
    assert protected_quantity(Decimal("1"), Decimal("0.7"), Decimal("0.4"), lot) == 0


@given(
    start=st.integers(50_000, 70_000),
    moves=st.lists(st.integers(-500, 500), min_size=1, max_size=40),
    offset_ticks=st.integers(1, 1000),
    long=st.booleans(),
)
def test_trailing_stop_never_loosens(start: int, moves: list[int], offset_ticks: int, long: bool) -> None:
    offset = offset_ticks * TICK
    market = Decimal(start)
    trigger: Decimal | None = None
    for move in moves:
        market += move * TICK
        new = trail_trigger(trigger, market, offset, TICK, long=long)
        if trigger is not None:
            assert new >= trigger if long else new <= trigger
        # it moved only to a level the offset away from the market (else it kept its place)
        away = (market - new >= offset) if long else (new - market >= offset)
        assert new == trigger or away
        assert new % TICK == 0
        trigger = new


def test_trailing_arithmetic_rounds_away_from_the_market() -> None:
    tick = Decimal("0.5")
    assert trail_trigger(None, Decimal("100.2"), Decimal("1"), tick, long=True) == Decimal("99.0")
    assert trail_trigger(None, Decimal("100.2"), Decimal("1"), tick, long=False) == Decimal("101.5")
    assert trail_trigger(Decimal("99.5"), Decimal("100.2"), Decimal("1"), tick, long=True) == Decimal("99.5")


def test_plan_from_the_order_fields_and_a_ladder() -> None:
    plan = parse_exit_plan(
        {"take_profit_price": "110", "stop_loss_price": "90", "take_profit_prices": "110,120,130"},
        buy=True,
        tick=TICK,
    )
    assert [p for p, _ in plan.take_profits] == [Decimal(110), Decimal(120), Decimal(130)]
    assert sum(plan.fractions) == 1
    assert plan.stop_price == Decimal(90)
    assert plan.trailing_offset is None
    short = parse_exit_plan({"take_profit_price": "90", "trailing_offset": "2.5"}, buy=False, tick=TICK)
    assert short.has_stop
    assert short.stop_price is None
    assert short.trailing_offset == Decimal("2.5")
    assert parse_exit_plan({"stop_loss_price": "90"}, buy=True, tick=TICK).take_profits == ()


@pytest.mark.parametrize(
    ("params", "buy", "entry", "needle"),
    [
        ({}, True, None, "needs a take_profit_price"),
        ({"take_profit_price": "110.05"}, True, None, "tick grid"),
        ({"take_profit_price": "110", "take_profit_prices": "105,120"}, True, None, "must start at"),
        ({"take_profit_prices": "120,110"}, True, None, "strictly rise"),
        ({"take_profit_prices": "90,95"}, False, None, "strictly fall"),
        ({"take_profit_prices": "110,120", "take_profit_fractions": "0.5"}, True, None, "2 take-profit"),
        ({"take_profit_prices": "110,120", "take_profit_fractions": "0.5,0.6"}, True, None, "sum to 1"),
        ({"take_profit_prices": "110,120", "take_profit_fractions": "1,0"}, True, None, "positive"),
        ({"take_profit_price": "110", "take_profit_fractions": "0.5,x"}, True, None, "not a number"),
        ({"take_profit_price": "110", "stop_loss_price": "111"}, True, None, "below TP1"),
        ({"take_profit_price": "90", "stop_loss_price": "89"}, False, None, "above TP1"),
        ({"stop_loss_price": "101"}, True, Decimal(100), "below the entry price"),
        ({"take_profit_price": "100"}, True, Decimal(100), "above the entry price"),
        ({"take_profit_price": "101"}, False, Decimal(100), "below the entry price"),
        ({"stop_loss_price": "90", "trailing_offset": "0"}, True, None, "trailing_offset"),
        ({"stop_loss_price": "90", "trailing_offset": 1.5}, True, None, "decimal string"),
    ],
)
def test_each_plan_rule_can_fail(
    params: dict[str, object], buy: bool, entry: Decimal | None, needle: str
) -> None:
    with pytest.raises(InvalidOrder) as err:
        parse_exit_plan(params, buy=buy, tick=TICK, entry_price=entry)
    assert needle in err.value.message
    assert err.value.code == InvalidOrder.code


def test_config_round_trips_and_each_rule_can_fail() -> None:
    config = TPSLExecAlgorithmConfig(take_profit_fractions="0.25,0.75", trailing_offset="5")
    assert TPSLExecAlgorithmConfig.parse(config.json()) == config
    for bad in (
        {"take_profit_fractions": "0.5,0.6"},
        {"trailing_offset": "-1"},
        {"trailing_offset": "abc"},
        {"stop_trigger_type": "SOMETIMES"},
        {"slippage_action": "HOPE"},
    ):
        with pytest.raises(InvalidConfig):
            TPSLExecAlgorithmConfig(**bad)  # type: ignore[arg-type]
