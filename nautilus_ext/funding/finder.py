"""
The funding opportunity finder (seed 002's ``OpportunityFinder``): pure, over normalised samples.

For each base asset listed on two venues, the finder prices the carry of going long where funding
is cheap and short where it is rich, per hour and per year, and nets it of what entering and
leaving both legs costs:

- **fees**: entry and exit on both legs, taker by default (maker when the filter says so):
  ``2 * (fee_long + fee_short)`` as a fraction of notional;
- **spread and depth**: the book walk of the intended size on each leg at entry (buy the long leg,
  sell the short one) and at exit (the reverse), each measured against the venue's mid, from the
  L2 books a :class:`FundingBooks` provides (the same :func:`~nautilus_ext.routing.cost.walk_book`
  the router uses);
- **stablecoin basis**: a USDT-quoted leg against a USDC-quoted one is not 1:1; the finder charges
  ``|p_long / p_short - 1|`` once, from the USD prices of the two quote currencies the caller gives,
  and refuses to guess when one is missing.

``break_even_hours = total_cost / divergence_per_hour``; ``net_apr`` is the return over the holding
horizon after costs, annualised (simple). Every number is a ``Decimal`` fraction of notional, and
each opportunity keeps the samples, fees and costs that produced it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Final
from typing import Protocol

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import HOURS_PER_YEAR
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.routing.cost import Level
from nautilus_ext.routing.cost import walk_book

_ZERO: Final = Decimal(0)


class FundingBooks(Protocol):
    """L2 books by canonical key: the side a taker walks (best first) and the mid."""

    def levels(self, instrument_key: str, *, buy: bool) -> tuple[Sequence[Level], Decimal | None]:
        """Return asks (``buy``) or bids, best first, and the mid; empty and None when unknown."""
        ...


@dataclass(frozen=True, slots=True)
class Fees:
    """A venue's fees as fractions of notional (``0.0005`` = 5 bp)."""

    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class OpportunityFilter:
    """
    What the finder looks for. Every threshold is optional; fractions, not percents.

    Parameters
    ----------
    size_usd : Decimal
        The intended notional per leg, in USD (sizes the book walk).
    holding_hours : Decimal
        The horizon ``net_apr`` is computed over.
    """

    size_usd: Decimal = Decimal(10_000)
    holding_hours: Decimal = Decimal(24 * 7)
    use_maker_fees: bool = False
    min_divergence_apr: Decimal | None = None
    min_net_apr: Decimal | None = None
    max_break_even_hours: Decimal | None = None
    min_open_interest_usd: Decimal | None = None
    min_volume_24h_usd: Decimal | None = None
    max_age_hours: Decimal | None = None
    require_depth: bool = False
    venues: frozenset[str] | None = None
    bases: frozenset[str] | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.size_usd <= 0:
            raise InvalidConfig(f"size_usd must be > 0, got {self.size_usd}")
        if self.holding_hours <= 0:
            raise InvalidConfig(f"holding_hours must be > 0, got {self.holding_hours}")
        if self.limit is not None and self.limit <= 0:
            raise InvalidConfig(f"limit must be > 0, got {self.limit}")
        for name in ("min_open_interest_usd", "min_volume_24h_usd", "max_age_hours", "max_break_even_hours"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidConfig(f"{name} must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of an opportunity, with the sample it was priced from."""

    sample: FundingRateSample
    fee: Decimal
    depth_cost: Decimal | None  # entry + exit walk against the mid, fraction of notional

    @property
    def venue(self) -> str:
        """The leg's venue."""
        return self.sample.venue


@dataclass(frozen=True, slots=True)
class FundingOpportunity:
    """A ranked carry: long ``long.venue``, short ``short.venue``, same base asset."""

    base: str
    long: Leg
    short: Leg
    size_usd: Decimal
    divergence_per_hour: Decimal
    fee_cost: Decimal
    depth_cost: Decimal | None
    basis_cost: Decimal
    holding_hours: Decimal

    @property
    def divergence_apr(self) -> Decimal:
        """Gross carry, annualised."""
        return self.divergence_per_hour * HOURS_PER_YEAR

    @property
    def total_cost(self) -> Decimal:
        """Fees + depth (when known) + basis, as a fraction of notional."""
        return self.fee_cost + (self.depth_cost or _ZERO) + self.basis_cost

    @property
    def break_even_hours(self) -> Decimal:
        """Hours of carry that pay the costs back."""
        return self.total_cost / self.divergence_per_hour

    @property
    def net_return(self) -> Decimal:
        """Carry over the horizon minus costs, fraction of notional."""
        return self.divergence_per_hour * self.holding_hours - self.total_cost

    @property
    def net_apr(self) -> Decimal:
        """:attr:`net_return` annualised over the horizon (simple)."""
        return self.net_return / self.holding_hours * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True)
class FinderResult:
    """Ranked opportunities, and the pairs left out with the reason."""

    opportunities: list[FundingOpportunity]
    skipped: list[tuple[str, str, str, str]] = field(default_factory=list)  # base, long, short, why


def _usd_per_base(sample: FundingRateSample, quote_prices: Mapping[str, Decimal]) -> Decimal | None:
    price = sample.mark_price or sample.index_price
    quote_usd = quote_prices.get(sample.quote)
    return None if price is None or quote_usd is None else price * quote_usd


def _depth_cost(
    books: FundingBooks | None, sample: FundingRateSample, quantity: Decimal, *, long: bool
) -> Decimal | None:
    # entry: buy the long leg / sell the short one; exit: the reverse. Each walk against the mid.
    if books is None:
        return None
    total = _ZERO
    for buy in (long, not long):
        levels, mid = books.levels(sample.instrument_key, buy=buy)
        if mid is None or mid <= 0:
            return None
        walk = walk_book(levels, quantity, buy=buy)
        if not walk.complete or walk.avg_price is None:
            return None
        signed = walk.avg_price - mid if buy else mid - walk.avg_price
        total += signed / mid
    return total


def find_opportunities(
    samples: Sequence[FundingRateSample],
    fees: Mapping[str, Fees],
    criteria: OpportunityFilter,
    *,
    quote_prices: Mapping[str, Decimal] | None = None,
    books: FundingBooks | None = None,
    now_ns: int | None = None,
) -> FinderResult:
    """
    Rank every long/short venue pair per base asset (see the module docstring).

    Parameters
    ----------
    samples : Sequence[FundingRateSample]
        The newest sample per (venue, instrument); older duplicates are ignored.
    fees : Mapping[str, Fees]
        Fees per upper-case venue; a venue without fees is skipped (with the reason).
    quote_prices : Mapping[str, Decimal], optional
        USD price of each quote currency (``{"USD": 1, "USDT": 0.9995, "USDC": 1}``); required for
        USD sizing and cross-quote basis. ``USD`` defaults to 1.
    books : FundingBooks, optional
        L2 books for the spread and depth cost; without them ``depth_cost`` is None.
    now_ns : int, optional
        Now, for ``max_age_hours``.
    """
    prices = {"USD": Decimal(1), **(quote_prices or {})}
    newest: dict[tuple[str, str], FundingRateSample] = {}
    for sample in samples:
        key = (sample.venue, sample.instrument_key)
        if key not in newest or newest[key].ts_ns < sample.ts_ns:
            newest[key] = sample
    by_base: dict[str, list[FundingRateSample]] = defaultdict(list)
    skipped: list[tuple[str, str, str, str]] = []
    for sample in newest.values():
        if criteria.bases is not None and sample.base not in criteria.bases:
            continue
        if criteria.venues is not None and sample.venue not in criteria.venues:
            continue
        max_age = criteria.max_age_hours
        if max_age is not None and now_ns is not None and now_ns - sample.ts_ns > max_age * NANOS_PER_HOUR:
            skipped.append((sample.base, sample.venue, "", f"stale: observed at {sample.ts_ns}"))
            continue
        usd = _usd_per_base(sample, prices)
        if criteria.min_open_interest_usd is not None:
            if sample.open_interest is None or usd is None:
                skipped.append((sample.base, sample.venue, "", "open interest unknown"))
                continue
            if sample.open_interest * usd < criteria.min_open_interest_usd:
                skipped.append((sample.base, sample.venue, "", "open interest below minimum"))
                continue
        if criteria.min_volume_24h_usd is not None:
            quote_usd = prices.get(sample.quote)
            if sample.volume_24h is None or quote_usd is None:
                skipped.append((sample.base, sample.venue, "", "24h volume unknown"))
                continue
            if sample.volume_24h * quote_usd < criteria.min_volume_24h_usd:
                skipped.append((sample.base, sample.venue, "", "24h volume below minimum"))
                continue
        by_base[sample.base].append(sample)

    found: list[FundingOpportunity] = []
    for base, listed in by_base.items():
        for long in listed:
            for short in listed:
                if long.venue == short.venue:
                    continue
                divergence = short.rate_per_hour - long.rate_per_hour
                if divergence <= 0:
                    continue  # the other orientation carries it
                opportunity = _price(base, long, short, divergence, fees, prices, books, criteria, skipped)
                if opportunity is not None and _passes(opportunity, criteria):
                    found.append(opportunity)
    found.sort(key=lambda o: (-o.net_apr, o.break_even_hours, o.base, o.long.venue, o.short.venue))
    if criteria.limit is not None:
        found = found[: criteria.limit]
    return FinderResult(found, skipped)


def _price(
    base: str,
    long: FundingRateSample,
    short: FundingRateSample,
    divergence: Decimal,
    fees: Mapping[str, Fees],
    prices: Mapping[str, Decimal],
    books: FundingBooks | None,
    criteria: OpportunityFilter,
    skipped: list[tuple[str, str, str, str]],
) -> FundingOpportunity | None:
    def skip(why: str) -> None:
        skipped.append((base, long.venue, short.venue, why))

    missing = [v for v in (long.venue, short.venue) if v not in fees]
    if missing:
        skip(f"no fees for {', '.join(missing)}")
        return None
    if long.quote not in prices or short.quote not in prices:
        skip(f"no USD price for quote {long.quote if long.quote not in prices else short.quote}")
        return None
    fee_long, fee_short = (
        (fees[v].maker if criteria.use_maker_fees else fees[v].taker) for v in (long.venue, short.venue)
    )
    depth_long = depth_short = None
    usd_long = _usd_per_base(long, prices)
    usd_short = _usd_per_base(short, prices)
    if books is not None and usd_long and usd_short:
        depth_long = _depth_cost(books, long, criteria.size_usd / usd_long, long=True)
        depth_short = _depth_cost(books, short, criteria.size_usd / usd_short, long=False)
    depth = None if depth_long is None or depth_short is None else depth_long + depth_short
    if criteria.require_depth and depth is None:
        skip("no book deep enough for the size")
        return None
    basis = abs(prices[long.quote] / prices[short.quote] - 1)
    return FundingOpportunity(
        base=base,
        long=Leg(long, fee_long, depth_long),
        short=Leg(short, fee_short, depth_short),
        size_usd=criteria.size_usd,
        divergence_per_hour=divergence,
        fee_cost=2 * (fee_long + fee_short),
        depth_cost=depth,
        basis_cost=basis,
        holding_hours=criteria.holding_hours,
    )


class FeeSchedule(Protocol):
    """Anything with maker and taker fee fractions."""

    @property
    def maker(self) -> Decimal:
        """Maker fee fraction."""
        ...

    @property
    def taker(self) -> Decimal:
        """Taker fee fraction."""
        ...


class RateSource(Protocol):
    """Where the finder reads the newest rates and the fee schedules (the store's repository)."""

    def latest_rates(self) -> list[FundingRateSample]:
        """Return the newest sample per venue and instrument."""
        ...

    def venue_fees(self) -> Mapping[str, FeeSchedule]:
        """Return fee fractions per upper-case venue."""
        ...


class OpportunityFinder:
    """
    Seed 002's internal interface: strategies in the same process call :meth:`find` directly.

    Parameters
    ----------
    source : RateSource
        Usually ``FundingRepository(Database.open(url))``.
    quote_prices : Mapping[str, Decimal]
        USD price of each quote currency (see :func:`find_opportunities`).
    books : FundingBooks, optional
        Live or catalog L2 books for the depth cost.
    """

    def __init__(
        self,
        source: RateSource,
        *,
        quote_prices: Mapping[str, Decimal] | None = None,
        books: FundingBooks | None = None,
    ) -> None:
        self._source = source
        self._quote_prices = dict(quote_prices or {})
        self._books = books

    def find(self, criteria: OpportunityFilter, *, now_ns: int | None = None) -> FinderResult:
        """Return the ranked opportunities in the store now."""
        fees = {v: Fees(f.maker, f.taker) for v, f in self._source.venue_fees().items()}
        return find_opportunities(
            self._source.latest_rates(),
            fees,
            criteria,
            quote_prices=self._quote_prices,
            books=self._books,
            now_ns=now_ns,
        )


def _passes(opportunity: FundingOpportunity, criteria: OpportunityFilter) -> bool:
    if criteria.min_divergence_apr is not None and opportunity.divergence_apr < criteria.min_divergence_apr:
        return False
    if criteria.min_net_apr is not None and opportunity.net_apr < criteria.min_net_apr:
        return False
    return not (
        criteria.max_break_even_hours is not None
        and opportunity.break_even_hours > criteria.max_break_even_hours
    )


__all__ = [
    "Fees",
    "FinderResult",
    "FundingBooks",
    "FundingOpportunity",
    "Leg",
    "OpportunityFilter",
    "OpportunityFinder",
    "RateSource",
    "find_opportunities",
]
