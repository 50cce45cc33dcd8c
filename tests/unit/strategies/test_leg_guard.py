"""The leg guard: venue messages act at once, snapshot shrinks after confirmation, once each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_ext.strategies.leg_guard import LegGuard
from nautilus_ext.strategies.leg_guard import ReductionKind
from nautilus_ext.strategies.leg_guard import shrank
from nautilus_ext.strategies.leg_guard import unwind_plan

LOT = Decimal("0.001")
A, B = "BTCUSDT-LINEAR.BYBIT", "BTCUSDT-PERP.BINANCE"
MS = 1_000_000


def _guard(confirm_ms: int = 1000) -> LegGuard:
    return LegGuard(lambda _: LOT, confirm_ns=confirm_ms * MS, message_window_ns=60_000 * MS)


def test_a_venue_message_on_a_held_leg_is_reported_at_once_and_only_once() -> None:
    guard = _guard()
    first = guard.on_venue_message(A, ReductionKind.ADL, Decimal("0.04"), Decimal("-0.1"), 5)
    assert first is not None
    assert (first.kind, first.expected, first.observed, first.lost) == (
        ReductionKind.ADL,
        Decimal("-0.1"),
        Decimal("-0.06"),
        Decimal("-0.04"),
    )
    assert guard.on_venue_message(A, ReductionKind.ADL, Decimal("0.04"), Decimal("-0.1"), 6) is None
    assert guard.tripped == {A}
    guard.reset(A)
    assert guard.tripped == frozenset()


def test_a_message_without_quantity_takes_the_whole_leg_and_one_on_a_flat_leg_is_ignored() -> None:
    guard = _guard()
    whole = guard.on_venue_message(A, ReductionKind.LIQUIDATION, Decimal(0), Decimal("0.2"), 1)
    assert whole is not None
    assert whole.observed == 0
    assert guard.on_venue_message(B, ReductionKind.ADL, Decimal(1), Decimal(0), 1) is None


def test_a_snapshot_shrink_must_persist_and_is_manual_without_a_message() -> None:
    guard = _guard(confirm_ms=1000)
    expected = {A: Decimal("-0.1"), B: Decimal("0.1")}
    observed = {A: Decimal("-0.05"), B: Decimal("0.1")}
    assert guard.on_venue_positions(observed, expected, set(), 0) == []
    assert guard.on_venue_positions(observed, expected, set(), 999 * MS) == []
    (found,) = guard.on_venue_positions(observed, expected, set(), 1000 * MS)
    assert (found.instrument_id, found.kind, found.source) == (A, ReductionKind.MANUAL, "position_snapshot")
    # reported once
    assert guard.on_venue_positions(observed, expected, set(), 5000 * MS) == []


def test_a_shrink_that_recovers_or_is_busy_restarts_the_wait() -> None:
    guard = _guard(confirm_ms=1000)
    expected = {A: Decimal("-0.1")}
    guard.on_venue_positions({A: Decimal(0)}, expected, set(), 0)
    guard.on_venue_positions({A: Decimal("-0.1")}, expected, set(), 500 * MS)  # snapshot lag only
    assert guard.on_venue_positions({A: Decimal(0)}, expected, set(), 1200 * MS) == []
    assert guard.on_venue_positions({A: Decimal(0)}, expected, {A}, 3000 * MS) == []  # our orders in flight
    assert guard.on_venue_positions({A: Decimal(0)}, expected, set(), 3100 * MS) == []
    assert guard.on_venue_positions({A: Decimal(0)}, expected, set(), 4100 * MS) != []


def test_a_recent_venue_message_classifies_a_snapshot_shrink_at_once() -> None:
    guard = _guard()
    # the message came for an instrument not (yet) held: remembered for the snapshot
    assert guard.on_venue_message(A, ReductionKind.LIQUIDATION, Decimal("0.1"), Decimal(0), 0) is None
    (found,) = guard.on_venue_positions({A: Decimal(0)}, {A: Decimal("0.1")}, set(), 10 * MS)
    assert found.kind is ReductionKind.LIQUIDATION


@pytest.mark.parametrize(
    ("expected", "observed", "result"),
    [
        ("0.1", "0.1", False),
        ("0.1", "0.1005", False),  # grew: not a reduction
        ("0.1", "0.0995", False),  # less than a lot
        ("0.1", "0.099", True),
        ("-0.1", "0", True),
        ("-0.1", "0.05", True),  # flipped through zero
        ("0", "-1", False),
    ],
)
def test_shrank(expected: str, observed: str, result: bool) -> None:
    assert shrank(Decimal(expected), Decimal(observed), LOT) is result


def test_the_unwind_plan_closes_every_leg_from_the_best_known_quantities() -> None:
    plan = unwind_plan([(A, Decimal("-0.1")), (B, Decimal("0.1"))], {A: Decimal("-0.0405")}, lambda _: LOT)
    assert plan == [(A, "BUY", Decimal("0.040")), (B, "SELL", Decimal("0.1"))]
    assert unwind_plan([(A, Decimal("0.0004"))], {}, lambda _: LOT) == []


@given(
    held=st.decimals(min_value=Decimal("-5"), max_value=Decimal("5"), places=3),
    venue=st.decimals(min_value=Decimal("-5"), max_value=Decimal("5"), places=3),
)
def test_after_the_plan_fills_every_leg_is_flat_within_a_lot(held: Decimal, venue: Decimal) -> None:
    plan = unwind_plan([(A, held), (B, -held)], {A: venue}, lambda _: LOT)
    left = {A: venue, B: -held}
    for iid, side, qty in plan:
        left[iid] += qty if side == "BUY" else -qty
    assert all(abs(q) < LOT for q in left.values())


def test_negative_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="confirm_ns"):
        LegGuard(lambda _: LOT, confirm_ns=-1, message_window_ns=0)
