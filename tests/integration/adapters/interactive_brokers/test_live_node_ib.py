"""
LIVE on CME futures through Interactive Brokers, end to end against the IB Gateway stand-in:
a real TradingNode built from ``configs/live/ib_cme.yaml``, NautilusTrader's own IB clients
(``nautilus_ibapi`` over the TWS API socket), the safety gate and its control endpoint.

The node connects, loads ES (ESZ4) and an ES option (ESZ4 C5000) from contract details and
subscribes; unarmed, an order is refused and nothing reaches the gateway; armed and confirmed,
a market order fills, a limit order rests and is cancelled, an oversize order is rejected by IB
(201), an order fills partially then completely, a 1100/1102 connectivity outage with a fill
inside it delivers that fill exactly once; a second node restarted on the same account
reconciles the position.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.audit import verify_log
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_ib import FakeIBGateway
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.interactive_brokers.conftest import ES
from tests.integration.adapters.interactive_brokers.conftest import live_yaml

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("globex_hours_ignored")]
ESZ4 = InstrumentId.from_str("ESZ4.XCME")
ESZ4_C5000 = InstrumentId.from_str("ESZ4 C5000.XCME")
TOKEN = "t" * 40


def _order(op: str, side: str, amount: str, price: str | None = None, **extra: Any) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=ES,
        venue="CME",
        side=side,
        amount=Decimal(amount),
        price=None if price is None else Decimal(price),
        strategy_id="S-IB",
        **extra,
    )


def _confirm(url: str, operation_id: str) -> None:
    _, st = send(url, TOKEN, {"command": "status"})
    digest = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == operation_id)
    _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
    assert ok["ok"], ok


class _Node:
    """A started LIVE node against the stand-in, with its unified strategy and control URL."""

    def __init__(self, tmp_path: Path, fake: FakeIBGateway, client_id: int) -> None:
        config = load_live_config(live_yaml(tmp_path, fake, client_id=client_id))
        parts: list[LiveNode] = []

        def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
            live = build_live_node(config, loop)
            parts.append(live)
            return live.node

        self.h = NodeHarness(factory)
        self.h.start()
        node = self.h.node
        assert node is not None
        self.node = node
        eventually(
            lambda: node.is_running() and node.cache.instrument(ESZ4) is not None and node.cache.accounts(),
            30,
            message="IB node did not connect and load ES",
        )
        safety = parts[0].safety
        assert safety is not None
        assert safety.control is not None
        self.safety = safety
        self.url = safety.control.url
        self.unified = self.h.strategy(UnifiedExecutionStrategy)

    def submit(self, order: Order) -> Any:
        return self.h.call(lambda: self.unified.submit_unified(order))

    def settled(self) -> None:
        """Wait until IB's position snapshot confirms the fills (the gate's dirty flag clears)."""
        eventually(lambda: self.safety.gate.oms.dirty_since(ES) is None, 15, message="fill never confirmed")

    def order(self, op: str) -> Any:
        return self.node.cache.order(ClientOrderId(self.unified.results[op].client_order_id))

    def release(self, order: Order) -> Any:
        staged = self.submit(order)
        assert staged.reason.startswith("AWAITING_CONFIRMATION"), staged.reason
        _confirm(self.url, order.operation_id)
        eventually(lambda: self.unified.results[order.operation_id].client_order_id, 5)
        return self.order(order.operation_id)


def test_live_ib_node_trades_es_through_the_gate(
    tmp_path: Path, ib_env: FakeIBGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = ib_env
    fake.max_order_quantity = Decimal(5)
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    n = _Node(tmp_path, fake, client_id=11)
    try:
        node, unified = n.node, n.unified
        # loaded from contract details: ES with IB's multiplier and last trade date, the option too
        es = node.cache.instrument(ESZ4)
        assert es.multiplier == 50
        assert es.expiration_utc.date().isoformat() == "2024-12-20"
        call = node.cache.instrument(ESZ4_C5000)
        assert call is not None
        assert str(call.strike_price) == "5000.00"
        # subscribed through the gateway: quotes flow into the cache
        eventually(
            lambda: node.cache.quote_tick(ESZ4) is not None,
            10,
            message=lambda: f"no ES quote: {fake.requests}",
        )
        assert str(node.cache.quote_tick(ESZ4).ask_price) == "5000.25"
        eventually(lambda: not n.safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # 1. not armed: refused, nothing reaches IB
        refused = n.submit(_order("ib-0", "BUY", "1"))
        assert refused.status is ExecutionStatus.REJECTED
        assert "not armed" in refused.reason
        assert fake.requests_of(3) == []  # no placeOrder

        _, armed = send(n.url, TOKEN, {"command": "arm", "ttl_secs": 300, "actor": "alice"})
        assert armed["ok"], armed

        # 2. a market order: staged, released by its hash, filled at the ask
        n.release(_order("ib-mkt", "BUY", "2"))
        eventually(lambda: unified.results["ib-mkt"].filled_quantity == Decimal(2), 10)
        assert n.order("ib-mkt").status is OrderStatus.FILLED
        assert [(f.shares, f.price) for f in fake.fills] == [(Decimal(2), 5000.25)]
        n.settled()

        # 3. a limit order below the bid rests; its cancel reaches IB
        n.release(_order("ib-lmt", "BUY", "1", "4990"))
        eventually(lambda: n.order("ib-lmt").status is OrderStatus.ACCEPTED, 10)
        h_order = n.order("ib-lmt")
        n.h.call(lambda: unified.cancel_order(h_order))
        eventually(lambda: n.order("ib-lmt").status is OrderStatus.CANCELED, 10)
        assert [o.status for o in fake.orders.values() if o.lmt_price == 4990.0] == ["Cancelled"]

        # 4. IB rejects an order above its size limit (error 201): REJECTED, no fill
        n.release(_order("ib-big", "BUY", "8"))
        eventually(lambda: n.order("ib-big").status is OrderStatus.REJECTED, 10)
        assert (
            "201" in n.order("ib-big").events[-1].reason
            or "rejected" in n.order("ib-big").events[-1].reason.lower()
        )

        # 5. partial fill, then the rest on a later trade
        fake.partial_fill_quantity = Decimal(1)
        n.release(_order("ib-part", "BUY", "3", "5000.25"))
        eventually(lambda: n.order("ib-part").status is OrderStatus.PARTIALLY_FILLED, 10)
        assert n.order("ib-part").filled_qty == 1
        fake.partial_fill_quantity = None
        fake.trade("ESZ4", 5000.25)
        eventually(lambda: n.order("ib-part").status is OrderStatus.FILLED, 10)
        eventually(lambda: unified.results["ib-part"].filled_quantity == Decimal(3), 10)
        n.settled()

        # 6. connectivity lost (1100) with a fill inside the outage, restored (1102): the fill
        # arrives exactly once, whether the client kept its socket or reconnected
        n.release(_order("ib-out", "BUY", "1", "4999"))
        eventually(lambda: n.order("ib-out").status is OrderStatus.ACCEPTED, 10)
        fake.connectivity_lost()
        fake.trade("ESZ4", 4999.0)
        time.sleep(1.5)
        fake.connectivity_restored()
        eventually(lambda: n.order("ib-out").status is OrderStatus.FILLED, 30, message="outage fill lost")
        time.sleep(2)
        out = n.order("ib-out")
        assert out.filled_qty == 1
        assert len([e for e in out.events if type(e).__name__ == "OrderFilled"]) == 1

        # the venue's view and the node's agree: 2 + 3 + 1 long
        position = node.portfolio.net_position(ESZ4)
        assert position == 6
        assert fake.positions[fake.contract("ESZ4").con_id][0] == Decimal(6)
        fills_before_restart = len(fake.fills)
    finally:
        n.h.stop()
    assert verify_log(str(tmp_path / "audit" / "safety")).ok

    # 7. a restart (another client id, the same account): reconciliation finds the position
    restart = tmp_path / "restart"
    restart.mkdir()
    m = _Node(restart, fake, client_id=12)
    try:
        eventually(lambda: m.node.portfolio.net_position(ESZ4) == 6, 20, message="position not reconciled")
        assert len(fake.fills) == fills_before_restart  # nothing re-traded
    finally:
        m.h.stop()
