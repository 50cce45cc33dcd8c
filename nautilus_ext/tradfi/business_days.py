"""
CME business days: weekdays that are not exchange holidays (pure date arithmetic, no I/O).

Expiry rules count *business days* (CME Rulebook chapters 200, 300, 19 and 21: "trading
terminates on the third business day prior to ..."). A business day is a weekday on which the
exchange settles contracts: early-close days (24 December, the day after Thanksgiving) count,
full holidays do not. The holidays are CME's US schedule:

* New Year's Day (a Sunday moves to Monday; a Saturday is not observed on the Friday before),
* Martin Luther King Jr. Day, Presidents' Day (third Mondays of January and February),
* Good Friday, Memorial Day (last Monday of May),
* Juneteenth (from 2022), Independence Day, Christmas Day (Saturday -> Friday, Sunday -> Monday),
* Labor Day (first Monday of September), Thanksgiving (fourth Thursday of November),

plus any extra closure given (a national day of mourning). The session calendar with its hours
and early closes is :mod:`nautilus_ext.tradfi.sessions`; a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from datetime import timedelta
from functools import lru_cache
from typing import Final

_SATURDAY: Final = 5
_JUNETEENTH_FROM: Final = 2022


def easter_sunday(year: int) -> date:
    """Return Western Easter Sunday of ``year`` (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    # a Saturday holiday is observed on the Friday before, a Sunday one on the Monday after
    if day.weekday() == _SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == _SATURDAY + 1:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def cme_holidays(year: int) -> frozenset[date]:
    """Return CME's full-day US holidays of ``year`` (see the module docstring)."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Presidents' Day
        easter_sunday(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),  # Independence Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),  # Christmas
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != _SATURDAY:  # a Saturday New Year's Day is not observed on 31 December
        days.add(_observed(new_year))
    if year >= _JUNETEENTH_FROM:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(days)


class BusinessCalendar:
    """
    CME business days, with optional extra closures.

    Parameters
    ----------
    extra_holidays : iterable of date, optional
        Closures beyond the regular schedule (e.g. a national day of mourning).
    """

    def __init__(self, extra_holidays: Iterable[date] = ()) -> None:
        self._extra = frozenset(extra_holidays)

    def is_holiday(self, day: date) -> bool:
        """Return whether ``day`` is an exchange holiday (weekends are not holidays)."""
        return day in self._extra or day in cme_holidays(day.year)

    def is_business_day(self, day: date) -> bool:
        """Return whether ``day`` is a weekday and not a holiday."""
        return day.weekday() < _SATURDAY and not self.is_holiday(day)

    def add_business_days(self, day: date, n: int) -> date:
        """
        Return the business day ``n`` business days after ``day`` (before it when negative).

        ``n == 0`` returns ``day`` itself if it is a business day, else the preceding one.
        """
        step = 1 if n > 0 else -1
        current = day
        if n == 0:
            while not self.is_business_day(current):
                current -= timedelta(days=1)
            return current
        remaining = abs(n)
        while remaining:
            current += timedelta(days=step)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def preceding_or_same(self, day: date) -> date:
        """Return ``day`` if it is a business day, else the business day before it."""
        return self.add_business_days(day, 0)

    def following_or_same(self, day: date) -> date:
        """Return ``day`` if it is a business day, else the business day after it."""
        current = day
        while not self.is_business_day(current):
            current += timedelta(days=1)
        return current

    def last_business_day(self, year: int, month: int) -> date:
        """Return the last business day of a month."""
        end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        return self.preceding_or_same(end)

    def first_business_day(self, year: int, month: int) -> date:
        """Return the first business day of a month."""
        return self.following_or_same(date(year, month, 1))

    def business_days_between(self, start: date, end: date) -> int:
        """Return how many business days lie in ``(start, end]`` (negative if ``end < start``)."""
        if end < start:
            return -self.business_days_between(end, start)
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_business_day(current)
        return count


__all__ = ["BusinessCalendar", "cme_holidays", "easter_sunday"]
