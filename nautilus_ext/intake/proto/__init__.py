"""
The intake's gRPC messages and stubs, generated from ``nautilus_ext_intake.proto`` on first import.

Why at import time, not at install time: the package is installed editable and the test suite runs
it straight from the source tree (``PYTHONPATH=<worktree>``), where a setuptools ``build_py`` step
never runs; generating into the tree would leave hand-committable files next to the proto. Instead
``grpc_tools.protoc`` writes ``nautilus_ext_intake_pb2.py`` and ``..._pb2_grpc.py`` once into a cache
directory keyed by the SHA-256 of the proto (``$NAUTILUS_EXT_CACHE_DIR`` or
``~/.cache/nautilus_ext/grpc/<hash>``), written to a temporary directory and renamed into place so
concurrent first imports never see half a file; a changed proto gets a fresh directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from nautilus_ext.errors import InvalidConfig

PROTO_NAME = "nautilus_ext_intake"
PROTO_PATH = Path(__file__).with_name(f"{PROTO_NAME}.proto")

__all__ = ["PROTO_PATH", "generated_dir", "pb2", "pb2_grpc"]


def _cache_root() -> Path:
    root = os.environ.get("NAUTILUS_EXT_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "nautilus_ext"


def generated_dir() -> Path:
    """Return the directory holding the generated modules of the current proto (build it once)."""
    digest = hashlib.sha256(PROTO_PATH.read_bytes()).hexdigest()[:16]
    target = _cache_root() / "grpc" / digest
    if (target / f"{PROTO_NAME}_pb2_grpc.py").exists():
        return target
    from grpc_tools import protoc  # build-time tool, imported only when a build is needed

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=target.parent))
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_PATH.parent}",
            f"--python_out={tmp}",
            f"--grpc_python_out={tmp}",
            str(PROTO_PATH),
        ]
    )
    if code != 0:
        raise InvalidConfig(f"protoc failed ({code}) on {PROTO_PATH}")
    try:
        tmp.rename(target)
    except OSError:  # another process built it first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _load(name: str, directory: Path) -> ModuleType:
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, directory / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # the generated stub imports its messages by their top-level name
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_directory = generated_dir()
pb2: Any = _load(f"{PROTO_NAME}_pb2", _directory)
pb2_grpc: Any = _load(f"{PROTO_NAME}_pb2_grpc", _directory)
