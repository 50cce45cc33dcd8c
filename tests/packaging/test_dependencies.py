"""Every declared runtime dependency is used by the core package (else it leaves pyproject.toml)."""

from __future__ import annotations

import fsspec
from packaging.requirements import Requirement

from tests.packaging.distributions import core_files
from tests.packaging.distributions import imported_modules
from tests.packaging.distributions import runtime_requirements
from tests.packaging.distributions import unused_requirements


def _gcs_through_fsspec(imported: set[str]) -> bool:
    # gcsfs is never imported: fsspec loads it for gs:// paths, which the core reads and writes
    sources = "\n".join(p.read_text(encoding="utf-8") for p in core_files())
    return (
        "fsspec" in {m.split(".")[0] for m in imported}
        and "gs://" in sources
        and (fsspec.get_filesystem_class("gs").__module__.split(".")[0] == "gcsfs")
    )


def _psycopg_through_sqlalchemy(imported: set[str]) -> bool:
    # psycopg is never imported: SQLAlchemy loads it for the postgresql+psycopg URLs the store uses
    from sqlalchemy.dialects import registry

    sources = "\n".join(p.read_text(encoding="utf-8") for p in core_files())
    dialect = registry.load("postgresql.psycopg")
    return (
        "sqlalchemy" in {m.split(".")[0] for m in imported}
        and "postgresql+psycopg" in sources
        and dialect.import_dbapi().__name__ == "psycopg"  # type: ignore[attr-defined]
    )


def test_every_declared_runtime_dependency_is_imported_by_the_core() -> None:
    imported = imported_modules(core_files())
    plugins = {
        "gcsfs": _gcs_through_fsspec(imported),
        "psycopg": _psycopg_through_sqlalchemy(imported),
    }
    unused = unused_requirements(runtime_requirements(), imported, plugins=plugins)
    assert unused == [], f"declared in pyproject.toml but imported by no module of nautilus_ext: {unused}"


def test_the_check_names_an_unused_dependency_and_an_unused_extra() -> None:
    imported = {"nautilus_trader.adapters.betfair.config", "ccxt"}
    declared = [Requirement("ccxt>=4"), Requirement("pyyaml>=6"), Requirement("nautilus_trader[betfair,ib]")]
    assert unused_requirements(declared, imported, plugins={}) == ["pyyaml", "nautilus_trader[ib]"]
