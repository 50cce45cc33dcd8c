"""
Scrape ``/metrics`` from a LIVE node on the fake exchange after an order fills and the gate
denies others: the exporter is fed by the node's own message bus (order events, the safety
layer's events and status, funding and health-factor messages) and its cache.
"""

from __future__ import annotations

import json
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.objects import Quantity
from prometheus_client.parser import text_string_to_metric_families

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.messages import FundingCollected
from nautilus_ext.messages import HealthFactorUpdate
from nautilus_ext.messages import funding_collected_topic
from nautilus_ext.messages import health_factor_topic
from nautilus_ext.operator import METRIC_NAMES
from nautilus_ext.operator import PrometheusMetricsActor
from nautilus_ext.safety.cli import send
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.node_harness import start_live_node
from tests.integration.adapters.ccxt.conftest import Recorder
from tests.integration.live.test_live_safety_node import IID
from tests.integration.live.test_live_safety_node import KEY
from tests.integration.live.test_live_safety_node import TOKEN
from tests.integration.live.test_live_safety_node import _order
from tests.integration.live.test_live_safety_node import _yaml
from tests.integration.live.test_live_safety_node import exchange
from tests.support.prometheus import query
from tests.support.prometheus import running_prometheus
from tests.unit.operator.test_grafana_dashboards import DASHBOARDS
from tests.unit.operator.test_grafana_dashboards import _expressions

__all__ = ["exchange"]  # the fixture

pytestmark = pytest.mark.slow

NAUTILUS_STRATEGY = "UnifiedExecutionStrategy-000"  # order metrics name the Nautilus strategy
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode("utf-8")
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    want = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and want <= ls]
    return sum(found) if found else None


def _metrics_yaml(tmp_path: Path, ex: FakeExchange) -> Path:
    path = _yaml(tmp_path, ex)
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["metrics"] = {"port": 0, "refresh_interval_ms": 100}
    path.write_text(yaml.safe_dump(data))
    return path


def _dashboards_show_data(exporter_url: str) -> None:
    target = exporter_url.removeprefix("http://").removesuffix("/metrics")
    with running_prometheus([target]) as prom:
        # rate() needs two scrapes
        eventually(lambda: query(prom, "rate(nautilus_ext_fills_total[1m])"), 20, message="no two scrapes")
        empty = []
        for path in DASHBOARDS:
            dashboard = json.loads(path.read_text())
            panels: dict[str, int] = {}
            for title, expr in _expressions(dashboard):
                if expr.startswith("label_values("):
                    continue  # Grafana's own function
                found = query(prom, expr.replace("$instance", ".*"))
                panels[title] = panels.get(title, 0) + len(found)
            empty += [f"{path.name}: {t}" for t, n in panels.items() if n == 0]
        assert empty == ["nautilus_ext_execution.json: Killed strategies"], empty


