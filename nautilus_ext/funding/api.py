"""
Seed 002's external interface: a REST API (FastAPI, OpenAPI schema at ``/openapi.json``) over
the store, for tools outside the trading process. Strategies in the process use
:class:`~nautilus_ext.funding.finder.OpportunityFinder` directly instead (no HTTP).

- ``GET /api/v1/opportunities``: ranked carries after costs (the finder's filter as query params);
- ``GET /api/v1/compare?symbol=&venue_a=&venue_b=``: the newest rates of one asset on two venues,
  per hour and per year, and which side to be long;
- ``GET /api/v1/history?venue=&symbol=&since=``: one venue's rate history of one asset.

Numbers are decimal strings (never floats); times are UNIX nanoseconds and ISO-8601 UTC. Bad
parameters get a 422 naming the parameter; an unknown venue or symbol a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from typing import Any
from typing import Protocol

from fastapi import FastAPI
from fastapi import HTTPException
from fastapi import Query
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import WithJsonSchema

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.finder import FundingBooks
from nautilus_ext.funding.finder import FundingOpportunity
from nautilus_ext.funding.finder import OpportunityFilter
from nautilus_ext.funding.finder import OpportunityFinder
from nautilus_ext.funding.finder import RateSource
from nautilus_ext.funding.model import FundingRateSample

_MAX_SINCE_NS = 7_258_118_400 * 1_000_000_000  # 2200-01-01


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class RateOut(_Out):
    """One funding sample."""

    venue: str
    instrument_key: str
    base: str
    quote: str
    rate: Decimal
    interval_hours: Decimal
    rate_per_hour: Decimal
    apr: Decimal
    ts_ns: int
    time: datetime
    next_funding_ns: int | None
    mark_price: Decimal | None
    open_interest: Decimal | None
    volume_24h: Decimal | None
    settled: bool


class LegOut(_Out):
    """One side of an opportunity."""

    venue: str
    instrument_key: str
    quote: str
    rate_per_hour: Decimal
    fee: Decimal
    depth_cost: Decimal | None


class OpportunityOut(_Out):
    """A ranked carry (all costs as fractions of notional)."""

    base: str
    long: LegOut
    short: LegOut
    size_usd: Decimal
    divergence_per_hour: Decimal
    divergence_apr: Decimal
    fee_cost: Decimal
    depth_cost: Decimal | None
    basis_cost: Decimal
    total_cost: Decimal
    break_even_hours: Decimal
    holding_hours: Decimal
    net_return: Decimal
    net_apr: Decimal


class CompareOut(_Out):
    """Two venues' newest rates of one asset."""

    symbol: str
    venue_a: RateOut
    venue_b: RateOut
    divergence_per_hour: Decimal
    divergence_apr: Decimal
    long_venue: str
    short_venue: str


class ErrorOut(_Out):
    """A refused request: what was wrong."""

    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "parameters that contradict each other"},
    404: {"model": ErrorOut, "description": "venue or symbol not collected"},
}
_NAME = r"^[A-Za-z0-9_-]+$"
_NAMES = r"^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$"


class HealthOut(_Out):
    """Service status."""

    status: str
    venues: int


def _rate_out(sample: FundingRateSample) -> RateOut:
    return RateOut(
        venue=sample.venue,
        instrument_key=sample.instrument_key,
        base=sample.base,
        quote=sample.quote,
        rate=sample.rate,
        interval_hours=sample.interval_hours,
        rate_per_hour=sample.rate_per_hour,
        apr=sample.apr,
        ts_ns=sample.ts_ns,
        time=datetime.fromtimestamp(sample.ts_ns / 1e9, tz=UTC),
        next_funding_ns=sample.next_funding_ns,
        mark_price=sample.mark_price,
        open_interest=sample.open_interest,
        volume_24h=sample.volume_24h,
        settled=sample.settled,
    )


def _opportunity_out(o: FundingOpportunity) -> OpportunityOut:
    def leg(side: Any) -> LegOut:
        s = side.sample
        return LegOut(
            venue=s.venue,
            instrument_key=s.instrument_key,
            quote=s.quote,
            rate_per_hour=s.rate_per_hour,
            fee=side.fee,
            depth_cost=side.depth_cost,
        )

    return OpportunityOut(
        base=o.base,
        long=leg(o.long),
        short=leg(o.short),
        size_usd=o.size_usd,
        divergence_per_hour=o.divergence_per_hour,
        divergence_apr=o.divergence_apr,
        fee_cost=o.fee_cost,
        depth_cost=o.depth_cost,
        basis_cost=o.basis_cost,
        total_cost=o.total_cost,
        break_even_hours=o.break_even_hours,
        holding_hours=o.holding_hours,
        net_return=o.net_return,
        net_apr=o.net_apr,
    )


