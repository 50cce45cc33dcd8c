"""The built wheel installs one top-level import name, ``nautilus_ext``, and no test kit."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.packaging.distributions import REPO_ROOT

_SOURCES = ("pyproject.toml", "README.md", "nautilus_ext", "adapters", "execution_algos", "catalogs")


def _build_wheel(tmp_path: Path) -> Path:
    # build from a copy: an in-tree build would leave build/ and egg-info behind in the checkout
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in _SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist")]
    if importlib.util.find_spec("setuptools") is not None:
        command.append("--no-build-isolation")  # else pip fetches the build backend
    done = subprocess.run([*command, str(src)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    (wheel,) = (tmp_path / "dist").glob("nautilus_ext-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_has_no_top_level_name_but_nautilus_ext(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert tops - dist_info == {"nautilus_ext"}, sorted(tops)
    # the symlinked design-card folders ship as real subpackages, the fakes do not ship at all
    for package in ("adapters/ccxt", "execution_algos", "catalogs"):
        assert f"nautilus_ext/{package}/__init__.py" in names
    assert not [n for n in names if "testkit" in n or "fake_" in n.rsplit("/", 1)[-1]]
    top_level = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    if top_level:
        text = zipfile.ZipFile(wheel).read(top_level[0]).decode()
        assert text.split() == ["nautilus_ext"]
