"""The unified orders of a roll and its cost report (pure)."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.tradfi.front import RuleContractProvider
from nautilus_ext.tradfi.roll_orders import RollLeg
from nautilus_ext.tradfi.roll_orders import roll_orders
from nautilus_ext.tradfi.roll_orders import roll_report
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.rolls import RollMethod

WHEN = datetime(2024, 9, 12, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def legs() -> tuple[object, object, object]:
    cal = RollCalendar.default()
    listed = RuleContractProvider(cal, date(2024, 9, 1), date(2025, 3, 31)).listed_contracts("ES")
    esu4, esz4, esh5 = sorted(listed, key=lambda c: c.last_trade)
    return esu4, esz4, esh5


def test_a_short_calendar_spread(legs: tuple) -> None:
    esu4, esz4, _ = legs
    close, open_ = roll_orders(
        Decimal(-2), esu4, esz4, RollMethod.CALENDAR_SPREAD, operation_id="r", created_at=WHEN
    )
    assert (close.side, close.amount, str(close.instrument_key)) == (
        "BUY",
        2,
        "CME:FUTURE:SP500-USD-240920@LIN",
    )
    assert (open_.side, open_.amount, str(open_.instrument_key)) == (
        "SELL",
        2,
        "CME:FUTURE:SP500-USD-241220@LIN",
    )
    assert close.expected_deltas == {esu4.key: Decimal(2)}
    assert open_.expected_deltas == {esz4.key: Decimal(-2)}
    assert (close.atomic_group_id, close.sequence_in_group, open_.sequence_in_group) == ("r-spread", 0, 1)
    assert close.metadata is not None
    assert close.metadata["depth_check"] is True
    two = roll_orders(Decimal(1), esu4, esz4, RollMethod.TWO_LEGS, operation_id="t", created_at=WHEN)
    assert [o.atomic_group_id for o in two] == [None, None]


def test_bad_rolls_are_refused(legs: tuple) -> None:
    esu4, esz4, _ = legs
    with pytest.raises(InvalidOrder, match="no position"):
        roll_orders(Decimal(0), esu4, esz4, RollMethod.TWO_LEGS, operation_id="r", created_at=WHEN)
    with pytest.raises(InvalidOrder, match="cannot roll"):
        roll_orders(Decimal(1), esu4, esu4, RollMethod.TWO_LEGS, operation_id="r", created_at=WHEN)


def test_roll_report_prices_the_roll() -> None:
    close = RollLeg(Decimal(-3), Decimal("5609.75"), Decimal("5610.00"), Decimal("6.30"))
    open_ = RollLeg(Decimal(3), Decimal("5662.75"), Decimal("5662.50"), Decimal("6.30"))
    r = roll_report(
        date(2024, 9, 12), ("A", close), ("B", open_), RollMethod.TWO_LEGS, Decimal(50), Decimal(3)
    )
    assert r.spread_paid == Decimal("53.00")
    assert r.cost == Decimal("37.50") + Decimal("37.50") + Decimal("12.60")
    assert r.complete
    short = roll_report(
        date(2024, 9, 12),
        ("A", RollLeg(Decimal(3), Decimal("100.5"), Decimal("100"), Decimal(0))),
        ("B", RollLeg(Decimal(-2), Decimal("99"), Decimal("100"), Decimal(0))),
        RollMethod.TWO_LEGS,
        Decimal(10),
        Decimal(-3),
    )
    assert short.cost == Decimal("15.0") + Decimal("20")  # both legs paid against the mid
    assert not short.complete  # the open leg moved 2 of 3
    unfilled = RollLeg(Decimal(0), None, None, Decimal(0))
    none = roll_report(
        date(2024, 9, 12), ("A", unfilled), ("B", unfilled), RollMethod.TWO_LEGS, Decimal(50), Decimal(3)
    )
    assert (none.cost, none.spread_paid, none.complete) == (None, None, False)
