"""``data download betfair`` against a local stand-in of Betfair's login and historic data API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus_ext.catalogs.downloads.betfair import download_betfair
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.vendors import FakeBetfairHistoric
from nautilus_ext_testkit.vendors import Fault

FILES = ("1-166564490.bz2", "1-166811431.bz2")  # real basketball MATCH_ODDS, 21 and 29 Dec 2019


@pytest.fixture
def betfair(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBetfairHistoric]:
    server = FakeBetfairHistoric(username="punter", password="s3cret-pass", app_key="APPKEY123")
    for name in FILES:
        server.add_stream(shared_data / "nautilus_trader" / "tests" / "test_data" / "betfair" / name)
    server.start_in_thread()
    monkeypatch.setenv("BETFAIR_USERNAME", "punter")
    monkeypatch.setenv("BETFAIR_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("BETFAIR_APP_KEY", "APPKEY123")
    yield server
    server.stop_thread()


def _download(server: FakeBetfairHistoric, tmp_path: Path, **kwargs: object) -> object:
    return download_betfair(
        str(kwargs.pop("sport", "Basketball")),
        dt.date(2019, 12, 20),
        dt.date(2019, 12, 31),
        str(tmp_path / "catalog"),
        identity_url=server.identity_uri,
        historic_url=server.historic_url,
        cache_dir=tmp_path / "cache",
        progress=False,
        **kwargs,  # type: ignore[arg-type]
    )


def test_lists_downloads_builds_and_resumes(betfair: FakeBetfairHistoric, tmp_path: Path) -> None:
    summary = _download(betfair, tmp_path, market_types=["MATCH_ODDS"], countries=["GB"])
    assert sorted(summary.downloaded) == ["1.166564490.bz2", "1.166811431.bz2"]
    info = catalog_info(tmp_path / "catalog")
    assert info.rows["betting_instrument"] >= 2
    assert info.rows["order_book_deltas"] > 0
    again = _download(betfair, tmp_path, market_types=["MATCH_ODDS"], countries=["GB"])
    assert again.downloaded == []
    assert sorted(again.cached) == ["1.166564490.bz2", "1.166811431.bz2"]
    assert catalog_info(tmp_path / "catalog").rows == info.rows


def test_a_wrong_password_is_a_config_error_without_the_secret(
    betfair: FakeBetfairHistoric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BETFAIR_PASSWORD", "not-the-password")
    with pytest.raises(NautilusExtError, match="INVALID_USERNAME_OR_PASSWORD") as err:
        _download(betfair, tmp_path)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert "not-the-password" not in str(err.value)


def test_no_matching_market_is_an_instrument_error(betfair: FakeBetfairHistoric, tmp_path: Path) -> None:
    with pytest.raises(NautilusExtError, match="no Basic Plan files") as err:
        _download(betfair, tmp_path, event_id="99999999")
    assert err.value.code is ErrorCode.INVALID_INSTRUMENT
    with pytest.raises(NautilusExtError) as err:
        _download(betfair, tmp_path, sport="Curling")
    assert err.value.code is ErrorCode.INVALID_INSTRUMENT


def test_a_429_is_rate_limited(betfair: FakeBetfairHistoric, tmp_path: Path) -> None:
    betfair.inject(Fault.RATE_LIMIT, "1.166811431")
    with pytest.raises(NautilusExtError) as err:
        _download(betfair, tmp_path)
    assert err.value.code is ErrorCode.RATE_LIMITED  # read from the error page it sent instead of a file
    assert not (tmp_path / "catalog").exists()


def test_a_cut_file_never_reaches_the_catalog_and_is_fetched_again(
    betfair: FakeBetfairHistoric, tmp_path: Path
) -> None:
    betfair.inject(Fault.TRUNCATE, "1.166811431")
    with pytest.raises(NautilusExtError, match="incomplete or corrupt") as err:
        _download(betfair, tmp_path)
    assert err.value.code is ErrorCode.VENUE_UNAVAILABLE
    assert not (tmp_path / "catalog").exists()
    summary = _download(betfair, tmp_path)
    assert summary.downloaded == ["1.166811431.bz2"]  # the other came from the cache
    assert summary.cached == ["1.166564490.bz2"]
