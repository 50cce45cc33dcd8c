"""AuditContext: events stamped from injected clocks; bad fields give a typed error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.audit import AuditContext
from nautilus_ext.audit import DecisionEvent
from nautilus_ext.audit import FillEvent
from nautilus_ext.audit import IntentEvent
from nautilus_ext.audit import InvalidAuditRecord
from nautilus_ext.audit import Mode
from nautilus_ext.audit import OrderType
from nautilus_ext.audit import Side
from nautilus_ext.audit import TimeInForce
from nautilus_ext.audit import WallClock
from nautilus_ext.audit.redaction import Redactor

from .conftest import DAY0_NS
from .conftest import FixedClock


def _context(run_clock: Any, wall: Any) -> AuditContext:
    return AuditContext(Mode.REPLAY, "S-1", "ab" * 32, "cd" * 32, clock=run_clock, wall_clock=wall)


def test_events_take_both_timestamps_from_injected_clocks() -> None:
    ctx = _context(
        FixedClock(start_ns=DAY0_NS + 100, step_ns=10), FixedClock(start_ns=DAY0_NS + 5_000, step_ns=1)
    )
    intent = ctx.event(
        IntentEvent,
        id="I-1",
        asset="BTC-USDT",
        side=Side.BUY,
        qty=Decimal(1),
        order_type=OrderType.MARKET,
        tif=TimeInForce.IOC,
    )
    assert (intent.ts_event, intent.ts_wall, intent.mode) == (DAY0_NS + 100, DAY0_NS + 5_000, Mode.REPLAY)
    fill = ctx.event(
        FillEvent,
        id="F-1",
        ts_event=DAY0_NS + 42,
        venue="X",
        asset="BTC-USDT",
        side=Side.BUY,
        qty=Decimal(1),
        price=Decimal(2),
        order_id="O-1",
    )
    assert (fill.ts_event, fill.ts_wall) == (DAY0_NS + 42, DAY0_NS + 5_001)


def test_two_replays_with_fixed_clocks_are_identical() -> None:
    def run() -> list[Any]:
        ctx = _context(FixedClock(), FixedClock(start_ns=DAY0_NS))
        return [
            ctx.event(
                IntentEvent,
                id=f"I-{i}",
                asset="A",
                side=Side.SELL,
                qty=Decimal(i + 1),
                order_type=OrderType.MARKET,
                tif=TimeInForce.IOC,
            )
            for i in range(3)
        ]

    assert run() == run()


def test_invalid_fields_raise_a_typed_error() -> None:
    ctx = _context(FixedClock(), WallClock())
    with pytest.raises(InvalidAuditRecord) as info:
        ctx.event(
            IntentEvent,
            id="I-1",
            asset="A",
            side=Side.BUY,
            qty=Decimal(-1),
            order_type=OrderType.MARKET,
            tif=TimeInForce.IOC,
        )
    assert info.value.details["errors"][0].startswith("qty:")


def test_only_event_classes_are_accepted() -> None:
    ctx = _context(FixedClock(), WallClock())
    with pytest.raises(InvalidAuditRecord, match="not an audit event class"):
        ctx.event(Redactor, id="x")  # type: ignore[type-var]


def test_wall_clock_reads_real_time() -> None:
    assert WallClock().timestamp_ns() > 1_700_000_000 * 10**9


def test_nautilus_clock_is_a_clock() -> None:
    from nautilus_trader.common.component import TestClock

    run_clock = TestClock()
    run_clock.set_time(1_704_153_600_000_000_123)
    ctx = _context(run_clock, FixedClock(start_ns=DAY0_NS + 7))
    decision = ctx.event(DecisionEvent, id="D-1", rationale="nautilus time")
    assert (decision.ts_event, decision.ts_wall) == (1_704_153_600_000_000_123, DAY0_NS + 7)
