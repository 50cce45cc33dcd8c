"""
The gate in the bettor's terms: liability per market, event and day replaces net stake for bets,
and Betfair's rules (ladder, minimum stake and payout, persistence, hourly allowance) run first.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.common.component import TestClock

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.gate import GateContext

REPO = Path(__file__).resolve().parents[3]
FIXTURE = "ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
MATCH = f"FOOTBALL:BETFAIR:MATCH_WINNER:{FIXTURE}"
GOALS = f"FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:{FIXTURE}"
HOUR_NS = 3_600_000_000_000


def _gate(**betting: Any) -> tuple[SafetyGate, TestClock]:
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    limits = {"max_market_liability": "50", "max_event_liability": "80", "max_daily_liability": "500"}
    shipped["oms"]["order_rate_limit"] = 1000  # these tests place many bets quickly
    clock = TestClock()
    clock.set_time(1_700_000_000_000_000_000)
    config = SafetyConfig.parse({**shipped, "mode": "BACKTEST", "betting": {**limits, **betting}})
    return SafetyGate(config, clock), clock


_n = 0


def _bet(side: str, selection: str, stake: str, odds: str, key: str = MATCH, **meta: Any) -> Order:
    global _n
    _n += 1
    return Order(
        operation_id=f"bet-{_n}",
        operation="bet",
        instrument_key=key,
        venue="BETFAIR",
        side=side,
        amount=stake,
        odds=odds,
        selection=selection,
        metadata=meta or None,
    )


def _check(gate: SafetyGate, order: Order) -> Any:
    ctx = GateContext(client_order_id=f"C-{order.operation_id}", market_data_ts_ns=gate.clock.timestamp_ns())
    return gate.check(order, ctx)


def test_liability_per_market_replaces_net_stake() -> None:
    gate, _ = _gate()
    assert _check(gate, _bet("BACK", "HOME", "20", "2.5")).allowed
    # LAY AWAY 10 @ 4: AWAY winning costs 20 + 30 = 50, the limit exactly
    assert _check(gate, _bet("LAY", "AWAY", "10", "4.0")).allowed
    assert gate.betting is not None
    assert gate.betting.liability(MATCH) == Decimal(50)
    refused = _check(gate, _bet("LAY", "AWAY", "1", "4.0"))
    assert refused.error is not None
    assert refused.error.code is ErrorCode.RISK_BLOCKED
    assert refused.error.details["scope"] == "market"
    assert "liability" in refused.error.message
    # a BACK on AWAY hedges: the liability falls to 20, so it passes whatever the stake adds up to
    assert _check(gate, _bet("BACK", "AWAY", "10", "4.0")).allowed
    assert gate.betting.liability(MATCH) == Decimal(20)


def test_net_stake_beyond_max_position_is_fine_when_the_liability_is_small() -> None:
    # betfair.yaml's max_position is 200 net stake; dutching all three runners risks little
    gate, _ = _gate(max_market_liability="1000", max_event_liability="1000")
    for selection, odds in (("HOME", "2.5"), ("DRAW", "3.4"), ("AWAY", "3.1")):
        for _ in range(2):
            assert _check(gate, _bet("BACK", selection, "40", odds)).allowed
    assert gate.betting is not None
    assert gate.betting.liability(MATCH) == Decimal(40)  # HOME wins: +120 - 80 - 80


def test_event_and_daily_limits() -> None:
    gate, clock = _gate(max_daily_liability="100")
    assert _check(gate, _bet("BACK", "HOME", "45", "2.0")).allowed  # market 45, event 45
    # a second market of the same fixture: 45 + 40 > 80
    refused = _check(gate, _bet("BACK", "OVER", "40", "1.9", key=GOALS))
    assert refused.error is not None
    assert refused.error.details["scope"] == "event"
    assert _check(gate, _bet("BACK", "OVER", "30", "1.9", key=GOALS)).allowed
    # today's committed liability: 45 + 30 + 30 > 100
    other = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250316T1500:CHELSEA-SPURS"
    refused = _check(gate, _bet("BACK", "HOME", "30", "2.0", key=other))
    assert refused.error is not None
    assert refused.error.details["scope"] == "day"
    clock.advance_time(clock.timestamp_ns() + 24 * HOUR_NS)  # a new UTC day
    assert _check(gate, _bet("BACK", "HOME", "30", "2.0", key=other)).allowed


def test_fills_and_closes_move_working_liability() -> None:
    gate, _ = _gate()
    order = _bet("LAY", "DRAW", "10", "4.0")  # working liability 30
    assert _check(gate, order).allowed
    book = gate.betting
    assert book is not None
    assert book.liability(MATCH) == Decimal(30)
    gate.on_bet_fill(MATCH, f"C-{order.operation_id}", Decimal("3.5"), Decimal(4))  # 4 matched at 3.5
    assert book.liability(MATCH) == Decimal(28)  # 4 x 2.5 + 6 x 3
    gate.on_bet_closed(MATCH, f"C-{order.operation_id}")  # the rest lapses
    assert book.liability(MATCH) == Decimal(10)


@pytest.mark.parametrize(
    ("stake", "odds", "meta", "reason"),
    [
        ("5", "2.51", {}, "not on Betfair's price ladder"),
        ("5", "1000.5", {}, "outside Betfair's ladder"),
        ("0.5", "4.0", {}, "below the minimum bet payout"),
        ("5", "2.5", {"persistence_type": "MARKET_ON_CLOSE"}, "starting-price"),
        ("5", "2.5", {"persistence_type": "FOREVER"}, "persistence type 'FOREVER'"),
    ],
)
def test_betfair_rules_are_typed_pre_trade_errors(
    stake: str, odds: str, meta: dict[str, str], reason: str
) -> None:
    gate, _ = _gate()
    refused = _check(gate, _bet("BACK", "HOME", stake, odds, **meta))
    assert refused.error is not None
    assert refused.error.code is ErrorCode.INVALID_ORDER
    assert refused.error.details["rule"] == "betfair_rules"
    assert reason in refused.error.message


def test_min_bet_payout_lets_a_small_stake_at_long_odds_through() -> None:
    gate, _ = _gate()
    assert _check(gate, _bet("BACK", "AWAY", "0.5", "25")).allowed  # payout 12.5 >= 10


def test_transactions_per_hour_allowance() -> None:
    gate, clock = _gate(transactions_per_hour=2)
    assert _check(gate, _bet("BACK", "HOME", "2", "2.5")).allowed
    assert _check(gate, _bet("BACK", "HOME", "2", "2.5")).allowed
    refused = _check(gate, _bet("BACK", "HOME", "2", "2.5"))
    assert refused.error is not None
    assert refused.error.code is ErrorCode.ORDER_RATE_LIMIT_BREACH
    assert "allowance of 2 per hour" in refused.error.message
    clock.advance_time(clock.timestamp_ns() + HOUR_NS)
    assert _check(gate, _bet("BACK", "HOME", "2", "2.5")).allowed


def test_betting_limits_are_validated() -> None:
    shipped = yaml.safe_load((REPO / "configs" / "safety" / "betfair.yaml").read_text())
    with pytest.raises(InvalidConfig, match="max_market_liability"):
        SafetyConfig.parse(
            {
                **shipped,
                "mode": "BACKTEST",
                "betting": {
                    "max_market_liability": "-1",
                    "max_event_liability": "1",
                    "max_daily_liability": "1",
                },
            }
        )
    with pytest.raises(InvalidConfig, match="unknown_limit"):
        SafetyConfig.parse(
            {
                **shipped,
                "mode": "BACKTEST",
                "betting": {
                    "max_market_liability": "1",
                    "max_event_liability": "1",
                    "max_daily_liability": "1",
                    "unknown_limit": 1,
                },
            }
        )
