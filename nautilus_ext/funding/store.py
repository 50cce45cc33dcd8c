"""
The funding-rate time series in the store: venues with fees, symbols, funding samples.

Re-collecting the same funding timestamp updates the row in place (``INSERT ... ON CONFLICT DO
UPDATE`` on ``(venue, symbol, quote, ts)``): a collector may run twice without duplicating.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.persistence.db import Database
from nautilus_ext.persistence.models import FundingRate
from nautilus_ext.persistence.models import Symbol
from nautilus_ext.persistence.models import Venue
from nautilus_ext.persistence.repository import ceil_us
from nautilus_ext.persistence.repository import dialect_insert
from nautilus_ext.persistence.repository import now_utc
from nautilus_ext.persistence.types import datetime_to_ns
from nautilus_ext.persistence.types import ns_to_datetime

_FUNDING_UPDATE_COLUMNS = (
    "instrument_key",
    "funding_rate",
    "interval_hours",
    "predicted_rate",
    "next_funding_time",
    "mark_price",
    "index_price",
    "open_interest",
    "volume_24h",
    "settled",
)


@dataclass(frozen=True, slots=True)
class VenueFees:
    """A venue's fee schedule as fractions (``0.0002`` = 2 bp)."""

    maker: Decimal
    taker: Decimal


