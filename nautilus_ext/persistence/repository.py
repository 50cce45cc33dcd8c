"""
Reads and idempotent writes of strategy state (seed 002's position manager and state store).

Every write is safe to repeat: recording the same funding payment twice keeps one row, setting a
strategy's state key replaces its value. The funding-rate time series has its own repository,
:class:`nautilus_ext.funding.store.FundingRepository`.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.persistence.db import Database
from nautilus_ext.persistence.models import FundingPayment
from nautilus_ext.persistence.models import FundTransfer
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.models import StrategyState


def now_utc() -> datetime:
    return datetime.now(UTC)


def ceil_us(ts_ns: int) -> int:
    # stored times have microsecond precision: a bound between two microseconds rounds up
    return -(-ts_ns // 1_000) * 1_000


def dialect_insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class StrategyRepository:
    """Strategy positions, funding payments, fund transfers and key/value state."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        """The store this repository writes to."""
        return self._db

    def add_position(self, position: StrategyPosition) -> uuid.UUID:
        """Insert a new position; return its id."""
        now = now_utc()
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
            position.updated_at = now_utc()

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
                    created_at=now_utc(),
                )
            )
            if position_id is not None:
                position = session.get(StrategyPosition, position_id)
                if position is None:
                    raise InvalidConfig(f"no strategy position {position_id}")
                position.cumulative_funding += amount
                position.updated_at = now_utc()
        return True

    def cumulative_funding(self, position_id: uuid.UUID) -> Decimal:
        """Return the sum of the position's recorded funding payments."""
        # summed in Python on every backend: SQLite would add the stored decimal text as floats
        with self._db.session() as session:
            amounts = session.execute(
                select(FundingPayment.payment_amount).where(FundingPayment.position_id == position_id)
            ).scalars()
            return sum(amounts, Decimal(0))

    def record_transfer(self, transfer: FundTransfer) -> uuid.UUID:
        """Insert a fund transfer; return its id."""
        transfer.created_at = now_utc()
        with self._db.session() as session:
            session.add(transfer)
            session.flush()
            return transfer.id

    def set_state(self, strategy_name: str, key: str, value: Any) -> None:
        """Set a strategy's state key (JSON-serialisable value), replacing any previous value."""
        with self._db.session() as session:
            insert = dialect_insert(session)
            statement = insert(StrategyState).values(
                id=uuid.uuid4(),
                strategy_name=strategy_name,
                state_key=key,
                state_value=value,
                updated_at=now_utc(),
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
