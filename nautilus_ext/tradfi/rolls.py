"""
Roll calendars of CME futures: expiries, first notice days, roll dates and the active contract.

Each root (``ES``, ``NQ``, ``CL``, ``ZN``, ``6E``...) is configured in ``configs/tradfi/rolls.yaml``
(:class:`RollsConfig`): its listed months, its expiry rule, what the roll counts back from
(the last trading day or the first notice day) and how many business days before it the roll
happens. The rules are CME's published contract specifications:

=====================  ====================================================================
rule                   last trading day (and first notice day)
=====================  ====================================================================
EQUITY_INDEX           the third Friday of the contract month (ES, NQ, RTY: CME Rulebook
                       ch. 358/359); if that is not a business day, the business day before
ENERGY_25TH            three business days before the 25th calendar day of the month before
                       the contract month; four if the 25th is not a business day (CL: NYMEX
                       Rulebook ch. 200)
TREASURY               the seventh business day before the last business day of the contract
                       month; first notice day: the last business day of the month before it
                       (ZN, ZF, ZB: CBOT Rulebook ch. 19-21)
FX_IMM                 the second business day before the third Wednesday of the contract
                       month (6E, 6J: CME Rulebook ch. 250-)
=====================  ====================================================================

A contract's *roll date* is ``roll_offset_business_days`` business days before its anchor (the
last trading day, or the first notice day for ``roll_anchor: FIRST_NOTICE``), or
``roll_offset_calendar_days`` calendar days before it (moved to the business day before when
that is a holiday: CME's equity-index roll date is the Thursday eight days before expiry). On its roll date a
position moves to the next listed contract, so the *active* contract on a date is the first
listed one whose roll date is still ahead. Everything here is pure date arithmetic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from enum import StrEnum
from enum import unique
from pathlib import Path
from typing import Annotated
from typing import Final
from typing import Self

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import read_yaml_file
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.business_days import BusinessCalendar

MONTH_CODES: Final = "FGHJKMNQUVXZ"
"""CME futures month codes, January to December."""

CONFIG_DIR_ENV: Final = "NAUTILUS_EXT_CONFIG_DIR"
DEFAULT_ROLLS_FILE: Final = Path(__file__).resolve().parents[2] / "configs" / "tradfi" / "rolls.yaml"
_FRIDAY: Final = 4
_WEDNESDAY: Final = 2


@unique
class ExpiryRule(StrEnum):
    """How a root's last trading day (and first notice day) follow from the contract month."""

    EQUITY_INDEX = "EQUITY_INDEX"  # third Friday of the contract month
    ENERGY_25TH = "ENERGY_25TH"  # 3 (or 4) business days before the 25th of the month before
    TREASURY = "TREASURY"  # 7th business day before the month's last; notice: prior month's last
    FX_IMM = "FX_IMM"  # 2nd business day before the third Wednesday


@unique
class RollAnchor(StrEnum):
    """The date a roll counts its business days back from."""

    LAST_TRADE = "LAST_TRADE"  # the last trading day
    FIRST_NOTICE = "FIRST_NOTICE"  # the first notice day (physically delivered rates)


@unique
class RollMethod(StrEnum):
    """How a held position is rolled."""

    CALENDAR_SPREAD = "CALENDAR_SPREAD"  # both legs as one atomic group
    TWO_LEGS = "TWO_LEGS"  # close the old contract, then open the new one


_NOTICE_RULES: Final = frozenset({ExpiryRule.TREASURY})


