"""Shared test fixtures: the location of the real sample data (never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("NAUTILUS_EXT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Return the root of ``../shared/data`` (real third-party sample data, see its MANIFEST)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"sample data not found at {SHARED_DATA}; set NAUTILUS_EXT_SHARED_DATA")
    return SHARED_DATA
