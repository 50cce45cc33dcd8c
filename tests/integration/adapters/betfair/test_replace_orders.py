"""
``modify_order`` of a resting Betfair bet reaches the exchange as ``replaceOrders`` (LIVE,
through the safety gate, against the fake): a BACK moved to longer odds backs off, so the gate
lets it through without a new confirmation; the old bet is cancelled and a new one rests at the
new odds, and NautilusTrader's order follows it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_betfair import FakeBetfair
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.support.loops import current_loop

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[4]
KEY = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
AWAY = InstrumentId.from_str("1-240000001-56323-None.BETFAIR")
TOKEN = "r" * 40


def _yaml(tmp_path: Path, fake: FakeBetfair) -> Path:
    data: dict[str, Any] = yaml.safe_load((REPO / "configs" / "live" / "betfair.yaml").read_text())
    venue = data["venues"][0]
    venue["rest_url_override"] = fake.base_url
    venue["ws_url_override"] = fake.stream_url
    data["log_level"] = "ERROR"
    data["safety"] = {"config_path": str(REPO / "configs" / "safety" / "betfair.yaml"), "control_port": 0}
    data["audit"] = {"root": str(tmp_path / "audit"), "fsync": False}
    data["timeout_connection_secs"] = 20
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_modify_order_price_is_a_replace_orders_on_betfair(
    tmp_path: Path, betfair_env: FakeBetfair, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = betfair_env
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
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
        safety = parts[0].safety
        assert safety is not None
        assert safety.control is not None
        url = safety.control.url
        unified = h.strategy(UnifiedExecutionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(AWAY.venue) and node.cache.order_book(AWAY)
            ),
            20,
            message="live Betfair node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        _, reply = send(url, TOKEN, {"command": "arm", "ttl_secs": 120, "actor": "alice"})
        assert reply["ok"], reply
        bet = Order(
            operation_id="rest-1",
            operation="bet",
            instrument_key=KEY,
            venue="BETFAIR",
            side="BACK",
            selection="AWAY",
            odds=Decimal("3.2"),  # the best back price is 3.05: the bet rests
            amount=Decimal(2),
            strategy_id="S-BET",
        )
        staged = h.call(lambda: unified.submit_unified(bet))
        assert staged.reason.startswith("AWAITING_CONFIRMATION"), staged.reason
        _, st = send(url, TOKEN, {"command": "status"})
        digest = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == "rest-1")
        _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
        assert ok["ok"], ok
        coid = ClientOrderId(unified.results["rest-1"].client_order_id)
        eventually(lambda: node.cache.order(coid).status is OrderStatus.ACCEPTED, 10)
        (placed,) = fake.placed_bets
        assert (placed.price, placed.status) == (Decimal("3.2"), "EXECUTABLE")

        # longer odds for a BACK back off: allowed as is, sent as Betfair's replaceOrders
        h.call(lambda: unified.modify_order(node.cache.order(coid), price=Price.from_str("3.30")))
        eventually(lambda: [r.method for r in fake.order_requests][-1:] == ["replaceOrders"], 10)
        eventually(
            lambda: node.cache.order(coid).price == Price.from_str("3.30"), 10, message="order not updated"
        )
        old, new = fake.placed_bets
        assert old.size_cancelled == Decimal(2)
        assert (new.price, new.size, new.status) == (Decimal("3.3"), Decimal(2), "EXECUTABLE")
        assert str(node.cache.order(coid).venue_order_id) == new.bet_id
        assert [r.method for r in fake.order_requests] == ["placeOrders", "replaceOrders"]
    finally:
        h.stop()
