"""
The SQL schema (seed 002, "Database Architecture"), as SQLAlchemy 2 declarative models.

Funding-rate service tables: ``venues`` (with maker/taker fee rates), ``symbols`` (normalised
base assets), ``funding_rates`` (the time series). Strategy state tables: ``strategy_positions``,
``funding_payments``, ``fund_transfers``, ``strategy_state``.

Differences from the seed, each for a reason:

- ``dexes`` is ``venues``: CeFi venues collect funding too.
- Fees are stored as fractions (``0.0002`` for 2 bp), not percents: one unit across the project.
- ``funding_rates`` keeps the quote currency and the instrument's canonical key, and its unique key
  is ``(venue_id, symbol_id, quote, ts)``: one venue lists BTC-USDT and BTC-USDC perps, and the
  two are different instruments (stablecoins are not 1:1). It also keeps the interval the rate
  applies to, mark/index prices, the predicted rate and whether the rate was settled.
- Every numeric column is exact (:class:`~nautilus_ext.persistence.types.ExactDecimal`), every
  timestamp timezone-aware UTC (:class:`~nautilus_ext.persistence.types.UtcDateTime`).
- ``funding_payments`` is unique per ``(position_id, venue, symbol, payment_time)`` so recording a
  payment twice (a restart re-reading the venue's history) never doubles it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import Uuid
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from nautilus_ext.persistence.types import ExactDecimal
from nautilus_ext.persistence.types import UtcDateTime

# Deterministic constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RATE = ExactDecimal(28, 18)  # funding rates and fee rates
AMOUNT = ExactDecimal(38, 12)  # prices, sizes, volumes, cash flows


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Venue(Base):
    """A venue funding is collected from, with its fee schedule."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    maker_fee_rate: Mapped[Decimal | None] = mapped_column(RATE)
    taker_fee_rate: Mapped[Decimal | None] = mapped_column(RATE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Symbol(Base):
    """A normalised base asset (``BTC``)."""

    __tablename__ = "symbols"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FundingRate(Base):
    """One funding observation (see :class:`nautilus_ext.funding.model.FundingRateSample`)."""

    __tablename__ = "funding_rates"
    __table_args__ = (
        UniqueConstraint("venue_id", "symbol_id", "quote", "ts", name="uq_funding_rates_key"),
        Index("ix_funding_rates_symbol_ts", "symbol_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id"))
    instrument_key: Mapped[str] = mapped_column(String(120))
    quote: Mapped[str] = mapped_column(String(12))
    funding_rate: Mapped[Decimal] = mapped_column(RATE)
    interval_hours: Mapped[Decimal] = mapped_column(ExactDecimal(10, 6))
    predicted_rate: Mapped[Decimal | None] = mapped_column(RATE)
    next_funding_time: Mapped[datetime | None] = mapped_column(UtcDateTime())
    mark_price: Mapped[Decimal | None] = mapped_column(AMOUNT)
    index_price: Mapped[Decimal | None] = mapped_column(AMOUNT)
    open_interest: Mapped[Decimal | None] = mapped_column(AMOUNT)
    volume_24h: Mapped[Decimal | None] = mapped_column(AMOUNT)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class StrategyPosition(Base):
    """A two-legged carry position of a strategy (long on one venue, short on another)."""

    __tablename__ = "strategy_positions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str] = mapped_column(String(50), index=True)
    symbol: Mapped[str] = mapped_column(String(20))
    long_venue: Mapped[str] = mapped_column(String(50))
    short_venue: Mapped[str] = mapped_column(String(50))
    size_usd: Mapped[Decimal] = mapped_column(AMOUNT)
    entry_long_rate: Mapped[Decimal] = mapped_column(RATE)
    entry_short_rate: Mapped[Decimal] = mapped_column(RATE)
    entry_divergence: Mapped[Decimal] = mapped_column(RATE)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    current_divergence: Mapped[Decimal | None] = mapped_column(RATE)
    last_check: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cumulative_funding: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    total_fees_paid: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed, error
    exit_reason: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FundingPayment(Base):
    """A funding cash flow paid or received (signed, in ``currency``)."""

    __tablename__ = "funding_payments"
    __table_args__ = (
        UniqueConstraint("position_id", "venue", "symbol", "payment_time", name="uq_funding_payments_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    position_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("strategy_positions.id"))
    venue: Mapped[str] = mapped_column(String(50))
    symbol: Mapped[str] = mapped_column(String(20))
    funding_rate: Mapped[Decimal] = mapped_column(RATE)
    payment_amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(12))
    payment_time: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FundTransfer(Base):
    """A transfer of funds between venues (or a venue and a wallet)."""

    __tablename__ = "fund_transfers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    from_venue: Mapped[str] = mapped_column(String(50))
    to_venue: Mapped[str] = mapped_column(String(50))
    asset: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    bridge_used: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    initiated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StrategyState(Base):
    """A strategy's key/value state (JSON), one row per ``(strategy_name, state_key)``."""

    __tablename__ = "strategy_state"
    __table_args__ = (UniqueConstraint("strategy_name", "state_key", name="uq_strategy_state_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str] = mapped_column(String(50))
    state_key: Mapped[str] = mapped_column(String(100))
    state_value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# -- position records (migration 0002): what a carry report is built from ----------------------


class PositionFill(Base):
    """
    One venue fill of a leg of a strategy position (entry, exit or a neutralising trade).

    ``leg`` is ``LONG`` or ``SHORT`` (the position's leg the fill traded), ``side`` the fill's own
    side; ``reference_price`` is the venue mid when the order was routed (slippage is measured
    against it). Unique per ``(position_id, venue, trade_id)``: recording a group twice keeps one
    row per fill.
    """

    __tablename__ = "position_fills"
    __table_args__ = (UniqueConstraint("position_id", "venue", "trade_id", name="uq_position_fills_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    position_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("strategy_positions.id"), index=True)
    leg: Mapped[str] = mapped_column(String(10))
    intent: Mapped[str] = mapped_column(String(20))  # ENTRY, EXIT, NEUTRALISE
    venue: Mapped[str] = mapped_column(String(50))
    instrument_key: Mapped[str] = mapped_column(String(120))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(AMOUNT)
    price: Mapped[Decimal] = mapped_column(AMOUNT)
    multiplier: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(1))
    quote_currency: Mapped[str] = mapped_column(String(12))
    fee: Mapped[Decimal] = mapped_column(AMOUNT)
    fee_currency: Mapped[str] = mapped_column(String(12))
    reference_price: Mapped[Decimal | None] = mapped_column(AMOUNT)
    group_id: Mapped[str | None] = mapped_column(String(100))
    trade_id: Mapped[str] = mapped_column(String(100))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class PositionMark(Base):
    """
    A strategy position as its monitor saw it at ``ts``: divergence, leg quantities and prices.

    ``divergence`` is the signal the strategy trades (funding carry: short minus long funding rate
    per hour); quantities are signed (long > 0); ``funding`` is the funding received so far.
    """

    __tablename__ = "position_marks"
    __table_args__ = (UniqueConstraint("position_id", "ts", name="uq_position_marks_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    position_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("strategy_positions.id"), index=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    divergence: Mapped[Decimal | None] = mapped_column(RATE)
    long_rate: Mapped[Decimal | None] = mapped_column(RATE)
    short_rate: Mapped[Decimal | None] = mapped_column(RATE)
    long_quantity: Mapped[Decimal] = mapped_column(AMOUNT)
    short_quantity: Mapped[Decimal] = mapped_column(AMOUNT)
    long_price: Mapped[Decimal | None] = mapped_column(AMOUNT)
    short_price: Mapped[Decimal | None] = mapped_column(AMOUNT)
    funding: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal(0))


class VenueMargin(Base):
    """
    A venue account's margin as a strategy saw it at ``ts`` (in ``currency``).

    ``margin_ratio`` is equity over the gross notional of the open positions (seed 003: 1.0 is
    fully collateralised, the venue liquidates near its maintenance margin); ``None`` when flat.
    """

    __tablename__ = "venue_margins"
    __table_args__ = (UniqueConstraint("strategy_name", "venue", "ts", name="uq_venue_margins_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    strategy_name: Mapped[str] = mapped_column(String(50), index=True)
    venue: Mapped[str] = mapped_column(String(50))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    currency: Mapped[str] = mapped_column(String(12))
    equity: Mapped[Decimal] = mapped_column(AMOUNT)
    notional: Mapped[Decimal] = mapped_column(AMOUNT)
    maintenance_margin: Mapped[Decimal | None] = mapped_column(AMOUNT)
    margin_ratio: Mapped[Decimal | None] = mapped_column(RATE)
