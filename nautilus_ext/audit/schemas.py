"""
Audit event schemas (seed 001, section 8.1), as pydantic v2 models.

Every event carries the common header of section 8: ``mode``, the event timestamp
``ts_event`` (the clock of the run: simulated in BACKTEST/REPLAY) and the wall timestamp
``ts_wall`` (both UNIX nanoseconds from 2000-01-01 to 2200-01-01 UTC, see :data:`MIN_TS_NS`),
``strategy_id``, the strategy code hash
``version_hash``, the run's ``config_hash`` and ``schema_version``. Quantities, prices and
fees are :class:`~decimal.Decimal` (serialized as strings) and floats are refused, so a record
hashes identically on every machine. Unknown fields are refused (``extra="forbid"``).

An Order is a stream of status records sharing the order ``id``; every other event ``id`` is
unique. Lineage links: ``Intent.decision_id`` -> Decision, ``Order.intent_id`` -> Intent,
``Fill.order_id`` -> Order (and ``Fill.intent_id``), ``Risk.subject_id`` -> Intent or Order.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Annotated
from typing import Any
from typing import Final
from typing import Literal

from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import Field
from pydantic import TypeAdapter
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.audit.errors import InvalidAuditRecord
from nautilus_ext.mode import Mode

SCHEMA_VERSION: Final = 1
"""The current audit schema version; bump it (and keep readers for old ones) on any change."""

MIN_TS_NS: Final = 946_684_800 * 1_000_000_000
"""Earliest accepted ``ts_event``/``ts_wall``: 2000-01-01T00:00:00Z in UNIX ns (inclusive)."""

MAX_TS_NS: Final = 7_258_118_400 * 1_000_000_000
"""Latest accepted ``ts_event``/``ts_wall``: 2200-01-01T00:00:00Z in UNIX ns (exclusive).

