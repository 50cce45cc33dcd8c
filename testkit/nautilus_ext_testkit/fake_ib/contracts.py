"""
The stand-in's listed contracts: CME/CBOT/NYMEX/COMEX futures and ES futures options.

Last trade dates follow the exchanges' published rules closely enough for tests (equity index
and FX: third Friday of the contract month, 6E two business days before the third Wednesday is
simplified to the Friday before it; CL: three business days before the 25th of the prior month;
ZN: seven business days before the last business day; GC: third-last business day), with
weekends skipped but no exchange holidays.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from nautilus_ext_testkit.fake_ib import wire

MONTH_CODES: Final = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class ListedContract:
    """One listed contract (IB's ``Contract`` + the ``ContractDetails`` fields the stand-in serves)."""

    con_id: int
    symbol: str
    sec_type: str  # FUT or FOP
    last_trade_date: str  # YYYYMMDD
    strike: float
    right: str  # C / P / ""
    multiplier: str
    exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    min_tick: float
    long_name: str
    under_con_id: int = 0
    under_symbol: str = ""
    under_sec_type: str = ""

    @property
    def expiry(self) -> dt.date:
        """The last trade date."""
        return dt.datetime.strptime(self.last_trade_date, "%Y%m%d").date()

    @property
    def contract_month(self) -> str:
        """YYYYMM of the contract month (the future's month, not the last trade date's)."""
        code = self.local_symbol.split(" ")[0]
        month = MONTH_CODES.index(code[-2]) + 1
        year = self.expiry.year
        if month < self.expiry.month - 6:  # CL Jan contract trades out in December
            year += 1
        return f"{year}{month:02d}"

    def details_msg(self, req_id: int) -> list[wire.Field]:
        """CONTRACT_DATA in ``processContractDataMsg`` order at version 178 (no version field)."""
        trading_hours = f"{self.expiry:%Y%m%d}:1700-{self.expiry:%Y%m%d}:1600"
        return [
            wire.CONTRACT_DATA,
            req_id,
            self.symbol,
            self.sec_type,
            self.last_trade_date,
            self.strike,
            self.right,
            self.exchange,
            self.currency,
            self.local_symbol,
            self.trading_class,  # marketName
            self.trading_class,
            self.con_id,
            self.min_tick,
            self.multiplier,
            "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,LMT,MKT,STP,STPLMT,TRAIL",  # orderTypes
            self.exchange,  # validExchanges
            1,  # priceMagnifier
            self.under_con_id,
            self.long_name,
            "",  # primaryExchange
            self.contract_month,
            "",  # industry
            "",  # category
            "",  # subcategory
            "US/Central",  # timeZoneId
            trading_hours,
            trading_hours,  # liquidHours
            "",  # evRule
            0,  # evMultiplier
            0,  # secIdListCount
            2,  # aggGroup
            self.under_symbol,
            self.under_sec_type,
            "",  # marketRuleIds
            self.last_trade_date,  # realExpirationDate
            "",  # stockType
            Decimal(1),  # minSize
            Decimal(1),  # sizeIncrement
            Decimal(1),  # suggestedSizeIncrement
        ]


@dataclass(frozen=True)
class Root:
    """A futures root: IB symbol and trading class, exchange, multiplier, tick, listing cycle."""

    symbol: str
    trading_class: str
    exchange: str
    multiplier: str
    min_tick: float
    months: str  # listed month codes
    long_name: str
    con_base: int


ROOTS: Final = {
    "ES": Root("ES", "ES", "CME", "50", 0.25, "HMUZ", "E-mini S&P 500", 495_000_000),
    "NQ": Root("NQ", "NQ", "CME", "20", 0.25, "HMUZ", "E-mini NASDAQ 100", 496_000_000),
    "6E": Root("EUR", "6E", "CME", "125000", 0.00005, "HMUZ", "European Monetary Union Euro", 497_000_000),
    "CL": Root("CL", "CL", "NYMEX", "1000", 0.01, MONTH_CODES, "Light Sweet Crude Oil", 498_000_000),
    "ZN": Root("ZN", "ZN", "CBOT", "1000", 0.015625, "HMUZ", "10 Year US Treasury Note", 499_000_000),
    "GC": Root("GC", "GC", "COMEX", "100", 0.1, "GJMQVZ", "Gold", 500_000_000),
}
"""The futures roots the stand-in lists, keyed by trading class."""


def _business_days_before(day: dt.date, n: int) -> dt.date:
    d = day
    while n > 0:
        d -= dt.timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _last_business_day(year: int, month: int) -> dt.date:
    d = dt.date(year, month, calendar.monthrange(year, month)[1])
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def last_trade_date(root: str, year: int, month: int) -> dt.date:
    """Return the stand-in's last trade date of ``root``'s contract month."""
    if root in ("ES", "NQ"):
        return _third_friday(year, month)
    if root == "6E":
        return _business_days_before(_third_friday(year, month) - dt.timedelta(days=2), 2)
    if root == "CL":
        prior = dt.date(year, month, 1) - dt.timedelta(days=1)
        day25 = dt.date(prior.year, prior.month, 25)
        return _business_days_before(day25, 3 if day25.weekday() < 5 else 4)
    if root == "ZN":
        return _business_days_before(_last_business_day(year, month), 7)
    if root == "GC":
        return _business_days_before(_last_business_day(year, month), 2)
    raise KeyError(root)


def front_month(root_code: str, after: dt.date) -> ListedContract:
    """Return ``root_code``'s first future whose last trade date is after ``after``."""
    for year in range(after.year, after.year + 2):
        for c in futures(root_code, range(year, year + 1)):
            if c.expiry > after:
                return c
    raise LookupError(root_code)


def futures(root_code: str, years: range) -> list[ListedContract]:
    """Return ``root_code``'s listed futures over ``years``."""
    root = ROOTS[root_code]
    out = []
    for year in years:
        for code in root.months:
            month = MONTH_CODES.index(code) + 1
            ltd = last_trade_date(root_code, year, month)
            out.append(
                ListedContract(
                    con_id=root.con_base + year % 100 * 100 + month,
                    symbol=root.symbol,
                    sec_type="FUT",
                    last_trade_date=f"{ltd:%Y%m%d}",
                    strike=0.0,
                    right="",
                    multiplier=root.multiplier,
                    exchange=root.exchange,
                    currency="USD",
                    local_symbol=f"{root.trading_class}{code}{year % 10}",
                    trading_class=root.trading_class,
                    min_tick=root.min_tick,
                    long_name=root.long_name,
                )
            )
    return out


def es_options(underlying: ListedContract, strikes: tuple[int, ...]) -> list[ListedContract]:
    """Return quarterly ES options (trading class ``ES``) on ``underlying`` at ``strikes``."""
    out = []
    for strike in strikes:
        for right in ("C", "P"):
            out.append(
                ListedContract(
                    con_id=700_000_000
                    + underlying.con_id % 1_000_000 * 1000
                    + strike // 100 * 2
                    + (right == "P"),
                    symbol="ES",
                    sec_type="FOP",
                    last_trade_date=underlying.last_trade_date,
                    strike=float(strike),
                    right=right,
                    multiplier="50",
                    exchange="CME",
                    currency="USD",
                    local_symbol=f"{underlying.local_symbol} {right}{strike}",
                    trading_class="ES",
                    min_tick=0.05,
                    long_name="E-mini S&P 500",
                    under_con_id=underlying.con_id,
                    under_symbol=underlying.local_symbol,
                    under_sec_type="FUT",
                )
            )
    return out


def default_listing(years: range | None = None) -> list[ListedContract]:
    """
    Every root's futures over ``years`` (default: 2024 to two years after the current one) and
    ES options at 4500/5000/5500 on each ES future.
    """
    years = years if years is not None else range(2024, dt.date.today().year + 3)
    out: list[ListedContract] = []
    for code in ROOTS:
        out += futures(code, years)
    for fut in [c for c in out if c.trading_class == "ES"]:
        out += es_options(fut, (4500, 5000, 5500))
    return out
