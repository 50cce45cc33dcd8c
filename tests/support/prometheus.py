"""
A throwaway Prometheus server on 127.0.0.1 for tests: scrapes the given targets every second,
stores into a temporary directory, and is stopped (by its own pid) and removed after.

The binary comes from Debian's ``prometheus`` package (``make services`` installs it). As with
PostgreSQL, nothing is skipped when it is missing: the fixture fails.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_prometheus(targets: list[str]) -> Iterator[str]:
    """Start Prometheus scraping ``targets`` (``host:port``) every second; yield its base URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus not found: run `make services` or `apt-get install prometheus`")
    root = Path(tempfile.mkdtemp(prefix="nautilus-ext-prom-"))
    config = root / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [{"job_name": "nautilus-ext", "static_configs": [{"targets": targets}]}],
            }
        )
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (root / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"prometheus did not start: {(root / 'prometheus.log').read_text()[-2000:]}"
                    )
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            shutil.rmtree(root, ignore_errors=True)


def query(url: str, expr: str) -> list[dict[str, Any]]:
    """Evaluate ``expr`` now; return the result vector (raises on a query error)."""
    with urllib.request.urlopen(
        f"{url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=5
    ) as r:
        reply = json.loads(r.read())
    if reply.get("status") != "success":
        raise AssertionError(f"{expr!r}: {reply}")
    result: list[dict[str, Any]] = reply["data"]["result"]
    return result