class RootRoll(BaseModel):
    """
    One futures root's roll rules (a ``roots:`` entry of ``configs/tradfi/rolls.yaml``).

    Parameters
    ----------
    venue : str
        The canonical venue of its keys (``CME``).
    base_asset : str
        The canonical base asset of its keys (``SP500`` for ES), as in the venue's root aliases.
    quote_asset : str
        The quote currency (``USD``).
    months : str
        The listed contract months as month codes in calendar order (``HMUZ``).
    expiry_rule : ExpiryRule
        How the last trading day follows from the contract month.
    roll_anchor : RollAnchor
        What the roll counts back from (``FIRST_NOTICE`` only for rules that have one).
    roll_offset_business_days : int, optional
        Business days before the anchor the roll happens (0: on the anchor day itself).
    roll_offset_calendar_days : int, optional
        Calendar days before the anchor instead (exactly one of the two offsets is given).
    roll_method : RollMethod
        How a held position is rolled.
    session_calendar : str
        The trading-hours calendar (a ``pandas_market_calendars`` name, e.g. ``CME_Equity``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    venue: Annotated[str, Field(pattern=r"^[A-Z0-9](?:[A-Z0-9_-]*[A-Z0-9])?$")] = "CME"
    base_asset: Annotated[str, Field(pattern=r"^[A-Z0-9]+$")]
    quote_asset: Annotated[str, Field(pattern=r"^[A-Z0-9]+$")] = "USD"
    months: Annotated[str, Field(min_length=1, max_length=12)]
    expiry_rule: ExpiryRule
    roll_anchor: RollAnchor = RollAnchor.LAST_TRADE
    roll_offset_business_days: Annotated[int, Field(ge=0, le=40)] | None = None
    roll_offset_calendar_days: Annotated[int, Field(ge=0, le=60)] | None = None
    roll_method: RollMethod = RollMethod.CALENDAR_SPREAD
    session_calendar: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if any(c not in MONTH_CODES for c in self.months):
            raise ValueError(f"months {self.months!r} must be CME month codes ({MONTH_CODES})")
        ordered = "".join(c for c in MONTH_CODES if c in self.months)
        if ordered != self.months:
            raise ValueError(f"months {self.months!r} must be distinct and in calendar order ({ordered!r})")
        if (self.roll_offset_business_days is None) == (self.roll_offset_calendar_days is None):
            raise ValueError("give exactly one of roll_offset_business_days and roll_offset_calendar_days")
        if self.roll_anchor is RollAnchor.FIRST_NOTICE and self.expiry_rule not in _NOTICE_RULES:
            raise ValueError(
                f"roll_anchor FIRST_NOTICE needs a rule with a first notice day, not {self.expiry_rule}"
            )
        return self

    @property
    def month_numbers(self) -> tuple[int, ...]:
        """Return the listed months as numbers (``HMUZ`` -> ``(3, 6, 9, 12)``)."""
        return tuple(MONTH_CODES.index(c) + 1 for c in self.months)


class RollsConfig(BaseModel):
    """The roll calendar file: extra closures and one :class:`RootRoll` per root."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_holidays: tuple[date, ...] = ()
    roots: dict[Annotated[str, Field(pattern=r"^[A-Z0-9]{1,3}$")], RootRoll]

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen: dict[tuple[str, str], str] = {}
        for root, spec in self.roots.items():
            other = seen.setdefault((spec.venue, spec.base_asset), root)
            if other != root:
                raise ValueError(f"roots {other} and {root} both map to {spec.venue} {spec.base_asset}")
        return self


@dataclass(frozen=True, slots=True)
class ContractDates:
    """
    One listed contract of a root and its calendar.

    Parameters
    ----------
    root : str
        The root (``ES``).
    year, month : int
        The contract month.
    key : InstrumentKey
        Its canonical key (the expiry field is the last trading day).
    last_trade : date
        The last trading day.
    first_notice : date or None
        The first notice day (rates rules only).
    roll_date : date
        The day a held position moves to the next contract.
    """

    root: str
    year: int
    month: int
    key: InstrumentKey
    last_trade: date
    first_notice: date | None
    roll_date: date

    @property
    def symbol(self) -> str:
        """Return the CME/Databento raw symbol with a one-digit year (``ESZ4``)."""
        return f"{self.root}{MONTH_CODES[self.month - 1]}{self.year % 10}"


