"""``data download tardis`` against a local stand-in of Tardis' datasets API serving real CSVs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus_ext.catalogs.downloads.tardis import download_tardis
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.vendors import FakeTardisDatasets
from nautilus_ext_testkit.vendors import Fault

KEY = "TD.test-key-0123456789"
MARCH_1 = dt.date(2020, 3, 1)


@pytest.fixture
def tardis(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTardisDatasets]:
    server = FakeTardisDatasets(api_key=KEY)
    data = shared_data / "nautilus_trader" / "tests" / "test_data" / "tardis"
    server.add_csv("trades", data / "bitmex_trades_XBTUSD.csv")
    server.start_in_thread()
    monkeypatch.setenv("TARDIS_API_KEY", KEY)
    yield server
    server.stop_thread()


def _download(server: FakeTardisDatasets, tmp_path: Path, symbol: str = "XBTUSD", days: int = 2) -> object:
    return download_tardis(
        "bitmex",
        ["trades"],
        [symbol],
        MARCH_1,
        MARCH_1 + dt.timedelta(days=days),
        str(tmp_path / "catalog"),
        endpoint=f"{server.base_url}/v1",
        cache_dir=tmp_path / "cache",
        progress=False,
    )


def test_downloads_days_and_builds_the_catalog_then_resumes_from_the_cache(
    tardis: FakeTardisDatasets, tmp_path: Path
) -> None:
    summary = _download(tardis, tmp_path)
    assert summary.downloaded == [
        "bitmex_trades_2020-03-01_XBTUSD.csv.gz",
        "bitmex_trades_2020-03-02_XBTUSD.csv.gz",
    ]
    assert summary.empty == ["bitmex_trades_2020-03-02_XBTUSD.csv.gz"]  # a quiet day: header only
    info = catalog_info(tmp_path / "catalog")
    assert info.rows["trade_tick"] == 10  # every real row of 2020-03-01
    # again: nothing fetched, the same catalog (the day replaced, not duplicated)
    served = len(tardis.requests)
    again = _download(tardis, tmp_path)
    assert again.downloaded == []
    assert len(again.cached) == 2
    assert len(tardis.requests) == served
    assert catalog_info(tmp_path / "catalog").rows["trade_tick"] == 10


def test_a_wrong_key_is_a_config_error_naming_the_variable_not_the_key(
    tardis: FakeTardisDatasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TARDIS_API_KEY", "wrong-key-value")
    with pytest.raises(NautilusExtError) as err:
        _download(tardis, tmp_path)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert "TARDIS_API_KEY" in str(err.value)
    assert "wrong-key-value" not in str(err.value)
    assert not (tmp_path / "catalog").exists()


def test_a_missing_key_is_refused_before_any_request(
    tardis: FakeTardisDatasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TARDIS_API_KEY")
    with pytest.raises(NautilusExtError, match="set TARDIS_API_KEY") as err:
        _download(tardis, tmp_path)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert tardis.requests == []


def test_an_unknown_symbol_is_an_instrument_error(tardis: FakeTardisDatasets, tmp_path: Path) -> None:
    with pytest.raises(NautilusExtError, match="NOSUCH") as err:
        _download(tardis, tmp_path, symbol="NOSUCH")
    assert err.value.code is ErrorCode.INVALID_INSTRUMENT
    assert not (tmp_path / "catalog").exists()


def test_an_exhausted_quota_is_rate_limited_and_a_blip_is_retried(
    tardis: FakeTardisDatasets, tmp_path: Path
) -> None:
    tardis.inject(Fault.RATE_LIMIT, "2020/03/02")
    with pytest.raises(NautilusExtError) as err:
        _download(tardis, tmp_path)
    assert err.value.code is ErrorCode.RATE_LIMITED
    assert not (tmp_path / "catalog").exists()  # no day is built from a partial run
    tardis.inject(Fault.RATE_LIMIT_ONCE, "2020/03/02")
    summary = _download(tardis, tmp_path)  # the client's own retry after Retry-After: 0
    assert summary.cached == ["bitmex_trades_2020-03-01_XBTUSD.csv.gz"]  # resumed
    assert catalog_info(tmp_path / "catalog").rows["trade_tick"] == 10


def test_a_cut_download_never_reaches_the_catalog_and_is_fetched_again(
    tardis: FakeTardisDatasets, tmp_path: Path
) -> None:
    tardis.inject(Fault.TRUNCATE, "2020/03/01")
    with pytest.raises(NautilusExtError, match="incomplete or corrupt") as err:
        _download(tardis, tmp_path)
    assert err.value.code is ErrorCode.VENUE_UNAVAILABLE
    assert err.value.retryable
    assert not (tmp_path / "catalog").exists()
    assert not (tmp_path / "cache" / "tardis" / "bitmex" / "bitmex_trades_2020-03-01_XBTUSD.csv.gz").exists()
    summary = _download(tardis, tmp_path)
    assert "bitmex_trades_2020-03-01_XBTUSD.csv.gz" in summary.downloaded
    assert catalog_info(tmp_path / "catalog").rows["trade_tick"] == 10


def test_the_cli_downloads_and_prints_a_summary(tardis: FakeTardisDatasets, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    args = ["data", "download", "tardis", "bitmex", "-t", str(tmp_path / "catalog"), "--from", "2020-03-01"]
    args += ["--to", "2020-03-02", "-s", "XBTUSD", "-d", "trades", "--endpoint", f"{tardis.base_url}/v1"]
    args += ["--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "downloaded  1 files" in result.output
    bad = CliRunner().invoke(app, [*args[:7], "2020-03-02", "--to", "2020-03-01", *args[10:]])
    assert bad.exit_code == 2
    assert "must be after --from" in bad.output
