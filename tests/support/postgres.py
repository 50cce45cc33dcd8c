"""
A throwaway PostgreSQL server on 127.0.0.1 for tests: ``initdb`` into a temporary directory,
``pg_ctl start`` on a free port, a database per test session, ``pg_ctl stop`` and removal after.

The binaries come from Debian's ``postgresql`` package (``make test`` installs it when missing).
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user.
Nothing is skipped when PostgreSQL is missing: the fixture fails, so CI cannot pass without
having run the PostgreSQL half of the suite.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL binaries not found: run `make test` (installs Debian's postgresql) "
            "or `apt-get install postgresql`"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a server; yield a SQLAlchemy URL of an empty database on it."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="nautilus-ext-pg-"))
    data = root / "data"
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        pwd.getpwnam("postgres")  # KeyError: the package creates this user
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120, cwd=root)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    run(
        str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
        "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off",
        "start",
    )  # fmt: skip
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "nautilus_ext")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/nautilus_ext"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
