"""
Fetch the published protocol artifacts and Anvil from the npm registry into a cache outside git.

Every package is pinned by name, version and the registry's ``dist.integrity`` (SHA-512). The
tarball comes from ``npm pack`` (the ordinary npm client), is checked against the pinned hash,
and unpacked under ``~/.cache/nautilus-ext/npm/<name>-<version>/`` (``NAUTILUS_EXT_CACHE``
overrides the root). Morpho Blue ships Solidity source only: it is compiled once with solc-js
at the version its ``Morpho.sol`` pins (0.8.19) and the output cached next to it.

Run ``python -m nautilus_ext_testkit.chain.artifacts`` (the Makefile's ``chain-artifacts``
target does) to fetch everything; tests call :func:`package_dir`, which never touches the
network and says how to fetch when something is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final


class ChainToolingError(RuntimeError):
    """Node/npm missing, a fetch failed, a hash did not match, or an artifact is not cached."""


@dataclass(frozen=True, slots=True)
class NpmPackage:
    """
    One pinned npm package.

    Parameters
    ----------
    name : str
        Package name (``@scope/name``).
    version : str
        Exact version.
    integrity : str
        The registry's ``dist.integrity`` (``sha512-`` + base64 digest).
    """

    name: str
    version: str
    integrity: str

    @property
    def key(self) -> str:
        """Cache folder name: ``scope-name-version`` without the ``@``."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"


ANVIL: Final = NpmPackage(
    "@foundry-rs/anvil-linux-amd64",
    "1.7.1",
    "sha512-+XmShybEaxfCrr0OUUZwYEy2OnYZt5pHH9TzBtLv3+VrK0O/ANuNSVEahqNhKHlgX7GRJ59383ofNhxkRWIYTg==",
)
UNISWAP_V2_CORE: Final = NpmPackage(
    "@uniswap/v2-core",
    "1.0.1",
    "sha512-MtybtkUPSyysqLY2U210NBDeCHX+ltHt3oADGdjqoThZaFRDKwM6k1Nb3F0A3hk5hwuQvytFWhrWHOEq6nVJ8Q==",
)
UNISWAP_V2_PERIPHERY: Final = NpmPackage(
    "@uniswap/v2-periphery",
    "1.1.0-beta.0",
    "sha512-6dkwAMKza8nzqYiXEr2D86dgW3TTavUvCR0w2Tu33bAbM8Ah43LKAzH7oKKPRT5VJQaMi1jtkGs1E8JPor1n5g==",
)
UNISWAP_V3_CORE: Final = NpmPackage(
    "@uniswap/v3-core",
    "1.0.1",
    "sha512-7pVk4hEm00j9tc71Y9+ssYpO6ytkeI0y7WE9P6UcmNzhxPePwyAxImuhVsTqWK9YFvzgtvzJHi64pBl4jUzKMQ==",
)
UNISWAP_V3_PERIPHERY: Final = NpmPackage(
    "@uniswap/v3-periphery",
    "1.4.4",
    "sha512-S4+m+wh8HbWSO3DKk4LwUCPZJTpCugIsHrWR86m/OrUyvSqGDTXKFfc2sMuGXCZrD1ZqO3rhQsKgdWg3Hbb2Kw==",
)
AAVE_CORE_V3: Final = NpmPackage(
    "@aave/core-v3",
    "1.19.3",
    "sha512-Xr7+VcoU5b4mPwM4IUCnskw3lciwrnL4Xloyad8GOddYeixnri2lZYobNmErm1LwE50vqjI0O+9QGNKY2TDkeQ==",
)
BALANCER_V2_DEPLOYMENTS: Final = NpmPackage(
    "@balancer-labs/v2-deployments",
    "3.2.0",
    "sha512-pghD7qyTVp1832d7F7yHgAeh/EZvS2/GLvUx9ieM671NMh1KTprYZOBCpEVVC9JnE1Vpru5rc9DDNlFw3capVw==",
)
COW_CONTRACTS: Final = NpmPackage(
    "@cowprotocol/contracts",
    "1.8.0",
    "sha512-rMEHo1UBB6k4kRoWejHZNGggg6IBVt7vAd8x0FhEvjxhbq3zlAex61f9HpAcDExJNuvfwwDjsOc/7UGztCzhSw==",
)
MORPHO_BLUE: Final = NpmPackage(
    "@morpho-org/morpho-blue",
    "1.0.0",
    "sha512-MKtzYMRE65B1hVJYAPtml3ecHPY2e/SL3JRvM7XWjtbnWQX6U/C3beSdxr7v+rHaVJ0ri/dUPxvNfWtr0NZdGw==",
)
SOLC_MORPHO: Final = NpmPackage(
    "solc",
    "0.8.19",
    "sha512-yqurS3wzC4LdEvmMobODXqprV4MYJcVtinuxgrp61ac8K2zz40vXA0eSAskSHPgv8dQo7Nux39i3QBsHx4pqyA==",
)
"""solc-js at the version ``Morpho.sol`` pins (``pragma solidity 0.8.19``)."""

PINNED: Final[tuple[NpmPackage, ...]] = (
    ANVIL,
    UNISWAP_V2_CORE,
    UNISWAP_V2_PERIPHERY,
    UNISWAP_V3_CORE,
    UNISWAP_V3_PERIPHERY,
    AAVE_CORE_V3,
    BALANCER_V2_DEPLOYMENTS,
    COW_CONTRACTS,
    MORPHO_BLUE,
    SOLC_MORPHO,
)

