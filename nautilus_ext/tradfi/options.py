"""
Futures option chains from instrument definitions (Databento in backtests, the broker's live).

:func:`option_chains` groups NautilusTrader ``OptionContract`` instruments of the configured
roots by underlying future and expiry: one :class:`OptionChain` per (``ESM4``, 21 Jun 2024),
with canonical keys (``CME:OPTION:SP500-USD-240621-5000-CALL@LIN``), strikes, calls and puts.
Serial and weekly options (``EW2F6 C7000``, the second-week Friday option on ``ESH6``) join the
chain of their underlying future and expiry like the quarterlies. :func:`front_chains` picks
the chains on the future a front-month key trades at an instant. GLBX.MDP3 definitions carry no
Greeks or implied volatilities, so none are derived here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.rolls import MONTH_CODES
from nautilus_ext.tradfi.rolls import RollCalendar

_FUTURE_SYMBOL: Final = re.compile(r"([A-Z0-9]{1,3}?)([FGHJKMNQUVXZ])(\d{1,2})")


def _strike_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True, slots=True)
class OptionEntry:
    """One listed option: its canonical key, Nautilus id, strike and right."""

    key: InstrumentKey
    instrument_id: str
    raw_symbol: str
    strike: Decimal
    kind: OptionKind
    expiration_ns: int
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class OptionChain:
    """
    The options on one future with one expiry, sorted by strike (calls before puts).

    Parameters
    ----------
    root : str
        The futures root (``ES``).
    underlying : str
        The underlying future's raw symbol (``ESM4``).
    underlying_key : InstrumentKey
        The underlying future's canonical key.
    expiry : date
        The options' expiry (UTC date).
    entries : tuple[OptionEntry, ...]
        The options.
    """

    root: str
    underlying: str
    underlying_key: InstrumentKey
    expiry: date
    entries: tuple[OptionEntry, ...]

    @property
    def strikes(self) -> tuple[Decimal, ...]:
        """Return the distinct strikes, ascending."""
        return tuple(sorted({e.strike for e in self.entries}))

    @property
    def calls(self) -> tuple[OptionEntry, ...]:
        """Return the calls by strike."""
        return tuple(e for e in self.entries if e.kind is OptionKind.CALL)

    @property
    def puts(self) -> tuple[OptionEntry, ...]:
        """Return the puts by strike."""
        return tuple(e for e in self.entries if e.kind is OptionKind.PUT)

    def get(self, strike: Decimal, kind: OptionKind) -> OptionEntry | None:
        """Return the option of a strike and right, if listed."""
        for e in self.entries:
            if e.strike == strike and e.kind is kind:
                return e
        return None

    def nearest(self, price: Decimal, kind: OptionKind) -> OptionEntry | None:
        """Return the listed option of ``kind`` whose strike is nearest ``price`` (lower on a tie)."""
        side = [e for e in self.entries if e.kind is kind]
        return min(side, key=lambda e: (abs(e.strike - price), e.strike)) if side else None


def _underlying_key(
    calendar: RollCalendar, root: str, code: str, digits: str, expiry: date, futures: dict[str, Any]
) -> InstrumentKey:
    spec = calendar.spec(root)
    listed = futures.get(f"{root}{code}{digits}")
    if listed is not None:
        last = datetime.fromtimestamp(listed.expiration_ns / 1e9, tz=UTC).date()
    else:
        # a one- or two-digit year: the first such contract month expiring on or after the option
        month = MONTH_CODES.index(code) + 1
        modulus = 10 ** len(digits)
        year = expiry.year - expiry.year % modulus + int(digits)
        while date(year, month, 28) < expiry.replace(day=1):
            year += modulus
        last = (
            calendar.contract(root, year, month).last_trade
            if month in spec.month_numbers
            else date(year, month, 1)
        )
    return InstrumentKey(
        spec.venue, InstrumentType.FUTURE, f"{spec.base_asset}-{spec.quote_asset}-{last:%y%m%d}", "LIN"
    )


def option_chains(instruments: Iterable[Any], calendar: RollCalendar) -> list[OptionChain]:
    """
    Return the option chains of the ``OptionContract`` instruments of configured roots, sorted by
    root, expiry and underlying (other instruments are skipped).
    """
    items = list(instruments)
    futures = {i.raw_symbol.value: i for i in items if type(i).__name__ == "FuturesContract"}
    groups: dict[tuple[str, int], list[Any]] = {}
    for inst in items:
        if type(inst).__name__ != "OptionContract":
            continue
        m = _FUTURE_SYMBOL.fullmatch(str(inst.underlying))
        if m is None or m.group(1) not in calendar.roots:
            continue
        groups.setdefault((str(inst.underlying), inst.expiration_ns), []).append(inst)
    chains = []
    for (underlying, expiration_ns), options in groups.items():
        m = _FUTURE_SYMBOL.fullmatch(underlying)
        assert m is not None
        root, code, digits = m.groups()
        spec = calendar.spec(root)
        expiry = datetime.fromtimestamp(expiration_ns / 1e9, tz=UTC).date()
        entries = []
        for inst in options:
            strike = inst.strike_price.as_decimal()
            kind = OptionKind.CALL if inst.option_kind.name == "CALL" else OptionKind.PUT
            payload = f"{spec.base_asset}-{spec.quote_asset}-{expiry:%y%m%d}-{_strike_text(strike)}-{kind}"
            entries.append(
                OptionEntry(
                    key=InstrumentKey(spec.venue, InstrumentType.OPTION, payload, "LIN"),
                    instrument_id=inst.id.value,
                    raw_symbol=inst.raw_symbol.value,
                    strike=strike,
                    kind=kind,
                    expiration_ns=expiration_ns,
                    multiplier=inst.multiplier.as_decimal(),
                )
            )
        entries.sort(key=lambda e: (e.strike, e.kind is OptionKind.PUT))
        chains.append(
            OptionChain(
                root=root,
                underlying=underlying,
                underlying_key=_underlying_key(calendar, root, code, digits, expiry, futures),
                expiry=expiry,
                entries=tuple(entries),
            )
        )
    return sorted(chains, key=lambda c: (c.root, c.expiry, c.underlying))


def front_chains(
    chains: Iterable[OptionChain], resolver: FrontMonthResolver, front: InstrumentKey, ts_ns: int
) -> list[OptionChain]:
    """
    Return the chains on the future ``front`` resolves to at ``ts_ns`` that have not expired,
    nearest expiry first.

    Raises
    ------
    InvalidInstrumentKey
        If the front-month key cannot be resolved (see :meth:`FrontMonthResolver.resolve`).
    """
    future = resolver.resolve(front, ts_ns)
    return sorted(
        (c for c in chains if c.underlying_key == future.key and c.entries[0].expiration_ns > ts_ns),
        key=lambda c: c.expiry,
    )


__all__ = ["OptionChain", "OptionEntry", "front_chains", "option_chains"]
