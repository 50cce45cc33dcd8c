"""The margin guard: seed 003's thresholds, the liquidation distance, the riskiest position first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.margin_guard import MarginLevel
from nautilus_ext.strategies.margin_guard import MarginThresholds
from nautilus_ext.strategies.margin_guard import margin_view
from nautilus_ext.strategies.margin_guard import riskiest_first

D = Decimal
DEFAULT = MarginThresholds()


@pytest.mark.parametrize(
    ("equity", "maintenance", "level"),
    [
        ("1200", "250", MarginLevel.OK),  # 0.24
        ("1000", "250", MarginLevel.OK),  # exactly 0.20 is not below it
        ("999", "250", MarginLevel.WARNING),
        ("750", "250", MarginLevel.WARNING),  # exactly 0.15
        ("749", "250", MarginLevel.URGENT),
        ("2000", "2500", MarginLevel.URGENT),  # at or below the venue's own maintenance ratio
    ],
)
def test_levels(equity: str, maintenance: str, level: MarginLevel) -> None:
    view = margin_view("BINANCE", D(equity), D(maintenance), D(5000), DEFAULT)
    assert view.level is level
    assert view.margin_ratio == D(equity) / 5000
    assert view.liquidation_distance == (D(equity) - D(maintenance)) / 5000


def test_no_position_is_ok_and_price_distance_is_the_nearest() -> None:
    assert margin_view("X", D(10), D(0), D(0), DEFAULT).level is MarginLevel.OK
    view = margin_view(
        "X", D(1000), D(100), D(5000), DEFAULT, {"A": D(40000), "B": D(60000)}, {"A": D(50000), "B": D(50000)}
    )
    assert view.price_distance == D("0.2")
    assert "X margin ratio 0.2000" in view.describe()


@pytest.mark.parametrize(("warning", "urgent"), [("0.2", "0.2"), ("0.1", "0.2"), ("0.2", "0")])
def test_bad_thresholds(warning: str, urgent: str) -> None:
    with pytest.raises(InvalidConfig, match="urgent_ratio"):
        MarginThresholds(D(warning), D(urgent))


def test_riskiest_first_orders_by_the_worst_venue_then_size() -> None:
    views = {
        "A": margin_view("A", D(700), D(100), D(5000), DEFAULT),  # 0.14 urgent
        "B": margin_view("B", D(500), D(100), D(5000), DEFAULT),  # 0.10 urgent
        "C": margin_view("C", D(5000), D(100), D(5000), DEFAULT),  # ok
    }
    positions = {
        "p1": (["A", "C"], D(100)),
        "p2": (["B", "C"], D(50)),
        "p3": (["A", "C"], D(300)),
        "p4": (["C"], D(9)),
    }
    ranked = riskiest_first(list(positions), lambda p: positions[p][0], lambda p: positions[p][1], views)
    assert ranked == ["p2", "p3", "p1"]
