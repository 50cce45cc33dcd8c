"""
TelegramControl against a real SafetyGate (``run_command``), without the bot library: the
allowlist, the command rate limit and lockout (kill and disarm still pass), the hash-mismatch
lockout, two-step codes that expire, and /intent's validation.
"""

from __future__ import annotations

import re
from typing import Any

from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.execution.operator_intents import OperatorIntent
from nautilus_ext.operator.telegram.control import TelegramControl
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.control import run_command
from tests.unit.safety.conftest import ASSET
from tests.unit.safety.conftest import T0
from tests.unit.safety.conftest import config_dict

ALICE = 42


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Bench:
    """A LIVE gate, the control under test and what it logged."""

    def __init__(self, per_minute: int = 20, mode: str = "LIVE") -> None:
        clock = TestClock()
        clock.set_time(T0)
        self.events: list[SafetyEvent] = []
        self.gate = SafetyGate(SafetyConfig.parse(config_dict(mode)), clock, sink=self.events.append)
        self.log: list[dict[str, Any]] = []
        self.clock = Clock()
        self.control = TelegramControl(
            lambda body: run_command(self.gate, body),
            self._stage,
            {ALICE},
            {ALICE},
            self.log.append,
            max_commands_per_minute=per_minute,
            lockout_secs=60,
            two_step_secs=30,
            clock=self.clock,
        )

    def _stage(self, intent: OperatorIntent) -> bool:
        # what the unified strategy does with it in LIVE: the gate stages it, nothing executes
        self.gate.stage(intent.order)
        intent.reply.set_result("SUBMITTED: AWAITING_CONFIRMATION")
        return True

    def say(self, text: str, user: int = ALICE) -> str | None:
        return self.control.handle(user, user, text)


def _code(text: str | None) -> str:
    assert text is not None
    found = re.search(r"/yes (\d{6})", text)
    assert found is not None, text
    return found.group(1)


def test_strangers_are_ignored_and_logged() -> None:
    bench = Bench()
    assert bench.say("/kill", user=7) is None
    assert bench.gate.safe is None
    assert bench.log[-1]["outcome"] == "REFUSED"
    assert bench.log[-1]["reason"] == "not allowlisted"
    # an allowed user in a chat that is not allowed is ignored too
    assert bench.control.handle(99, ALICE, "/status") is None


def test_rate_limit_locks_out_but_never_blocks_kill_or_disarm() -> None:
    bench = Bench(per_minute=3)
    for _ in range(3):
        assert "mode LIVE" in (bench.say("/status") or "")
    locked = bench.say("/status")
    assert locked is not None
    assert locked.startswith("locked out for 60s")
    assert bench.say("/status") is None  # silent while locked out
    killed = bench.say("/kill")
    assert killed is not None
    assert "killed everything" in killed
    assert bench.gate.safe is not None
    bench.clock.now += 61
    assert "mode LIVE" in (bench.say("/status") or "")


def test_live_arm_takes_a_code_that_expires() -> None:
    bench = Bench()
    ask = bench.say("/arm 120")
    code = _code(ask)
    assert not bench.gate.arming.is_armed()
    bench.clock.now += 31
    assert bench.say(f"/yes {code}") == "nothing to confirm (or the code expired)"
    assert not bench.gate.arming.is_armed()
    code = _code(bench.say("/arm 120"))
    assert "done: arm LIVE for 120s" in (bench.say(f"/yes {code}") or "")
    assert bench.gate.arming.is_armed()
    assert bench.say("/arm -5") == "usage: /arm <ttl_secs>"
    arms = [e for e in bench.events if e.command is CommandKind.ARM]
    assert arms[-1].actor == f"telegram:{ALICE}"


def test_arm_outside_live_takes_one_step() -> None:
    bench = Bench(mode="DRY_RUN")
    reply = bench.say("/arm 60")
    assert reply is not None
    assert reply.startswith("armed for 60s")


def test_intent_hash_is_checked_and_mismatches_lock_out() -> None:
    bench = Bench()
    bench.say(f"/yes {_code(bench.say('/arm 300'))}")
    assert "bad intent" in (bench.say(f"/intent S-1 HOLD 1 {ASSET}") or "")
    assert "amount and price must be numbers" in (bench.say(f"/intent S-1 BUY lots {ASSET}") or "")
    staged = bench.say(f"/intent S-1 BUY 0.5 {ASSET}")
    found = re.search(r"/confirm (\S+) ([0-9a-f]{64})", staged or "")
    assert found is not None, staged
    intent_id, digest = found.groups()
    assert (
        bench.say(f"/confirm nope {digest}") == "no staged intent nope (confirmed, expired or never staged)"
    )
    for _ in range(2):
        assert "hash does not match" in (bench.say(f"/confirm {intent_id} {'0' * 64}") or "")
    third = bench.say(f"/confirm {intent_id} {'0' * 64}")
    assert third is not None
    assert "locked out for 60s after 3 mismatches" in third
    assert bench.say(f"/confirm {intent_id} {digest}") is None  # locked out
    bench.clock.now += 61
    code = _code(bench.say(f"/confirm {intent_id} {digest}"))
    assert bench.say("/yes 99999") == "wrong code: start again"
    code = _code(bench.say(f"/confirm {intent_id} {digest}"))
    assert f"done: confirm {intent_id}" in (bench.say(f"/yes {code}") or "")
    (intent,) = bench.gate.arming.staged()
    assert intent.confirmed_by == f"telegram:{ALICE}"