MORPHO_OPTIMIZER_RUNS: Final[int] = 999_999
"""Morpho Blue's own build setting (its foundry.toml)."""
MORPHO_EVM_VERSION: Final[str] = "paris"
_SOLC_SCRIPT: Final[Path] = Path(__file__).resolve().parent / "node" / "solc_compile.js"
_UNPACKED_MARK: Final[str] = ".integrity"


def cache_root() -> Path:
    """The artifact cache: ``$NAUTILUS_EXT_CACHE/npm`` or ``~/.cache/nautilus-ext/npm``."""
    base = os.environ.get("NAUTILUS_EXT_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "nautilus-ext"
    return root / "npm"


def _require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ChainToolingError(
            f"`{tool}` not found on PATH: the local chain needs Node.js and npm (Node 18+) to fetch "
            "Anvil and the protocols' published bytecode from the npm registry; install them "
            "(e.g. `apt-get install nodejs npm`) and run `make chain-artifacts`"
        )
    return path


def integrity_of(path: Path) -> str:
    """The npm ``dist.integrity`` string (``sha512-<base64>``) of a file."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _unpacked(package: NpmPackage) -> Path:
    return cache_root() / package.key


def _is_unpacked(package: NpmPackage) -> bool:
    mark = _unpacked(package) / _UNPACKED_MARK
    return mark.is_file() and mark.read_text().strip() == package.integrity


def fetch(package: NpmPackage) -> Path:
    """
    Fetch, verify and unpack one package (a no-op when already unpacked with the same hash).

    Returns
    -------
    Path
        The unpacked ``package/`` folder.

    Raises
    ------
    ChainToolingError
        npm missing or failing, or the tarball's hash differs from the pin.
    """
    target = _unpacked(package)
    if _is_unpacked(package):
        return target / "package"
    npm = _require_tool("npm")
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        done = subprocess.run(
            [npm, "pack", f"{package.name}@{package.version}", "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise ChainToolingError(
                f"npm pack {package.name}@{package.version} failed ({done.returncode}): "
                f"{done.stderr.strip()[-400:]}"
            )
        got = integrity_of(tarballs[0])
        if got != package.integrity:
            raise ChainToolingError(
                f"{package.name}@{package.version}: tarball integrity {got} "
                f"differs from the pinned {package.integrity}"
            )
        unpack = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(unpack, filter="data")
        if target.exists():
            shutil.rmtree(target)
        unpack.rename(target)
    (target / _UNPACKED_MARK).write_text(package.integrity + "\n")
    return target / "package"


def package_dir(package: NpmPackage) -> Path:
    """
    The unpacked folder of a fetched package (never fetches).

    Raises
    ------
    ChainToolingError
        Not fetched yet (or fetched with another hash).
    """
    if not _is_unpacked(package):
        raise ChainToolingError(
            f"{package.name}@{package.version} is not in {cache_root()}: run `make chain-artifacts` "
            "(or `python -m nautilus_ext_testkit.chain.artifacts`) first"
        )
    return _unpacked(package) / "package"


def anvil_binary() -> Path:
    """Path of the fetched Anvil binary."""
    binary = package_dir(ANVIL) / "bin" / "anvil"
    if not binary.is_file():
        raise ChainToolingError(f"the Anvil package has no binary at {binary}")
    return binary


def morpho_output_path() -> Path:
    """Where the compiled Morpho Blue output is cached."""
    return cache_root() / f"{MORPHO_BLUE.key}.solc-{SOLC_MORPHO.version}.json"


def compile_morpho() -> Path:
    """Compile Morpho Blue's published source with the pinned solc-js (cached)."""
    out = morpho_output_path()
    if out.is_file():
        return out
    node = _require_tool("node")
    source = package_dir(MORPHO_BLUE) / "src"
    soljson = package_dir(SOLC_MORPHO) / "soljson.js"
    partial = out.with_suffix(f".{os.getpid()}.partial")
    done = subprocess.run(
        [
            node,
            str(_SOLC_SCRIPT),
            str(soljson),
            str(source),
            str(partial),
            str(MORPHO_OPTIMIZER_RUNS),
            MORPHO_EVM_VERSION,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ChainToolingError(
            f"compiling Morpho Blue with solc {SOLC_MORPHO.version} failed: {done.stderr[-800:]}"
        )
    partial.rename(out)
    return out


def morpho_contracts() -> dict[str, Any]:
    """The compiled Morpho Blue output (``contracts`` of solc's standard JSON)."""
    path = morpho_output_path()
    if not path.is_file():
        raise ChainToolingError(f"Morpho Blue is not compiled at {path}: run `make chain-artifacts` first")
    data: dict[str, Any] = json.loads(path.read_text())
    return dict(data["contracts"])


def fetch_all() -> None:
    """Fetch every pinned package and compile Morpho Blue."""
    for package in PINNED:
        fetch(package)
    compile_morpho()


def main() -> int:
    """Entry point: fetch everything, print where it went, exit 1 with the reason on failure."""
    try:
        fetch_all()
    except ChainToolingError as exc:
        sys.stderr.write(f"chain-artifacts: {exc}\n")
        return 1
    sys.stdout.write(f"chain artifacts ready in {cache_root()} ({len(PINNED)} packages, Morpho compiled)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
