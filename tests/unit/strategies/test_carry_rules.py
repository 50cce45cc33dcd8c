"""The funding carry strategy's pure decisions: exit conditions, depth sizing, entry room."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.carry_rules import ExitReason
from nautilus_ext.strategies.carry_rules import ExitRules
from nautilus_ext.strategies.carry_rules import Limits
from nautilus_ext.strategies.carry_rules import PositionView
from nautilus_ext.strategies.carry_rules import absorbable
from nautilus_ext.strategies.carry_rules import depth_size
from nautilus_ext.strategies.carry_rules import entry_room
from nautilus_ext.strategies.carry_rules import exit_reason

D = Decimal
HOUR = 3_600_000_000_000
RULES = ExitRules(
    min_divergence_per_hour=D("0.00001"),
    profit_target=D("0.01"),
    stop_loss=D("0.02"),
    max_hold_ns=48 * HOUR,
)


def view(**kw: Any) -> PositionView:
    base: dict[str, Any] = {
        "notional": D(10_000),
        "opened_ns": 0,
        "now_ns": HOUR,
        "long_rate_per_hour": D("0.00001"),
        "short_rate_per_hour": D("0.00005"),
        "unrealised_long": D(0),
        "unrealised_short": D(0),
        "funding": D(0),
    }
    return PositionView(**{**base, **kw})


def test_a_healthy_carry_with_divergence_is_held() -> None:
    assert view().divergence_per_hour == D("0.00004")
    assert exit_reason(view(), RULES) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"healthy": False}, ExitReason.VENUE_UNHEALTHY),
        ({"unrealised_long": D(-150), "unrealised_short": D(-60)}, ExitReason.STOP_LOSS),
        ({"long_rate_per_hour": D("0.00006")}, ExitReason.FUNDING_FLIP),
        ({"short_rate_per_hour": D("0.000015")}, ExitReason.DIVERGENCE_ERODED),
        ({"funding": D(60), "unrealised_long": D(40)}, ExitReason.PROFIT_TARGET),
        ({"now_ns": 48 * HOUR}, ExitReason.MAX_HOLD),
    ],
)
def test_each_exit_condition(changes: dict[str, Any], reason: ExitReason) -> None:
    assert exit_reason(view(**changes), RULES) is reason


def test_exit_conditions_are_ordered_by_urgency() -> None:
    # unhealthy beats everything; a stop loss beats a flip; a flip beats the profit target
    everything = {
        "healthy": False,
        "unrealised_long": D(-500),
        "long_rate_per_hour": D(1),
        "now_ns": 100 * HOUR,
    }
    assert exit_reason(view(**everything), RULES) is ExitReason.VENUE_UNHEALTHY
    assert exit_reason(view(**{**everything, "healthy": True}), RULES) is ExitReason.STOP_LOSS
    flipped = view(long_rate_per_hour=D(1), funding=D(500))
    assert exit_reason(flipped, RULES) is ExitReason.FUNDING_FLIP


def test_funding_counts_toward_the_stop_and_the_target() -> None:
    # a 210 loss on the legs is not a stop when funding paid 100 of it back
    assert exit_reason(view(unrealised_long=D(-210), funding=D(100)), RULES) is None
    assert exit_reason(view(unrealised_long=D(-210), funding=D(-10)), RULES) is ExitReason.STOP_LOSS


def test_unknown_rates_never_trigger_a_rate_exit() -> None:
    assert exit_reason(view(long_rate_per_hour=None), RULES) is None
    assert view(short_rate_per_hour=None).divergence_per_hour is None


def test_disabled_rules_hold_forever() -> None:
    rules = ExitRules()
    assert exit_reason(view(now_ns=10_000 * HOUR, funding=D(10**6)), rules) is None
    assert exit_reason(view(short_rate_per_hour=D("0.00001")), rules) is None  # zero divergence


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_divergence_per_hour": D(-1)},
        {"profit_target": D(0)},
        {"stop_loss": D("-0.1")},
        {"max_hold_ns": 0},
    ],
)
def test_bad_exit_rules_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidConfig):
        ExitRules(**kwargs)


ASKS = [(D("100.00"), D("1.0")), (D("100.05"), D("2.0")), (D("100.20"), D("5.0"))]
BIDS = [(D("99.98"), D("0.5")), (D("99.95"), D("0.7")), (D("99.80"), D("9.0"))]


def test_absorbable_counts_levels_inside_the_slippage_band() -> None:
    # mid 99.99, 10 bps: asks up to 100.08999, bids down to 99.89001
    assert absorbable(ASKS, D("99.99"), D("0.001"), buy=True) == D("3.0")
    assert absorbable(BIDS, D("99.99"), D("0.001"), buy=False) == D("1.2")
    assert absorbable(ASKS, D("99.99"), D(0), buy=True) == 0
    assert absorbable(ASKS, D(0), D("0.01"), buy=True) == 0


def test_depth_size_is_the_smaller_book_capped_and_on_the_lot() -> None:
    mid = D("99.99")
    args = {"max_slippage": D("0.001"), "lot": D("0.1")}
    assert depth_size(ASKS, mid, BIDS, mid, cap=D(100), **args) == D("1.2")
    assert depth_size(ASKS, mid, BIDS, mid, cap=D("0.77"), **args) == D("0.7")
    assert depth_size(ASKS, mid, BIDS, mid, cap=D("0.05"), **args) == 0
    # a wider band reaches the deep levels of both books
    wide = depth_size(ASKS, mid, BIDS, mid, cap=D(100), max_slippage=D("0.01"), lot=D("0.001"))
    assert wide == D("8.0")
    assert depth_size([], mid, BIDS, mid, cap=D(1), **args) == 0
    with pytest.raises(InvalidConfig):
        depth_size(ASKS, mid, BIDS, mid, cap=D(1), max_slippage=D("0.001"), lot=D(0))


LIMITS = Limits(
    max_positions=2,
    max_position_notional=D(10_000),
    max_symbol_notional=D(15_000),
    max_total_notional=D(20_000),
)


def test_entry_room_honours_every_limit() -> None:
    assert entry_room(LIMITS, 0, {}, "BTC") == D(10_000)
    assert entry_room(LIMITS, 1, {"BTC": D(8_000)}, "BTC") == D(7_000)  # per symbol
    assert entry_room(LIMITS, 1, {"ETH": D(14_000)}, "BTC") == D(6_000)  # total
    assert entry_room(LIMITS, 2, {"ETH": D(1)}, "BTC") == 0  # count
    assert entry_room(LIMITS, 1, {"BTC": D(16_000)}, "BTC") == 0  # never negative


def test_bad_limits_are_refused() -> None:
    with pytest.raises(InvalidConfig):
        Limits(max_positions=0, max_position_notional=D(1), max_symbol_notional=D(1), max_total_notional=D(1))
    with pytest.raises(InvalidConfig):
        Limits(max_positions=1, max_position_notional=D(0), max_symbol_notional=D(1), max_total_notional=D(1))


def test_the_open_interest_cap_leaves_the_smallest_room_and_refuses_unknown_interest() -> None:
    from nautilus_ext.strategies.carry_rules import oi_room

    d = Decimal
    # 1% of 100 BTC and of 40 BTC: the thinner venue decides; what is held counts against it
    assert oi_room(d("0.01"), [d(100), d(40)], [d(0), d(0)]) == d("0.4")
    assert oi_room(d("0.01"), [d(100), d(40)], [d("0.1"), d("0.1")]) == d("0.3")
    assert oi_room(d("0.01"), [d(100), d(40)], [d(0), d(1)]) == 0  # already beyond: no room
    assert oi_room(d("0.01"), [d(100), None], [d(0), d(0)]) is None
