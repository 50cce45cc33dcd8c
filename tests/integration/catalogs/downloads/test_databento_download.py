"""``data download databento`` against a local HTTPS stand-in of the historical gateway."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.catalogs.downloads.databento import download_databento
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.vendors import FakeDatabentoHistorical
from nautilus_ext_testkit.vendors import Fault
from nautilus_ext_testkit.vendors import SelfSignedCert

KEY = "db-TESTKEY0123456789abcdefghijk"
DAY = dt.date(2023, 12, 24)  # the real ESH4 MBO sample's day


@pytest.fixture
def databento(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeDatabentoHistorical]:
    cert = SelfSignedCert.create(tmp_path_factory.mktemp("tls"))
    server = FakeDatabentoHistorical(api_key=KEY, cert=cert)
    data = shared_data / "nautilus_trader" / "tests" / "test_data" / "databento"
    server.add_dbn(data / "esh4-glbx-mdp3-20231224.mbo.dbn.zst")
    server.start_in_thread()
    monkeypatch.setenv("DATABENTO_API_KEY", KEY)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.cert_path))
    yield server
    server.stop_thread()


def _download(
    server: FakeDatabentoHistorical,
    tmp_path: Path,
    *,
    symbol: str = "ESH4",
    max_cost: str = "1",
    days: int = 2,
) -> object:
    return download_databento(
        "GLBX.MDP3",
        ["mbo"],
        [symbol],
        DAY,
        DAY + dt.timedelta(days=days),
        str(tmp_path / "catalog"),
        max_cost_usd=Decimal(max_cost),
        gateway=server.gateway,
        cache_dir=tmp_path / "cache",
        progress=False,
    )


def test_prices_then_downloads_then_builds_and_resumes(
    databento: FakeDatabentoHistorical, tmp_path: Path
) -> None:
    summary = _download(databento, tmp_path)
    assert summary.estimated_cost_usd is not None
    assert summary.estimated_cost_usd > 0
    assert summary.downloaded == [
        "GLBX.MDP3_mbo_ESH4_2023-12-24.dbn.zst",
        "GLBX.MDP3_mbo_ESH4_2023-12-25.dbn.zst",
    ]
    assert summary.empty == ["GLBX.MDP3_mbo_ESH4_2023-12-25.dbn.zst"]  # no records that day
    info = catalog_info(tmp_path / "catalog")
    assert sum(info.rows.values()) > 8000  # the sample's 8,725 MBO records as book deltas
    paid = databento.paid_requests
    again = _download(databento, tmp_path)
    assert again.downloaded == []
    assert again.estimated_cost_usd == 0
    assert databento.paid_requests == paid  # nothing priced or fetched twice
    assert catalog_info(tmp_path / "catalog").rows == info.rows


def test_the_cost_guard_stops_before_any_paid_request(
    databento: FakeDatabentoHistorical, tmp_path: Path
) -> None:
    with pytest.raises(NautilusExtError, match="above --max-cost") as err:
        _download(databento, tmp_path, max_cost="0")
    assert err.value.code is ErrorCode.RISK_BLOCKED
    assert databento.paid_requests == 0
    assert not (tmp_path / "catalog").exists()


def test_a_wrong_key_names_the_variable_only(
    databento: FakeDatabentoHistorical, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABENTO_API_KEY", "db-WRONGKEY0123456789abcdefghij")
    with pytest.raises(NautilusExtError) as err:
        _download(databento, tmp_path)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert "DATABENTO_API_KEY" in str(err.value)
    assert "WRONGKEY" not in str(err.value)


def test_an_unknown_symbol_is_an_instrument_error(databento: FakeDatabentoHistorical, tmp_path: Path) -> None:
    with pytest.raises(NautilusExtError, match="could be resolved") as err:
        _download(databento, tmp_path, symbol="ZZZ9")
    assert err.value.code is ErrorCode.INVALID_INSTRUMENT


def test_a_429_is_rate_limited_and_leaves_no_day(databento: FakeDatabentoHistorical, tmp_path: Path) -> None:
    databento.inject(Fault.RATE_LIMIT, "get_range")
    with pytest.raises(NautilusExtError) as err:
        _download(databento, tmp_path)
    assert err.value.code is ErrorCode.RATE_LIMITED
    assert not (tmp_path / "catalog").exists()


def test_a_cut_stream_never_reaches_the_catalog_and_is_fetched_again(
    databento: FakeDatabentoHistorical, tmp_path: Path
) -> None:
    databento.inject(Fault.TRUNCATE, "get_range")
    with pytest.raises(NautilusExtError, match="incomplete or corrupt") as err:
        _download(databento, tmp_path, days=1)
    assert err.value.code is ErrorCode.VENUE_UNAVAILABLE
    assert not (tmp_path / "catalog").exists()
    assert list((tmp_path / "cache" / "databento" / "GLBX.MDP3").iterdir()) == []
    summary = _download(databento, tmp_path, days=1)
    assert summary.downloaded == ["GLBX.MDP3_mbo_ESH4_2023-12-24.dbn.zst"]
