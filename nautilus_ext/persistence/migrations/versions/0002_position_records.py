"""position records: per-leg fills, monitor marks and venue margin snapshots (carry report)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nautilus_ext.persistence.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _amount(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, nautilus_ext.persistence.types.ExactDecimal(precision=38, scale=12), nullable=nullable
    )


def _rate(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, nautilus_ext.persistence.types.ExactDecimal(precision=28, scale=18), nullable=True)


def upgrade() -> None:
    op.create_table(
        "position_fills",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=False),
        sa.Column("leg", sa.String(length=10), nullable=False),
        sa.Column("intent", sa.String(length=20), nullable=False),
        sa.Column("venue", sa.String(length=50), nullable=False),
        sa.Column("instrument_key", sa.String(length=120), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        _amount("quantity"),
        _amount("price"),
        _amount("multiplier"),
        sa.Column("quote_currency", sa.String(length=12), nullable=False),
        _amount("fee"),
        sa.Column("fee_currency", sa.String(length=12), nullable=False),
        _amount("reference_price", nullable=True),
        sa.Column("group_id", sa.String(length=100), nullable=True),
        sa.Column("trade_id", sa.String(length=100), nullable=False),
        sa.Column("ts", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["strategy_positions.id"],
            name=op.f("fk_position_fills_position_id_strategy_positions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_fills")),
        sa.UniqueConstraint("position_id", "venue", "trade_id", name="uq_position_fills_key"),
    )
    with op.batch_alter_table("position_fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_position_fills_position_id"), ["position_id"], unique=False)

    op.create_table(
        "position_marks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=False),
        sa.Column("ts", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        _rate("divergence"),
        _rate("long_rate"),
        _rate("short_rate"),
        _amount("long_quantity"),
        _amount("short_quantity"),
        _amount("long_price", nullable=True),
        _amount("short_price", nullable=True),
        _amount("funding"),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["strategy_positions.id"],
            name=op.f("fk_position_marks_position_id_strategy_positions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_marks")),
        sa.UniqueConstraint("position_id", "ts", name="uq_position_marks_key"),
    )
    with op.batch_alter_table("position_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_position_marks_position_id"), ["position_id"], unique=False)

    op.create_table(
        "venue_margins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_name", sa.String(length=50), nullable=False),
        sa.Column("venue", sa.String(length=50), nullable=False),
        sa.Column("ts", nautilus_ext.persistence.types.UtcDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=12), nullable=False),
        _amount("equity"),
        _amount("notional"),
        _amount("maintenance_margin", nullable=True),
        _rate("margin_ratio"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_margins")),
        sa.UniqueConstraint("strategy_name", "venue", "ts", name="uq_venue_margins_key"),
    )
    with op.batch_alter_table("venue_margins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venue_margins_strategy_name"), ["strategy_name"], unique=False)


def downgrade() -> None:
    for table, column in (
        ("venue_margins", "strategy_name"),
        ("position_marks", "position_id"),
        ("position_fills", "position_id"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
