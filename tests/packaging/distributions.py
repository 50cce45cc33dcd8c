"""
What the core distribution declares and imports: pyproject's dependencies, the dev extra and the
test kit, resolved to import names through the installed distributions' metadata.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import re
import tomllib
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE = "nautilus_ext"
TESTKIT = "nautilus_ext_testkit"


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject(path: Path = REPO_ROOT / "pyproject.toml") -> dict[str, object]:
    with path.open("rb") as f:
        return tomllib.load(f)


def runtime_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return [Requirement(r) for r in project["dependencies"]]


def dev_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    testkit = pyproject(REPO_ROOT / "testkit" / "pyproject.toml")["project"]
    assert isinstance(testkit, dict)
    dev += [
        Requirement(r) for r in testkit["dependencies"] if canonical(Requirement(r).name) != "nautilus-ext"
    ]
    return dev


def closure(requirements: Iterable[Requirement]) -> set[str]:
    """Every installed distribution the requirements pull in (extras and markers honoured)."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in requirements]
    while todo:
        req, extras = todo.pop()
        name = canonical(req.name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        key = name + "[" + ",".join(sorted(extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for raw in dist.requires or []:
            sub = Requirement(raw)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append((sub, frozenset(sub.extras)))
    return {k.split("[")[0] for k in seen}


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return md.packages_distributions()


def import_names_of(distributions: Iterable[str]) -> set[str]:
    """Top-level import names provided by the given (canonical) distributions."""
    wanted = set(distributions)
    names = set()
    for top, dists in _packages_distributions().items():
        if any(canonical(d) in wanted for d in dists) and top.isidentifier():
            names.add(top)
    return names


def core_files() -> Iterator[Path]:
    """Every Python file of the core package (the symlinked folders included)."""
    root = REPO_ROOT / CORE
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path
    for linked in sorted(p for p in root.iterdir() if p.is_symlink() and p.is_dir()):
        for path in sorted(linked.resolve().rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def imported_modules(files: Iterable[Path]) -> set[str]:
    """Absolute modules imported anywhere in the files (lazy imports inside functions included)."""
    found: set[str] = set()
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


# A declared extra of a dependency is used when the core imports the module it enables; an
# extra mapped to None enables no module (a build of the same package: psycopg's compiled wheel)
EXTRA_MODULES: dict[tuple[str, str], str | None] = {
    ("nautilus-trader", "betfair"): "nautilus_trader.adapters.betfair",
    ("nautilus-trader", "ib"): "nautilus_trader.adapters.interactive_brokers",
    ("nautilus-trader", "polymarket"): "nautilus_trader.adapters.polymarket",
    ("psycopg", "binary"): None,
}


def unused_requirements(
    requirements: Iterable[Requirement],
    imported: set[str],
    plugins: dict[str, bool],
) -> list[str]:
    """
    The declared requirements (or extras) that no imported module uses.

    ``plugins`` maps a distribution that is loaded by name rather than imported (an fsspec
    protocol, a SQLAlchemy driver) to whether that loading was verified.
    """
    tops = {m.split(".")[0] for m in imported}
    unused = []
    for req in requirements:
        name = canonical(req.name)
        if name in plugins:
            if not plugins[name]:
                unused.append(req.name)
        else:
            provided = import_names_of([name])
            if not provided:
                unused.append(f"{req.name} (not installed: cannot tell what it provides)")
            elif not provided & tops:
                unused.append(req.name)
        for extra in sorted(req.extras):
            if (name, extra) not in EXTRA_MODULES:
                unused.append(f"{req.name}[{extra}] (unknown extra: map it to the module it enables)")
                continue
            module = EXTRA_MODULES[(name, extra)]
            if module is not None and not any(m == module or m.startswith(module + ".") for m in imported):
                unused.append(f"{req.name}[{extra}]")
    return unused
