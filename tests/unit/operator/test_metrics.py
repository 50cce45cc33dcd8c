"""NodeMetrics' update rules and the /metrics server, without a node."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

import nautilus_ext.operator as operator
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import MetricsSection
from nautilus_ext.operator import METRIC_NAMES
from nautilus_ext.operator import MetricsServer
from nautilus_ext.operator import NodeMetrics
from nautilus_ext.operator import PrometheusMetricsConfig
from nautilus_ext.operator.metrics import reason_code
from nautilus_ext.safety.events import SafetyEvent


def _value(metrics: NodeMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_public_api_is_pinned() -> None:
    assert sorted(operator.__all__) == [
        "METRIC_NAMES",
        "MetricsServer",
        "NodeMetrics",
        "PrometheusMetricsActor",
        "PrometheusMetricsConfig",
    ]


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("RISK_BLOCKED: not armed", "RISK_BLOCKED"),
        ("list refused: SAFE_MODE: kill", "SAFE_MODE"),
        ("INSUFFICIENT_BALANCE: margin", "INSUFFICIENT_BALANCE"),
        ("NOT_A_CODE: x", "OTHER"),
        ("retCode 110007", "OTHER"),
        ("", "OTHER"),
        (None, "OTHER"),
    ],
)
def test_reason_code_takes_only_taxonomy_codes(reason: str | None, code: str) -> None:
    assert reason_code(reason, "OTHER") == code


def test_gate_events_count_denials_by_rule_and_commands() -> None:
    m = NodeMetrics()
    deny = SafetyEvent(
        ts_ns=1,
        risk_action=RiskAction.BLOCK,
        rule="not_armed",
        code="RISK_BLOCKED",
        details={"operation_id": "op-1"},
    )
    m.on_safety_event(deny)
    m.on_safety_event(deny)
    m.on_safety_event(
        SafetyEvent(ts_ns=1, risk_action=RiskAction.ALLOW, rule="gate", details={"operation_id": "o"})
    )
    # a latency breach is a state change, not a decision on an order
    m.on_safety_event(SafetyEvent(ts_ns=1, risk_action=RiskAction.BLOCK, rule="latency_breach"))
    m.on_safety_event(
        SafetyEvent(ts_ns=1, safeguard=SafeguardKind.SAFE_MODE_ENTER, rule="kill_switch", code="SAFE_MODE")
    )
    m.on_safety_event(
        SafetyEvent(
            ts_ns=1,
            safeguard=SafeguardKind.SAFE_MODE_ENTER,
            rule="x",
            code="SAFE_MODE",
            message="(already SAFE) y",
        )
    )
    m.on_safety_event(
        SafetyEvent(ts_ns=1, command=CommandKind.RESUME, outcome=CommandOutcome.REJECTED, actor="alice")
    )
    assert _value(m, "nautilus_ext_gate_denials_total", code="RISK_BLOCKED", rule="not_armed") == 2
    assert _value(m, "nautilus_ext_gate_decisions_total", action="BLOCK") == 2
    assert _value(m, "nautilus_ext_gate_decisions_total", action="ALLOW") == 1
    assert _value(m, "nautilus_ext_safe_mode_entries_total", code="SAFE_MODE", rule="kill_switch") == 1
    assert _value(m, "nautilus_ext_safe_mode_entries_total", code="SAFE_MODE", rule="x") is None
    assert _value(m, "nautilus_ext_operator_commands_total", command="RESUME", outcome="REJECTED") == 1


def test_status_gauges_go_to_zero_when_things_clear() -> None:
    m = NodeMetrics()
    m.on_status(
        {
            "safe": {"code": "SAFE_MODE"},
            "armed": False,
            "arm_expires_at_ns": None,
            "recovery_problems": ["a", "b"],
            "staged": [{}],
            "killed_strategies": ["S-1"],
            "feed_age_ms": {"md:BYBIT:PERPETUAL:BTC-USDT@LIN": 1500, "ws:BYBIT": 200},
            "positions": {"K": "0.5"},
            "dirty": ["K"],
        }
    )
    assert _value(m, "nautilus_ext_safe_mode") == 1
    assert _value(m, "nautilus_ext_recovery_problems") == 2
    assert _value(m, "nautilus_ext_strategy_killed", strategy="S-1") == 1
    md = {"kind": "market_data", "feed": "BYBIT:PERPETUAL:BTC-USDT@LIN"}
    assert _value(m, "nautilus_ext_feed_staleness_seconds", **md) == 1.5
    assert _value(m, "nautilus_ext_feed_staleness_seconds", kind="websocket", feed="BYBIT") == 0.2
    assert _value(m, "nautilus_ext_position_dirty", asset="K") == 1
    m.on_status({"armed": True, "arm_expires_at_ns": 2_000_000_000, "positions": {"K": "0"}})
    assert _value(m, "nautilus_ext_safe_mode") == 0
    assert _value(m, "nautilus_ext_armed") == 1
    assert _value(m, "nautilus_ext_arm_expires_timestamp_seconds") == 2
    assert _value(m, "nautilus_ext_strategy_killed", strategy="S-1") == 0
    assert _value(m, "nautilus_ext_position_dirty", asset="K") == 0
    assert _value(m, "nautilus_ext_gate_position", asset="K") == 0
    m.set_positions({("BYBIT", "X"): Decimal("2")})
    m.set_positions({})
    assert _value(m, "nautilus_ext_position", venue="BYBIT", instrument="X") == 0


def test_order_latencies_and_rejects() -> None:
    m = NodeMetrics()
    m.on_submitted("BYBIT", "S", 2_000_000)
    m.on_accepted("BYBIT", "S", 30_000_000)
    m.on_fill("BYBIT", "S", "X", "BUY", Decimal("0.5"), 40_000_000)
    m.on_rejected("BYBIT", "INSUFFICIENT_BALANCE: no margin", 10_000_000)
    m.on_rejected("BYBIT", "venue said no", None)
    m.on_denied("BYBIT", "SAFE_MODE: killed")
    assert _value(m, "nautilus_ext_order_request_latency_seconds_sum", venue="BYBIT") == pytest.approx(0.002)
    assert _value(m, "nautilus_ext_order_ack_latency_seconds_count", venue="BYBIT") == 2
    assert _value(m, "nautilus_ext_order_fill_latency_seconds_bucket", venue="BYBIT", le="0.05") == 1
    assert _value(m, "nautilus_ext_order_fill_latency_seconds_bucket", venue="BYBIT", le="0.025") == 0
    assert _value(m, "nautilus_ext_filled_quantity_total", venue="BYBIT", instrument="X", side="BUY") == 0.5
    rejects = "nautilus_ext_order_rejects_total"
    assert _value(m, rejects, venue="BYBIT", source="venue", code="INSUFFICIENT_BALANCE") == 1
    assert _value(m, rejects, venue="BYBIT", source="venue", code="ORDER_REJECTED") == 1
    assert _value(m, rejects, venue="BYBIT", source="node", code="SAFE_MODE") == 1


def test_metric_names_are_what_the_registry_exposes() -> None:
    m = NodeMetrics()
    m.on_submitted("V", "S", 1)
    m.on_status({"feed_age_ms": {"md:A": 1}})
    exposed = {s.name for f in m.registry.collect() for s in f.samples}
    assert exposed <= METRIC_NAMES
    assert "nautilus_ext_orders_submitted_total" in METRIC_NAMES
    assert "nautilus_ext_orders_submitted" not in METRIC_NAMES  # a counter's samples end in _total
    assert all(n.startswith("nautilus_ext_") for n in METRIC_NAMES)


def test_server_serves_metrics_on_loopback_only() -> None:
    m = NodeMetrics()
    m.on_submitted("BYBIT", "S", None)
    with pytest.raises(InvalidConfig, match="loopback"):
        MetricsServer(m.registry, "0.0.0.0", 0)
    server = MetricsServer(m.registry, "127.0.0.1", 0)
    server.start()
    try:
        with urllib.request.urlopen(server.url, timeout=5) as response:
            text = response.read().decode()
        families = {f.name for f in text_string_to_metric_families(text)}
        assert "nautilus_ext_orders_submitted" in families
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.url.replace("/metrics", "/admin"), timeout=5)
        assert e.value.code == 404
        e.value.close()
        with pytest.raises(InvalidConfig, match="cannot listen"):
            MetricsServer(m.registry, "127.0.0.1", server.port)
    finally:
        server.stop()
    with socket.socket() as probe:  # the port is released (no listener left on it)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", server.port))
        probe.listen()


def test_configs_refuse_what_they_cannot_do() -> None:
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        PrometheusMetricsConfig(port=70_000)
    with pytest.raises(ValueError, match="refresh_interval_ms"):
        PrometheusMetricsConfig(refresh_interval_ms=0)
    with pytest.raises(ValidationError, match="loopback"):
        MetricsSection(host="0.0.0.0")
    assert MetricsSection(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert MetricsSection().host == "127.0.0.1"
