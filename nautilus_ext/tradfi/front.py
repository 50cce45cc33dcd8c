"""
The strategy-facing front month: ``CME:FUTURE:SP500-USD-FRONT@LIN`` resolved to a listed contract.

A :class:`ContractProvider` lists a root's tradable contracts with their real last trading
days. In backtests they come from Databento definitions (NautilusTrader's ``FuturesContract``
instruments, :class:`InstrumentContractProvider`); live, from the broker's contract details
loaded into the node's cache by its instrument provider (the same class over the cache's
instruments); without data, from the rules themselves (:class:`RuleContractProvider`).

:class:`FrontMonthResolver` answers "which contract does ``FRONT`` (or ``FRONT2``...) mean at
this instant?": the listed contracts whose roll date (:class:`~nautilus_ext.tradfi.rolls.
RollCalendar`, counted from the listed last trading day) is after the instant's trade date,
nearest first. :meth:`FrontMonthResolver.schedule` lists when that answer changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from typing import Final
from typing import Protocol

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.rolls import MONTH_CODES
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.trade_date import trade_date
from nautilus_ext.tradfi.trade_date import trade_date_start_ns

_CODE_SYMBOL: Final = re.compile(r"([A-Z0-9]{1,3}?)([FGHJKMNQUVXZ])\d{1,2}")
_NAMED_MONTH_SYMBOL: Final = re.compile(r"([A-Z0-9]{1,3})\s+([A-Z]{3})\s+\d{2}")
_MONTH_NAMES: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True, slots=True)
class ListedContract:
    """
    One tradable contract of a root.

    Parameters
    ----------
    root : str
        The root (``ES``).
    year, month : int
        The contract month.
    key : InstrumentKey
        Its canonical key.
    last_trade : date
        Its last trading day (UTC date of the listed expiration).
    instrument_id : str
        The Nautilus instrument id it trades under (``ESZ5.GLBX``, ``ESZ5.XCME``...).
    roll_date : date
        The trade date a held position moves to the next contract.
    """

    root: str
    year: int
    month: int
    key: InstrumentKey
    last_trade: date
    instrument_id: str
    roll_date: date

    @property
    def symbol(self) -> str:
        """Return the raw symbol with a one-digit year (``ESZ5``)."""
        return f"{self.root}{MONTH_CODES[self.month - 1]}{self.year % 10}"

    @property
    def roll_ns(self) -> int:
        """Return the first instant (UNIX ns) of the roll date's trade date."""
        return trade_date_start_ns(self.roll_date)


class ContractProvider(Protocol):
    """Lists a root's tradable contracts (any order)."""

    def listed_contracts(self, root: str) -> Sequence[ListedContract]:
        """Return the listed contracts of ``root``."""
        ...


class RuleContractProvider:
    """
    Contracts from the roll rules alone (no data): ``instrument_id`` is ``<symbol>.<venue>``.

    Parameters
    ----------
    calendar : RollCalendar
        The roll rules.
    start, end : date
        The span of last trading days to list.
    nautilus_venue : str
        The Nautilus venue of the ids (``XCME``).
    """

    def __init__(self, calendar: RollCalendar, start: date, end: date, nautilus_venue: str = "XCME") -> None:
        self._calendar = calendar
        self._start, self._end = start, end
        self._venue = nautilus_venue

    def listed_contracts(self, root: str) -> Sequence[ListedContract]:
        """Return the rule-derived contracts of ``root`` expiring in the span."""
        return [
            ListedContract(
                root=root,
                year=c.year,
                month=c.month,
                key=c.key,
                last_trade=c.last_trade,
                instrument_id=f"{c.symbol}.{self._venue}",
                roll_date=c.roll_date,
            )
            for c in self._calendar.contracts(root, self._start, self._end)
        ]


