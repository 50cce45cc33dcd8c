"""
A LIVE node's settlement of a closed market reconciled with Betfair's cleared orders (against
the fake): the bets the node matched (its fills in the cache) settle by our rules, and agree
with ``listClearedOrders`` bet by bet and on the commission.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.betfair_settlement import matched_bets_in_cache
from nautilus_ext.live.betfair_settlement import reconcile_closed_market
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
TOKEN = "s" * 40
MARKET = "1.240000001"


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


def test_live_node_settlement_reconciles_with_cleared_orders(
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
        for op, side, selection, odds, stake in (
            ("s-1", "BACK", "HOME", "2.5", "4"),  # matches 2.5
            ("s-2", "LAY", "AWAY", "3.1", "2"),  # matches 3.1
        ):
            order = _bet(op, side, selection, odds, stake)
            staged = h.call(lambda o=order: unified.submit_unified(o))
            assert staged.reason.startswith("AWAITING_CONFIRMATION"), staged.reason
            _, st = send(url, TOKEN, {"command": "status"})
            digest = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == op)
            _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
            assert ok["ok"], ok
            eventually(lambda o=op, s=stake: unified.results[o].filled_quantity == Decimal(s), 10)
            # the venue's positions confirm the fill before the next bet may go
            eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="never confirmed")
        bets = h.call(lambda: matched_bets_in_cache(node.cache, MARKET))
        assert sorted((b.side.value, b.odds, b.stake) for b in bets) == [
            ("BACK", Decimal("2.50"), Decimal(4)),
            ("LAY", Decimal("3.10"), Decimal(2)),
        ]
        assert {b.bet_id for b in bets} == {b.bet_id for b in fake.placed_bets}

        # Arsenal win: BACK 4 @ 2.5 wins 6, the LAY on Liverpool keeps 2: 8 gross, 0.40 commission
        fake.settle_market(MARKET, {1096: "WINNER", 58805: "LOSER", 56323: "LOSER"})
        client = next(c for c in node.kernel.exec_engine._clients.values() if c.id.value == "BETFAIR")
        check = h.run(
            lambda: reconcile_closed_market(
                client._client, node.cache, fake.exchange.market_definition(MARKET), MARKET
            )
        )
        assert check.reconciled, check.differences
        assert (check.ours, check.our_commission) == (Decimal(8), Decimal("0.40"))
        assert (check.venue, check.venue_commission) == (Decimal(8), Decimal("0.40"))
    finally:
        h.stop()
