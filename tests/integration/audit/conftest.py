"""Integration fixtures: a GCS emulator subprocess and polling."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

# gcsfs must see this before it is imported, or every call stalls about 60 s (PLATFORM_NOTES).
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

GCS_OPTIONS = {"token": "anon", "project": "audit-tests"}


def poll_until(condition: Callable[[], bool], timeout_secs: float = 15.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_secs``."""
    deadline = time.monotonic() + timeout_secs
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_secs}s")
        time.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """Return the polling helper (instead of sleeps)."""
    return poll_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[str]:
    """Start ``gcp_storage_emulator`` in memory; yield its URL with STORAGE_EMULATOR_HOST set."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--in-memory",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/storage/v1/b?project=x", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return proc.poll() is not None  # stop waiting if it died; checked below

    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = url
    try:
        poll_until(ready, 30)
        assert proc.poll() is None, "GCS emulator exited at start"
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture
def gcs_bucket(gcs_emulator: str, request: pytest.FixtureRequest) -> str:
    """Create a fresh bucket; return its name."""
    import gcsfs

    fs: Any = gcsfs.GCSFileSystem(**GCS_OPTIONS)
    name = "audit-" + request.node.name.lower().replace("_", "-")[:40]
    fs.mkdir(name)
    return name
