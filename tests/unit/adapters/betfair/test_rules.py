"""Betfair's exchange rules as pure checks: ladder, minimum stake and payout, persistence, allowance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.adapters.betfair.rules import TransactionAllowance
from nautilus_ext.adapters.betfair.rules import persistence_problem
from nautilus_ext.adapters.betfair.rules import price_problem
from nautilus_ext.adapters.betfair.rules import stake_problem
from nautilus_ext.adapters.betfair.rules import tick_below


@pytest.mark.parametrize(
    "odds",
    ["1.01", "1.99", "2", "2.02", "2.98", "3.05", "5.9", "9.8", "19.5", "29", "48", "95", "990", "1000"],
)
def test_ladder_prices_pass(odds: str) -> None:
    assert price_problem(Decimal(odds)) is None


@pytest.mark.parametrize(
    ("odds", "nearest"),
    [
        ("2.01", "2.00 or 2.02"),
        ("3.01", "3.00 or 3.05"),
        ("10.1", "10.0 or 10.5"),
        ("31", "30 or 32"),
        ("101", "100 or 110"),
    ],
)
def test_off_ladder_prices_name_the_neighbours(odds: str, nearest: str) -> None:
    problem = price_problem(Decimal(odds))
    assert problem is not None
    assert nearest in problem


def test_out_of_range_and_tick_sizes() -> None:
    assert "outside" in (price_problem(Decimal("1.00")) or "")
    assert "outside" in (price_problem(Decimal(1010)) or "")
    assert tick_below(Decimal("1.5")) == Decimal("0.01")
    assert tick_below(Decimal(50)) == Decimal(5)


def test_minimum_stake_and_min_bet_payout() -> None:
    assert stake_problem(Decimal(1), Decimal("1.5")) is None
    assert stake_problem(Decimal("0.5"), Decimal(20)) is None  # payout 10
    problem = stake_problem(Decimal("0.5"), Decimal("19.5"))
    assert problem is not None
    assert "9.75" in problem


def test_persistence_types() -> None:
    assert persistence_problem("LAPSE") is None
    assert persistence_problem("PERSIST", persistence_enabled=False) is not None
    assert persistence_problem("MARKET_ON_CLOSE", bsp_market=True) is None
    assert persistence_problem("MARKET_ON_CLOSE") is not None
    assert persistence_problem("KEEP") is not None


def test_allowance_rolls_over_an_hour() -> None:
    hour = 3_600_000_000_000
    allowance = TransactionAllowance(per_hour=3)
    allowance.record(0, 2)
    allowance.record(hour // 2)
    assert allowance.used(hour // 2) == 3
    assert allowance.problem(hour // 2) is not None
    assert allowance.problem(hour) is None  # the first two left the window
    with pytest.raises(ValueError, match="positive"):
        TransactionAllowance(per_hour=0)
