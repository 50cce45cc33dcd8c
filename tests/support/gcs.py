"""
A local GCS emulator (``gcp-storage-emulator``) for tests: start, wait, create buckets, stop.

Usage in a conftest::

    from tests.support.gcs import gcs_emulator  # noqa: F401  (a session fixture)

or directly with :func:`running_gcs_emulator`. The environment is set before ``gcsfs`` is
imported anywhere in the test process: ``STORAGE_EMULATOR_HOST`` and
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` (without the latter every gcsfs call stalls ~60 s
against the emulator, see PLATFORM_NOTES).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


@dataclass(frozen=True)
class GcsEmulator:
    """A running emulator: its base URL and a helper to create buckets."""

    url: str

    def create_bucket(self, name: str) -> None:
        """Create a bucket (idempotent)."""
        import gcsfs

        fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=self.url)
        if not fs.exists(name):
            fs.mkdir(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_gcs_emulator(timeout_secs: float = 20.0) -> Iterator[GcsEmulator]:
    """Start an in-memory emulator on a free port; set the environment; stop it on exit."""
    port = _free_port()
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
    url = f"http://127.0.0.1:{port}"
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = url
    try:
        deadline = time.monotonic() + timeout_secs
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"GCS emulator did not start on port {port}") from None
                time.sleep(0.1)
        yield GcsEmulator(url=url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    """Session-wide GCS emulator on 127.0.0.1 (see :func:`running_gcs_emulator`)."""
    with running_gcs_emulator() as emulator:
        yield emulator
