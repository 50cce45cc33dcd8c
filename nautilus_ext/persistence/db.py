"""
Open the store: a SQLite file by default, PostgreSQL by URL, schema managed by Alembic.

``Database.open(url)`` creates the engine and brings the schema to the newest migration
(``migrate=True``, the default); ``Database.open()`` with no URL uses the SQLite file named by
``NAUTILUS_EXT_DB_URL`` or ``./nautilus_ext.db``. URLs may carry a password: it is never logged
or put in an error message (``render_url`` hides it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Final

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import VenueUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

DEFAULT_URL_ENV: Final = "NAUTILUS_EXT_DB_URL"
DEFAULT_SQLITE_FILE: Final = "nautilus_ext.db"
_SUPPORTED: Final = ("sqlite", "postgresql")


def render_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def default_url() -> str:
    """Return ``$NAUTILUS_EXT_DB_URL``, else a SQLite file in the working directory."""
    return os.environ.get(DEFAULT_URL_ENV) or f"sqlite:///{Path(DEFAULT_SQLITE_FILE).resolve()}"


def _migrations_dir() -> str:
    return str(resources.files("nautilus_ext.persistence") / "migrations")


class Database:
    """An engine plus a session factory over one store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Database:
        """
        Open the store at ``url`` (default: :func:`default_url`) and migrate it to the newest schema.

        Raises
        ------
        InvalidConfig
            If the URL is malformed or names a backend other than SQLite or PostgreSQL, or the
            SQLite file's directory does not exist.
        VenueUnavailable
            If the database server cannot be reached.
        """
        url = url or default_url()
        shown = render_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as e:
            raise InvalidConfig(f"database URL {shown} is not a valid SQLAlchemy URL") from e
        backend = parsed.get_backend_name()
        if backend not in _SUPPORTED:
            raise InvalidConfig(f"database URL {shown}: backend {backend!r} is not one of {_SUPPORTED}")
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
            parent = Path(parsed.database).expanduser().resolve().parent
            if not parent.is_dir():
                raise InvalidConfig(f"database URL {shown}: directory {parent} does not exist")
        engine = create_engine(parsed, pool_pre_ping=backend == "postgresql")
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as e:
            engine.dispose()
            raise VenueUnavailable(
                f"cannot connect to database {shown}: {type(getattr(e, 'orig', None) or e).__name__}",
                retryable=True,
            ) from None
        database = cls(engine)
        if migrate:
            database.upgrade()
        log.info("Opened store %s", shown)
        return database

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic."""
        from alembic import command

        with self.engine.begin() as connection:
            command.upgrade(self._alembic_config(connection), revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to ``revision`` (``base`` drops every table)."""
        from alembic import command

        with self.engine.begin() as connection:
            command.downgrade(self._alembic_config(connection), revision)

    def current_revision(self) -> str | None:
        """Return the schema's Alembic revision, or None for an empty database."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def table_names(self) -> list[str]:
        """Return the tables present (for tests and ``nautilus-ext db status``)."""
        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        try:
            with self._sessions.begin() as session:
                yield session
        except StatementError as e:
            # a bind processor (exact decimal, UTC timestamp) refused a value: surface its own error
            if isinstance(e.orig, NautilusExtError):
                raise e.orig from None
            if isinstance(e, IntegrityError):
                raise InvalidConfig(f"the store refused the write: {e.orig}") from None
            if isinstance(e, OperationalError | InterfaceError):
                raise VenueUnavailable(
                    f"database {render_url(str(self.engine.url))} failed: {type(e.orig).__name__}",
                    retryable=True,
                ) from None
            raise

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()

    def _alembic_config(self, connection: Connection) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", _migrations_dir())
        config.attributes["connection"] = connection
        return config


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
