"""One-shot arming with TTL, staged intents, exact-hash confirmation, auto-confirm policies."""

from __future__ import annotations

import hashlib

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.safety import ArmingController
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import intent_hash

from .conftest import SEC
from .conftest import Recorder
from .conftest import advance
from .conftest import config_dict
from .conftest import make_order


@pytest.fixture
def arming(clock: TestClock, recorder: Recorder) -> ArmingController:
    return ArmingController(SafetyConfig.parse(config_dict()).arming, clock, recorder)


def test_intent_hash_is_sha256_of_canonical_json() -> None:
    order = make_order()
    assert intent_hash(order) == hashlib.sha256(order.to_json().encode()).hexdigest()
    assert intent_hash(order) != intent_hash(make_order(amount="1.1"))


def test_arm_expires_exactly_at_ttl(arming: ArmingController, clock: TestClock) -> None:
    arming.arm(10, "alice")
    advance(clock, 10 * SEC - 1)
    assert arming.is_armed()
    advance(clock, 1)
    assert not arming.is_armed()


def test_arm_is_one_shot_and_cannot_be_extended(arming: ArmingController, recorder: Recorder) -> None:
    arming.arm(10, "alice")
    with pytest.raises(RiskBlocked) as info:
        arming.arm(600, "alice")
    assert info.value.details["rule"] == Rule.ARM_COMMAND
    assert recorder.events[-1].outcome is CommandOutcome.REJECTED


@pytest.mark.parametrize("ttl", [0, -1, 601])
def test_ttl_out_of_range_is_refused(arming: ArmingController, ttl: int) -> None:
    with pytest.raises(RiskBlocked, match="ttl_secs"):
        arming.arm(ttl, "alice")
    assert not arming.is_armed()


def test_arm_needs_an_actor_and_known_policies(arming: ArmingController) -> None:
    with pytest.raises(RiskBlocked, match="actor"):
        arming.arm(10, "")
    with pytest.raises(RiskBlocked, match="unknown auto-confirm"):
        arming.arm(10, "alice", auto_confirm=["nope"])


def test_only_the_exact_hash_releases(arming: ArmingController) -> None:
    order = make_order()
    intent = arming.stage(order)
    arming.arm(60, "alice")
    assert arming.release_check(order) is not None
    with pytest.raises(RiskBlocked):
        arming.confirm(intent.intent_hash[:-1] + ("0" if intent.intent_hash[-1] != "0" else "1"), "alice")
    blocked = arming.release_check(order)
    assert blocked is not None
    assert blocked.details["rule"] == Rule.NOT_CONFIRMED
    arming.confirm(intent.intent_hash, "alice")
    assert arming.release_check(order) is None
    # a different order (even one field) is not covered by that confirmation
    assert arming.release_check(make_order(amount="1.5")) is not None
    arming.consume(intent.intent_hash)
    assert arming.release_check(order) is not None


def test_confirm_needs_an_arm(arming: ArmingController) -> None:
    intent = arming.stage(make_order())
    with pytest.raises(RiskBlocked, match="not armed"):
        arming.confirm(intent.intent_hash, "alice")


def test_double_confirm_is_refused(arming: ArmingController) -> None:
    intent = arming.stage(make_order())
    arming.arm(60, "alice")
    arming.confirm(intent.intent_hash, "alice")
    with pytest.raises(RiskBlocked, match="already confirmed"):
        arming.confirm(intent.intent_hash, "bob")


def test_disarm_and_expiry_void_confirmations(arming: ArmingController, clock: TestClock) -> None:
    order = make_order()
    intent = arming.stage(order)
    arming.arm(5, "alice")
    arming.confirm(intent.intent_hash, "alice")
    assert arming.disarm("alice") is True
    arming.arm(5, "alice")
    assert arming.release_check(order) is not None  # the old confirmation died with its arm
    arming.confirm(intent.intent_hash, "alice")
    advance(clock, 5 * SEC)
    blocked = arming.release_check(order)
    assert blocked is not None
    assert blocked.details["rule"] == Rule.NOT_ARMED


def test_staged_intents_lapse(arming: ArmingController, clock: TestClock) -> None:
    intent = arming.stage(make_order())
    advance(clock, 60 * SEC)
    assert arming.staged() == []
    arming.arm(60, "alice")
    with pytest.raises(RiskBlocked, match="no staged intent"):
        arming.confirm(intent.intent_hash, "alice")


def test_wrong_hashes_beyond_limit_disarm(arming: ArmingController) -> None:
    arming.arm(60, "alice")
    for _ in range(2):
        with pytest.raises(RiskBlocked):
            arming.confirm("ab" * 32, "mallory")
        assert arming.is_armed()
    with pytest.raises(RiskBlocked):
        arming.confirm("ab" * 32, "mallory")
    assert not arming.is_armed()


def test_auto_confirm_needs_an_arm_naming_the_policy(arming: ArmingController, recorder: Recorder) -> None:
    small = make_order("a", amount="0.5", strategy="MM-1")
    # policy configured but not armed: nothing is auto-confirmed
    assert arming.stage(small).confirmed_by is None
    arming.arm(60, "alice")  # armed without naming the policy
    assert arming.stage(make_order("b", amount="0.5", strategy="MM-1")).confirmed_by is None
    arming.disarm("alice")
    arming.arm(60, "alice", auto_confirm=["mm_small"])
    assert any(
        e.command is CommandKind.ARM and e.details["auto_confirm"] == "mm_small" for e in recorder.events
    )
    assert arming.stage(make_order("c", amount="0.5", strategy="MM-1")).confirmed_by == "auto:mm_small"
    assert arming.release_check(make_order("c", amount="0.5", strategy="MM-1")) is None
    # too big, or another strategy: a human must confirm
    assert arming.stage(make_order("d", amount="0.6", strategy="MM-1")).confirmed_by is None
    assert arming.stage(make_order("e", amount="0.1", strategy="OTHER")).confirmed_by is None
    arming.disarm("alice")
    assert arming.release_check(make_order("c", amount="0.5", strategy="MM-1")) is not None


def test_every_command_is_recorded(arming: ArmingController, recorder: Recorder) -> None:
    intent = arming.stage(make_order())
    arming.arm(60, "alice")
    arming.confirm(intent.intent_hash, "bob")
    arming.disarm("alice")
    kinds = [(e.command, e.outcome, e.actor) for e in recorder.events]
    assert kinds == [
        (CommandKind.ARM, CommandOutcome.ACCEPTED, "alice"),
        (CommandKind.CONFIRM, CommandOutcome.ACCEPTED, "bob"),
        (CommandKind.DISARM, CommandOutcome.ACCEPTED, "alice"),
    ]
    assert recorder.events[1].intent_hash == intent.intent_hash
