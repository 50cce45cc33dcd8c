"""Shared helpers for the safety tests: a real Nautilus TestClock, a full config, orders."""

from __future__ import annotations

from typing import Any

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate

SEC = 1_000_000_000
MS = 1_000_000
T0 = 1_709_251_200 * SEC  # 2024-03-01T00:00:00Z
ASSET = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
VENUE = "BINANCE-FUTURES"


def config_dict(mode: str = "LIVE", **overrides: Any) -> dict[str, Any]:
    """Return a complete, valid safety config as plain data (sections may be overridden)."""
    data: dict[str, Any] = {
        "mode": mode,
        "arming": {
            "max_ttl_secs": 600,
            "intent_ttl_secs": 60,
            "max_failed_confirmations": 2,
            "auto_confirm": [{"name": "mm_small", "strategies": ["MM-1"], "max_amount": "0.5"}],
        },
        "risk": {
            "max_position": "5",
            "strategy_loss_limit": "1000",
            "portfolio_loss_limit": "3000",
            "max_daily_loss": "2000",
            "drawdown_throttle": "500",
            "drawdown_size_factor": "0.5",
            "cooldown_secs": 30,
            "max_trade_size": "2",
            "max_slippage": "0.01",
            "max_latency_ms": 500,
        },
        "oms": {
            "dirty_max_age_ms": 2000,
            "reconcile_interval_ms": 5000,
            "reconcile_grace_ms": 1000,
            "mismatch_rel_threshold": "0.001",
            "mismatch_abs_tolerance": "0.0001",
            "mismatch_persist_ms": 3000,
            "market_data_max_age_ms": 1000,
            "ws_max_age_ms": 1000,
            "order_rate_limit": 5,
            "order_rate_window_ms": 1000,
            "flipflop_max_cycles": 3,
            "flipflop_window_ms": 60000,
        },
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return data


def make_order(
    op: str = "op-1", side: str = "BUY", amount: str = "1", strategy: str | None = "S-1", **kw: Any
) -> Order:
    """Return a BTC perpetual trade order on Binance futures."""
    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=kw.pop("instrument_key", ASSET),
        venue=kw.pop("venue", VENUE),
        side=side,
        amount=amount,
        strategy_id=strategy,
        **kw,
    )


def advance(clock: TestClock, ns: int) -> None:
    """Move the clock forward by ``ns``."""
    clock.advance_time(clock.timestamp_ns() + ns)


class Recorder:
    """An event sink that keeps every event (and can fail the test if one is malformed)."""

    def __init__(self) -> None:
        self.events: list[SafetyEvent] = []

    def __call__(self, event: SafetyEvent) -> None:
        self.events.append(event)


def fresh_feeds(gate: SafetyGate, asset: str = ASSET, venue: str = VENUE) -> None:
    """Deliver market data and a WS heartbeat now."""
    gate.on_market_data(asset)
    gate.on_ws_message(venue)


@pytest.fixture
def clock() -> TestClock:
    c = TestClock()
    c.set_time(T0)
    return c


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def live_gate(clock: TestClock, recorder: Recorder) -> SafetyGate:
    return SafetyGate(SafetyConfig.parse(config_dict()), clock, sink=recorder)
