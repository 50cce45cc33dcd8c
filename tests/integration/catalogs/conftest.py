"""Fixtures for catalog integration tests: real sample data locations and the GCS emulator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_GCS_HELPER = Path(__file__).resolve().parents[2] / "support" / "gcs.py"
_spec = importlib.util.spec_from_file_location("nautilus_ext_tests_support_gcs", _GCS_HELPER)
assert _spec is not None
assert _spec.loader is not None
_gcs = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = _gcs  # dataclasses need the module registered
    _spec.loader.exec_module(_gcs)
gcs_emulator = _gcs.gcs_emulator


@pytest.fixture(scope="session")
def nautilus_data(shared_data: Path) -> Path:
    """Return ``../shared/data/nautilus_trader`` (real third-party samples)."""
    return shared_data / "nautilus_trader"


@pytest.fixture(scope="session")
def tardis_files(nautilus_data: Path) -> list[Path]:
    """Every Tardis CSV of the supported data types in the shared sample data."""
    files = sorted(nautilus_data.glob("tests/test_data/tardis/*.csv"))
    files += sorted(nautilus_data.glob("crates/adapters/tardis/test_data/csv/*.csv"))
    assert len(files) == 9, files
    return files


@pytest.fixture(scope="session")
def dbn_files(nautilus_data: Path) -> list[Path]:
    """Every DBN file (compressed or not) in the shared sample data."""
    files = sorted(p for p in nautilus_data.rglob("*") if ".dbn" in p.name and p.is_file())
    assert len(files) == 44, len(files)
    return files


@pytest.fixture(scope="session")
def betfair_files(nautilus_data: Path) -> list[Path]:
    """Every Betfair historical stream file (.bz2) in the shared sample data."""
    files = sorted(nautilus_data.rglob("*.bz2"))
    assert len(files) == 4, files
    return files
