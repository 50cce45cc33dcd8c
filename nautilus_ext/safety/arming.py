"""
Arming and intent confirmation for LIVE (seed 001, sections 6 and 8.6).

- **Arm**: an explicit, one-shot arm with a time-to-live. It cannot be extended or renewed:
  arming while armed is refused (disarm first), and it expires on its own at
  ``armed_at + ttl``. Disarming, expiry or SAFE mode end it, and with it every confirmation
  and auto-confirm policy it carried.
- **Stage**: a strategy's intent (a unified Order) is staged under its content hash, the
  SHA-256 of :meth:`nautilus_ext.orders.Order.to_json` (canonical JSON: one order, one hash).
- **Confirm**: only a confirmation carrying that exact hash, made while armed, releases the
  intent, once. Wrong hashes are refused and counted; too many disarm (lockout on abuse).
- **Auto-confirm**: policies from the config confirm intents of named strategies up to a size,
  but only when the current arm names them; they die with the arm.

Time comes from the injected clock only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.config import ArmingConfig
from nautilus_ext.safety.config import AutoConfirmPolicy
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import SafetyEvent

_NS = 1_000_000_000


def intent_hash(order: Order) -> str:
    """Return the content hash of ``order``: SHA-256 hex of its canonical JSON."""
    return hashlib.sha256(order.to_json().encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ArmState:
    """
    One arm: who armed, when, until when, and which auto-confirm policies it enables.

    Parameters
    ----------
    arm_id : int
        Sequence number of the arm in this controller (never reused).
    actor : str
        Who armed.
    armed_at_ns, expires_at_ns : int
        The arm's window, UNIX ns (expires at ``expires_at_ns`` exactly).
    auto_confirm : tuple[AutoConfirmPolicy, ...]
        Policies enabled by this arm.
    """

    arm_id: int
    actor: str
    armed_at_ns: int
    expires_at_ns: int
    auto_confirm: tuple[AutoConfirmPolicy, ...]


@dataclass(frozen=True, slots=True)
class StagedIntent:
    """
    An intent waiting for (or holding) its confirmation.

    Parameters
    ----------
    intent_hash : str
        The order's content hash.
    order : Order
        The staged order.
    staged_at_ns, expires_at_ns : int
        When it was staged and when it lapses unconfirmed, UNIX ns.
    confirmed_arm_id : int, optional
        The arm under which it was confirmed (``None`` while unconfirmed).
    confirmed_by : str, optional
        The human actor, or ``auto:<policy>`` for an auto-confirmation.
    """

    intent_hash: str
    order: Order
    staged_at_ns: int
    expires_at_ns: int
    confirmed_arm_id: int | None = None
    confirmed_by: str | None = None


class ArmingController:
    """
    The arming and confirmation state machine (see the module docstring).

    Parameters
    ----------
    config : ArmingConfig
        TTL bounds, lockout and auto-confirm policies.
    clock : Clock
        The injected clock (``timestamp_ns()``).
    sink : EventSink
        Receives every command and its outcome.
    """

    def __init__(self, config: ArmingConfig, clock: Clock, sink: EventSink) -> None:
        self._config = config
        self._clock = clock
        self._sink = sink
        self._policies = {p.name: p for p in config.auto_confirm}
        self._arm: ArmState | None = None
        self._arm_count = 0
        self._failed_confirmations = 0
        self._intents: dict[str, StagedIntent] = {}

    # -- arm / disarm -------------------------------------------------------------------------

    @property
    def arm_state(self) -> ArmState | None:
        """Return the current arm, or ``None`` when not armed (expired arms are dropped)."""
        self._expire()
        return self._arm

    def is_armed(self) -> bool:
        """Return whether a valid, unexpired arm exists now."""
        return self.arm_state is not None

    def arm(self, ttl_secs: int, actor: str, auto_confirm: Sequence[str] = ()) -> ArmState:
        """
        Arm LIVE execution for ``ttl_secs`` seconds.

        Parameters
        ----------
        ttl_secs : int
            Time-to-live, seconds (1 to ``max_ttl_secs``).
        actor : str
            The human arming.
        auto_confirm : list[str]
            Names of configured auto-confirm policies this arm enables.

        Raises
        ------
        RiskBlocked
            If already armed (arming is one-shot), the TTL is out of range or a policy is unknown.
        """
        now = self._clock.timestamp_ns()
        problem: str | None = None
        if not actor:
            problem = "an arm needs a named actor"
        elif self.is_armed():
            problem = "already armed: an arm is one-shot and cannot be extended; disarm first"
        elif not 0 < ttl_secs <= self._config.max_ttl_secs:
            problem = f"ttl_secs must be in 1..{self._config.max_ttl_secs}, got {ttl_secs}"
        else:
            unknown = sorted(set(auto_confirm) - set(self._policies))
            if unknown:
                problem = f"unknown auto-confirm policies: {', '.join(unknown)}"
        if problem is not None:
            raise self._refuse(CommandKind.ARM, actor, problem, ttl_secs=ttl_secs)
        self._arm_count += 1
        self._failed_confirmations = 0
        self._arm = ArmState(
            arm_id=self._arm_count,
            actor=actor,
            armed_at_ns=now,
            expires_at_ns=now + ttl_secs * _NS,
            auto_confirm=tuple(self._policies[n] for n in sorted(set(auto_confirm))),
        )
        self._sink(
            SafetyEvent(
                ts_ns=now,
                command=CommandKind.ARM,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                message=f"armed for {ttl_secs}s",
                details={
                    "ttl_secs": ttl_secs,
                    "arm_id": self._arm.arm_id,
                    "auto_confirm": ",".join(p.name for p in self._arm.auto_confirm),
                },
            ),
        )
        return self._arm

    def disarm(self, actor: str, reason: str = "operator disarm") -> bool:
        """Withdraw the arm and every confirmation; return whether an arm was active."""
        was_armed = self.is_armed()
        self._drop_arm()
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.DISARM,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                message=reason,
                details={"was_armed": was_armed},
            ),
        )
        return was_armed

    # -- intents ------------------------------------------------------------------------------

    def stage(self, order: Order) -> StagedIntent:
        """
        Stage ``order`` and return it with its hash (auto-confirmed if an armed policy covers it).

        Staging the same order again returns the existing intent unchanged while it is live.
        """
        now = self._clock.timestamp_ns()
        self._expire()
        digest = intent_hash(order)
        existing = self._intents.get(digest)
        if existing is not None:
            return existing
        intent = StagedIntent(
            intent_hash=digest,
            order=order,
            staged_at_ns=now,
            expires_at_ns=now + self._config.intent_ttl_secs * _NS,
        )
        policy = self.auto_policy(order)
        if policy is not None and self._arm is not None:
            intent = replace(intent, confirmed_arm_id=self._arm.arm_id, confirmed_by=f"auto:{policy.name}")
            self._sink(
                SafetyEvent(
                    ts_ns=now,
                    command=CommandKind.CONFIRM,
                    outcome=CommandOutcome.ACCEPTED,
                    actor=f"auto:{policy.name}",
                    strategy_id=order.strategy_id,
                    intent_hash=digest,
                    message=f"auto-confirmed by policy {policy.name}",
                ),
            )
        self._intents[digest] = intent
        return intent

    def confirm(self, digest: str, actor: str) -> StagedIntent:
        """
        Confirm the staged intent whose hash is exactly ``digest``.

        Raises
        ------
        RiskBlocked
            If not armed, the hash matches no live staged intent, or it is already confirmed.
            Wrong hashes beyond ``max_failed_confirmations`` per arm also disarm.
        """
        self._expire()
        if self._arm is None:
            raise self._refuse(CommandKind.CONFIRM, actor, "not armed", intent_hash=digest)
        intent = self._intents.get(digest)
        if intent is None:
            self._failed_confirmations += 1
            error = self._refuse(
                CommandKind.CONFIRM, actor, "no staged intent has this exact hash", intent_hash=digest
            )
            if self._failed_confirmations > self._config.max_failed_confirmations:
                self.disarm("system", "too many confirmations with a wrong hash (lockout)")
            raise error
        if intent.confirmed_arm_id == self._arm.arm_id:
            raise self._refuse(CommandKind.CONFIRM, actor, "intent already confirmed", intent_hash=digest)
        intent = replace(intent, confirmed_arm_id=self._arm.arm_id, confirmed_by=actor)
        self._intents[digest] = intent
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.CONFIRM,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                strategy_id=intent.order.strategy_id,
                intent_hash=digest,
                message="intent confirmed",
            ),
        )
        return intent

    def staged(self) -> list[StagedIntent]:
        """Return the live staged intents, oldest first."""
        self._expire()
        return sorted(self._intents.values(), key=lambda i: (i.staged_at_ns, i.intent_hash))

    def release_check(self, order: Order, digest: str | None = None) -> RiskBlocked | None:
        """
        Return why ``order`` may not be released now, or ``None`` if it may (nothing consumed).

        ``digest`` may pass ``intent_hash(order)`` when the caller has just computed it.
        """
        self._expire()
        if self._arm is None:
            return risk_blocked(Rule.NOT_ARMED, "LIVE execution is not armed (arm with a TTL first)")
        digest = intent_hash(order) if digest is None else digest
        intent = self._intents.get(digest)
        if intent is None or intent.confirmed_arm_id != self._arm.arm_id:
            return risk_blocked(
                Rule.NOT_CONFIRMED,
                f"order {order.operation_id} has no confirmation under the current arm "
                f"(stage it and confirm hash {digest})",
                intent_hash=digest,
            )
        return None

    def consume(self, digest: str) -> None:
        """Spend the confirmation with hash ``digest`` (call only after :meth:`release_check` passed)."""
        self._intents.pop(digest, None)

    # -- internals ----------------------------------------------------------------------------

    def auto_policy(self, order: Order) -> AutoConfirmPolicy | None:
        """Return the armed auto-confirm policy covering ``order``, if any."""
        if self._arm is None or order.strategy_id is None:
            return None
        for policy in self._arm.auto_confirm:
            if order.strategy_id in policy.strategies and order.amount <= policy.max_amount:
                return policy
        return None

    def _expire(self) -> None:
        now = self._clock.timestamp_ns()
        if self._arm is not None and now >= self._arm.expires_at_ns:
            self._sink(
                SafetyEvent(
                    ts_ns=now,
                    command=CommandKind.DISARM,
                    outcome=CommandOutcome.ACCEPTED,
                    actor="system",
                    message="arm expired (TTL elapsed)",
                    details={"arm_id": self._arm.arm_id},
                ),
            )
            self._drop_arm()
        lapsed = [d for d, i in self._intents.items() if now >= i.expires_at_ns]
        for digest in lapsed:
            del self._intents[digest]

    def _drop_arm(self) -> None:
        # confirmations belong to the arm that made them: dropping it voids them
        self._arm = None
        self._intents = {
            d: replace(i, confirmed_arm_id=None, confirmed_by=None) for d, i in self._intents.items()
        }

    def _refuse(
        self,
        command: CommandKind,
        actor: str,
        message: str,
        *,
        intent_hash: str | None = None,
        ttl_secs: int | None = None,
    ) -> RiskBlocked:
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=command,
                outcome=CommandOutcome.REJECTED,
                actor=actor or "unknown",
                intent_hash=intent_hash,
                rule=str(Rule.ARM_COMMAND),
                message=message,
                details={} if ttl_secs is None or ttl_secs <= 0 else {"ttl_secs": ttl_secs},
            ),
        )
        return risk_blocked(Rule.ARM_COMMAND, f"{command} refused: {message}", command=str(command))


__all__ = ["ArmState", "ArmingController", "StagedIntent", "intent_hash"]