The range catches timestamps in the wrong unit: a value in ps or fs lands after 2200 (the
reproduced case read as the year 58904), one in us, ms or s lands in 1970. Both would be filed
under an absurd date folder (or none: Python dates end in 9999), so they are refused at the
schema instead of failing the writer.
"""

GLOBAL_STRATEGY_ID: Final = "GLOBAL"
"""The ``strategy_id`` of events that concern the whole system (a global kill, arming)."""


@unique
class EventType(StrEnum):
    """The kind of an audit event (the discriminator of :data:`AuditEvent`)."""

    DECISION = "DECISION"  # a strategy decided something (inputs and rationale)
    INTENT = "INTENT"  # a strategy asked for a trade
    ORDER = "ORDER"  # an order status record (staged, submitted, accepted, filled...)
    FILL = "FILL"  # an execution
    COMMAND = "COMMAND"  # an operator or control-plane command (arm, confirm, kill...)
    RISK = "RISK"  # a risk policy evaluation (allow, block, halt...)
    SAFEGUARD = "SAFEGUARD"  # an OMS safeguard transition (dirty, reconcile, SAFE mode...)


@unique
class Side(StrEnum):
    """Trade direction."""

    BUY = "BUY"  # increases the position
    SELL = "SELL"  # decreases the position


@unique
class OrderType(StrEnum):
    """Order type."""

    MARKET = "MARKET"  # execute at the best available price
    LIMIT = "LIMIT"  # execute at ``limit_price`` or better
    STOP_MARKET = "STOP_MARKET"  # market order once a trigger price trades
    STOP_LIMIT = "STOP_LIMIT"  # limit order once a trigger price trades


@unique
class TimeInForce(StrEnum):
    """How long an order stays working."""

    GTC = "GTC"  # good till cancelled
    IOC = "IOC"  # immediate or cancel
    FOK = "FOK"  # fill or kill
    GTD = "GTD"  # good till date
    DAY = "DAY"  # good for the trading day


@unique
class Urgency(StrEnum):
    """Execution urgency (the unified Order's ``urgency``, seed 000)."""

    LOW = "low"  # patient: minimize impact
    MEDIUM = "medium"  # balanced
    HIGH = "high"  # urgent: minimize time to fill


@unique
class OrderStatus(StrEnum):
    """Status carried by an Order record."""

    STAGED = "STAGED"  # built by the router, not yet confirmed or sent
    DENIED = "DENIED"  # refused before reaching the venue (safety gate)
    SUBMITTED = "SUBMITTED"  # sent to the venue
    ACCEPTED = "ACCEPTED"  # acknowledged by the venue
    PARTIALLY_FILLED = "PARTIALLY_FILLED"  # some quantity executed
    FILLED = "FILLED"  # fully executed
    CANCELED = "CANCELED"  # cancelled before full execution
    REJECTED = "REJECTED"  # refused by the venue
    EXPIRED = "EXPIRED"  # time in force elapsed


@unique
class CommandKind(StrEnum):
    """Operator or control-plane command (seed 001, sections 8.6 and 20)."""

    ARM = "ARM"  # one-shot arming for LIVE execution (the token itself is never logged)
    DISARM = "DISARM"  # withdraw arming
    CONFIRM = "CONFIRM"  # human confirmation of a staged intent (matching intent hash)
    REJECT = "REJECT"  # human refusal of a staged intent
    KILL = "KILL"  # kill switch: cancel and halt
    RESUME = "RESUME"  # leave SAFE mode / halt after review (human re-arming)
    SET_MODE = "SET_MODE"  # change of run mode or mode-specific override


@unique
class CommandOutcome(StrEnum):
    """What became of a command."""

    ACCEPTED = "ACCEPTED"  # the command took effect
    REJECTED = "REJECTED"  # the command was refused (wrong token, expired, mismatch...)


@unique
class RiskAction(StrEnum):
    """Outcome of a risk policy evaluation (seed 001, section 12)."""

    ALLOW = "ALLOW"  # the policy passed
    BLOCK = "BLOCK"  # the action was blocked
    HALT = "HALT"  # the strategy or system was halted
    REDUCE = "REDUCE"  # the size was reduced (drawdown throttle)
    DELAY = "DELAY"  # the action was delayed (cooldown)


@unique
class SafeguardKind(StrEnum):
    """OMS safeguard transition (seed 001, section 4.7)."""

    DIRTY = "DIRTY"  # position marked dirty after a fill
    CLEAN = "CLEAN"  # position confirmed, dirty flag cleared
    RECONCILE_OK = "RECONCILE_OK"  # REST snapshot matched the running sum
    RECONCILE_MISMATCH = "RECONCILE_MISMATCH"  # REST snapshot disagreed beyond the threshold
    SAFE_MODE_ENTER = "SAFE_MODE_ENTER"  # SAFE mode entered: no new risk
    SAFE_MODE_EXIT = "SAFE_MODE_EXIT"  # SAFE mode left after human re-arming
    FILL_SEQ_GAP = "FILL_SEQ_GAP"  # a fill sequence number was skipped
    FEED_STALE = "FEED_STALE"  # a feed went stale or disconnected
    FEED_HEALTHY = "FEED_HEALTHY"  # a feed recovered
    RATE_LIMIT_BREACH = "RATE_LIMIT_BREACH"  # per-asset order rate limit hit
    FLIPFLOP_DETECTED = "FLIPFLOP_DETECTED"  # repeated place/cancel cycles detected


def _refuse_float(value: Any) -> Any:
    # A float has already lost precision; make the caller pass a Decimal, int or string.
    if isinstance(value, float):
        raise ValueError("floats are not accepted: pass a Decimal, an int or a decimal string")
    return value


Amount = Annotated[Decimal, BeforeValidator(_refuse_float), Field(allow_inf_nan=False, max_digits=None)]
"""A finite decimal amount (fees, PnL, prices that may be zero or negative)."""

PositiveAmount = Annotated[Decimal, BeforeValidator(_refuse_float), Field(gt=0)]
"""A finite decimal amount strictly above zero (quantities and prices)."""

Identifier = Annotated[str, Field(min_length=1, max_length=256)]
"""A non-empty identifier."""

Timestamp = Annotated[int, Field(strict=True, ge=MIN_TS_NS, lt=MAX_TS_NS)]
"""UNIX nanoseconds in ``[MIN_TS_NS, MAX_TS_NS)`` (2000-01-01 to 2200-01-01 UTC); not a bool."""

HashHex = Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")]
"""A lower-case hexadecimal digest (a code hash, git commit or config hash)."""

DetailValue = Annotated[str | int | bool | Decimal | None, BeforeValidator(_refuse_float)]
"""A scalar detail value; decimals are serialized as strings."""

Details = dict[str, DetailValue]
"""Flat structured context of an event (never secrets: the store redacts them anyway)."""


class _EventBase(BaseModel):
    """The header shared by every audit event (seed 001, section 8)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, use_enum_values=False)

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Identifier
    mode: Mode
    ts_event: Timestamp = Field(description="Event time, UNIX ns (the run's clock).")
    ts_wall: Timestamp = Field(description="Wall time when recorded, UNIX ns.")
    strategy_id: Identifier
    version_hash: HashHex
    config_hash: HashHex


class DecisionEvent(_EventBase):
    """A strategy decision: what it looked at (by content address) and why."""

    event_type: Literal[EventType.DECISION] = EventType.DECISION
    inputs_ref: str | None = None
    rationale: str = ""
    tags: list[str] = Field(default_factory=list)
    details: Details = Field(default_factory=dict)


class _PricedOrderFields(BaseModel):
    """Order-shaped fields shared by Intent and Order, with the limit-price rule."""

    asset: Identifier
    side: Side
    qty: PositiveAmount
    order_type: OrderType
    limit_price: PositiveAmount | None = None
    tif: TimeInForce

    @model_validator(mode="after")
    def _check_limit_price(self) -> _PricedOrderFields:
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_price and self.limit_price is None:
            raise ValueError(f"order_type {self.order_type} requires limit_price")
        if not needs_price and self.limit_price is not None:
            raise ValueError(f"order_type {self.order_type} must not carry limit_price")
        return self


class IntentEvent(_PricedOrderFields, _EventBase):
    """A strategy's request for a trade (seed 001, section 5)."""

    event_type: Literal[EventType.INTENT] = EventType.INTENT
    decision_id: Identifier | None = None
    urgency: Urgency | None = None
    risk_tags: list[str] = Field(default_factory=list)
    rationale_ref: str | None = None
    reference_price: PositiveAmount | None = Field(
        default=None, description="Arrival price when the intent was formed (slippage base)."
    )


class OrderEvent(_PricedOrderFields, _EventBase):
    """One status record of an order; all records of an order share its ``id``."""

    event_type: Literal[EventType.ORDER] = EventType.ORDER
    venue: Identifier
    status: OrderStatus
    intent_id: Identifier | None = None
    correlation_id: str | None = None
    reason: str | None = None


class FillEvent(_EventBase):
    """An execution; ``fees`` are in ``fee_currency`` (the asset's quote currency if ``None``)."""

    event_type: Literal[EventType.FILL] = EventType.FILL
    venue: Identifier
    asset: Identifier
    side: Side
    qty: PositiveAmount
    price: PositiveAmount
    fees: Amount = Decimal(0)
    fee_currency: str | None = None
    order_id: Identifier
    intent_id: Identifier | None = None
    seq: int | None = Field(default=None, ge=0, description="Venue fill sequence, if any.")


class CommandEvent(_EventBase):
    """An operator or control-plane command and its outcome."""

    event_type: Literal[EventType.COMMAND] = EventType.COMMAND
    command: CommandKind
    outcome: CommandOutcome
    actor: Identifier
    target: Identifier
    intent_hash: HashHex | None = None
    ttl_secs: int | None = Field(default=None, gt=0)
    reason: str = ""
    details: Details = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_confirm(self) -> CommandEvent:
        if self.command is CommandKind.CONFIRM and self.intent_hash is None:
            raise ValueError("a CONFIRM command requires the matching intent_hash")
        return self


class RiskEvent(_EventBase):
    """A risk policy evaluation; ``subject_id`` is the intent or order it judged."""

    event_type: Literal[EventType.RISK] = EventType.RISK
    rule: Identifier
    action: RiskAction
    subject_id: Identifier | None = None
    asset: str | None = None
    reason_code: str | None = None
    details: Details = Field(default_factory=dict)


class SafeguardEvent(_EventBase):
    """An OMS safeguard transition (seed 001, section 4.7.6)."""

    event_type: Literal[EventType.SAFEGUARD] = EventType.SAFEGUARD
    kind: SafeguardKind
    asset: str | None = None
    venue: str | None = None
    details: Details = Field(default_factory=dict)


AuditEvent = Annotated[
    DecisionEvent | IntentEvent | OrderEvent | FillEvent | CommandEvent | RiskEvent | SafeguardEvent,
    Field(discriminator="event_type"),
]
"""Any audit event, discriminated by ``event_type``."""

# Input values are hidden in errors: they may hold secrets, and errors get logged.
# (mypy cannot match pydantic's overloads for an Annotated union; the runtime type is right.)
EVENT_ADAPTER: Final[TypeAdapter[AuditEvent]] = TypeAdapter(
    AuditEvent,  # type: ignore[arg-type, unused-ignore]
    config=ConfigDict(hide_input_in_errors=True),
)

EVENT_CLASSES: Final[dict[EventType, type[_EventBase]]] = {
    EventType.DECISION: DecisionEvent,
    EventType.INTENT: IntentEvent,
    EventType.ORDER: OrderEvent,
    EventType.FILL: FillEvent,
    EventType.COMMAND: CommandEvent,
    EventType.RISK: RiskEvent,
    EventType.SAFEGUARD: SafeguardEvent,
}
"""The model class of each event type."""


def describe_validation_error(error: ValidationError) -> list[str]:
    """
    Describe each problem of a pydantic error as ``"field.path: message"`` without input values.

    Input values are left out on purpose: they may hold secrets.
    """
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "<event>"
        problems.append(f"{location}: {item['msg']}")
    return problems


def parse_event(data: dict[str, Any]) -> AuditEvent:
    """
    Validate a decoded JSON event into its typed model.

    Parameters
    ----------
    data : dict
        The event as decoded from JSON (or built by hand).

    Returns
    -------
    AuditEvent
        The typed event.

    Raises
    ------
    InvalidAuditRecord
        If the event does not match its schema; ``details['errors']`` lists each problem.
    """
    try:
        return EVENT_ADAPTER.validate_python(data)
    except ValidationError as e:
        problems = describe_validation_error(e)
        raise InvalidAuditRecord(
            f"invalid audit event: {'; '.join(problems)}", details={"errors": problems}
        ) from e


def dump_event(event: AuditEvent) -> dict[str, Any]:
    """Return the JSON form of ``event`` (decimals as strings, enums as their values)."""
    return event.model_dump(mode="json")


__all__ = [
    "EVENT_ADAPTER",
    "EVENT_CLASSES",
    "GLOBAL_STRATEGY_ID",
    "MAX_TS_NS",
    "MIN_TS_NS",
    "SCHEMA_VERSION",
    "AuditEvent",
    "CommandEvent",
    "CommandKind",
    "CommandOutcome",
    "DecisionEvent",
    "Details",
    "EventType",
    "FillEvent",
    "IntentEvent",
    "Mode",
    "OrderEvent",
    "OrderStatus",
    "OrderType",
    "RiskAction",
    "RiskEvent",
    "SafeguardEvent",
    "SafeguardKind",
    "Side",
    "TimeInForce",
    "Urgency",
    "describe_validation_error",
    "dump_event",
    "parse_event",
]
