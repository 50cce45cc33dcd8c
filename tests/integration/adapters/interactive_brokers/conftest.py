"""Fixtures for the Interactive Brokers tests: the IB Gateway stand-in with ES quoted, its account set."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext_testkit.fake_ib import FakeIBGateway

REPO = Path(__file__).resolve().parents[4]
TODAY = dt.date(2024, 6, 3)  # ESZ4 (last trade 2024-12-20) is listed and tradable
ES = "CME:FUTURE:SP500-USD-241220@LIN"
ES_CALL = "CME:OPTION:SP500-USD-241220-5000-CALL@LIN"


@pytest.fixture
def fake_ib() -> Iterator[FakeIBGateway]:
    fake = FakeIBGateway(today=TODAY).start()
    fake.set_quote("ESZ4", 5000.00, 5000.25, last=5000.00)
    fake.set_quote("ESZ4 C5000", 120.00, 120.50)
    fake.stream_quotes(0.5)  # a live feed: the gate blocks orders on stale market data
    yield fake
    fake.stop()


@pytest.fixture
def ib_env(monkeypatch: pytest.MonkeyPatch, fake_ib: FakeIBGateway) -> FakeIBGateway:
    monkeypatch.setenv("TWS_ACCOUNT", fake_ib.account)
    return fake_ib


def live_yaml(
    tmp_path: Path, fake: FakeIBGateway, *, client_id: int = 11, extra: dict[str, Any] | None = None
) -> Path:
    """The shipped ``configs/live/ib_cme.yaml`` pointed at ``fake``, auditing under ``tmp_path``."""
    data: dict[str, Any] = yaml.safe_load((REPO / "configs" / "live" / "ib_cme.yaml").read_text())
    section = data["venues"][0]["interactive_brokers"]
    section["port"] = fake.port
    section["client_id"] = client_id
    section["connection_timeout_secs"] = 20
    section["request_timeout_secs"] = 10
    data["log_level"] = os.environ.get("IB_TEST_LOG_LEVEL", "ERROR")
    data["safety"] = {"config_path": str(REPO / "configs" / "safety" / "ib_cme.yaml"), "control_port": 0}
    data["audit"] = {"root": str(tmp_path / "audit"), "fsync": False}
    data["timeout_connection_secs"] = 30
    data.update(extra or {})
    path = tmp_path / f"live-{client_id}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def globex_hours_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Let the node tests run at any hour: on the node's real clock the CME Globex calendar would
    make the gate refuse every ES order (market-closed rule) and the algorithms pause, on
    weekends and in the daily halt. Both have their own tests (``tests/unit/safety/
    test_market_hours.py``, ``tests/integration/tradfi/``); here no contract has a calendar.
    """
    from nautilus_ext.tradfi.sessions import TradingHours

    monkeypatch.setattr(TradingHours, "calendar_for_key", lambda self, key: None)
    monkeypatch.setattr(TradingHours, "calendar_for_instrument", lambda self, instrument: None)
