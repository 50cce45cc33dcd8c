"""The store's suite runs twice: on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus_ext.persistence import Database

_spec = importlib.util.spec_from_file_location(
    "nautilus_ext_tests_support_postgres", Path(__file__).resolve().parents[2] / "support" / "postgres.py"
)
assert _spec is not None
assert _spec.loader is not None
_postgres = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_postgres)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session."""
    with _postgres.running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL on each backend (PostgreSQL: the schema is dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    database = Database.open(url, migrate=False)
    try:
        database.downgrade("base")
    finally:
        database.close()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated store on each backend."""
    database = Database.open(db_url)
    yield database
    database.close()
