"""The market-closed rule: CME orders outside the Globex session are blocked; cancels pass."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.tradfi.sessions import TradingHours

from .conftest import Recorder
from .conftest import config_dict
from .conftest import fresh_feeds
from .conftest import make_order

ES = "CME:FUTURE:SP500-USD-240920@LIN"
CL = "CME:FUTURE:WTI-USD-240820@LIN"


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


HOURS = TradingHours.default()  # one set of calendars for the module (each loads once)


def _gate(at: str, rule: bool = True) -> tuple[SafetyGate, TestClock, Recorder]:
    clock = TestClock()
    clock.set_time(_ns(at))
    sink = Recorder()
    config = SafetyConfig.parse(config_dict("BACKTEST"))
    gate = SafetyGate(config, clock, sink=sink, trading_hours=HOURS, market_hours_rule=rule)
    for key in (ES, CL):
        fresh_feeds(gate, key, "CME")
    fresh_feeds(gate)
    return gate, clock, sink


@pytest.mark.parametrize(
    ("at", "key", "open_"),
    [
        ("2024-09-11T20:59:00", ES, True),  # 15:59 CDT
        ("2024-09-11T21:00:00", ES, False),  # the daily maintenance halt, 16:00-17:00 CT
        ("2024-09-11T21:30:00", CL, False),
        ("2024-09-11T22:00:00", ES, True),  # the reopen
        ("2024-09-14T15:00:00", ES, False),  # Saturday
        ("2024-09-15T22:00:00", CL, True),  # Sunday 17:00 CDT: the week opens
        ("2024-12-25T16:00:00", ES, False),  # Christmas
        ("2024-11-29T18:30:00", ES, False),  # the day after Thanksgiving: ES closed at 12:00 CT
        ("2024-11-29T18:30:00", CL, True),  # ... crude until 12:45 CT
    ],
)
def test_orders_are_blocked_outside_the_session(at: str, key: str, open_: bool) -> None:
    gate, _, sink = _gate(at)
    decision = gate.check(make_order(instrument_key=key, venue="CME", amount="1"))
    if open_:
        assert decision.allowed, decision.reason
        return
    assert decision.code is ErrorCode.RISK_BLOCKED
    assert decision.rule == Rule.MARKET_CLOSED
    assert "market closed" in decision.message
    assert "next open" in decision.message
    assert sink.events[-1].rule == "market_closed"


def test_reducing_orders_are_blocked_too_and_cancels_pass() -> None:
    gate, _, _ = _gate("2024-09-11T21:30:00")
    gate.on_position_update(ES, Decimal(2))
    assert gate.check(make_order(instrument_key=ES, venue="CME", side="SELL")).rule == Rule.MARKET_CLOSED
    assert gate.check_cancel(ES, "O-1").allowed


def test_other_venues_and_the_switch() -> None:
    gate, _, _ = _gate("2024-09-14T15:00:00")  # a Saturday: crypto trades
    assert gate.check(make_order()).allowed
    off, _, _ = _gate("2024-09-14T15:00:00", rule=False)
    assert off.trading_hours is None
    assert off.check(make_order(instrument_key=ES, venue="CME")).allowed


def test_a_time_without_calendar_data_fails_closed() -> None:
    gate, _, _ = _gate("1980-01-02T15:00:00")
    decision = gate.check(make_order(instrument_key=ES, venue="CME"))
    assert decision.rule == Rule.MARKET_CLOSED
    assert "no trading hours known" in decision.message
