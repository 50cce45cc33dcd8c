"""
Reads and idempotent writes over the store (seed 002's repositories).

Every write is safe to repeat: re-collecting the same funding timestamp updates the row in place
(``INSERT ... ON CONFLICT DO UPDATE`` on ``(venue, symbol, quote, ts)``), recording the same
funding payment twice keeps one row, setting a strategy's state key replaces its value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.persistence.db import Database
from nautilus_ext.persistence.models import FundingPayment
from nautilus_ext.persistence.models import FundingRate
from nautilus_ext.persistence.models import FundTransfer
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.models import StrategyState
from nautilus_ext.persistence.models import Symbol
from nautilus_ext.persistence.models import Venue
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


def _now() -> datetime:
    return datetime.now(UTC)


def _ceil_us(ts_ns: int) -> int:
    # stored times have microsecond precision: a bound between two microseconds rounds up
    return -(-ts_ns // 1_000) * 1_000


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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
            statement = _insert(session)(FundingRate)
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
            query = query.where(FundingRate.ts >= ns_to_datetime(_ceil_us(since_ns)))
        if until_ns is not None:
            query = query.where(FundingRate.ts < ns_to_datetime(_ceil_us(until_ns)))
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
        now = _now()
        insert = _insert(session)
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
        now = _now()
        insert = _insert(session)
        session.execute(
            insert(Symbol)
            .values([{"symbol": n, "created_at": now} for n in sorted(wanted)])
            .on_conflict_do_nothing(index_elements=["symbol"])
        )
        found = session.execute(select(Symbol.symbol, Symbol.id).where(Symbol.symbol.in_(wanted))).all()
        return {str(row[0]): int(row[1]) for row in found}


class StrategyRepository:
    """Strategy positions, funding payments, fund transfers and key/value state."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add_position(self, position: StrategyPosition) -> uuid.UUID:
        """Insert a new position; return its id."""
        now = _now()
        position.created_at = position.created_at or now
        position.updated_at = now
        with self._db.session() as session:
            session.add(position)
            session.flush()
            return position.id

    def update_position(self, position_id: uuid.UUID, **fields: Any) -> None:
        """Update fields of a position (unknown fields are refused)."""
        unknown = set(fields) - set(StrategyPosition.__table__.columns.keys())
        if unknown:
            raise InvalidConfig(f"unknown strategy position fields: {sorted(unknown)}")
        with self._db.session() as session:
            position = session.get(StrategyPosition, position_id)
            if position is None:
                raise InvalidConfig(f"no strategy position {position_id}")
            for name, value in fields.items():
                setattr(position, name, value)
            position.updated_at = _now()

    def open_positions(self, strategy_name: str) -> list[StrategyPosition]:
        """Return the strategy's positions whose status is ``open``."""
        with self._db.session() as session:
            query = select(StrategyPosition).where(
                StrategyPosition.strategy_name == strategy_name, StrategyPosition.status == "open"
            )
            return list(session.execute(query.order_by(StrategyPosition.opened_at)).scalars())

    def record_funding_payment(
        self,
        *,
        position_id: uuid.UUID | None,
        venue: str,
        symbol: str,
        funding_rate: Decimal,
        amount: Decimal,
        currency: str,
        payment_time: datetime,
    ) -> bool:
        """
        Record a funding payment once; return False when it was already recorded.

        A payment with a position also adds ``amount`` to the position's ``cumulative_funding``
        (in the same transaction, so the two never disagree).
        """
        venue = venue.upper()
        with self._db.session() as session:
            existing = session.scalar(
                select(FundingPayment.id).where(
                    FundingPayment.position_id.is_(None)
                    if position_id is None
                    else FundingPayment.position_id == position_id,
                    FundingPayment.venue == venue,
                    FundingPayment.symbol == symbol,
                    FundingPayment.payment_time == payment_time,
                )
            )
            if existing is not None:
                return False
            session.add(
                FundingPayment(
                    position_id=position_id,
                    venue=venue,
                    symbol=symbol,
                    funding_rate=funding_rate,
                    payment_amount=amount,
                    currency=currency,
                    payment_time=payment_time,
                    created_at=_now(),
                )
            )
            if position_id is not None:
                position = session.get(StrategyPosition, position_id)
                if position is None:
                    raise InvalidConfig(f"no strategy position {position_id}")
                position.cumulative_funding += amount
                position.updated_at = _now()
        return True

    def cumulative_funding(self, position_id: uuid.UUID) -> Decimal:
        """Return the sum of the position's recorded funding payments."""
        with self._db.session() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(FundingPayment.payment_amount), 0)).where(
                    FundingPayment.position_id == position_id
                )
            )
            # SQLite sums the stored text as floats: sum exactly in Python there instead.
            if self._db.dialect == "sqlite":
                amounts = session.execute(
                    select(FundingPayment.payment_amount).where(FundingPayment.position_id == position_id)
                ).scalars()
                return sum(amounts, Decimal(0))
            return Decimal(total or 0)

    def record_transfer(self, transfer: FundTransfer) -> uuid.UUID:
        """Insert a fund transfer; return its id."""
        transfer.created_at = _now()
        with self._db.session() as session:
            session.add(transfer)
            session.flush()
            return transfer.id

    def set_state(self, strategy_name: str, key: str, value: Any) -> None:
        """Set a strategy's state key (JSON-serialisable value), replacing any previous value."""
        with self._db.session() as session:
            insert = _insert(session)
            statement = insert(StrategyState).values(
                id=uuid.uuid4(),
                strategy_name=strategy_name,
                state_key=key,
                state_value=value,
                updated_at=_now(),
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["strategy_name", "state_key"],
                    set_={
                        "state_value": statement.excluded.state_value,
                        "updated_at": statement.excluded.updated_at,
                    },
                )
            )

    def get_state(self, strategy_name: str, key: str, default: Any = None) -> Any:
        """Return a strategy's state value, or ``default``."""
        with self._db.session() as session:
            value = session.scalar(
                select(StrategyState.state_value).where(
                    StrategyState.strategy_name == strategy_name, StrategyState.state_key == key
                )
            )
            return default if value is None else value
