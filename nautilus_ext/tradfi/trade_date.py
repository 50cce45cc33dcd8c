"""
CME trade dates: a Globex session opening at 17:00 Central Time belongs to the next day.

CME assigns every trade to a *trade date*; the electronic session that opens at 17:00 CT on
Sunday (or after a holiday) carries the next weekday's date. Rolls happen on trade dates, so an
instant maps to a date with :func:`trade_date` and a roll date starts at
:func:`trade_date_start_ns` (17:00 CT on the calendar day before).
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Final
from zoneinfo import ZoneInfo

CHICAGO: Final = ZoneInfo("America/Chicago")
SESSION_OPEN_HOUR: Final = 17
_NS: Final = 1_000_000_000


def trade_date(ts_ns: int) -> date:
    """Return the CME trade date of an instant (UNIX ns): from 17:00 CT it is the next day."""
    local = datetime.fromtimestamp(ts_ns / _NS, tz=UTC).astimezone(CHICAGO)
    day = local.date()
    return day + timedelta(days=1) if local.hour >= SESSION_OPEN_HOUR else day


def trade_date_start_ns(day: date) -> int:
    """Return the first instant (UNIX ns) of trade date ``day``: 17:00 CT the calendar day before."""
    before = day - timedelta(days=1)
    start = datetime(before.year, before.month, before.day, SESSION_OPEN_HOUR, tzinfo=CHICAGO)
    return int(start.timestamp()) * _NS


__all__ = ["CHICAGO", "trade_date", "trade_date_start_ns"]
