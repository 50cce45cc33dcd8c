"""
Shared test fixtures: the location of the real sample data (never copied into the repo), and a
throwaway PostgreSQL server (one per session) with ``db_url`` running store tests on both backends.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_CANDIDATES = [REPO_ROOT.parent / "shared" / "data", Path("/work/shared/data")]
SHARED_DATA = Path(
    os.environ.get(
        "NAUTILUS_EXT_SHARED_DATA",
        next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0]),
    )
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Return the root of ``../shared/data`` (real third-party sample data, see its MANIFEST)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"sample data not found at {SHARED_DATA}; set NAUTILUS_EXT_SHARED_DATA")
    return SHARED_DATA


_spec = importlib.util.spec_from_file_location(
    "nautilus_ext_tests_support_postgres", Path(__file__).resolve().parent / "support" / "postgres.py"
)
assert _spec is not None
assert _spec.loader is not None
_postgres = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_postgres)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session (tests/support/postgres.py)."""
    with _postgres.running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store URL on each backend (PostgreSQL: the schema is dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    from nautilus_ext.persistence import Database

    database = Database.open(url, migrate=False)
    try:
        database.downgrade("base")
    finally:
        database.close()
