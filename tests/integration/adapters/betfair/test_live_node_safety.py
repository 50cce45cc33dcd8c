"""
LIVE on Betfair end to end through the safety layer: a real TradingNode built from
``configs/live/betfair.yaml`` (pointed at the fake Betfair), NautilusTrader's native Betfair
clients (HTTP JSON-RPC and the Exchange Stream API), the control endpoint driven over HTTP.

Not armed, a BACK is refused and a direct bet is DENIED with nothing reaching the fake; armed,
staged and confirmed by its hash, exactly that bet is placed and matched (the fill arrives on
the order stream); a LAY likewise, and a bet on another selection of the market; a resting bet
is cancelled; a kill refuses further bets; the audit chain verifies.
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
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_betfair import FakeBetfair
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.support.loops import current_loop

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[4]
KEY = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
HOME = InstrumentId.from_str("1-240000001-1096-None.BETFAIR")
TOKEN = "t" * 40


def _yaml(tmp_path: Path, fake: FakeBetfair) -> Path:
    # the shipped config, pointed at the fake and with a test-only direct strategy added
    data: dict[str, Any] = yaml.safe_load((REPO / "configs" / "live" / "betfair.yaml").read_text())
    venue = data["venues"][0]
    venue["rest_url_override"] = fake.base_url
    venue["ws_url_override"] = fake.stream_url
    data["log_level"] = "ERROR"
    data["strategies"].append(
        {
            "strategy_path": "tests.integration.adapters.ccxt.conftest:Recorder",
            "config_path": "tests.integration.adapters.ccxt.conftest:RecorderConfig",
            "config": {"instrument_id": str(HOME), "subscribe": False},
        }
    )
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
        odds=Decimal(odds),  # no price: a bet executes as a limit at its odds
        amount=Decimal(stake),
        strategy_id="S-BET",
    )


def _confirm(url: str, operation_id: str) -> None:
    _, st = send(url, TOKEN, {"command": "status"})
    digest = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == operation_id)
    _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
    assert ok["ok"], ok


def test_live_betfair_node_releases_only_confirmed_bets(
    tmp_path: Path, betfair_env: FakeBetfair, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = betfair_env
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    config = load_live_config(_yaml(tmp_path, fake))
    parts: list[LiveNode] = []

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        with current_loop(loop):  # the Betfair stream clients take the node's loop
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
        direct = h.strategy(Recorder)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(HOME.venue) and node.cache.order_book(HOME)
            ),
            20,
            message="live Betfair node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # 1. not armed: a unified BACK is refused; a direct bet (SELL = BACK) is DENIED
        result = h.call(lambda: unified.submit_unified(_bet("bf-1", "BACK", "HOME", "2.5", "2")))
        assert result.status is ExecutionStatus.REJECTED
        assert result.reason.startswith("RISK_BLOCKED"), result.reason
        assert "not armed" in result.reason

        def submit_direct() -> Any:
            order = direct.order_factory.limit(
                HOME, OrderSide.SELL, Quantity.from_str("2.00"), Price.from_str("2.50")
            )
            direct.submit_order(order)
            return order.client_order_id

        coid = h.call(submit_direct)
        eventually(lambda: node.cache.order(coid).status is OrderStatus.DENIED, 5)
        # the RiskEngine mirrors the unarmed gate (HALTED); past it the chokepoint judges the bet
        reason = node.cache.order(coid).events[-1].reason
        assert "HALTED" in reason or "not armed" in reason, reason
        assert fake.order_requests == []
        assert fake.placed_bets == []

        # 2. armed: the BACK is staged, nothing is sent until its exact hash is confirmed
        _, reply = send(url, TOKEN, {"command": "arm", "ttl_secs": 120, "actor": "alice"})
        assert reply["ok"], reply
        staged = h.call(lambda: unified.submit_unified(_bet("bf-2", "BACK", "HOME", "2.5", "2")))
        assert staged.reason.startswith("AWAITING_CONFIRMATION"), staged.reason
        _, wrong = send(url, TOKEN, {"command": "confirm", "intent_hash": "0" * 64, "actor": "alice"})
        assert not wrong["ok"]
        assert fake.placed_bets == []

        # 3. the exact hash releases exactly that bet: placed, matched, the fill on the order stream
        _confirm(url, "bf-2")
        eventually(lambda: unified.results["bf-2"].filled_quantity == Decimal(2), 10)
        (back,) = fake.placed_bets
        assert back.side == "BACK"
        assert back.selection_id == 1096
        assert (back.price, back.size, back.size_matched) == (Decimal("2.5"), Decimal(2), Decimal(2))
        order = node.cache.order(_coid(unified, "bf-2"))
        assert order.side == OrderSide.SELL  # NautilusTrader's BACK
        assert (order.order_type, order.price) == (OrderType.LIMIT, Price.from_str("2.50"))
        assert order.status is OrderStatus.FILLED
        # the venue's own positions (listCurrentOrders) confirm the fill
        eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="never confirmed")

        # 4. a LAY needs its own confirmation too
        lay = h.call(lambda: unified.submit_unified(_bet("bf-3", "LAY", "HOME", "2.52", "3")))
        assert lay.reason.startswith("AWAITING_CONFIRMATION"), lay.reason
        assert len(fake.placed_bets) == 1
        _confirm(url, "bf-3")
        eventually(lambda: unified.results["bf-3"].filled_quantity == Decimal(3), 10)
        assert [(b.side, b.size_matched) for b in fake.placed_bets] == [
            ("BACK", Decimal(2)),
            ("LAY", Decimal(3)),
        ]
        eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="LAY never confirmed")
        # the gate counts as the unified Order does: BACK +, LAY - (NautilusTrader's SELL/BUY)
        assert safety.gate.oms.position(KEY) == Decimal(-1)

        # 5. another selection of the same market: the venue reports each selection, the gate
        # keeps one position per market key, and the two views still agree
        draw = h.call(lambda: unified.submit_unified(_bet("bf-draw", "BACK", "DRAW", "3.4", "2")))
        assert draw.reason.startswith("AWAITING_CONFIRMATION"), draw.reason
        _confirm(url, "bf-draw")
        eventually(lambda: unified.results["bf-draw"].filled_quantity == Decimal(2), 10)
        assert fake.placed_bets[-1].selection_id == 58805
        eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="DRAW never confirmed")
        assert safety.gate.oms.position(KEY) == Decimal(1)
        time.sleep(4)  # past mismatch_persist_ms (3 s): a per-selection mismatch would enter SAFE now
        _, st = send(url, TOKEN, {"command": "status"})
        assert st["status"]["safe"] is None, st["status"]["safe"]

        # 6. a bet that finds no match rests on the exchange; its cancel passes the gate
        rest = h.call(lambda: unified.submit_unified(_bet("bf-rest", "BACK", "AWAY", "3.2", "2")))
        assert rest.reason.startswith("AWAITING_CONFIRMATION"), rest.reason
        _confirm(url, "bf-rest")
        eventually(lambda: node.cache.order(_coid(unified, "bf-rest")).status is OrderStatus.ACCEPTED, 10)
        assert (fake.placed_bets[-1].status, fake.placed_bets[-1].size_matched) == ("EXECUTABLE", 0)
        h.call(lambda: unified.cancel_order(node.cache.order(_coid(unified, "bf-rest"))))
        eventually(lambda: node.cache.order(_coid(unified, "bf-rest")).status is OrderStatus.CANCELED, 10)
        assert fake.placed_bets[-1].size_cancelled == Decimal(2)

        # 7. kill: SAFE mode, the arm is gone, a further bet is refused and nothing is sent
        _, killed = send(url, TOKEN, {"command": "kill", "actor": "alice", "reason": "drill"})
        assert killed["ok"]
        eventually(lambda: node.kernel.risk_engine.trading_state.name == "REDUCING", 5)
        after = h.call(lambda: unified.submit_unified(_bet("bf-4", "BACK", "HOME", "2.5", "2")))
        assert after.status is ExecutionStatus.REJECTED, after.reason
        assert len(fake.placed_bets) == 4
        assert [r.method for r in fake.order_requests] == ["placeOrders"] * 4 + ["cancelOrders"]
    finally:
        h.stop()
    audit = str(tmp_path / "audit" / "safety")
    assert verify_log(audit).ok
    assert verify_log(str(tmp_path / "audit" / "strategies" / "0")).ok
    commands = [r.event.get("command") for r in iter_records(audit) if r.event["event_type"] == "COMMAND"]
    assert {"ARM", "CONFIRM", "KILL"} <= set(commands)


def _coid(unified: UnifiedExecutionStrategy, operation_id: str) -> Any:
    from nautilus_trader.model.identifiers import ClientOrderId

    return ClientOrderId(unified.results[operation_id].client_order_id)