def last_trade_date(rule: ExpiryRule, year: int, month: int, calendar: BusinessCalendar) -> date:
    """Return the last trading day of the ``year``/``month`` contract under ``rule``."""
    if rule is ExpiryRule.EQUITY_INDEX:
        return calendar.preceding_or_same(_third_weekday(year, month, _FRIDAY))
    if rule is ExpiryRule.FX_IMM:
        return calendar.add_business_days(_third_weekday(year, month, _WEDNESDAY), -2)
    if rule is ExpiryRule.ENERGY_25TH:
        prior_year, prior_month = (year - 1, 12) if month == 1 else (year, month - 1)
        the_25th = date(prior_year, prior_month, 25)
        back = 3 if calendar.is_business_day(the_25th) else 4
        return calendar.add_business_days(the_25th, -back)
    # TREASURY: the seventh business day preceding the last business day of the month
    return calendar.add_business_days(calendar.last_business_day(year, month), -7)


def first_notice_date(rule: ExpiryRule, year: int, month: int, calendar: BusinessCalendar) -> date | None:
    """Return the first notice day of the contract, or ``None`` if its rule has none."""
    if rule is not ExpiryRule.TREASURY:
        return None
    prior_year, prior_month = (year - 1, 12) if month == 1 else (year, month - 1)
    return calendar.last_business_day(prior_year, prior_month)


def _third_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 14)


