"""
The unified Order's smart execution on ES through Interactive Brokers: TWAP, VWAP, POV and IS
parents in LIVE (children pass the gate under the parent's confirmation and fill at the IB
Gateway stand-in)
and in DRY_RUN (live IB market data, simulated fills: nothing reaches the gateway).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.interactive_brokers.contracts import from_ib_contract
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.live.node import build_live_node
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_ib import FakeIBGateway
from nautilus_ext_testkit.fake_ib.contracts import front_month
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.interactive_brokers.conftest import ES
from tests.integration.adapters.interactive_brokers.conftest import live_yaml

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("globex_hours_ignored")]
ESZ4 = InstrumentId.from_str("ESZ4.XCME")
TOKEN = "t" * 40


def _algo_order(op: str, amount: str, algorithm: str, params: dict[str, str]) -> Order:
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=ES,
        venue="CME",
        side="BUY",
        amount=Decimal(amount),
        smart_execution_enabled=True,
        metadata={"algorithm": algorithm, "algo_params": params},
        strategy_id="S-IB-ALGO",
    )


def _start(path: Path, iid: InstrumentId = ESZ4) -> tuple[NodeHarness, list[LiveNode]]:
    config = load_live_config(path)
    parts: list[LiveNode] = []

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        live = build_live_node(config, loop)
        parts.append(live)
        return live.node

    h = NodeHarness(factory)
    h.start()
    node = h.node
    assert node is not None
    eventually(
        lambda: node.is_running() and node.cache.instrument(iid) is not None and node.cache.quote_tick(iid),
        30,
        message="IB node did not load and quote ES",
    )
    return h, parts


ALGOS = {
    "TWAP": {"horizon_secs": "3", "interval_secs": "1"},
    "VWAP": {"horizon_secs": "3"},  # 1 s buckets: the node's VWAP config (below)
    "IS": {"horizon_secs": "3", "interval_secs": "1"},
    # each fill leaves ES dirty until IB's position snapshot (polled every 2 s) confirms it:
    # POV gets the time to see its fills confirmed before the sweep
    "POV": {"participation": "1", "interval_secs": "1", "max_duration_secs": "8", "final_policy": "SWEEP"},
}


@pytest.mark.parametrize("algorithm", sorted(ALGOS))
def test_live_smart_order_on_es_slices_through_the_gate_to_ib(
    tmp_path: Path, ib_env: FakeIBGateway, monkeypatch: pytest.MonkeyPatch, algorithm: str
) -> None:
    fake = ib_env
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    overrides = {"exec_algorithms": {"overrides": {"VWAP": {"bucket_secs": 1}}}}
    h, parts = _start(live_yaml(tmp_path, fake, client_id=31, extra=overrides))
    try:
        safety = parts[0].safety
        assert safety is not None
        assert safety.control is not None
        url = safety.control.url
        unified = h.strategy(UnifiedExecutionStrategy)
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
        _, armed = send(url, TOKEN, {"command": "arm", "ttl_secs": 300, "actor": "alice"})
        assert armed["ok"], armed
        twap = _algo_order("ib-twap", "4", algorithm, ALGOS[algorithm])
        held = h.call(lambda: unified.submit_unified(twap))
        assert held.reason.startswith("AWAITING_CONFIRMATION"), held.reason
        assert fake.requests_of(3) == []
        _, st = send(url, TOKEN, {"command": "status"})
        digest = next(i["intent_hash"] for i in st["status"]["staged"] if i["operation_id"] == "ib-twap")
        _, ok = send(url, TOKEN, {"command": "confirm", "intent_hash": digest, "actor": "alice"})
        assert ok["ok"], ok
        eventually(
            lambda: unified.results["ib-twap"].filled_quantity == Decimal(4), 20, message="TWAP unfilled"
        )
        result = unified.results["ib-twap"]
        assert result.algorithm_used == algorithm
        # sliced: several child orders reached IB, each passed the chokepoint, none oversized
        children = fake.requests_of(3)
        assert len(children) >= 2
        assert sum(Decimal(f[17]) for f in children) == Decimal(4)
        assert sum(f.shares for f in fake.fills) == Decimal(4)
        assert safety.chokepoint.forwarded >= len(children)
    finally:
        h.stop()


@pytest.mark.parametrize("algorithm", sorted(ALGOS))
def test_dry_run_smart_order_on_es_uses_ib_data_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, algorithm: str
) -> None:
    # the simulated venue checks expiry against the real clock: trade the real front month
    today = dt.date.today()
    front = front_month("ES", today + dt.timedelta(days=7))
    fake = FakeIBGateway(today=today).start()
    try:
        fake.set_quote(front.local_symbol, 5000.00, 5000.25, last=5000.00)
        fake.stream_quotes(0.5)  # the gate wants a live feed (WS_STALE after 5 s of silence)
        monkeypatch.setenv("TWS_ACCOUNT", fake.account)
        key = from_ib_contract("FUT", "ES", "CME", front.last_trade_date, "ES")
        iid = InstrumentId.from_str(f"{front.local_symbol}.XCME")
        overrides = {"exec_algorithms": {"overrides": {"VWAP": {"bucket_secs": 1}}}}
        path = live_yaml(tmp_path, fake, client_id=32, extra=overrides)
        data = yaml.safe_load(path.read_text())
        data.update(
            mode="DRY_RUN",
            trader_id="DRYRUN-003",
            allow_live_orders=False,
            dry_run={"starting_balances": ["1000000 USD"], "instruments_timeout_secs": 20},
        )
        data["venues"][0]["interactive_brokers"]["instrument_keys"] = [str(key)]
        data["strategies"][0]["config"]["instrument_ids"] = [str(iid)]
        data["safety"]["control_port"] = None
        path.write_text(yaml.safe_dump(data))
        h, parts = _start(path, iid)
        try:
            safety = parts[0].safety
            assert safety is not None
            eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")
            unified = h.strategy(UnifiedExecutionStrategy)
            order = _algo_order("dry-algo", "4", algorithm, ALGOS[algorithm])
            smart = order.model_copy(update={"instrument_key": key})
            h.call(lambda: unified.submit_unified(smart))
            eventually(
                lambda: unified.results["dry-algo"].filled_quantity == Decimal(4),
                30,
                message=lambda: f"{algorithm} unfilled: {unified.results.get('dry-algo')}",
            )
            assert unified.results["dry-algo"].algorithm_used == algorithm
            assert fake.requests_of(3) == []  # simulated: no placeOrder reached IB
            assert fake.fills == []
        finally:
            h.stop()
    finally:
        fake.stop()
