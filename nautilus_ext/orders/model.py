"""
The unified ``Order`` (seed 000, "Order Schema") and its per-operation validation.

Numeric fields are :class:`~decimal.Decimal`. They accept Python numbers, Decimals, or strings,
and :meth:`Order.from_json` parses JSON numbers straight into Decimals, so a value never
changes on the way through (``0.1`` stays ``0.1``; 30-digit wei amounts stay exact).

``max_slippage`` is a fraction of the arrival price (``0.001`` = 10 bps).

Constructing an invalid order raises :class:`~nautilus_ext.errors.InvalidOrder` (a
``ValueError``) whose message names every failing field; ``details["errors"]`` lists them.

Project extensions to the seed schema (documented in the README): ``schema_version``;
``created_at`` (when the strategy emitted the order, UTC; needed to store orders by day);
operations ``repay`` and ``unstake`` with sides ``REPAY``/``UNSTAKE`` (AAVE repay and LST
unstake, needed by the unwind bundles of seed 000); side ``TRANSFER`` for ``transfer``.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from enum import StrEnum
from enum import unique
from typing import Annotated
from typing import Any
from typing import Final
from typing import Literal
from typing import Self

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.attributes import Address
from nautilus_ext.instruments.attributes import InstrumentKeyField as KeyField
from nautilus_ext.instruments.enums import DERIVATIVE_TYPES
from nautilus_ext.instruments.enums import SPORTS_TYPES

ORDER_SCHEMA_VERSION: Final = 1


@unique
class Operation(StrEnum):
    """What the order asks the execution layer to do."""

    TRADE = "trade"  # buy/sell a pair, derivative or equity on a venue
    SUPPLY = "supply"  # supply an asset to a lending protocol
    BORROW = "borrow"  # borrow from a lending protocol
    REPAY = "repay"  # repay lending-protocol debt (project extension)
    STAKE = "stake"  # stake into a liquid staking token
    UNSTAKE = "unstake"  # redeem a liquid staking token (project extension)
    WITHDRAW = "withdraw"  # withdraw a supplied asset
    SWAP = "swap"  # swap tokens on a DEX
    TRANSFER = "transfer"  # move an asset between venues or wallets
    BET = "bet"  # back or lay a selection on a betting exchange


@unique
class Side(StrEnum):
    """Direction of the order, by operation."""

    BUY = "BUY"  # buy the base asset or contract
    SELL = "SELL"  # sell the base asset or contract
    SUPPLY = "SUPPLY"  # add collateral to a lending protocol
    BORROW = "BORROW"  # take a loan
    REPAY = "REPAY"  # pay a loan back (project extension)
    STAKE = "STAKE"  # stake an asset
    UNSTAKE = "UNSTAKE"  # unstake an asset (project extension)
    WITHDRAW = "WITHDRAW"  # withdraw supplied collateral
    TRANSFER = "TRANSFER"  # move an asset (project extension)
    BACK = "BACK"  # bet for a selection
    LAY = "LAY"  # bet against a selection


@unique
class Urgency(StrEnum):
    """How fast the strategy wants the order done."""

    LOW = "low"  # passive, minimise cost
    MEDIUM = "medium"  # balanced
    HIGH = "high"  # aggressive, minimise timing risk


SIDES_BY_OPERATION: Final[dict[Operation, frozenset[Side]]] = {
    Operation.TRADE: frozenset({Side.BUY, Side.SELL}),
    Operation.SWAP: frozenset({Side.BUY, Side.SELL}),
    Operation.SUPPLY: frozenset({Side.SUPPLY}),
    Operation.BORROW: frozenset({Side.BORROW}),
    Operation.REPAY: frozenset({Side.REPAY}),
    Operation.STAKE: frozenset({Side.STAKE}),
    Operation.UNSTAKE: frozenset({Side.UNSTAKE}),
    Operation.WITHDRAW: frozenset({Side.WITHDRAW}),
    Operation.TRANSFER: frozenset({Side.TRANSFER}),
    Operation.BET: frozenset({Side.BACK, Side.LAY}),
}
"""The sides each operation allows."""

TYPES_BY_OPERATION: Final[dict[Operation, frozenset[InstrumentType]]] = {
    Operation.TRADE: frozenset(
        {
            InstrumentType.SPOT_PAIR,
            InstrumentType.PERPETUAL,
            InstrumentType.FUTURE,
            InstrumentType.OPTION,
            InstrumentType.EQUITY,
        },
    ),
    Operation.SWAP: frozenset({InstrumentType.SPOT_PAIR, InstrumentType.POOL}),
    Operation.SUPPLY: frozenset({InstrumentType.A_TOKEN}),
    Operation.WITHDRAW: frozenset({InstrumentType.A_TOKEN}),
    Operation.BORROW: frozenset({InstrumentType.DEBT_TOKEN}),
    Operation.REPAY: frozenset({InstrumentType.DEBT_TOKEN}),
    Operation.STAKE: frozenset({InstrumentType.LST}),
    Operation.UNSTAKE: frozenset({InstrumentType.LST}),
    Operation.TRANSFER: frozenset({InstrumentType.SPOT_ASSET}),
    Operation.BET: SPORTS_TYPES,
}
"""The instrument types each operation accepts."""

SELECTIONS_BY_MARKET: Final[dict[InstrumentType, frozenset[str]]] = {
    InstrumentType.MATCH_WINNER: frozenset({"HOME", "DRAW", "AWAY"}),
    InstrumentType.TOTAL_GOALS: frozenset({"OVER", "UNDER"}),
    InstrumentType.TOTAL_GOALS_OU_2_5: frozenset({"OVER", "UNDER"}),
    InstrumentType.BTTS: frozenset({"YES", "NO"}),
}
"""Valid selections per betting market (matched case-insensitively); WIN markets take a runner name."""

_INT64_MAX: Final = 2**63 - 1  # Parquet stores sequence_in_group and priority as int64
FREE_FORM_FIELDS: Final = ("function_params", "metadata")
"""Free-form JSON fields: their numbers are read as Decimals and written back as numbers."""


def _check_json(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        try:
            exact_json_dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"must be JSON-serialisable: {e}") from None
        except RecursionError:
            raise ValueError("must be JSON-serialisable: nested too deeply") from None
    return value


_MAX_DIGITS: Final = 96  # a uint256 wei amount has 78 digits; more is a typo or an attack
_MAX_EXPONENT: Final = 96


def _bounded(value: Decimal) -> Decimal:
    # an exact Decimal of 5,000 digits or exponent 1e999999999 validates but breaks every later
    # quantize (decimal.InvalidOperation) and Nautilus conversion: refuse it here
    if value.is_finite():
        digits = len(value.as_tuple().digits)
        if digits > _MAX_DIGITS or abs(value.adjusted()) > _MAX_EXPONENT:
            shown = f"{value:.6E}" if digits > 20 else str(value)
            raise ValueError(
                f"{shown} is out of range (at most {_MAX_DIGITS} digits, "
                f"magnitude 1e-{_MAX_EXPONENT}..1e{_MAX_EXPONENT})"
            )
    return value


def _small_integral(value: Any) -> Any:
    # pydantic turns an integral Decimal into an int: Decimal("1e999999999") would take
    # minutes and gigabytes, so refuse such magnitudes before the conversion
    if isinstance(value, Decimal | float) and (not _finite(value) or abs(Decimal(value).adjusted()) > 30):
        raise ValueError("must be an integer within int64")
    return value


def _finite(value: Decimal | float) -> bool:
    return (
        value.is_finite()
        if isinstance(value, Decimal)
        else value not in (float("inf"), float("-inf")) and value == value
    )


_JSON_NUMBER_LIMIT: Final = 4300  # digits and exponent, as Python limits int text


def _json_number(text: str) -> Decimal:
    # read every JSON fraction/exponent number as an exact Decimal, refusing absurd sizes
    # (1e999999999 is a valid JSON number that later conversions cannot handle)
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what decimal can represent
        raise ValueError(f"JSON number {text[:20]}... is out of range") from None
    if len(text) > _JSON_NUMBER_LIMIT or abs(value.adjusted()) > _JSON_NUMBER_LIMIT:
        raise ValueError(f"JSON number {text[:20]}... is out of range")
    return value


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys: an order saying "amount" twice is ambiguous
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise InvalidOrder(f"order JSON repeats the key {name!r}")
        obj[name] = value
    return obj


# one strict encoder for scalars: ``json.dumps(..., allow_nan=False)`` builds a new encoder per
# call, which made canonical order JSON (and so every LIVE confirmation hash) several times slower
_STRICT_SCALARS = json.JSONEncoder(allow_nan=False)
# compact and strict, the same text as exact_json_dumps for values without Decimals
_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def exact_json_dumps(value: Any, *, sort_keys: bool = False) -> str:
    """
    Return compact JSON text for a free-form value, writing Decimals as JSON numbers.

    ``json.loads(text, parse_float=Decimal)`` (as :meth:`Order.from_json` reads) gives back
    the same Decimals: a JSON number read into ``metadata`` survives a round trip as a number.

    Raises
    ------
    ValueError
        If a number is NaN or infinite.
    TypeError
        If a value is not JSON-serialisable.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return str(value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0])) if sort_keys else value.items()
        return (
            "{"
            + ",".join(
                f"{json.dumps(k if isinstance(k, str) else json.dumps(k))}:"
                f"{exact_json_dumps(v, sort_keys=sort_keys)}"
                for k, v in items
            )
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(exact_json_dumps(v, sort_keys=sort_keys) for v in value) + "]"
    return _STRICT_SCALARS.encode(value)


PositiveDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_bounded)]
SignedDecimal = Annotated[Decimal, Field(allow_inf_nan=False), AfterValidator(_bounded)]
Fraction = Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False), AfterValidator(_bounded)]
JsonDict = Annotated[dict[str, Any] | None, AfterValidator(_check_json)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]


