"""
A kill cancels the working orders at the venue (issue 13, item 4), in a LIVE TradingNode built
from YAML with the ccxt adapter on the fake exchange and the control endpoint driven over HTTP.

Before the fix, ``kill`` entered SAFE mode and left the resting order on the venue.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId

from nautilus_ext.audit import iter_records
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node

from .test_live_safety_node import IID
from .test_live_safety_node import TOKEN
from .test_live_safety_node import _order
from .test_live_safety_node import _yaml
from .test_live_safety_node import exchange

__all__ = ["exchange"]  # the fixture, shared with the node test

pytestmark = pytest.mark.slow


def _venue_order(ex: FakeExchange, client_id: str) -> object | None:
    def find() -> object | None:
        for order in ex.bybit.engine.orders.values():
            if order.client_id == client_id:
                return order
        return None

    return ex.call(find)


def test_kill_cancels_the_resting_order_at_the_venue_and_reports_it(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    config = load_live_config(_yaml(tmp_path, exchange))
    h, live_node = start_live_node(config)
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        url = safety.control.url
        unified = h.strategy(UnifiedExecutionStrategy)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # a passive limit, armed and confirmed, rests on the venue
        _, reply = send(url, TOKEN, {"command": "arm", "ttl_secs": 120, "actor": "alice"})
        assert reply["ok"], reply
        passive = _order("op-rest", "0.010").model_copy(update={"price": Decimal("49000.0")})
        held = h.call(lambda: unified.submit_unified(passive))
        assert held.reason.startswith("AWAITING_CONFIRMATION"), held.reason
        _, st = send(url, TOKEN, {"command": "status"})
        (staged,) = st["status"]["staged"]
        _, ok = send(
            url, TOKEN, {"command": "confirm", "intent_hash": staged["intent_hash"], "actor": "alice"}
        )
        assert ok["ok"], ok
        cid = unified.results["op-rest"].client_order_id
        assert cid is not None
        eventually(lambda: node.cache.order(ClientOrderId(cid)).status is OrderStatus.ACCEPTED, 10)
        venue_order = _venue_order(exchange, cid)
        assert venue_order is not None
        assert venue_order.is_open  # type: ignore[attr-defined]

        # the kill: SAFE mode, and the resting order is cancelled at the venue
        status, killed = send(url, TOKEN, {"command": "kill", "actor": "alice", "reason": "drill"})
        assert status == 200, killed
        assert killed["ok"], killed
        assert killed["cancelled"] == [f"order {cid} {IID}: cancel sent"], killed
        assert killed["not_cancelled"] == []
        eventually(lambda: node.cache.order(ClientOrderId(cid)).status is OrderStatus.CANCELED, 10)
        eventually(lambda: not _venue_order(exchange, cid).is_open, 10)  # type: ignore[union-attr]
        assert unified.results["op-rest"].status is not ExecutionStatus.FILLED
    finally:
        h.stop()
    audit = str(tmp_path / "audit" / "safety")
    events = [r.event for r in iter_records(audit)]
    cancels = [e for e in events if e.get("rule") == "cancel"]
    assert [e["details"]["client_order_id"] for e in cancels] == [cid]
    kills = [e for e in events if e["event_type"] == "COMMAND" and e.get("command") == "KILL"]
    assert any(e["details"].get("cancelled") == 1 for e in kills), kills
