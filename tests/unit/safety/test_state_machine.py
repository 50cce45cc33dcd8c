"""
Property test: random sequences of arming, expiry, intents, confirmations, fills, position
updates, faults and recovery attempts never let an order through in LIVE without a valid arm
and a matching confirmation, nor while SAFE (except a reducing hedge) or dirty.

The model below is independent of the gate: it tracks what a human and the venue did, and
the invariants are checked against it after every allowed order.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import rule
from nautilus_trader.common.component import TestClock

from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import SafeModeActive
from nautilus_ext.safety import Fill
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety import intent_hash

from .conftest import ASSET
from .conftest import MS
from .conftest import SEC
from .conftest import T0
from .conftest import VENUE
from .conftest import Recorder
from .conftest import config_dict
from .conftest import fresh_feeds
from .conftest import make_order

D = Decimal
INTENT_TTL_NS = 60 * SEC
MAX_FAILED = 2
ORDERS = [
    make_order("o1", "BUY", "0.5", "S-1"),
    make_order("o2", "SELL", "0.5", "S-1"),
    make_order("o3", "BUY", "0.4", "MM-1"),  # auto-confirmable by policy mm_small
    make_order("o4", "SELL", "1", "MM-1"),
    make_order("o5", "BUY", "1.5", "S-2"),
]


class GateMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clock = TestClock()
        self.clock.set_time(T0)
        self.gate = SafetyGate(SafetyConfig.parse(config_dict()), self.clock, sink=Recorder())
        self.armed_until: int | None = None
        self.arm_policy = False
        self.failed = 0
        self.staged: dict[str, int] = {}
        self.confirmed: set[str] = set()
        self.position = D(0)
        self.fill_ids: list[str] = []
        self.seq = 0
        self.dirty = False
        self.gap_seen = False
        self.was_safe = False
        self.allowed = 0

    # -- model helpers ------------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.timestamp_ns()

    def model_disarm(self) -> None:
        self.armed_until = None
        self.arm_policy = False
        self.confirmed.clear()

    def model_armed(self) -> bool:
        return self.armed_until is not None and self.now() < self.armed_until

    def sync(self) -> None:
        # time passes and SAFE entries disarm: the model follows the human-visible rules
        if self.armed_until is not None and self.now() >= self.armed_until:
            self.model_disarm()
        for digest, at in list(self.staged.items()):
            if self.now() >= at + INTENT_TTL_NS:
                del self.staged[digest]
                self.confirmed.discard(digest)
        safe = self.gate.safe is not None
        if safe and not self.was_safe:
            self.model_disarm()
        self.was_safe = safe

    # -- operator -----------------------------------------------------------------------------

    @rule(
        ttl=st.one_of(st.integers(min_value=1, max_value=600), st.integers(min_value=-1, max_value=700)),
        policy=st.booleans(),
    )
    def arm(self, ttl: int, policy: bool) -> None:
        self.sync()
        try:
            self.gate.arm(ttl, "alice", ["mm_small"] if policy else [])
        except RiskBlocked:
            assert self.model_armed() or not 0 < ttl <= 600
            return
        assert not self.model_armed(), "arming while armed must be refused (one-shot)"
        assert 0 < ttl <= 600
        self.armed_until = self.now() + ttl * SEC
        self.arm_policy = policy
        self.failed = 0
        self.confirmed.clear()

    @rule()
    def disarm(self) -> None:
        self.gate.disarm("alice")
        self.model_disarm()

    @rule(ms=st.sampled_from([0, 1, 200, 999, 1000, 1500, 2500, 30_000, 61_000, 700_000]))
    def advance(self, ms: int) -> None:
        self.clock.advance_time(self.now() + ms * MS)
        self.sync()

    @rule(i=st.integers(min_value=0, max_value=len(ORDERS) - 1))
    def stage(self, i: int) -> None:
        self.sync()
        order = ORDERS[i]
        intent = self.gate.stage(order)
        digest = intent_hash(order)
        assert intent.intent_hash == digest
        if digest not in self.staged:
            self.staged[digest] = self.now()
        if intent.confirmed_by is not None and intent.confirmed_by.startswith("auto:"):
            if digest not in self.confirmed:
                assert self.model_armed(), "auto-confirm without an arm"
                assert self.arm_policy, "auto-confirm without an arm naming the policy"
                assert order.strategy_id == "MM-1"
                assert order.amount <= D("0.5")
            self.confirmed.add(digest)

    @rule(i=st.integers(min_value=0, max_value=len(ORDERS) - 1))
    def confirm_right(self, i: int) -> None:
        self.sync()
        digest = intent_hash(ORDERS[i])
        try:
            self.gate.confirm(digest, "alice")
        except RiskBlocked:
            if self.model_armed() and digest not in self.staged:
                self.failed += 1
            self.after_failed()
            return
        assert self.model_armed(), "confirmation accepted without an arm"
        assert digest in self.staged, "confirmation of an intent that is not staged"
        self.confirmed.add(digest)

    @rule(digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
    def confirm_wrong(self, digest: str) -> None:
        self.sync()
        if digest in self.staged:
            return
        try:
            self.gate.confirm(digest, "mallory")
        except RiskBlocked:
            if self.model_armed():
                self.failed += 1
            self.after_failed()
            return
        raise AssertionError("a wrong hash was accepted")

    def after_failed(self) -> None:
        if self.failed > MAX_FAILED:
            self.model_disarm()
            self.failed = 0

    @rule(strategy=st.sampled_from([None, "S-1", "MM-1"]))
    def kill(self, strategy: str | None) -> None:
        self.gate.kill("alice", strategy, "property test")
        if strategy is None:
            assert self.gate.safe is not None
        self.sync()

    @rule(pnl=st.integers(min_value=-3500, max_value=500))
    def pnl(self, pnl: int) -> None:
        self.gate.update_pnl("S-1", D(pnl))
        self.sync()

    @rule(incident=st.sampled_from(["", "INC-1"]))
    def recover(self, incident: str) -> None:
        self.gate.on_snapshot(ASSET, self.position)
        self.dirty = False
        fresh_feeds(self.gate)
        self.gate.confirm_limits("alice", self.gate.config.limits_hash())
        self.gate.reset_risk_baselines("alice")
        for sid in ("S-1", "MM-1"):
            self.gate.release_strategy("alice", sid)
        was_safe = self.gate.safe is not None
        try:
            self.gate.resume("alice", incident)
        except SafeModeActive:
            assert was_safe
            return
        if was_safe:
            assert incident, "SAFE left without an incident report"
            self.gap_seen = False
            self.model_disarm()
        self.sync()

    # -- venue side ---------------------------------------------------------------------------

    @rule(kind=st.sampled_from(["next", "gap", "dup", "noseq"]), qty=st.sampled_from(["0.1", "-0.3", "1"]))
    def fill(self, kind: str, qty: str) -> None:
        if kind == "dup":
            if not self.fill_ids:
                return
            assert not self.gate.on_fill(
                Fill(fill_id=self.fill_ids[-1], venue=VENUE, asset=ASSET, quantity=D(qty))
            )
            self.sync()
            return
        fid = f"f{len(self.fill_ids)}"
        seq: int | None = None
        if kind in ("next", "gap"):
            step = 2 if kind == "gap" else 1
            seq = self.seq + step
            if kind == "gap" and self.seq > 0:  # the first sequence number has no baseline
                self.gap_seen = True
            self.seq = seq
        self.fill_ids.append(fid)
        assert self.gate.on_fill(Fill(fill_id=fid, venue=VENUE, asset=ASSET, quantity=D(qty), seq=seq))
        self.position += D(qty)
        self.dirty = True
        self.sync()

    @rule(exact=st.booleans(), rest=st.booleans())
    def position_report(self, exact: bool, rest: bool) -> None:
        qty = self.position if exact else self.position + D("0.5")
        report = self.gate.on_snapshot if rest else self.gate.on_position_update
        matched = report(ASSET, qty)
        assert matched == exact
        if exact:
            self.dirty = False
        self.sync()

    @rule()
    def feeds(self) -> None:
        fresh_feeds(self.gate)

    @rule()
    def ws_drop(self) -> None:
        self.gate.on_ws_disconnect(VENUE)

    # -- the gate -----------------------------------------------------------------------------

    @rule(
        i=st.integers(min_value=0, max_value=len(ORDERS) - 1),
        fresh=st.booleans(),
        prepare=st.booleans(),
        clean=st.booleans(),
    )
    def check(self, i: int, fresh: bool, prepare: bool, clean: bool) -> None:
        # optionally refresh the feeds and stage + confirm first, so that allowed orders are common
        if fresh:
            fresh_feeds(self.gate)
        if prepare:
            self.sync()
            if not self.model_armed():
                self.arm(300, policy=False)
            if clean:
                self.position_report(exact=True, rest=False)
            self.stage(i)
            self.confirm_right(i)
        order = ORDERS[i]
        decision = self.gate.check(order)
        safe_before = self.was_safe
        self.sync()
        if not decision.allowed:
            assert decision.code is not None
            assert decision.rule is not None
            event(f"blocked: {decision.rule}")
            return
        self.allowed += 1
        event("an order was allowed")
        digest = intent_hash(order)
        assert self.model_armed(), "LIVE order allowed without a valid arm"
        assert digest in self.confirmed, "LIVE order allowed without a matching confirmation"
        assert not self.dirty, "order allowed while the position is dirty"
        after = self.position + order.signed_amount
        reduces = abs(after) < abs(self.position) and (after == 0 or (after > 0) == (self.position > 0))
        assert not (safe_before or self.gate.safe is not None) or reduces, "new risk allowed in SAFE mode"
        self.confirmed.discard(digest)
        self.staged.pop(digest, None)

    @invariant()
    def gap_means_safe(self) -> None:
        if getattr(self, "gap_seen", False):
            assert self.gate.safe is not None, "a fill sequence gap did not enter SAFE mode"


GateMachine.TestCase.settings = settings(
    max_examples=250, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestGateMachine = GateMachine.TestCase