class InstrumentContractProvider:
    """
    Contracts from NautilusTrader ``FuturesContract`` instruments (Databento definitions in a
    backtest, broker contract details in a live node's cache).

    The raw symbol names the root and month (``ESZ4`` from Databento or IB's local symbol;
    IB's ``ZN   DEC 24`` style too); the last trading day is the listed expiration. Instruments
    of roots without roll rules, and months the root does not roll through (a serial month),
    are skipped.

    Parameters
    ----------
    calendar : RollCalendar
        The roll rules (roots, months, roll offsets).
    instruments : iterable
        ``FuturesContract`` instruments (others are ignored).
    """

    def __init__(self, calendar: RollCalendar, instruments: Iterable[Any]) -> None:
        self._calendar = calendar
        # by instrument id: definitions repeat an instrument (updates, several files); the last wins
        self._by_root: dict[str, dict[str, ListedContract]] = {}
        for instrument in instruments:
            listed = self._listed(instrument)
            if listed is not None:
                self._by_root.setdefault(listed.root, {})[listed.instrument_id] = listed

    def _root_and_month(self, instrument: Any) -> tuple[str, int] | None:
        # the raw symbol names root and month: CME/Databento "ESZ4", IB's local symbol "ESZ4" or
        # "ZN   DEC 24" (IB's underlying may be another name, "EUR" for 6E: the symbol decides)
        symbol = instrument.raw_symbol.value
        for pattern in (_CODE_SYMBOL, _NAMED_MONTH_SYMBOL):
            m = pattern.fullmatch(symbol)
            if m is None or m.group(1) not in self._calendar.roots:
                continue
            month_text = m.group(2)
            if len(month_text) == 1:
                return m.group(1), MONTH_CODES.index(month_text) + 1
            if month_text in _MONTH_NAMES:
                return m.group(1), _MONTH_NAMES.index(month_text) + 1
        return None

    def _listed(self, instrument: Any) -> ListedContract | None:
        if type(instrument).__name__ != "FuturesContract":
            return None
        found = self._root_and_month(instrument)
        if found is None:
            return None
        root, month = found
        spec = self._calendar.spec(root)
        if month not in spec.month_numbers:
            return None  # a serial month the root does not roll through
        expiry = datetime.fromtimestamp(instrument.expiration_ns / 1e9, tz=UTC).date()
        # the contract month is at or after the expiry month (CL expires the month before)
        year = expiry.year + (1 if month < expiry.month else 0)
        key = InstrumentKey(
            spec.venue, InstrumentType.FUTURE, f"{spec.base_asset}-{spec.quote_asset}-{expiry:%y%m%d}", "LIN"
        )
        return ListedContract(
            root=root,
            year=year,
            month=month,
            key=key,
            last_trade=expiry,
            instrument_id=instrument.id.value,
            roll_date=self._calendar.roll_date(root, year, month, expiry),
        )

    def listed_contracts(self, root: str) -> Sequence[ListedContract]:
        """Return the listed contracts of ``root``."""
        return list(self._by_root.get(root, {}).values())


class FrontMonthResolver:
    """
    Resolve front-month keys to listed contracts (see the module docstring).

    Parameters
    ----------
    calendar : RollCalendar
        The roll rules.
    provider : ContractProvider
        The listed contracts.
    """

    def __init__(self, calendar: RollCalendar, provider: ContractProvider) -> None:
        self._calendar = calendar
        self._provider = provider

    def _sorted(self, key: InstrumentKey) -> tuple[str, list[ListedContract]]:
        if not key.is_continuous:
            raise InvalidInstrumentKey(
                f"{key} is not a front-month key (e.g. CME:FUTURE:SP500-USD-FRONT@LIN)",
                instrument_key=str(key),
            )
        root = self._calendar.root_of(key)
        listed = sorted(self._provider.listed_contracts(root), key=lambda c: c.last_trade)
        return root, listed

    def resolve(self, key: InstrumentKey, ts_ns: int) -> ListedContract:
        """
        Return the listed contract ``key`` means at ``ts_ns`` (UNIX ns).

        A concrete future's key is returned as its own listed contract when listed.

        Raises
        ------
        InvalidInstrumentKey
            If the key is neither a front-month key of a configured root nor listed, or no
            listed contract is live at that time (the message names the root and the time).
        """
        if key.instrument_type is InstrumentType.FUTURE and not key.is_continuous:
            root = self._calendar.root_of(key)
            for contract in self._provider.listed_contracts(root):
                if contract.key == key:
                    return contract
            raise InvalidInstrumentKey(f"{key} is not a listed contract of {root}", instrument_key=str(key))
        root, listed = self._sorted(key)
        rank = key.front_rank or 1
        day = trade_date(ts_ns)
        live = [c for c in listed if c.roll_date > day]
        if len(live) < rank:
            when = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat()
            raise InvalidInstrumentKey(
                f"{key} has no listed {root} contract at {when} (trade date {day}): "
                f"{len(live)} of the {len(listed)} listed contracts roll after it, rank {rank} needed",
                instrument_key=str(key),
                details={"root": root, "trade_date": day.isoformat()},
            )
        return live[rank - 1]

    def schedule(self, key: InstrumentKey, start_ns: int, end_ns: int) -> list[tuple[int, ListedContract]]:
        """
        Return ``(from_ns, contract)`` for each contract ``key`` means within ``[start_ns, end_ns]``.

        The first entry starts at ``start_ns``; each later one at a roll (the start of the roll
        date's trade date).
        """
        _, listed = self._sorted(key)
        out = [(start_ns, self.resolve(key, start_ns))]
        # the answer (of any rank) changes only when some listed contract rolls
        for roll_ns in sorted({c.roll_ns for c in listed if start_ns < c.roll_ns <= end_ns}):
            contract = self.resolve(key, roll_ns)
            if contract != out[-1][1]:
                out.append((roll_ns, contract))
        return out


__all__ = [
    "ContractProvider",
    "FrontMonthResolver",
    "InstrumentContractProvider",
    "ListedContract",
    "RuleContractProvider",
]
