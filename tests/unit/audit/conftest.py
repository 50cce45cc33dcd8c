"""Fixtures for audit unit tests: an event factory, polling, and a store opener."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.audit import AuditStore
from nautilus_ext.audit import AuditStoreConfig
from nautilus_ext.audit import CommandEvent
from nautilus_ext.audit import CommandKind
from nautilus_ext.audit import CommandOutcome
from nautilus_ext.audit import DecisionEvent
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderEvent
from nautilus_ext.audit import OrderStatus
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import RiskAction
from nautilus_ext.audit import RiskEvent
from nautilus_ext.audit import SafeguardEvent
from nautilus_ext.audit import SafeguardKind
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit.redaction import Redactor

DAY0_NS = 1_704_153_600 * 1_000_000_000  # 2024-01-02T00:00:00Z
VERSION = "ab" * 32
CONFIG = "cd" * 32


class FixedClock:
    """An injected clock: returns the time it is set to, advancing by ``step_ns`` per read."""

    def __init__(self, start_ns: int = DAY0_NS, step_ns: int = 1_000_000) -> None:
        self.now_ns = start_ns
        self.step_ns = step_ns

    def timestamp_ns(self) -> int:
        now = self.now_ns
        self.now_ns += self.step_ns
        return now


class EventFactory:
    """Builds valid events with a shared header; every field can be overridden."""

    def __init__(self, clock: FixedClock, mode: Mode = Mode.BACKTEST) -> None:
        self.clock = clock
        self.mode = mode

    def header(self, **overrides: Any) -> dict[str, Any]:
        ts = self.clock.timestamp_ns()
        base = {
            "mode": self.mode,
            "ts_event": ts,
            "ts_wall": ts + 7,
            "strategy_id": "S-1",
            "version_hash": VERSION,
            "config_hash": CONFIG,
        }
        base.update(overrides)
        return base

    def decision(self, id: str = "D-1", **kw: Any) -> DecisionEvent:
        fields = {"rationale": "spread wide", "tags": ["mm"], **kw}
        return DecisionEvent(id=id, **self.header(**_split(fields)), **_rest(fields))

    def intent(self, id: str = "I-1", **kw: Any) -> IntentEvent:
        fields = {
            "asset": "BTC-USDT",
            "side": Side.BUY,
            "qty": Decimal("1.5"),
            "order_type": OrderType.LIMIT,
            "limit_price": Decimal("42000.5"),
            "tif": TimeInForce.GTC,
            "decision_id": "D-1",
            **kw,
        }
        return IntentEvent(id=id, **self.header(**_split(fields)), **_rest(fields))

    def order(self, id: str = "O-1", status: OrderStatus = OrderStatus.SUBMITTED, **kw: Any) -> OrderEvent:
        fields = {
            "venue": "BINANCE",
            "asset": "BTC-USDT",
            "side": Side.BUY,
            "qty": Decimal("1.5"),
            "order_type": OrderType.LIMIT,
            "limit_price": Decimal("42000.5"),
            "tif": TimeInForce.GTC,
            "intent_id": "I-1",
            **kw,
        }
        return OrderEvent(id=id, status=status, **self.header(**_split(fields)), **_rest(fields))

    def fill(self, id: str = "F-1", **kw: Any) -> FillEvent:
        fields = {
            "venue": "BINANCE",
            "asset": "BTC-USDT",
            "side": Side.BUY,
            "qty": Decimal("1.5"),
            "price": Decimal("42000"),
            "fees": Decimal("0.5"),
            "order_id": "O-1",
            "intent_id": "I-1",
            **kw,
        }
        return FillEvent(id=id, **self.header(**_split(fields)), **_rest(fields))

    def command(self, id: str = "C-1", **kw: Any) -> CommandEvent:
        fields = {
            "command": CommandKind.ARM,
            "outcome": CommandOutcome.ACCEPTED,
            "actor": "operator-1",
            "target": "S-1",
            "ttl_secs": 60,
            **kw,
        }
        return CommandEvent(id=id, **self.header(**_split(fields)), **_rest(fields))

    def risk(self, id: str = "R-1", **kw: Any) -> RiskEvent:
        fields = {"rule": "MAX_POSITION", "action": RiskAction.ALLOW, "subject_id": "I-1", **kw}
        return RiskEvent(id=id, **self.header(**_split(fields)), **_rest(fields))

    def safeguard(self, id: str = "G-1", **kw: Any) -> SafeguardEvent:
        fields = {"kind": SafeguardKind.DIRTY, "asset": "BTC-USDT", **kw}
        return SafeguardEvent(id=id, **self.header(**_split(fields)), **_rest(fields))


_HEADER_KEYS = {"mode", "ts_event", "ts_wall", "strategy_id", "version_hash", "config_hash"}


def _split(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k in _HEADER_KEYS}


def _rest(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in _HEADER_KEYS}


def poll_until(condition: Callable[[], bool], timeout_secs: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_secs``."""
    deadline = time.monotonic() + timeout_secs
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_secs}s")
        time.sleep(0.005)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """Return the polling helper (instead of sleeps)."""
    return poll_until


@pytest.fixture
def clock() -> FixedClock:
    """Return a fixed clock starting at 2024-01-02T00:00:00Z, 1 ms per read."""
    return FixedClock()


@pytest.fixture
def events(clock: FixedClock) -> EventFactory:
    """Return an event factory on the fixed clock."""
    return EventFactory(clock)


@pytest.fixture
def root(tmp_path: Path) -> str:
    """Return an empty storage root."""
    return str(tmp_path / "store")


@pytest.fixture
def open_store(root: str) -> Iterator[Callable[..., AuditStore]]:
    """Open stores on ``root`` (config overrides as keywords); closes them after the test."""
    opened: list[AuditStore] = []

    def _open(redactor: Redactor | None = None, on_alert: Any = None, **overrides: Any) -> AuditStore:
        config = AuditStoreConfig(root=overrides.pop("root", root), **overrides)
        store = AuditStore(config, redactor=redactor or Redactor(env={}), on_alert=on_alert)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()
