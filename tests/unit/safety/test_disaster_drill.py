"""Disaster drill (seed 001, sections 16 and 16.1): a loss limit trips, everything halts,
recovery succeeds only after the required checks and a human re-arm."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import SafeModeActive
from nautilus_ext.safety import Fill
from nautilus_ext.safety import Halt
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate

from .conftest import ASSET
from .conftest import SEC
from .conftest import VENUE
from .conftest import Recorder
from .conftest import advance
from .conftest import config_dict
from .conftest import fresh_feeds
from .conftest import make_order

D = Decimal


def _problems(gate: SafetyGate, incident: str = "INC-42") -> list[str]:
    with pytest.raises(SafeModeActive) as info:
        gate.resume("alice", incident)
    assert gate.safe is not None
    problems: list[str] = info.value.details["problems"]
    return problems


def test_loss_limit_drill(clock: TestClock, recorder: Recorder) -> None:
    alerts: list[tuple[Halt, str | None]] = []
    gate = SafetyGate(
        SafetyConfig.parse(config_dict()), clock, sink=recorder, alert=lambda h, s: alerts.append((h, s))
    )
    # normal LIVE operation: armed, two strategies trading
    fresh_feeds(gate)
    gate.arm(300, "alice")
    for op, sid in (("a1", "S-1"), ("b1", "S-2")):
        gate.confirm(gate.stage(make_order(op, strategy=sid)).intent_hash, "alice")
        assert gate.check(make_order(op, strategy=sid)).allowed
    gate.on_fill(Fill(fill_id="x1", venue=VENUE, asset=ASSET, quantity=D(2), seq=1))
    gate.on_position_update(ASSET, D(2))
    # pending confirmed intents at the moment of the incident
    gate.confirm(gate.stage(make_order("a2", strategy="S-1")).intent_hash, "alice")

    # 1. the market moves: S-1 passes its loss limit (killed), then the portfolio limit trips
    advance(clock, SEC)
    fresh_feeds(gate)
    gate.update_pnl("S-1", D(-1200))
    assert gate.halts.killed("S-1") is not None
    assert gate.safe is None
    gate.update_pnl("S-2", D(-1900))
    assert gate.safe is not None
    assert {h.rule for h in gate.halts.safe_causes} >= {Rule.PORTFOLIO_LOSS_LIMIT, Rule.MAX_DAILY_LOSS}
    assert [s for _, s in alerts] == ["S-1", "S-2", None]  # S-2 also passed its own limit

    # 2. everything halts: disarmed, confirmations void, nothing new passes for anyone
    assert not gate.arming.is_armed()
    assert gate.check(make_order("a2", strategy="S-1")).code is not None
    gate.arm(60, "alice")  # even a fresh arm during SAFE only enables hedges
    for op, sid in (("c1", "S-2"), ("c2", "S-3")):
        gate.confirm(gate.stage(make_order(op, strategy=sid)).intent_hash, "alice")
        assert gate.check(make_order(op, strategy=sid)).code is ErrorCode.SAFE_MODE
    # the hedge that flattens the book is allowed
    gate.confirm(
        gate.stage(make_order("hedge", side="SELL", amount="2", strategy="S-2")).intent_hash, "alice"
    )
    assert gate.check(make_order("hedge", side="SELL", amount="2", strategy="S-2")).allowed
    gate.on_fill(Fill(fill_id="x2", venue=VENUE, asset=ASSET, quantity=D(-2), seq=2))

    # 3. recovery is refused until every 16.1 check passes, one at a time
    advance(clock, 5 * SEC)
    problems = _problems(gate, incident="")
    assert any("dirty" in p for p in problems)
    assert any("stale" in p for p in problems)
    assert any("limits not confirmed" in p for p in problems)
    assert any("portfolio loss" in p for p in problems)
    assert "no incident report reference" in problems

    gate.on_snapshot(ASSET, D(0))  # positions reconciled to the venue
    problems = _problems(gate)
    assert not any("dirty" in p or "snapshot" in p or "disagrees" in p for p in problems)
    assert any("stale" in p for p in problems)

    fresh_feeds(gate)  # market data freshness restored
    problems = _problems(gate)
    assert not any("stale" in p for p in problems)

    gate.confirm_limits("alice", gate.config.limits_hash())  # limits confirmed, but still breached
    problems = _problems(gate)
    assert not any("not confirmed" in p for p in problems)
    assert any("loss" in p for p in problems)

    gate.reset_risk_baselines("alice")  # risk limits reset after review
    gate.release_strategy("alice", "S-1")
    gate.release_strategy("alice", "S-2")
    gate.resume("alice", "INC-42")
    assert gate.safe is None

    # 4. a human re-arm is still required, and every order needs its own confirmation
    assert not gate.arming.is_armed()
    assert gate.check(make_order("d1", strategy="S-1")).rule == Rule.NOT_ARMED
    gate.arm(60, "alice")
    assert gate.check(make_order("d1", strategy="S-1")).rule == Rule.NOT_CONFIRMED
    gate.confirm(gate.stage(make_order("d1", strategy="S-1")).intent_hash, "alice")
    assert gate.check(make_order("d1", strategy="S-1")).allowed

    # the audit trail tells the story in order
    trail = [e.safeguard or e.command for e in recorder.events if e.safeguard or e.command]
    enter = trail.index(SafeguardKind.SAFE_MODE_ENTER)
    leave = trail.index(SafeguardKind.SAFE_MODE_EXIT)
    assert enter < leave
    refused = [
        e for e in recorder.events if e.command is CommandKind.RESUME and e.outcome is CommandOutcome.REJECTED
    ]
    assert len(refused) >= 4
