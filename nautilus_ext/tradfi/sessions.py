"""
CME Globex trading hours: when a futures root can take orders.

Sessions come from ``pandas_market_calendars``, which keeps a calendar per CME product group
(``CME_Equity``, ``CMEGlobex_Crude``, ``CME_Bond``, ``CMEGlobex_FX``...) with the daily 16:00-17:00
CT maintenance halt, the weekend, exchange holidays and holiday early closes; each root names
its calendar in ``configs/tradfi/rolls.yaml`` (``session_calendar``). ``exchange_calendars``
(which ``pandas_market_calendars`` builds on) has a single ``CMES`` calendar without the product
groups' early closes, so the product calendars are used.

:class:`SessionCalendar` turns a calendar into sorted open/close instants, one year at a time on
first use, so :meth:`SessionCalendar.is_open` is a binary search (the safety gate calls it on
every order). :class:`TradingHours` finds the calendar of a canonical key or a NautilusTrader
instrument; calendars are shared by the whole process (:func:`shared_calendar`).
:meth:`SessionCalendar.advance` counts time only while the market is open: an
execution schedule mapped through it pauses across the halt and resumes at the reopen.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.rolls import RollCalendar

_NS: Final = 1_000_000_000
_OPTION_UNDERLYING: Final = re.compile(r"([A-Z0-9]{1,3}?)[FGHJKMNQUVXZ]\d{1,2}")
_FIRST_YEAR: Final = 1990
_LAST_YEAR: Final = 2100


def _fmt(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / _NS, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class SessionState:
    """Whether the market is open at an instant, and when that changes (UNIX ns)."""

    open: bool
    until_ns: int | None  # the close (if open) or the next open (if closed); None: beyond the data


class SessionCalendar:
    """
    The trading sessions of one ``pandas_market_calendars`` calendar (see the module docstring).

    Parameters
    ----------
    name : str
        The calendar name (``CME_Equity``).

    Raises
    ------
    InvalidConfig
        If the calendar name is unknown.
    """

    def __init__(self, name: str) -> None:
        import pandas_market_calendars as mcal

        try:
            self._calendar = mcal.get_calendar(name)
        except (RuntimeError, KeyError) as e:
            raise InvalidConfig(f"unknown trading-hours calendar {name!r} ({e})") from None
        self.name = name
        self._years: set[int] = set()
        self._opens: list[int] = []
        self._closes: list[int] = []
        self._lock = threading.Lock()
        # the year last checked, as [start, end) ns: its neighbours are loaded (the fast path)
        self._window = (0, 0)

    def _load(self, year: int) -> None:
        # sessions of trade dates in ``year`` (a session opens the evening before its date)
        import pandas as pd

        with self._lock:
            if year in self._years:
                return
            sched = self._calendar.schedule(f"{year}-01-01", f"{year}-12-31")
            spans: list[tuple[int, int]] = []
            has_break = "break_start" in sched.columns
            for row in sched.itertuples(index=False):
                open_ns, close_ns = int(row.market_open.value), int(row.market_close.value)
                if has_break and not pd.isna(row.break_start) and row.break_end > row.break_start:
                    spans.append((open_ns, int(row.break_start.value)))
                    spans.append((int(row.break_end.value), close_ns))
                else:
                    spans.append((open_ns, close_ns))
            merged = sorted(spans + list(zip(self._opens, self._closes, strict=True)))
            self._opens = [s for s, _ in merged]
            self._closes = [e for _, e in merged]
            self._years.add(year)

    def _ensure(self, ts_ns: int) -> None:
        if self._window[0] <= ts_ns < self._window[1]:
            return
        year = datetime.fromtimestamp(ts_ns / _NS, tz=UTC).year
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise InvalidConfig(f"{_fmt(ts_ns)} is outside the trading-hours calendar's years")
        # a session of January's first trade date opens on 31 December: load both neighbours
        for y in (year - 1, year, year + 1):
            if y not in self._years:
                self._load(y)
        start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) * _NS
        self._window = (start, int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()) * _NS)

    def state(self, ts_ns: int) -> SessionState:
        """Return whether the market is open at ``ts_ns`` and until when."""
        self._ensure(ts_ns)
        i = bisect.bisect_right(self._opens, ts_ns) - 1
        if i >= 0 and ts_ns < self._closes[i]:
            return SessionState(True, self._closes[i])
        nxt = i + 1
        return SessionState(False, self._opens[nxt] if nxt < len(self._opens) else None)

    def is_open(self, ts_ns: int) -> bool:
        """Return whether the market is open at ``ts_ns``."""
        if not self._window[0] <= ts_ns < self._window[1]:
            self._ensure(ts_ns)
        i = bisect.bisect_right(self._opens, ts_ns) - 1
        return i >= 0 and ts_ns < self._closes[i]

    def next_open(self, ts_ns: int) -> int | None:
        """Return ``ts_ns`` if open, else the next open (``None`` beyond the calendar's data)."""
        s = self.state(ts_ns)
        return ts_ns if s.open else s.until_ns

    def advance(self, start_ns: int, open_ns: int) -> int:
        """
        Return the instant at which ``open_ns`` nanoseconds of *open* market time have passed
        since ``start_ns`` (closures do not count: the clock pauses at a close and resumes at
        the next open). ``open_ns == 0`` gives the first open instant at or after ``start_ns``.
        """
        t, left = start_ns, open_ns
        while True:
            s = self.state(t)
            if not s.open:
                if s.until_ns is None:
                    return t + left  # beyond the data: no closures known
                t = s.until_ns
                continue
            end = s.until_ns
            if end is None or t + left < end or (left == 0):
                return t + left
            left -= end - t
            t = end

    def describe(self, ts_ns: int) -> str:
        """Return a sentence for a closed market: the calendar and the next open."""
        nxt = self.next_open(ts_ns)
        then = "no later session known" if nxt is None else f"next open {_fmt(nxt)}"
        return f"{self.name} is closed at {_fmt(ts_ns)} ({then})"


_SHARED: dict[str, SessionCalendar] = {}
_SHARED_LOCK: Final = threading.Lock()


def shared_calendar(name: str) -> SessionCalendar:
    """
    Return the process-wide :class:`SessionCalendar` of ``name``.

    Building one imports ``pandas_market_calendars`` and computes a year of sessions (a few
    hundred milliseconds): every gate and algorithm of the process shares the one built first,
    so only the first order on a CME root in a process pays for it.
    """
    with _SHARED_LOCK:
        cal = _SHARED.get(name)
        if cal is None:
            cal = _SHARED[name] = SessionCalendar(name)
        return cal


class TradingHours:
    """
    The session calendar of each futures root with roll rules (``session_calendar``).

    Keys of other venues or roots have no calendar (:meth:`calendar_for_key` returns ``None``):
    their markets are not judged here. Calendars load lazily, once each.

    Parameters
    ----------
    rolls : RollCalendar
        The roots and their ``session_calendar`` names.
    """

    def __init__(self, rolls: RollCalendar) -> None:
        self._rolls = rolls
        self._by_base = {(s.venue, s.base_asset): root for root, s in rolls.config.roots.items()}
        self._by_key: dict[InstrumentKey, SessionCalendar | None] = {}

    @classmethod
    def default(cls) -> TradingHours:
        """Return the trading hours of the shipped ``configs/tradfi/rolls.yaml``."""
        return cls(RollCalendar.default())

    def calendar(self, root: str) -> SessionCalendar:
        """Return the session calendar of a root (loaded once per process)."""
        return shared_calendar(self._rolls.spec(root).session_calendar)

    def calendar_for_key(self, key: InstrumentKey) -> SessionCalendar | None:
        """Return the calendar of a CME future or option key of a configured root, else ``None``."""
        if key in self._by_key:
            return self._by_key[key]
        cal = None
        if key.instrument_type in (InstrumentType.FUTURE, InstrumentType.OPTION):
            root = self._by_base.get((key.venue, key.base_asset or ""))
            if root is not None:
                cal = self.calendar(root)
        self._by_key[key] = cal
        return cal

    def calendar_for_instrument(self, instrument: Any) -> SessionCalendar | None:
        """Return the calendar of a NautilusTrader futures contract or futures option, else ``None``."""
        kind = type(instrument).__name__
        underlying = str(getattr(instrument, "underlying", "") or "")
        if kind == "OptionContract":
            m = _OPTION_UNDERLYING.fullmatch(underlying)
            underlying = m.group(1) if m else ""
        elif kind != "FuturesContract":
            return None
        return self.calendar(underlying) if underlying in self._rolls.roots else None


__all__ = ["SessionCalendar", "SessionState", "TradingHours", "shared_calendar"]
