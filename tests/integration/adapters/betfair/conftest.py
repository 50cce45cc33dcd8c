"""Fixtures for the Betfair adapter tests: the fake Betfair in a thread, its login in the environment."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from nautilus_ext_testkit.fake_betfair import FakeBetfair
from nautilus_ext_testkit.fake_betfair import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds


@pytest.fixture
def fake_betfair() -> Iterator[FakeBetfair]:
    exchange = FakeBetfairExchange(currency="GBP", balance=Decimal(1000))
    exchange.add_market(arsenal_liverpool_match_odds())
    fake = FakeBetfair(exchange, market_tick_ms=300)
    fake.start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def betfair_env(monkeypatch: pytest.MonkeyPatch, fake_betfair: FakeBetfair) -> FakeBetfair:
    monkeypatch.setenv("BETFAIR_USERNAME", fake_betfair.username)
    monkeypatch.setenv("BETFAIR_PASSWORD", fake_betfair.password)
    monkeypatch.setenv("BETFAIR_APP_KEY", fake_betfair.app_key)
    monkeypatch.delenv("BETFAIR_CERTS_DIR", raising=False)
    return fake_betfair
