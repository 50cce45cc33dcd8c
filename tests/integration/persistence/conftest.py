"""The store's suite runs twice: on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nautilus_ext.persistence import Database


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated store on each backend."""
    database = Database.open(db_url)
    yield database
    database.close()
