"""initial schema: seed 002 funding and strategy-state tables

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nautilus_ext.persistence.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fund_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("from_venue", sa.String(length=50), nullable=False),
        sa.Column("to_venue", sa.String(length=50), nullable=False),
        sa.Column("asset", sa.String(length=20), nullable=False),
        sa.Column(
            "amount", nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=False
        ),
        sa.Column("bridge_used", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("initiated_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("completed_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_transfers")),
    )
    op.create_table(
        "strategy_positions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("long_venue", sa.String(length=50), nullable=False),
        sa.Column("short_venue", sa.String(length=50), nullable=False),
        sa.Column(
            "size_usd", nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=False
        ),
        sa.Column(
            "entry_long_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=False,
        ),
        sa.Column(
            "entry_short_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=False,
        ),
        sa.Column(
            "entry_divergence",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=False,
        ),
        sa.Column("opened_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column(
            "current_divergence",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=True,
        ),
        sa.Column("last_check", nautilus_ext.persistence.types.UtcDateTime(), nullable=True),
        sa.Column(
            "cumulative_funding",
            nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12),
            nullable=False,
        ),
        sa.Column(
            "total_fees_paid",
            nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("exit_reason", sa.String(length=100), nullable=True),
        sa.Column("closed_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_positions")),
    )
    with op.batch_alter_table("strategy_positions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_positions_strategy_name"), ["strategy_name"], unique=False
        )

    op.create_table(
        "strategy_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("state_key", sa.String(length=100), nullable=False),
        sa.Column("state_value", sa.JSON(), nullable=False),
        sa.Column("updated_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_state")),
        sa.UniqueConstraint("strategy_name", "state_key", name="uq_strategy_state_key"),
    )
    op.create_table(
        "symbols",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("created_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symbols")),
        sa.UniqueConstraint("symbol", name=op.f("uq_symbols_symbol")),
    )
    op.create_table(
        "venues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "maker_fee_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=True,
        ),
        sa.Column(
            "taker_fee_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=True,
        ),
        sa.Column("created_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
        sa.UniqueConstraint("name", name=op.f("uq_venues_name")),
    )
    op.create_table(
        "funding_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=True),
        sa.Column("venue", sa.String(length=50), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column(
            "funding_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=False,
        ),
        sa.Column(
            "payment_amount",
            nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=12), nullable=False),
        sa.Column("payment_time", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("created_at", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["strategy_positions.id"],
            name=op.f("fk_funding_payments_position_id_strategy_positions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_payments")),
        sa.UniqueConstraint("position_id", "venue", "symbol", "payment_time", name="uq_funding_payments_key"),
    )
    op.create_table(
        "funding_rates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("symbol_id", sa.Integer(), nullable=False),
        sa.Column("instrument_key", sa.String(length=120), nullable=False),
        sa.Column("quote", sa.String(length=12), nullable=False),
        sa.Column(
            "funding_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=False,
        ),
        sa.Column(
            "interval_hours",
            nautilus_ext.persistence.types.ExactDecimal(precision=10, scale=6),
            nullable=False,
        ),
        sa.Column(
            "predicted_rate",
            nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18),
            nullable=True,
        ),
        sa.Column("next_funding_time", nautilus_ext.persistence.types.UtcDateTime(), nullable=True),
        sa.Column(
            "mark_price", nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=True
        ),
        sa.Column(
            "index_price", nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=True
        ),
        sa.Column(
            "open_interest",
            nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12),
            nullable=True,
        ),
        sa.Column(
            "volume_24h", nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=True
        ),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("ts", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol_id"], ["symbols.id"], name=op.f("fk_funding_rates_symbol_id_symbols")
        ),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name=op.f("fk_funding_rates_venue_id_venues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_rates")),
        sa.UniqueConstraint("venue_id", "symbol_id", "quote", "ts", name="uq_funding_rates_key"),
    )
    with op.batch_alter_table("funding_rates", schema=None) as batch_op:
        batch_op.create_index("ix_funding_rates_symbol_ts", ["symbol_id", "ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("funding_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_funding_rates_symbol_ts")

    op.drop_table("funding_rates")
    op.drop_table("funding_payments")
    op.drop_table("venues")
    op.drop_table("symbols")
    op.drop_table("strategy_state")
    with op.batch_alter_table("strategy_positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_positions_strategy_name"))

    op.drop_table("strategy_positions")
    op.drop_table("fund_transfers")
