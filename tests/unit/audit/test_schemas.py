"""Event schemas: every type validates, round-trips through JSON, and each rule can fail."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

import nautilus_ext.audit as audit
from nautilus_ext.audit import CommandKind
from nautilus_ext.audit import EventType
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import parse_event
from nautilus_ext.audit.schemas import dump_event
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import RequestError


@pytest.mark.parametrize(
    ("builder", "event_type"),
    [
        ("decision", EventType.DECISION),
        ("intent", EventType.INTENT),
        ("order", EventType.ORDER),
        ("fill", EventType.FILL),
        ("command", EventType.COMMAND),
        ("risk", EventType.RISK),
        ("safeguard", EventType.SAFEGUARD),
    ],
)
def test_each_event_round_trips_through_json(events: Any, builder: str, event_type: EventType) -> None:
    event = getattr(events, builder)()
    data = json.loads(json.dumps(dump_event(event)))
    assert data["event_type"] == event_type
    assert data["schema_version"] == 1
    assert {"mode", "ts_event", "ts_wall", "strategy_id", "version_hash", "config_hash"} <= set(data)
    assert parse_event(data) == event


def test_decimals_are_serialized_as_strings(events: Any) -> None:
    data = dump_event(events.fill(qty=Decimal("0.000001"), price=Decimal("42000.12345678")))
    assert data["qty"] == "0.000001"
    assert data["price"] == "42000.12345678"
    assert data["fees"] == "0.5"


def test_float_quantities_are_refused(events: Any) -> None:
    with pytest.raises(ValidationError, match="floats are not accepted"):
        events.fill(qty=1.5)


def test_unknown_fields_are_refused(events: Any) -> None:
    data = dump_event(events.intent())
    data["leverage"] = "10"
    with pytest.raises(InvalidAuditRecord) as info:
        parse_event(data)
    assert "leverage" in info.value.message
    assert info.value.code is ErrorCode.INVALID_CONFIG
    assert isinstance(info.value, RequestError)


def test_limit_order_requires_limit_price(events: Any) -> None:
    with pytest.raises(ValidationError, match="requires limit_price"):
        events.intent(limit_price=None)


def test_market_order_must_not_carry_limit_price(events: Any) -> None:
    with pytest.raises(ValidationError, match="must not carry limit_price"):
        events.order(order_type=OrderType.MARKET)


def test_confirm_requires_intent_hash(events: Any) -> None:
    with pytest.raises(ValidationError, match="intent_hash"):
        events.command(command=CommandKind.CONFIRM)
    assert events.command(command=CommandKind.CONFIRM, intent_hash="e" * 64).intent_hash


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("qty", "0"),
        ("qty", "-1"),
        ("qty", "NaN"),
        ("ts_event", -1),
        ("version_hash", "NOT-HEX"),
        ("mode", "PAPER"),
        ("id", ""),
    ],
)
def test_invalid_values_are_named(events: Any, field: str, value: Any) -> None:
    data = dump_event(events.fill())
    data[field] = value
    with pytest.raises(InvalidAuditRecord) as info:
        parse_event(data)
    assert any(problem.startswith(f"FILL.{field}") for problem in info.value.details["errors"])


def test_unknown_event_type_is_refused(events: Any) -> None:
    data = dump_event(events.fill())
    data["event_type"] = "TRADE"
    with pytest.raises(InvalidAuditRecord, match=r"event_type|tag"):
        parse_event(data)


def test_validation_errors_do_not_echo_input_values(events: Any) -> None:
    data = dump_event(events.fill())
    data["price"] = "sk-live-SECRET-VALUE-123"
    with pytest.raises(InvalidAuditRecord) as info:
        parse_event(data)
    assert "SECRET-VALUE" not in str(info.value)
    assert "SECRET-VALUE" not in repr(info.value.__cause__)


def test_public_api_is_pinned() -> None:
    assert sorted(audit.__all__) == sorted(
        [
            "GENESIS_HASH",
            "REDACTED",
            "SCHEMA_VERSION",
            "AlertKind",
            "AuditAlert",
            "AuditBackpressure",
            "AuditContext",
            "AuditEvent",
            "AuditIntegrityError",
            "AuditRecord",
            "AuditStats",
            "AuditStorageError",
            "AuditStore",
            "AuditStoreConfig",
            "BackpressurePolicy",
            "BreakKind",
            "BrokenLink",
            "Clock",
            "CommandEvent",
            "CommandKind",
            "CommandOutcome",
            "DecisionEvent",
            "EventType",
            "FillEvent",
            "IntentEvent",
            "InvalidAuditRecord",
            "Lineage",
            "Mode",
            "OrderEvent",
            "OrderStatus",
            "OrderType",
            "Redactor",
            "RiskAction",
            "RiskEvent",
            "SafeguardEvent",
            "SafeguardKind",
            "Side",
            "TimeInForce",
            "Urgency",
            "VerifyReport",
            "WallClock",
            "canonical_json",
            "iter_records",
            "parse_event",
            "show",
            "verify_log",
        ]
    )
    for name in audit.__all__:
        assert hasattr(audit, name)
