"""Alembic environment: migrations run on the connection :class:`Database` hands over."""

from __future__ import annotations

from alembic import context

from nautilus_ext.persistence.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through Database.upgrade/downgrade
    raise RuntimeError("run migrations through nautilus_ext.persistence.Database")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
