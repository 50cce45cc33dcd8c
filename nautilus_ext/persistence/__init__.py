"""
The SQL store (SQLAlchemy 2 + Alembic): a SQLite file by default, PostgreSQL by URL.

- :mod:`~nautilus_ext.persistence.db`: :class:`Database` (open, migrate, sessions).
- :mod:`~nautilus_ext.persistence.models`: seed 002's tables.
- :mod:`~nautilus_ext.persistence.repository`: idempotent writes and the reads strategies need.
- :mod:`~nautilus_ext.persistence.types`: exact decimals and UTC timestamps on both backends.
"""

from nautilus_ext.persistence.db import Database
from nautilus_ext.persistence.db import default_url
from nautilus_ext.persistence.db import render_url

__all__ = ["Database", "default_url", "render_url"]
