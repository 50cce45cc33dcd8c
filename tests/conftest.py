"""Shared test fixtures: the location of the real sample data (never copied into the repo)."""

from __future__ import annotations

import os
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
