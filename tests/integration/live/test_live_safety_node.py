"""
LIVE end to end through the safety layer: a real TradingNode built from YAML, the ccxt adapter
on the fake exchange, the control endpoint driven over HTTP like ``nautilus-ext arm/confirm``.

Nothing reaches the venue without an arm and a confirmation of the exact intent hash; a
strategy calling ``submit_order`` itself is DENIED at the chokepoint; exec algorithms are
registered on the node; every command lands in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity

from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node
from tests.integration.adapters.ccxt.conftest import Recorder

pytestmark = pytest.mark.slow
IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
TOKEN = "t" * 40
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(
        lambda: ex.bybit.engine.seed_book(
            "BTCUSDT",
            bids=[(Decimal("49999.9"), Decimal(2))],
            asks=[(Decimal("50000.1"), Decimal(2))],
        )
    )
    yield ex
    ex.stop_thread()


def _yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    data: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "trader_id": "LIVE-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": [str(IID)],
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": 3000,
                "fill_poll_interval_ms": 500,
                "position_poll_interval_ms": 300,
            }
        ],
        "strategies": [
            {
                "strategy_path": "nautilus_ext.execution.strategy:UnifiedExecutionStrategy",
                "config_path": "nautilus_ext.execution.strategy:UnifiedExecutionConfig",
                "config": {"instrument_ids": [str(IID)], "book_data": True, "quote_data": True},
            },
            {
                "strategy_path": "tests.integration.adapters.ccxt.conftest:Recorder",
                "config_path": "tests.integration.adapters.ccxt.conftest:RecorderConfig",
                "config": {"instrument_id": str(IID), "subscribe": False},
            },
        ],
        "safety": {"config_path": str(REPO / "configs" / "safety" / "default.yaml"), "control_port": 0},
        "audit": {"root": str(tmp_path / "audit"), "fsync": False},
        "timeout_connection_secs": 20,
    }
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _order(op: str, amount: str) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=KEY,
        venue="BYBIT",
        side="BUY",
        amount=Decimal(amount),
        strategy_id="S-LIVE",
    )


def test_live_node_releases_only_confirmed_intents(
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
        direct = h.strategy(Recorder)
        assert unified.safety_gate is safety.gate
        node = h.node
        assert node is not None
        # every project algorithm is registered on the live node
        assert {"TWAP", "POV", "VWAP", "IS"} <= {a.id.value for a in node.trader.exec_algorithms()}
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # 1. not armed: a unified order is refused, a direct submit_order is DENIED
        result = h.call(lambda: unified.submit_unified(_order("op-1", "0.010")))
        assert result.status is ExecutionStatus.REJECTED
        assert result.reason.startswith("RISK_BLOCKED"), result.reason
        assert "not armed" in result.reason

        def submit_direct() -> Any:
            order = direct.order_factory.market(IID, OrderSide.BUY, Quantity.from_str("0.010"))
            direct.submit_order(order)
            return order.client_order_id

        coid = h.call(submit_direct)
        eventually(lambda: node.cache.order(coid).status is OrderStatus.DENIED, 5)

        # 2. armed over the control endpoint: the order is staged, its hash shown, nothing sent
        status, reply = send(url, TOKEN, {"command": "arm", "ttl_secs": 120, "actor": "alice"})
        assert status == 200, reply
        assert reply["ok"], reply
        result = h.call(lambda: unified.submit_unified(_order("op-2", "0.010")))
        assert result.reason.startswith("AWAITING_CONFIRMATION"), result.reason
        _, st = send(url, TOKEN, {"command": "status"})
        (staged,) = st["status"]["staged"]
        assert staged["operation_id"] == "op-2"
        assert staged["amount"] == "0.010"
        digest = staged["intent_hash"]
        # a wrong hash releases nothing
        _, wrong = send(url, TOKEN, {"command": "confirm", "intent_hash": "0" * 64, "actor": "alice"})
        assert not wrong["ok"]
        assert exchange.received_orders == []

        # 3. the exact hash releases exactly that order, which fills on the venue
        _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
        assert ok["ok"], ok
        eventually(lambda: unified.results["op-2"].filled_quantity == Decimal("0.010"), 10)
        assert [r.client_id for r in exchange.received_orders] == [unified.results["op-2"].client_order_id]
        # the fill made the asset dirty; the venue's own position snapshot confirms it
        eventually(lambda: safety.gate.oms.dirty_since(KEY) is None, 10, message="never confirmed")
        assert safety.gate.oms.position(KEY) == Decimal("0.010")

        # 4. the confirmation was spent: the same order again needs a new one
        again = h.call(lambda: unified.submit_unified(_order("op-3", "0.010")))
        assert again.reason.startswith("AWAITING_CONFIRMATION")
        assert len(exchange.received_orders) == 1

        # 5. an execution algorithm runs unchanged in the live node: a confirmed TWAP parent's
        # children pass the chokepoint (covered by the parent's confirmation) and fill
        twap = _order("op-twap", "0.020").model_copy(
            update={
                "smart_execution_enabled": True,
                "metadata": {"algorithm": "TWAP", "algo_params": {"horizon_secs": "2", "interval_secs": "1"}},
            }
        )
        held = h.call(lambda: unified.submit_unified(twap))
        assert held.reason.startswith("AWAITING_CONFIRMATION"), held.reason
        _, st = send(url, TOKEN, {"command": "status"})
        twap_hash = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == "op-twap")
        _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": twap_hash, "actor": "alice"})
        assert ok["ok"], ok
        eventually(lambda: unified.results["op-twap"].filled_quantity == Decimal("0.020"), 15)
        assert unified.results["op-twap"].algorithm_used == "TWAP"
        assert len(exchange.received_orders) >= 3  # op-2 plus at least two TWAP children
        assert safety.chokepoint.forwarded >= 3

        # 6. kill: SAFE mode, the RiskEngine mirrors it, the arm is gone
        _, killed = send(url, TOKEN, {"command": "kill", "actor": "alice", "reason": "drill"})
        assert killed["ok"]
        eventually(lambda: node.kernel.risk_engine.trading_state.name == "REDUCING", 5)
        _, st = send(url, TOKEN, {"command": "status"})
        assert st["status"]["safe"] is not None
        assert not st["status"]["armed"]
    finally:
        h.stop()
    audit = str(tmp_path / "audit" / "safety")
    assert verify_log(audit).ok
    assert verify_log(str(tmp_path / "audit" / "strategies" / "0")).ok
    commands = [r.event.get("command") for r in iter_records(audit) if r.event["event_type"] == "COMMAND"]
    assert {"ARM", "CONFIRM", "KILL"} <= set(commands)