class Order(BaseModel):
    """
    A unified order, as emitted by a strategy and executed on any venue family.

    See the seed 000 "Order Schema" for the meaning of each field. Construction validates
    every rule in :meth:`_validate_rules` and raises :class:`InvalidOrder` on failure.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    schema_version: Literal[1] = ORDER_SCHEMA_VERSION
    # core identification
    operation_id: NonEmpty
    operation: Operation
    instrument_key: KeyField
    # venue information
    venue: str | None = None
    source_venue: str | None = None
    target_venue: str | None = None
    # trading parameters
    side: Side
    amount: PositiveDecimal
    price: PositiveDecimal | None = None
    # sports betting
    odds: SignedDecimal | None = None
    selection: str | None = None
    # tokens (DeFi)
    source_token: str | None = None
    target_token: str | None = None
    # smart contract parameters (DeFi)
    contract_address: Address = None
    function_name: str | None = None
    function_params: JsonDict = None
    # expected position deltas: position instrument key -> signed delta
    expected_deltas: dict[KeyField, SignedDecimal] = Field(default_factory=dict)
    # execution preferences
    max_slippage: Fraction | None = None
    urgency: Urgency | None = None
    smart_execution_enabled: bool = False
    # risk management
    take_profit_price: PositiveDecimal | None = None
    stop_loss_price: PositiveDecimal | None = None
    # execution coordination
    atomic_group_id: str | None = None
    sequence_in_group: Annotated[int, BeforeValidator(_small_integral), Field(ge=0, le=_INT64_MAX)] | None = (
        None
    )
    priority: (
        Annotated[int, BeforeValidator(_small_integral), Field(ge=-_INT64_MAX - 1, le=_INT64_MAX)] | None
    ) = None
    # strategy metadata
    strategy_id: str | None = None
    strategy_intent: str | None = None
    created_at: AwareDatetime | None = None
    # additional metadata
    metadata: JsonDict = None

    # -- construction that raises the project's typed error -----------------------------------

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise _invalid(e, data) from None

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Literal["allow", "ignore", "forbid"] | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a mapping into an Order, raising :class:`InvalidOrder` on failure."""
        try:
            return super().model_validate(
                obj,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )
        except ValidationError as e:
            raise _invalid(e, obj if isinstance(obj, dict) else {}) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Order:
        """
        Parse one JSON object into an Order, reading JSON numbers as exact Decimals.

        Raises
        ------
        InvalidOrder
            If the text is not a JSON object or the order is invalid.
        """
        return cls.model_validate_json(text)

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Literal["allow", "ignore", "forbid"] | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """
        Parse JSON like :meth:`from_json`: exact Decimals, :class:`InvalidOrder` on failure.

        pydantic's own JSON parser reads numbers as binary floats
        (``0.1000000000000000055511151231257827`` would become ``0.1``).
        """
        try:
            data = json.loads(json_data, parse_float=_json_number, object_pairs_hook=_unique_keys)
        except InvalidOrder:
            raise
        except (ValueError, RecursionError) as e:
            # JSONDecodeError, UnicodeDecodeError, integers over Python's 4,300-digit limit,
            # and nesting deeper than the interpreter's recursion limit
            raise InvalidOrder(f"order JSON is malformed: {_clip(str(e) or type(e).__name__)}") from None
        except TypeError:
            raise InvalidOrder(f"order JSON must be text, got {type(json_data).__name__}") from None
        if not isinstance(data, dict):
            raise InvalidOrder(f"order JSON must be an object, got {type(data).__name__}")
        return cls.model_validate(
            data, strict=strict, extra=extra, context=context, by_alias=by_alias, by_name=by_name
        )

    def to_json(self) -> str:
        """
        Return the canonical JSON text (Decimal fields as strings, keys as canonical text).

        Numbers inside ``metadata`` and ``function_params`` stay JSON numbers, so
        ``Order.from_json(order.to_json()) == order`` for every order read by :meth:`from_json`.
        """
        # The text is what the LIVE confirmation hash covers, so it is built on every gate
        # check: the fixed fields (already JSON values) go through the C encoder, in one call
        # when there is no free-form field, else one call per run of fields; the free-form ones
        # go through exact_json_dumps (their Decimals are JSON numbers). The bytes are the same
        # as one exact_json_dumps per field.
        dumped = self.model_dump(mode="json")
        if self.function_params is None and self.metadata is None:
            return _COMPACT.encode(dumped)
        parts: list[str] = []
        plain: dict[str, Any] = {}
        for name, value in dumped.items():
            raw = getattr(self, name) if name in FREE_FORM_FIELDS else None
            if raw is None:
                plain[name] = value
                continue
            if plain:
                parts.append(_COMPACT.encode(plain)[1:-1])
                plain = {}
            parts.append(f"{_COMPACT.encode(name)}:{exact_json_dumps(raw)}")
        if plain:
            parts.append(_COMPACT.encode(plain)[1:-1])
        return "{" + ",".join(parts) + "}"

    # -- cross-field rules --------------------------------------------------------------------

    @model_validator(mode="after")
    def _validate_rules(self) -> Self:
        problems = list(_rule_problems(self))
        if problems:
            # raised as ValueError so pydantic reports them; __init__ converts to InvalidOrder
            raise ValueError("; ".join(problems))
        return self

    # -- convenience --------------------------------------------------------------------------

    @property
    def key(self) -> InstrumentKey:
        """Return the parsed canonical instrument key (alias of ``instrument_key``)."""
        return self.instrument_key

    @property
    def is_limit(self) -> bool:
        """Return whether the order carries a limit price."""
        return self.price is not None

    @property
    def signed_amount(self) -> Decimal:
        """Return the change of the key's position: negative for SELL, LAY, WITHDRAW, UNSTAKE, REPAY."""
        negative = {Side.SELL, Side.LAY, Side.WITHDRAW, Side.UNSTAKE, Side.REPAY}
        return -self.amount if self.side in negative else self.amount


