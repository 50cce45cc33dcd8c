"""
Position records a carry report is built from: leg fills, monitor marks, venue margins.

Strategies that keep two-legged positions in ``strategy_positions`` (funding carry, perp/perp
spread) write here as they trade; :mod:`nautilus_ext.reports.carry` reads it all back. Every
write is safe to repeat: a fill already recorded (same position, venue and trade id), a mark at
the same time, or a margin snapshot at the same time keeps one row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nautilus_ext.persistence.db import Database
from nautilus_ext.persistence.models import FundingPayment
from nautilus_ext.persistence.models import PositionFill
from nautilus_ext.persistence.models import PositionMark
from nautilus_ext.persistence.models import StrategyPosition
from nautilus_ext.persistence.models import VenueMargin
from nautilus_ext.persistence.repository import dialect_insert


@dataclass(frozen=True, slots=True)
class PositionHistory:
    """Everything stored about a set of positions (each list oldest first)."""

    positions: list[StrategyPosition]
    fills: list[PositionFill]
    marks: list[PositionMark]
    funding: list[FundingPayment]
    margins: list[VenueMargin]


class PositionRecords:
    """Writes and reads of position fills, marks and venue margins."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record_fills(self, fills: Iterable[PositionFill]) -> int:
        """Record fills once each; return how many were new."""
        rows = [_columns(f) for f in fills]
        return self._insert_new(PositionFill, rows, ["position_id", "venue", "trade_id"])

    def record_mark(self, mark: PositionMark, margins: Sequence[VenueMargin] = ()) -> None:
        """
        Record a monitor mark and the venue margins seen with it, in one transaction.

        A mark (or a venue's margin) at the same time replaces the one recorded before.
        """
        with self._db.session() as session:
            self._upsert(session, PositionMark, _columns(mark), ["position_id", "ts"])
            for margin in margins:
                self._upsert(session, VenueMargin, _columns(margin), ["strategy_name", "venue", "ts"])

    def record_margin(self, margin: VenueMargin) -> None:
        """Record a venue margin snapshot (one at the same time replaces it)."""
        with self._db.session() as session:
            self._upsert(session, VenueMargin, _columns(margin), ["strategy_name", "venue", "ts"])

    def history(
        self,
        strategy_names: Sequence[str] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PositionHistory:
        """
        Return the positions of ``strategy_names`` (all when None) opened in ``[since, until)``,
        with their fills, marks and funding payments, and the strategies' venue margins then.
        """
        with self._db.session() as session:
            query = select(StrategyPosition)
            if strategy_names is not None:
                query = query.where(StrategyPosition.strategy_name.in_(list(strategy_names)))
            if since is not None:
                query = query.where(StrategyPosition.opened_at >= since)
            if until is not None:
                query = query.where(StrategyPosition.opened_at < until)
            positions = list(session.execute(query.order_by(StrategyPosition.opened_at)).scalars())
            ids = [p.id for p in positions]
            names = sorted({p.strategy_name for p in positions} | set(strategy_names or ()))
            fills = list(
                session.execute(
                    select(PositionFill).where(PositionFill.position_id.in_(ids)).order_by(PositionFill.ts)
                ).scalars()
            )
            marks = list(
                session.execute(
                    select(PositionMark).where(PositionMark.position_id.in_(ids)).order_by(PositionMark.ts)
                ).scalars()
            )
            funding = list(
                session.execute(
                    select(FundingPayment)
                    .where(FundingPayment.position_id.in_(ids))
                    .order_by(FundingPayment.payment_time)
                ).scalars()
            )
            margin_query = select(VenueMargin).where(VenueMargin.strategy_name.in_(names))
            if since is not None:
                margin_query = margin_query.where(VenueMargin.ts >= since)
            if until is not None:
                margin_query = margin_query.where(VenueMargin.ts < until)
            margins = list(session.execute(margin_query.order_by(VenueMargin.ts)).scalars())
            session.expunge_all()
        return PositionHistory(positions, fills, marks, funding, margins)

    # -- internals ---------------------------------------------------------------------------

    def _insert_new(self, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
        if not rows:
            return 0
        new = 0
        with self._db.session() as session:
            insert = dialect_insert(session)
            for row in rows:
                statement = insert(model).values(**row).on_conflict_do_nothing(index_elements=keys)
                # RETURNING names the rows written (rowcount is -1 for some drivers)
                new += len(session.execute(statement.returning(model.id)).all())
        return new

    @staticmethod
    def _upsert(session: Session, model: Any, row: dict[str, Any], keys: list[str]) -> None:
        statement = dialect_insert(session)(model).values(**row)
        update = {c: statement.excluded[c] for c in row if c not in (*keys, "id")}
        session.execute(statement.on_conflict_do_update(index_elements=keys, set_=update))


_DEFAULTS = {"multiplier": Decimal(1), "funding": Decimal(0), "id": None}


def _columns(record: Any) -> dict[str, Any]:
    # the mapped columns of an unsaved model instance, with the model's defaults (a Core insert
    # does not apply them) and a fresh id when none was set
    row = {}
    for column in record.__table__.columns:
        value = getattr(record, column.key)
        if value is None and column.key in _DEFAULTS:
            value = _DEFAULTS[column.key] if column.key != "id" else uuid.uuid4()
        row[column.key] = value
    return row


__all__ = ["PositionHistory", "PositionRecords"]
