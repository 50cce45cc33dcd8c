"""
What the safety gate answers: allow, or block with a taxonomy code and the rule that fired.

A block is always carried by a typed :mod:`nautilus_ext.errors` error whose
``details["rule"]`` names the :class:`Rule`; :class:`Decision` wraps it so that callers that
must not raise (a Nautilus strategy) and callers that prefer exceptions
(:meth:`Decision.raise_if_blocked`) see the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked


@unique
class Rule(StrEnum):
    """The rule behind a block (``details["rule"]`` of the error)."""

    # modes, arming and confirmation (seed 001, sections 3, 6, 8.6)
    NOT_ARMED = "not_armed"  # LIVE without a valid, unexpired arm
    NOT_CONFIRMED = "not_confirmed"  # LIVE order whose exact hash was not confirmed
    ARM_COMMAND = "arm_command"  # an arm, confirm or disarm command was refused
    KILL_SWITCH = "kill_switch"  # global or per-strategy kill switch engaged
    NOT_RELEASED = "not_released"  # an order reached the execution path without passing the gate
    CHILD_EXCEEDS_PARENT = "child_exceeds_parent"  # an algorithm's children beyond the parent's size
    # risk policy matrix (section 12)
    MAX_POSITION = "max_position"  # per-asset position limit
    LOSS_KILL_SWITCH = "loss_kill_switch"  # per-strategy loss limit: halt + alert
    PORTFOLIO_LOSS_LIMIT = "portfolio_loss_limit"  # global loss limit: halt all
    DRAWDOWN_THROTTLE = "drawdown_throttle"  # strategy in drawdown: reduced size
    LATENCY_BREACH = "latency_breach"  # per-venue latency above bound
    MAX_DAILY_LOSS = "max_daily_loss"  # global daily loss: block + kill
    MAX_TRADE_SIZE = "max_trade_size"  # per-order size limit
    SLIPPAGE = "slippage"  # per-order slippage limit
    COOLDOWN = "cooldown"  # strategy cooling down after a drawdown
    # security (section 15)
    ASSET_NOT_ALLOWED = "asset_not_allowed"  # the asset is not in its venue's allowlist
    READ_ONLY_VENUE = "read_only_venue"  # the venue is configured with read-only keys
    # OMS safeguards (section 4.7)
    SAFE_MODE = "safe_mode"  # SAFE mode: no new risk
    DIRTY_POSITION = "dirty_position"  # position unconfirmed since the last fill
    FILL_SEQ_GAP = "fill_seq_gap"  # a fill sequence number was skipped
    POSITION_MISMATCH = "position_mismatch"  # persistent reconciliation mismatch
    MARKET_DATA_STALE = "market_data_stale"  # market data older than the bound
    WS_STALE = "ws_stale"  # venue WebSocket silent beyond the bound
    ORDER_RATE_LIMIT = "order_rate_limit"  # per-asset order rate cap
    # exchange trading hours (nautilus_ext.tradfi.sessions)
    MARKET_CLOSED = "market_closed"  # outside the instrument's session (halt, weekend, holiday)
    FLIPFLOP = "flipflop"  # repeated place/cancel cycles
    # strategy guards (seed 004's risk table)
    FORCED_REDUCTION = "forced_reduction"  # a venue reduced a hedged leg (ADL, liquidation, by hand)
    MARGIN_GUARD = "margin_guard"  # a venue's margin neared its maintenance level
    UNHEDGED = "unhedged"  # a multi-leg entry or exit left a naked leg it could not neutralise


def risk_blocked(rule: Rule, message: str, **details: Any) -> RiskBlocked:
    """Return a :class:`RiskBlocked` whose ``details`` name ``rule`` (plus ``details``)."""
    return RiskBlocked(message, details={"rule": str(rule), **details})


@dataclass(frozen=True, slots=True)
class Decision:
    """
    The gate's answer for one action.

    Parameters
    ----------
    error : NautilusExtError, optional
        ``None`` to allow; otherwise the typed error that blocks.
    intent_hash : str, optional
        The content hash of the order judged.
    details : dict
        Extra context (for example ``max_amount`` under a drawdown throttle).
    """

    error: NautilusExtError | None = None
    intent_hash: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        """Return whether the action may proceed."""
        return self.error is None

    @property
    def code(self) -> ErrorCode | None:
        """Return the taxonomy code of a block (``None`` when allowed)."""
        return None if self.error is None else self.error.code

    @property
    def rule(self) -> str | None:
        """Return the rule that blocked (``None`` when allowed)."""
        if self.error is None:
            return None
        rule = self.error.details.get("rule")
        return None if rule is None else str(rule)

    @property
    def message(self) -> str:
        """Return the block's message (empty when allowed)."""
        return "" if self.error is None else self.error.message

    @property
    def reason(self) -> str:
        """Return ``"CODE: message"`` for a block (empty when allowed)."""
        return "" if self.error is None else f"{self.error.code}: {self.error.message}"

    def raise_if_blocked(self) -> None:
        """Raise the blocking error, if any."""
        if self.error is not None:
            raise self.error


__all__ = ["Decision", "Rule", "risk_blocked"]
