"""
DRY_RUN on Betfair against the fake: NautilusTrader's native Betfair data client streams the
fake's market, bets fill on the simulated venue and nothing reaches the exchange; the data
client's keep-alive renews a session the fake would otherwise expire.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.orders import Order
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_betfair import FakeBetfair
from nautilus_ext_testkit.fake_betfair import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair import arsenal_liverpool_match_odds
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.support.loops import current_loop

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[4]
KEY = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
HOME = InstrumentId.from_str("1-240000001-1096-None.BETFAIR")


@pytest.fixture
def short_session_betfair(monkeypatch: pytest.MonkeyPatch) -> Any:
    exchange = FakeBetfairExchange(currency="GBP", balance=Decimal(1000))
    exchange.add_market(arsenal_liverpool_match_odds())
    fake = FakeBetfair(exchange, market_tick_ms=300, session_ttl_secs=3)
    fake.start_in_thread()
    monkeypatch.setenv("BETFAIR_USERNAME", fake.username)
    monkeypatch.setenv("BETFAIR_PASSWORD", fake.password)
    monkeypatch.setenv("BETFAIR_APP_KEY", fake.app_key)
    monkeypatch.delenv("BETFAIR_CERTS_DIR", raising=False)
    yield fake
    fake.stop_thread()


def _yaml(tmp_path: Path, fake: FakeBetfair) -> Path:
    data: dict[str, Any] = yaml.safe_load((REPO / "configs" / "live" / "betfair.yaml").read_text())
    data["mode"] = "DRY_RUN"
    data["allow_live_orders"] = False
    data["dry_run"] = {"starting_balances": ["1000 GBP"], "instruments_timeout_secs": 20}
    venue = data["venues"][0]
    venue["rest_url_override"] = fake.base_url
    venue["ws_url_override"] = fake.stream_url
    venue["betfair"]["keep_alive_secs"] = 1  # the fake expires idle sessions after 3 s
    data["log_level"] = "ERROR"
    data["safety"] = {"config_path": str(REPO / "configs" / "safety" / "betfair.yaml"), "control_port": None}
    data["audit"] = {"root": str(tmp_path / "audit"), "fsync": False}
    data["timeout_connection_secs"] = 20
    path = tmp_path / "dry.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _bet(op: str, side: str, selection: str, odds: str, stake: str) -> Order:
    return Order(
        operation_id=op,
        operation="bet",
        instrument_key=KEY,
        venue="BETFAIR",
        side=side,
        selection=selection,
        odds=Decimal(odds),
        amount=Decimal(stake),
        strategy_id="S-BET",
    )


def test_dry_run_fills_on_the_simulated_venue_and_keeps_the_session_alive(
    tmp_path: Path, short_session_betfair: FakeBetfair
) -> None:
    fake = short_session_betfair
    config = load_live_config(_yaml(tmp_path, fake))
    parts: list[LiveNode] = []

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        with current_loop(loop):
            live = build_live_node(config, loop)
        parts.append(live)
        return live.node

    h = NodeHarness(factory)
    h.start()
    try:
        unified = h.strategy(UnifiedExecutionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(HOME.venue) and node.cache.order_book(HOME)
            ),
            20,
            message="DRY_RUN Betfair node did not start",
        )
        safety = parts[0].safety
        assert safety is not None
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        # DRY_RUN needs no arming: the BACK at the best back price fills on the simulated venue
        result = h.call(lambda: unified.submit_unified(_bet("dry-1", "BACK", "HOME", "2.5", "2")))
        assert result.status is not ExecutionStatus.REJECTED, result.reason
        eventually(lambda: unified.results["dry-1"].filled_quantity == Decimal(2), 10, message="never filled")
        assert unified.results["dry-1"].fills[0].price == Decimal("2.5")
        # a price off Betfair's ladder is refused before anything is simulated
        refused = h.call(lambda: unified.submit_unified(_bet("dry-2", "BACK", "HOME", "2.51", "2")))
        assert refused.status is ExecutionStatus.REJECTED
        assert "price ladder" in refused.reason
        # nothing reached the exchange: no placeOrders, no bet
        assert fake.order_requests == []
        assert fake.placed_bets == []
        # past the 3 s session TTL the data client's keep-alive has renewed the session
        time.sleep(4.5)
        assert fake.keep_alives >= 3
        assert any(fake.session_valid(token) for token in fake.sessions)
    finally:
        h.stop()