class FundingRepository:
    """Funding-rate time series, venues and symbols."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def upsert_venue(
        self,
        name: str,
        *,
        maker_fee_rate: Decimal | None = None,
        taker_fee_rate: Decimal | None = None,
        display_name: str | None = None,
        is_active: bool = True,
    ) -> int:
        """Create or update a venue (fees as fractions); return its id."""
        for label, fee in (("maker_fee_rate", maker_fee_rate), ("taker_fee_rate", taker_fee_rate)):
            # fractions, not percents: 0.055 (a percent typed as a fraction) is refused
            if fee is not None and not Decimal("-0.01") <= fee <= Decimal("0.01"):
                raise InvalidConfig(f"venue {name}: {label} {fee} is not a fraction in [-0.01, 0.01]")
        with self._db.session() as session:
            return self._venue_id(
                session, name, maker_fee_rate, taker_fee_rate, display_name, is_active, update=True
            )

    def venue_fees(self) -> dict[str, VenueFees]:
        """Return the fee schedule of every venue that has both fees."""
        with self._db.session() as session:
            rows = session.execute(select(Venue)).scalars().all()
            return {
                v.name: VenueFees(v.maker_fee_rate, v.taker_fee_rate)
                for v in rows
                if v.maker_fee_rate is not None and v.taker_fee_rate is not None
            }

    def upsert_rates(self, samples: Iterable[FundingRateSample]) -> int:
        """
        Write funding samples; a sample whose ``(venue, base, quote, ts)`` exists replaces it.

        Returns the number of samples offered. The batch is one ``INSERT ... ON CONFLICT DO
        UPDATE`` executed for every row (the driver's executemany); within one batch the last
        sample of a key wins, as if they had been written one by one. A settled row is never
        overwritten by an unsettled sample (a poll stamped on a funding time keeps the settlement).
        """
        batch = list(samples)
        if not batch:
            return 0
        with self._db.session() as session:
            venues = {v: self._venue_id(session, v, None, None, None, True) for v in {s.venue for s in batch}}
            symbols = self._symbol_ids(session, {s.base for s in batch})
            rows: dict[tuple[int, int, str, datetime], dict[str, Any]] = {}
            for sample in batch:
                ts = ns_to_datetime(sample.ts_ns)
                key = (venues[sample.venue], symbols[sample.base.upper()], sample.quote, ts)
                rows[key] = {
                    "venue_id": key[0],
                    "symbol_id": key[1],
                    "instrument_key": sample.instrument_key,
                    "quote": sample.quote,
                    "funding_rate": sample.rate,
                    "interval_hours": sample.interval_hours,
                    "predicted_rate": sample.predicted_rate,
                    "next_funding_time": (
                        None if sample.next_funding_ns is None else ns_to_datetime(sample.next_funding_ns)
                    ),
                    "mark_price": sample.mark_price,
                    "index_price": sample.index_price,
                    "open_interest": sample.open_interest,
                    "volume_24h": sample.volume_24h,
                    "settled": sample.settled,
                    "ts": ts,
                }
            statement = dialect_insert(session)(FundingRate)
            statement = statement.on_conflict_do_update(
                index_elements=["venue_id", "symbol_id", "quote", "ts"],
                set_={c: statement.excluded[c] for c in _FUNDING_UPDATE_COLUMNS},
                # a settled rate is never replaced by an indicative one stamped at the same time
                where=FundingRate.settled.is_(False) | statement.excluded.settled.is_(True),
            )
            session.execute(statement, list(rows.values()))  # executemany
        return len(batch)

    def latest_rates(self, *, venues: Sequence[str] | None = None) -> list[FundingRateSample]:
        """Return the newest sample per ``(venue, base, quote)``."""
        newest = (
            select(
                FundingRate.venue_id,
                FundingRate.symbol_id,
                FundingRate.quote,
                func.max(FundingRate.ts).label("ts"),
            )
            .group_by(FundingRate.venue_id, FundingRate.symbol_id, FundingRate.quote)
            .subquery()
        )
        query = self._samples_query().join(
            newest,
            (FundingRate.venue_id == newest.c.venue_id)
            & (FundingRate.symbol_id == newest.c.symbol_id)
            & (FundingRate.quote == newest.c.quote)
            & (FundingRate.ts == newest.c.ts),
        )
        if venues is not None:
            query = query.where(Venue.name.in_([v.upper() for v in venues]))
        return self._run(query)

    def history(
        self, venue: str, base: str, *, since_ns: int | None = None, until_ns: int | None = None
    ) -> list[FundingRateSample]:
        """Return the samples of one venue and base asset, oldest first."""
        query = self._samples_query().where(Venue.name == venue.upper(), Symbol.symbol == base.upper())
        if since_ns is not None:
            query = query.where(FundingRate.ts >= ns_to_datetime(ceil_us(since_ns)))
        if until_ns is not None:
            query = query.where(FundingRate.ts < ns_to_datetime(ceil_us(until_ns)))
        return self._run(query.order_by(FundingRate.ts))

    def count(self) -> int:
        """Return the number of funding rows."""
        with self._db.session() as session:
            return int(session.scalar(select(func.count()).select_from(FundingRate)) or 0)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _samples_query() -> Select[tuple[FundingRate, str, str]]:
        return (
            select(FundingRate, Venue.name, Symbol.symbol)
            .join(Venue, Venue.id == FundingRate.venue_id)
            .join(Symbol, Symbol.id == FundingRate.symbol_id)
        )

    def _run(self, query: Select[tuple[FundingRate, str, str]]) -> list[FundingRateSample]:
        with self._db.session() as session:
            return [
                FundingRateSample(
                    venue=venue,
                    instrument_key=row.instrument_key,
                    base=symbol,
                    quote=row.quote,
                    rate=row.funding_rate,
                    interval_hours=row.interval_hours,
                    ts_ns=datetime_to_ns(row.ts),
                    next_funding_ns=(
                        None if row.next_funding_time is None else datetime_to_ns(row.next_funding_time)
                    ),
                    predicted_rate=row.predicted_rate,
                    mark_price=row.mark_price,
                    index_price=row.index_price,
                    open_interest=row.open_interest,
                    volume_24h=row.volume_24h,
                    settled=row.settled,
                )
                for row, venue, symbol in session.execute(query).all()
            ]

    @staticmethod
    def _venue_id(
        session: Session,
        name: str,
        maker: Decimal | None,
        taker: Decimal | None,
        display_name: str | None,
        is_active: bool,
        *,
        update: bool = False,
    ) -> int:
        name = name.upper()
        now = now_utc()
        insert = dialect_insert(session)
        statement = insert(Venue).values(
            name=name,
            display_name=display_name,
            is_active=is_active,
            maker_fee_rate=maker,
            taker_fee_rate=taker,
            created_at=now,
            updated_at=now,
        )
        if update:
            statement = statement.on_conflict_do_update(
                index_elements=["name"],
                set_={
                    "display_name": statement.excluded.display_name,
                    "is_active": statement.excluded.is_active,
                    "maker_fee_rate": statement.excluded.maker_fee_rate,
                    "taker_fee_rate": statement.excluded.taker_fee_rate,
                    "updated_at": now,
                },
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=["name"])
        session.execute(statement)
        venue_id = session.scalar(select(Venue.id).where(Venue.name == name))
        assert venue_id is not None
        return venue_id

    @staticmethod
    def _symbol_ids(session: Session, names: set[str]) -> dict[str, int]:
        wanted = {n.upper() for n in names}
        now = now_utc()
        insert = dialect_insert(session)
        session.execute(
            insert(Symbol)
            .values([{"symbol": n, "created_at": now} for n in sorted(wanted)])
            .on_conflict_do_nothing(index_elements=["symbol"])
        )
        found = session.execute(select(Symbol.symbol, Symbol.id).where(Symbol.symbol.in_(wanted))).all()
        return {str(row[0]): int(row[1]) for row in found}


__all__ = ["FundingRepository", "VenueFees"]