class HistorySource(RateSource, Protocol):
    """A rate source that also serves history (the store's repository)."""

    def history(
        self, venue: str, base: str, *, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[FundingRateSample]:
        """Return one venue's samples of one base asset, oldest first."""
        ...


def _csv(value: str | None, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    items = frozenset(v.strip().upper() for v in value.split(",") if v.strip())
    if not items:
        raise HTTPException(400, f"{name}: give at least one comma-separated name")
    return items


def _number(*, gt: int | None = None, ge: int | None = None, le: int) -> dict[str, Any]:
    # Decimal query parameters are documented as plain JSON numbers (pydantic's default schema, a
    # number-or-pattern string, admits strings the validator refuses); the text is parsed exactly
    schema: dict[str, Any] = {"type": "number", "maximum": le}
    if gt is not None:
        schema["exclusiveMinimum"] = gt
    if ge is not None:
        schema["minimum"] = ge
    return schema


_Fraction = Annotated[
    Decimal | None, Query(ge=-10, le=10, allow_inf_nan=False), WithJsonSchema(_number(ge=-10, le=10))
]
_NonNegative = Annotated[
    Decimal | None, Query(ge=0, le=10**15, allow_inf_nan=False), WithJsonSchema(_number(ge=0, le=10**15))
]


def create_app(
    source: HistorySource,
    *,
    quote_prices: Mapping[str, Decimal] | None = None,
    books: FundingBooks | None = None,
) -> FastAPI:
    """Return the FastAPI app over ``source`` (usually a ``FundingRepository``)."""
    finder = OpportunityFinder(source, quote_prices=quote_prices, books=books)
    app = FastAPI(
        title="nautilus-ext funding rates",
        version="1",
        description="Funding rates, cross-venue carry opportunities after costs, and history.",
    )

    @app.get("/api/v1/health")
    def health() -> HealthOut:
        return HealthOut(status="ok", venues=len(source.venue_fees()))

    @app.get("/api/v1/opportunities", responses=_ERRORS)
    def opportunities(
        size_usd: Annotated[
            Decimal, Query(gt=0, le=10**12, allow_inf_nan=False), WithJsonSchema(_number(gt=0, le=10**12))
        ] = Decimal(10_000),
        holding_hours: Annotated[
            Decimal, Query(gt=0, le=87_600, allow_inf_nan=False), WithJsonSchema(_number(gt=0, le=87_600))
        ] = Decimal(168),
        use_maker_fees: bool = False,
        min_divergence_apr: _Fraction = None,
        min_net_apr: _Fraction = None,
        max_break_even_hours: _NonNegative = None,
        min_open_interest_usd: _NonNegative = None,
        min_volume_24h_usd: _NonNegative = None,
        venues: Annotated[str | None, Query(max_length=500, pattern=_NAMES)] = None,
        symbols: Annotated[str | None, Query(max_length=500, pattern=_NAMES)] = None,
        limit: Annotated[int, Query(ge=1, le=1_000)] = 50,
    ) -> list[OpportunityOut]:
        try:
            criteria = OpportunityFilter(
                size_usd=size_usd,
                holding_hours=holding_hours,
                use_maker_fees=use_maker_fees,
                min_divergence_apr=min_divergence_apr,
                min_net_apr=min_net_apr,
                max_break_even_hours=max_break_even_hours,
                min_open_interest_usd=min_open_interest_usd,
                min_volume_24h_usd=min_volume_24h_usd,
                venues=_csv(venues, "venues"),
                bases=_csv(symbols, "symbols"),
                limit=limit,
            )
        except InvalidConfig as e:
            raise HTTPException(400, str(e)) from None
        return [_opportunity_out(o) for o in finder.find(criteria).opportunities]

    @app.get("/api/v1/compare", responses=_ERRORS)
    def compare(
        symbol: Annotated[str, Query(max_length=20, pattern=_NAME)],
        venue_a: Annotated[str, Query(max_length=50, pattern=_NAME)],
        venue_b: Annotated[str, Query(max_length=50, pattern=_NAME)],
        quote: Annotated[str | None, Query(max_length=12, pattern=_NAME)] = None,
    ) -> CompareOut:
        if venue_a.upper() == venue_b.upper():
            raise HTTPException(400, "venue_a and venue_b must differ")
        latest: dict[str, FundingRateSample] = {}
        for s in source.latest_rates():
            if s.base != symbol.upper() or (quote is not None and s.quote != quote.upper()):
                continue
            if s.venue in latest and s.venue in (venue_a.upper(), venue_b.upper()):
                raise HTTPException(400, f"{s.venue} lists {symbol.upper()} in several quotes: give quote")
            latest[s.venue] = s
        missing = [v.upper() for v in (venue_a, venue_b) if v.upper() not in latest]
        if missing:
            raise HTTPException(404, f"no {symbol.upper()} funding collected for {', '.join(missing)}")
        a, b = latest[venue_a.upper()], latest[venue_b.upper()]
        divergence = abs(a.rate_per_hour - b.rate_per_hour)
        long, short = (a, b) if a.rate_per_hour <= b.rate_per_hour else (b, a)
        return CompareOut(
            symbol=symbol.upper(),
            venue_a=_rate_out(a),
            venue_b=_rate_out(b),
            divergence_per_hour=divergence,
            divergence_apr=divergence * 8760,
            long_venue=long.venue,
            short_venue=short.venue,
        )

    @app.get("/api/v1/history", responses=_ERRORS)
    def history(
        venue: Annotated[str, Query(max_length=50, pattern=_NAME)],
        symbol: Annotated[str, Query(max_length=20, pattern=_NAME)],
        since: Annotated[int | None, Query(ge=0, le=_MAX_SINCE_NS, description="UNIX ns")] = None,
        until: Annotated[int | None, Query(ge=0, le=_MAX_SINCE_NS, description="UNIX ns")] = None,
    ) -> list[RateOut]:
        if since is not None and until is not None and until <= since:
            raise HTTPException(400, "until must be after since")
        samples = source.history(venue, symbol, since_ns=since, until_ns=until)
        if not samples and since is None and until is None:
            raise HTTPException(404, f"no funding collected for {symbol.upper()} on {venue.upper()}")
        return [_rate_out(s) for s in samples]

    return app


__all__ = ["CompareOut", "OpportunityOut", "RateOut", "create_app"]
