"""
A plain ``pip install .`` (no extras) imports every module of the core package.

Each module is imported in a fresh interpreter where the dev-only distributions (the dev extra
and the test kit, minus what the runtime dependencies pull in themselves) cannot be imported: a
meta-path finder refuses them, as if they were not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.packaging.distributions import CORE
from tests.packaging.distributions import REPO_ROOT
from tests.packaging.distributions import TESTKIT
from tests.packaging.distributions import closure
from tests.packaging.distributions import dev_requirements
from tests.packaging.distributions import import_names_of
from tests.packaging.distributions import runtime_requirements


def dev_only_import_names() -> set[str]:
    dev_only = closure(dev_requirements()) - closure(runtime_requirements())
    return (import_names_of(dev_only) | {TESTKIT}) - {CORE}


_SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, json, pkgutil, sys

    BLOCKED = frozenset(json.loads(sys.argv[1]))

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (dev-only)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    import nautilus_ext

    # Alembic's migration environment is a script Alembic runs inside its own context
    SCRIPTS = {"nautilus_ext.persistence.migrations.env"}
    failed = {}
    count = 0
    for info in pkgutil.walk_packages(nautilus_ext.__path__, "nautilus_ext.", onerror=lambda n: None):
        if info.name in SCRIPTS:
            continue
        count += 1
        try:
            importlib.import_module(info.name)
        except BaseException as e:  # noqa: BLE001 - report every failure, keep going
            failed[info.name] = f"{type(e).__name__}: {e}"
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    # a lazy dev-only import in an error path: the chain client maps a node error without eth-tester
    from nautilus_ext.onchain.chain import translate_exception
    mapped = type(translate_exception(ValueError("bad"), step="probe")).__name__
    print(json.dumps({"count": count, "failed": failed, "leaked": leaked, "mapped": mapped}))
    """
)


def test_blocker_covers_the_dev_only_distributions() -> None:
    blocked = dev_only_import_names()
    for name in (TESTKIT, "pytest", "hypothesis", "msgpack", "vyper", "eth_tester"):
        assert name in blocked
    # ... and none the runtime needs
    for name in ("nautilus_trader", "web3", "ccxt", "pydantic", "yaml", "fsspec", "gcsfs"):
        assert name not in blocked


@pytest.mark.slow
def test_every_core_module_imports_without_dev_only_distributions() -> None:
    blocked = sorted(dev_only_import_names())
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}  # the test kit's folder is not on the path
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(blocked)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["count"] > 150
    assert report["failed"] == {}
    assert report["leaked"] == []
    assert report["mapped"] == "VenueUnavailable"