def test_metrics_scraped_from_a_live_node(
    tmp_path: Path, exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    h, live_node = start_live_node(load_live_config(_metrics_yaml(tmp_path, exchange)))
    try:
        safety = live_node.safety
        assert safety is not None
        assert safety.control is not None
        url = safety.control.url
        node = h.node
        assert node is not None
        (exporter,) = [a for a in node.trader.actors() if isinstance(a, PrometheusMetricsActor)]
        assert exporter.url.startswith("http://127.0.0.1:")
        unified = h.strategy(UnifiedExecutionStrategy)
        direct = h.strategy(Recorder)
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not safety.gate.oms.feed_problems(), 10, message="feeds never healthy")

        # a gate denial: not armed
        denied = h.call(lambda: unified.submit_unified(_order("op-unarmed", "0.010")))
        assert denied.status is ExecutionStatus.REJECTED

        # a direct submit_order is DENIED at the chokepoint (an OrderDenied on the bus)
        def submit_direct() -> Any:
            order = direct.order_factory.market(IID, OrderSide.BUY, Quantity.from_str("0.010"))
            direct.submit_order(order)
            return order.client_order_id

        coid = h.call(submit_direct)
        eventually(lambda: node.cache.order(coid).status is OrderStatus.DENIED, 5)

        # an order that fills: armed, staged, confirmed by hash
        assert send(url, TOKEN, {"command": "arm", "ttl_secs": 120, "actor": "alice"})[1]["ok"]
        held = h.call(lambda: unified.submit_unified(_order("op-fill", "0.010")))
        assert held.reason.startswith("AWAITING_CONFIRMATION")
        _, st = send(url, TOKEN, {"command": "status"})
        (staged,) = st["status"]["staged"]
        assert send(
            url, TOKEN, {"command": "confirm", "intent_hash": staged["intent_hash"], "actor": "alice"}
        )[1]["ok"]
        eventually(lambda: unified.results["op-fill"].filled_quantity == Decimal("0.010"), 10)

        # messages other components publish: a funding payment and a lending health factor
        def publish() -> None:
            node.kernel.msgbus.publish(
                funding_collected_topic("BYBIT"),
                FundingCollected("BYBIT", KEY, Decimal("1.25"), "USDT", 1, "S-LIVE"),
            )
            node.kernel.msgbus.publish(
                health_factor_topic("0xabc"), HealthFactorUpdate("0xabc", "AAVE_V3", Decimal("1.8"), 1)
            )

        h.call(publish)

        last: list[Samples] = []

        def scraped() -> bool:
            last[:] = [_scrape(exporter.url)]
            return (
                _value(last[0], "nautilus_ext_fills_total", venue="BYBIT") == 1
                and _value(last[0], "nautilus_ext_position", instrument=str(IID)) == pytest.approx(0.01)
                and _value(last[0], "nautilus_ext_armed") == 1
                and _value(last[0], "nautilus_ext_gate_position", asset=KEY) == pytest.approx(0.01)
                and _value(last[0], "nautilus_ext_health_factor", account="0xabc", protocol="AAVE_V3") == 1.8
            )

        eventually(scraped, 10, message=lambda: f"the exporter never showed the fill: {last}")
        (samples,) = last
        assert {name for name, _ in samples} <= METRIC_NAMES
        assert (
            _value(samples, "nautilus_ext_orders_submitted_total", venue="BYBIT", strategy=NAUTILUS_STRATEGY)
            == 1
        )
        assert _value(samples, "nautilus_ext_orders_accepted_total", venue="BYBIT") == 1
        assert (
            _value(samples, "nautilus_ext_fills_total", venue="BYBIT", strategy=NAUTILUS_STRATEGY, side="BUY")
            == 1
        )
        assert _value(samples, "nautilus_ext_filled_quantity_total", venue="BYBIT") == pytest.approx(0.01)
        for stage in ("request", "ack", "fill"):
            name = f"nautilus_ext_order_{stage}_latency_seconds_count"
            assert _value(samples, name, venue="BYBIT") == 1, stage
        # the unarmed order and the direct order, denied by rule and code
        assert _value(samples, "nautilus_ext_gate_denials_total", code="RISK_BLOCKED", rule="not_armed") == 1
        assert _value(samples, "nautilus_ext_order_rejects_total", venue="BYBIT", source="node") == 1
        assert _value(samples, "nautilus_ext_gate_decisions_total", action="ALLOW") == 1
        assert _value(samples, "nautilus_ext_operator_commands_total", command="ARM", outcome="ACCEPTED") == 1
        assert _value(samples, "nautilus_ext_safe_mode") == 0
        md = _value(samples, "nautilus_ext_feed_staleness_seconds", kind="market_data", feed=KEY)
        assert md is not None
        assert 0 <= md < 5
        assert (
            _value(samples, "nautilus_ext_feed_staleness_seconds", kind="websocket", feed="BYBIT") is not None
        )
        assert _value(samples, "nautilus_ext_gate_position", asset=KEY) == pytest.approx(0.01)
        assert (
            _value(samples, "nautilus_ext_strategy_pnl", strategy=NAUTILUS_STRATEGY, kind="unrealized")
            is not None
        )
        assert (_value(samples, "nautilus_ext_account_balance", venue="BYBIT", kind="total") or 0) > 0
        assert _value(samples, "nautilus_ext_margin_ratio", venue="BYBIT") is not None
        assert _value(samples, "nautilus_ext_funding_collected", venue="BYBIT", currency="USDT") == 1.25
        assert _value(samples, "nautilus_ext_health_factor", account="0xabc", protocol="AAVE_V3") == 1.8

        # the provisioned dashboards against a real Prometheus scraping this node: every query
        # evaluates, and every panel but the killed-strategies list (none yet) shows data
        _dashboards_show_data(exporter.url)

        # a kill shows as SAFE mode within a safety tick
        assert send(url, TOKEN, {"command": "kill", "actor": "alice", "reason": "drill"})[1]["ok"]
        eventually(lambda: _value(_scrape(exporter.url), "nautilus_ext_safe_mode") == 1, 5)
        samples = _scrape(exporter.url)
        assert _value(samples, "nautilus_ext_safe_mode_entries_total", rule="kill_switch") == 1
        assert (_value(samples, "nautilus_ext_recovery_problems") or 0) >= 1
        assert _value(samples, "nautilus_ext_armed") == 0
    finally:
        h.stop()
