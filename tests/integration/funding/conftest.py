"""The funding collector against the fake exchanges (Bybit, Binance USD-M, OKX, Hyperliquid)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.funding.config import FundingCollectorConfig
from nautilus_ext.funding.config import parse_collector_config
from nautilus_ext_testkit.fake_exchange import FakeExchange

# fake-exchange attribute -> ccxt exchange id
VENUES: dict[str, str] = {
    "bybit": "bybit",
    "binance": "binanceusdm",
    "okx": "okx",
    "hyperliquid": "hyperliquid",
}
MARK = Decimal(50_000)
INDEX = Decimal(49_990)
OPEN_INTEREST = Decimal(120)  # base units
VOLUME = Decimal(6_000_000)  # quote units
HISTORY = [Decimal("0.0001"), Decimal("0.00012"), Decimal("-0.00005"), Decimal("0.0002"), Decimal("0.00015")]
GAP_AT = 2  # the index left out of every venue's history


def book_symbols(ex: FakeExchange, venue: str) -> list[str]:
    """Return the market symbols the fake lists on ``venue``."""
    return list(getattr(ex, venue).engine.markets)


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    """A fake exchange with funding state, a history with one gap and a book on every market."""
    ex = FakeExchange()
    ex.start_in_thread()

    def seed() -> None:
        for venue in VENUES:
            engine = getattr(ex, venue).engine
            for symbol in engine.markets:
                engine.funding.configure(
                    symbol,
                    mark_price=MARK,
                    index_price=INDEX,
                    open_interest=OPEN_INTEREST,
                    volume_24h=VOLUME,
                )
                engine.funding.seed_history(symbol, HISTORY, skip=frozenset({GAP_AT}))
                engine.seed_book(symbol, bids=[(MARK - 10, Decimal(5))], asks=[(MARK + 10, Decimal(5))])

    ex.call(seed)
    yield ex
    ex.stop_thread()


def collector_config(ex: FakeExchange, **overrides: Any) -> FundingCollectorConfig:
    """A collector config pointing every venue at the fake."""
    venues = [
        {
            "exchange_id": exchange_id,
            "symbols": ["BTC", "ETH"],
            "rest_url_override": ex.base_url,
            "ws_url_override": ex.ws_url,
            "timeout_ms": 5_000,
            "enable_rate_limit": False,  # a local server: no client-side throttle
        }
        for exchange_id in VENUES.values()
    ]
    raw: dict[str, Any] = {"venues": venues, "poll_interval_secs": 60, **overrides}
    return parse_collector_config(raw)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite store URL."""
    return f"sqlite:///{tmp_path / 'funding.db'}"