def key_fixes_venue(o: Order) -> bool:
    """Return whether the order executes on its key's venue, so ``venue`` must agree with it."""
    key = o.instrument_key
    return key.is_venue_bound or (not key.is_routing and o.operation is not Operation.TRANSFER)


def _rule_problems(o: Order) -> list[str]:
    problems: list[str] = []
    key = o.instrument_key
    t = key.instrument_type

    allowed_sides = SIDES_BY_OPERATION[o.operation]
    if o.side not in allowed_sides:
        problems.append(
            f"side: {o.side} is not valid for operation {o.operation!s} "
            f"(allowed: {', '.join(sorted(allowed_sides))})",
        )
    allowed_types = TYPES_BY_OPERATION[o.operation]
    if t not in allowed_types:
        problems.append(
            f"instrument_key: {t} is not valid for operation {o.operation!s} "
            f"(allowed: {', '.join(sorted(allowed_types))})",
        )

    # venue consistency: the key fixes the venue unless it is a route (SPOT_PAIR) or the order
    # moves an asset between venues (transfer); protocol operations and equities execute on
    # the key's venue exactly like venue-bound derivatives, pools and betting markets
    if key_fixes_venue(o):
        if o.venue is None and t in DERIVATIVE_TYPES:
            problems.append(f"venue: required for {t} orders and must be {key.venue!r}")
        elif o.venue is not None and o.venue != key.venue:
            problems.append(
                f"venue: {o.venue!r} disagrees with the instrument key's venue {key.venue!r}",
            )

    if o.operation is Operation.BET:
        if o.odds is None:
            problems.append("odds: required for bet orders")
        elif o.odds <= 1:
            problems.append(f"odds: must be greater than 1.0, got {o.odds}")
        choices = SELECTIONS_BY_MARKET.get(t)
        if o.selection is None and choices is None:
            problems.append(f"selection: required for {t} bets (the runner)")
        if choices is not None:
            if o.selection is None:
                problems.append(f"selection: required for {t} bets (one of {', '.join(sorted(choices))})")
            elif o.selection.upper() not in choices:
                problems.append(
                    f"selection: {o.selection!r} is not valid for {t} (one of {', '.join(sorted(choices))})",
                )
    else:
        for name in ("odds", "selection"):
            if getattr(o, name) is not None:
                problems.append(f"{name}: only valid for bet orders")

    if o.operation is Operation.TRANSFER:
        if not o.source_venue or not o.target_venue:
            problems.append("source_venue/target_venue: both are required for transfer orders")
        elif o.source_venue == o.target_venue:
            problems.append(f"target_venue: must differ from source_venue {o.source_venue!r}")
    elif o.source_venue is not None or o.target_venue is not None:
        problems.append("source_venue/target_venue: only valid for transfer orders")

    if o.operation is Operation.SWAP:
        if not o.source_token or not o.target_token:
            problems.append("source_token/target_token: both are required for swap orders")
        elif o.source_token == o.target_token:
            problems.append(f"target_token: must differ from source_token {o.source_token!r}")

    if (o.atomic_group_id is None) != (o.sequence_in_group is None):
        if o.atomic_group_id is None:
            problems.append("sequence_in_group: only valid together with atomic_group_id")
        else:
            problems.append("sequence_in_group: required when atomic_group_id is set")

    for delta_key in o.expected_deltas:
        if not delta_key.is_position:
            problems.append(
                f"expected_deltas: key {delta_key!s} is a {delta_key.instrument_type} "
                f"({delta_key.role.lower()} instrument), not a position instrument",
            )

    if o.price is not None and o.side in (Side.BUY, Side.SELL):
        buy = o.side is Side.BUY
        tp, sl = o.take_profit_price, o.stop_loss_price
        if tp is not None and (tp <= o.price if buy else tp >= o.price):
            problems.append(
                f"take_profit_price: {tp} must be {'above' if buy else 'below'} price {o.price} "
                f"for a {o.side}",
            )
        if sl is not None and (sl >= o.price if buy else sl <= o.price):
            problems.append(
                f"stop_loss_price: {sl} must be {'below' if buy else 'above'} price {o.price} for a {o.side}",
            )
    if (
        o.take_profit_price is not None
        and o.stop_loss_price is not None
        and o.take_profit_price == o.stop_loss_price
    ):
        problems.append("take_profit_price: must differ from stop_loss_price")
    if (o.take_profit_price is not None or o.stop_loss_price is not None) and o.side not in (
        Side.BUY,
        Side.SELL,
    ):
        problems.append("take_profit_price/stop_loss_price: only valid for BUY/SELL orders")
    if o.created_at is not None and o.created_at.utcoffset() is None:  # pragma: no cover
        problems.append("created_at: must be timezone-aware")
    return problems


def _invalid(error: ValidationError, data: Any) -> InvalidOrder:
    errors = []
    for item in error.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in item["loc"]) or "order"
        msg = str(item["msg"]).removeprefix("Value error, ")
        errors.append({"field": loc, "message": msg})
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] != "order" else e["message"] for e in errors
    )
    order_id = data.get("operation_id") if isinstance(data, dict) else None
    return InvalidOrder(
        f"invalid order: {summary}",
        order_id=order_id if isinstance(order_id, str) else None,
        details={"errors": errors},
    )


def order_created_day(order: Order) -> datetime:
    """Return ``created_at`` or raise :class:`InvalidOrder` when the order has none."""
    if order.created_at is None:
        raise InvalidOrder(
            f"order {order.operation_id}: created_at is required to store it by day",
            order_id=order.operation_id,
        )
    return order.created_at