class RollCalendar:
    """
    The roll calendar of every configured root (see the module docstring).

    Parameters
    ----------
    config : RollsConfig
        The validated roll configuration.
    """

    def __init__(self, config: RollsConfig) -> None:
        self._config = config
        self.business_days = BusinessCalendar(config.extra_holidays)
        self._by_base = {(s.venue, s.base_asset): root for root, s in config.roots.items()}

    @classmethod
    def from_yaml(cls, path: str | Path) -> RollCalendar:
        """
        Load a roll calendar file.

        Raises
        ------
        InvalidConfig
            If the file cannot be read or does not validate (naming the field).
        """
        raw = read_yaml_file(path)
        try:
            return cls(RollsConfig.model_validate(raw))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "file"
            raise InvalidConfig(f"{path}: {where}: {first['msg']}", details={"file": str(path)}) from None

    @classmethod
    def default(cls) -> RollCalendar:
        """
        Load ``configs/tradfi/rolls.yaml`` (under ``$NAUTILUS_EXT_CONFIG_DIR`` when that holds one;
        the shipped file otherwise: exchange rules, not user settings).
        """
        base = os.environ.get(CONFIG_DIR_ENV)
        custom = Path(base) / "tradfi" / "rolls.yaml" if base else None
        return cls.from_yaml(custom if custom is not None and custom.is_file() else DEFAULT_ROLLS_FILE)

    @property
    def config(self) -> RollsConfig:
        """Return the configuration."""
        return self._config

    @property
    def roots(self) -> tuple[str, ...]:
        """Return the configured roots."""
        return tuple(self._config.roots)

    def spec(self, root: str) -> RootRoll:
        """
        Return a root's rules.

        Raises
        ------
        InvalidConfig
            If the root is not configured.
        """
        spec = self._config.roots.get(root)
        if spec is None:
            raise InvalidConfig(
                f"no roll rules for futures root {root!r} (configured: {', '.join(self.roots)})",
                details={"root": root},
            )
        return spec

    def root_of(self, key: InstrumentKey) -> str:
        """
        Return the root of a future's key (``CME:FUTURE:SP500-USD-...`` -> ``ES``).

        Raises
        ------
        InvalidInstrumentKey
            If the key is not a future of a configured root.
        """
        root = self._by_base.get((key.venue, key.base_asset or ""))
        if key.instrument_type is not InstrumentType.FUTURE or root is None:
            raise InvalidInstrumentKey(
                f"{key} is not a future of a root with a roll calendar (configured: {', '.join(self.roots)})",
                instrument_key=str(key),
            )
        return root

    def roll_date(self, root: str, year: int, month: int, last_trade: date | None = None) -> date:
        """
        Return the roll date of a contract; ``last_trade`` overrides the rule's (a listed
        contract's definition is the authority when there is one).
        """
        spec = self.spec(root)
        if spec.roll_anchor is RollAnchor.FIRST_NOTICE:
            anchor = first_notice_date(spec.expiry_rule, year, month, self.business_days)
            assert anchor is not None  # RootRoll's validator allows FIRST_NOTICE only with one
        else:
            anchor = last_trade or last_trade_date(spec.expiry_rule, year, month, self.business_days)
        if spec.roll_offset_calendar_days is not None:
            return self.business_days.preceding_or_same(
                anchor - timedelta(days=spec.roll_offset_calendar_days)
            )
        assert spec.roll_offset_business_days is not None  # RootRoll's validator: exactly one
        return self.business_days.add_business_days(anchor, -spec.roll_offset_business_days)

    def contract(self, root: str, year: int, month: int) -> ContractDates:
        """
        Return the dates of the ``year``/``month`` contract of ``root``.

        Raises
        ------
        InvalidConfig
            If the root is not configured or does not list that month.
        """
        spec = self.spec(root)
        if month not in spec.month_numbers:
            raise InvalidConfig(
                f"{root} lists no {MONTH_CODES[month - 1]} ({month}) contract (months {spec.months})",
                details={"root": root, "month": month},
            )
        cal = self.business_days
        last = last_trade_date(spec.expiry_rule, year, month, cal)
        key = InstrumentKey(
            spec.venue,
            InstrumentType.FUTURE,
            f"{spec.base_asset}-{spec.quote_asset}-{last:%y%m%d}",
            "LIN",
        )
        return ContractDates(
            root=root,
            year=year,
            month=month,
            key=key,
            last_trade=last,
            first_notice=first_notice_date(spec.expiry_rule, year, month, cal),
            roll_date=self.roll_date(root, year, month, last),
        )

    def following(self, contract: ContractDates) -> ContractDates:
        """Return the next listed contract after ``contract``."""
        months = self.spec(contract.root).month_numbers
        later = [m for m in months if m > contract.month]
        if later:
            return self.contract(contract.root, contract.year, later[0])
        return self.contract(contract.root, contract.year + 1, months[0])

    def active_contract(self, root: str, on: date) -> ContractDates:
        """Return the contract a position in ``root`` is held in on ``on`` (its roll date is ahead)."""
        months = self.spec(root).month_numbers
        # the contract of the current month may already have rolled: start a month early
        start_year, start_month = (on.year - 1, 12) if on.month == 1 else (on.year, on.month - 1)
        later = [m for m in months if m >= start_month]
        current = (
            self.contract(root, start_year, later[0])
            if later
            else self.contract(root, start_year + 1, months[0])
        )
        while current.roll_date <= on:
            current = self.following(current)
        return current

    def contracts(self, root: str, start: date, end: date) -> list[ContractDates]:
        """Return the contracts of ``root`` whose last trading day is in ``[start, end]``."""
        out: list[ContractDates] = []
        current = self.active_contract(root, start - timedelta(days=400))
        while current.last_trade <= end:
            if current.last_trade >= start:
                out.append(current)
            current = self.following(current)
        return out

    def rolls(self, root: str, start: date, end: date) -> list[tuple[date, ContractDates, ContractDates]]:
        """Return ``(roll date, from contract, to contract)`` for each roll in ``[start, end]``."""
        out = []
        current = self.active_contract(root, start - timedelta(days=1))
        while current.roll_date <= end:
            nxt = self.following(current)
            if current.roll_date >= start:
                out.append((current.roll_date, current, nxt))
            current = nxt
        return out


__all__ = [
    "MONTH_CODES",
    "ContractDates",
    "ExpiryRule",
    "RollAnchor",
    "RollCalendar",
    "RollMethod",
    "RollsConfig",
    "RootRoll",
    "first_notice_date",
    "last_trade_date",
]
