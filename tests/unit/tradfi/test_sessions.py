"""Globex sessions from pandas_market_calendars, and their agreement with the business days."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.business_days import BusinessCalendar
from nautilus_ext.tradfi.sessions import SessionCalendar
from nautilus_ext.tradfi.sessions import TradingHours

H = 3_600_000_000_000


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def hours() -> TradingHours:
    return TradingHours.default()


def test_calendars_by_key_and_instrument(hours: TradingHours) -> None:
    es = hours.calendar_for_key(InstrumentKey.parse("CME:FUTURE:SP500-USD-FRONT@LIN"))
    assert es is not None
    assert es.name == "CME_Equity"
    opt = hours.calendar_for_key(InstrumentKey.parse("CME:OPTION:SP500-USD-240621-5000-CALL@LIN"))
    assert opt is es
    cl = hours.calendar_for_key(InstrumentKey.parse("CME:FUTURE:WTI-USD-240820@LIN"))
    assert cl is not None
    assert cl.name == "CMEGlobex_Crude"
    assert hours.calendar_for_key(InstrumentKey.parse("CME:FUTURE:GOLD-USD-241227@LIN")) is None
    assert hours.calendar_for_key(InstrumentKey.parse("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")) is None

    class FuturesContract:
        underlying = "ES"

    class OptionContract:
        underlying = "ESM4"

    class CryptoPerpetual:
        underlying = "BTC"

    assert hours.calendar_for_instrument(FuturesContract()) is es
    assert hours.calendar_for_instrument(OptionContract()) is es
    assert hours.calendar_for_instrument(CryptoPerpetual()) is None
    with pytest.raises(InvalidConfig, match="unknown trading-hours calendar"):
        SessionCalendar("NOT_A_CALENDAR")


def test_state_and_advance_over_the_halt(hours: TradingHours) -> None:
    es = hours.calendar("ES")
    s = es.state(_ns("2024-09-11T20:30:00"))
    assert s.open
    assert s.until_ns == _ns("2024-09-11T21:00:00")
    s = es.state(_ns("2024-09-11T21:10:00"))
    assert not s.open
    assert s.until_ns == _ns("2024-09-11T22:00:00")
    assert es.next_open(_ns("2024-09-13T21:30:00")) == _ns("2024-09-15T22:00:00")  # over the weekend
    # one hour of open market from 20:30: 30 minutes before the halt, 30 after the reopen
    assert es.advance(_ns("2024-09-11T20:30:00"), H) == _ns("2024-09-11T22:30:00")
    assert es.advance(_ns("2024-09-11T21:30:00"), 0) == _ns("2024-09-11T22:00:00")
    assert es.advance(_ns("2024-09-11T20:00:00"), H // 2) == _ns("2024-09-11T20:30:00")
    # Friday 15:30 CDT + 1 h: 30 min, then the weekend, then Sunday's open
    assert es.advance(_ns("2024-09-13T20:30:00"), H) == _ns("2024-09-15T22:30:00")


def test_sessions_agree_with_the_business_days(hours: TradingHours) -> None:
    # every CME business day has a crude session; every full-length session is a business day
    cal, crude = BusinessCalendar(), hours.calendar("CL")
    day = date(2023, 1, 2)
    while day <= date(2025, 12, 31):
        if day.weekday() < 5:
            noon_ct = _ns(f"{day.isoformat()}T17:00:00")  # 11:00 or 12:00 CT
            close_ct = _ns(f"{day.isoformat()}T20:30:00")  # 14:30 or 15:30 CT, after any early close
            if cal.is_business_day(day):
                assert crude.is_open(noon_ct), day
            if crude.is_open(close_ct):
                assert cal.is_business_day(day), day
        day += timedelta(days=1)


def test_calendars_are_shared_by_the_process(hours: TradingHours) -> None:
    # a new gate's hours reuse the calendar another already loaded (no second pandas build)
    assert TradingHours.default().calendar("NQ") is hours.calendar("ES")
    assert hours.calendar("CL") is not hours.calendar("ES")
