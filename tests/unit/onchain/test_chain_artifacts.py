"""The npm artifact fetcher: pinned hashes verified, clear errors without node/npm or a cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus_ext_testkit.chain import artifacts
from nautilus_ext_testkit.chain.artifacts import ChainToolingError
from nautilus_ext_testkit.chain.artifacts import NpmPackage


def test_integrity_is_npm_sha512_base64(tmp_path: Path) -> None:
    blob = tmp_path / "x.tgz"
    blob.write_bytes(b"abc")
    # sha512("abc") in base64, as npm writes it in dist.integrity.
    assert artifacts.integrity_of(blob) == (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    )


def test_every_pinned_package_has_an_exact_version_and_sha512() -> None:
    names = [p.name for p in artifacts.PINNED]
    assert len(names) == len(set(names))
    for package in artifacts.PINNED:
        assert package.integrity.startswith("sha512-")
        assert not any(ch in package.version for ch in "^~*<> ")


def test_missing_npm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ChainToolingError, match=r"`npm` not found on PATH.*Node\.js and npm"):
        artifacts.fetch(artifacts.UNISWAP_V2_CORE)


def test_uncached_package_names_the_make_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_CACHE", str(tmp_path))
    with pytest.raises(ChainToolingError, match="make chain-artifacts"):
        artifacts.package_dir(artifacts.AAVE_CORE_V3)
    with pytest.raises(ChainToolingError, match="make chain-artifacts"):
        artifacts.anvil_binary()


def test_tarball_with_another_hash_is_refused_and_not_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm pack (from npm's local cache after `make chain-artifacts`) of a package pinned wrongly."""
    monkeypatch.setenv("NAUTILUS_EXT_CACHE", str(tmp_path))
    wrong = NpmPackage(artifacts.UNISWAP_V2_CORE.name, artifacts.UNISWAP_V2_CORE.version, "sha512-AAAA")
    with pytest.raises(ChainToolingError, match="differs from the pinned sha512-AAAA"):
        artifacts.fetch(wrong)
    assert not (tmp_path / "npm" / wrong.key).exists()
    with pytest.raises(ChainToolingError):
        artifacts.package_dir(wrong)


def test_fetched_packages_match_their_pins() -> None:
    """Every package is unpacked under its pinned hash (a no-op after `make chain-artifacts`)."""
    artifacts.fetch_all()
    for package in artifacts.PINNED:
        assert artifacts.package_dir(package).is_dir()
    assert artifacts.anvil_binary().stat().st_mode & 0o111
    assert "Morpho.sol:Morpho" not in artifacts.morpho_contracts()
    assert "Morpho" in artifacts.morpho_contracts()["Morpho.sol"]
