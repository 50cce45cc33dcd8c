"""
Schemas of the execution-results and signals clusters (the orders schema lives in
``nautilus_ext.orders.serialization``).

Decimals are exact text; timestamps are UTC nanoseconds (Arrow ``timestamp[ns, UTC]``);
``position_deltas`` maps canonical instrument keys to signed decimal deltas.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

import pyarrow as pa
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import ValidationError
from pydantic import field_validator

from nautilus_ext.errors import InvalidConfig

EXECUTION_RESULT_SCHEMA_VERSION: Final = 1
SIGNAL_SCHEMA_VERSION: Final = 1


@unique
class ResultKind(StrEnum):
    """What an execution-result row records."""

    FILL = "FILL"  # one (partial) fill
    REJECTED = "REJECTED"  # the venue or the safety layer refused the order
    CANCELLED = "CANCELLED"  # the order ended unfilled or partly filled by cancellation
    EXPIRED = "EXPIRED"  # the order's time in force ran out


@unique
class SignalKind(StrEnum):
    """The two signal families of seed 000."""

    MOVE = "MOVE"  # a strategy prediction (expected move), not necessarily traded
    REAL = "REAL"  # a signal that was executed (links to an order)


def _utc(v: datetime) -> datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware UTC")
    return v


class ExecutionResult(BaseModel):
    """
    One execution outcome row: a fill, or the terminal state of an order.

    Parameters
    ----------
    result_id : str
        Unique id of the row (e.g. the venue trade id or ``<operation_id>-<n>``).
    operation_id : str
        The unified Order's operation id.
    kind : ResultKind
        FILL, REJECTED, CANCELLED or EXPIRED.
    instrument_key : str
        Canonical key of the executed instrument.
    venue : str
        Venue code that executed.
    side : str
        BUY, SELL, BACK, LAY...
    ts_event : datetime
        When it happened at the venue (UTC); the row's day.
    fill_price, fill_quantity, fee : Decimal, optional
        Fill terms (FILL rows); ``fee`` in ``fee_currency``.
    fee_currency : str, optional
        Currency of the fee.
    liquidity : str, optional
        MAKER or TAKER.
    position_deltas : dict[str, Decimal]
        Canonical position key -> signed delta caused by this row.
    client_order_id, venue_order_id : str, optional
        Nautilus/venue order identifiers.
    reason : str, optional
        Reason code of a rejection or cancellation.
    run_id : str, optional
        Backtest/live run identifier.
    metadata : dict, optional
        Extra JSON-serialisable context.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    result_id: str
    operation_id: str
    kind: ResultKind
    instrument_key: str
    venue: str
    side: str
    ts_event: datetime
    fill_price: Decimal | None = None
    fill_quantity: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    liquidity: str | None = None
    position_deltas: dict[str, Decimal] = {}
    client_order_id: str | None = None
    venue_order_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] | None = None

    _check_ts = field_validator("ts_event")(_utc)

    @field_validator("fill_price", "fill_quantity")
    @classmethod
    def _non_negative(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v < 0:
            raise ValueError("must be >= 0")
        return v


class Signal(BaseModel):
    """
    One strategy signal: a MOVE prediction or a REAL executed signal.

    Parameters
    ----------
    signal_id : str
        Unique id.
    kind : SignalKind
        MOVE or REAL.
    strategy_id : str
        The emitting strategy.
    instrument_key : str
        Canonical key the signal is about.
    ts : datetime
        When the signal was produced (UTC); the row's day.
    direction : int
        +1 long/up, -1 short/down, 0 flat.
    strength : Decimal, optional
        Model score or expected move (fraction).
    horizon_secs : int, optional
        Prediction horizon.
    reference_price : Decimal, optional
        Price the signal refers to.
    operation_id : str, optional
        The order a REAL signal became.
    metadata : dict, optional
        Extra JSON-serialisable context.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal_id: str
    kind: SignalKind
    strategy_id: str
    instrument_key: str
    ts: datetime
    direction: int
    strength: Decimal | None = None
    horizon_secs: int | None = None
    reference_price: Decimal | None = None
    operation_id: str | None = None
    metadata: dict[str, Any] | None = None

    _check_ts = field_validator("ts")(_utc)

    @field_validator("direction")
    @classmethod
    def _direction(cls, v: int) -> int:
        if v not in (-1, 0, 1):
            raise ValueError("must be -1, 0 or 1")
        return v


_TS: Final = pa.timestamp("ns", tz="UTC")

EXECUTION_RESULT_ARROW_SCHEMA: Final = pa.schema(
    [
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("result_id", pa.string(), nullable=False),
        pa.field("operation_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("venue", pa.string(), nullable=False),
        pa.field("side", pa.string(), nullable=False),
        pa.field("ts_event", _TS, nullable=False),
        pa.field("fill_price", pa.string()),
        pa.field("fill_quantity", pa.string()),
        pa.field("fee", pa.string()),
        pa.field("fee_currency", pa.string()),
        pa.field("liquidity", pa.string()),
        pa.field("position_deltas", pa.map_(pa.string(), pa.string()), nullable=False),
        pa.field("client_order_id", pa.string()),
        pa.field("venue_order_id", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("metadata", pa.string()),
    ],
    metadata={
        b"nautilus_ext.schema": b"execution_result",
        b"nautilus_ext.version": str(EXECUTION_RESULT_SCHEMA_VERSION).encode(),
    },
)
"""Arrow schema of the execution-results cluster (one row per fill or terminal state)."""

SIGNAL_ARROW_SCHEMA: Final = pa.schema(
    [
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("signal_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("strategy_id", pa.string(), nullable=False),
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("ts", _TS, nullable=False),
        pa.field("direction", pa.int8(), nullable=False),
        pa.field("strength", pa.string()),
        pa.field("horizon_secs", pa.int64()),
        pa.field("reference_price", pa.string()),
        pa.field("operation_id", pa.string()),
        pa.field("metadata", pa.string()),
    ],
    metadata={
        b"nautilus_ext.schema": b"signal",
        b"nautilus_ext.version": str(SIGNAL_SCHEMA_VERSION).encode(),
    },
)
"""Arrow schema of the signals cluster (one row per signal)."""

BETTING_PNL_SCHEMA_VERSION: Final = 1
BETTING_PNL_ARROW_SCHEMA: Final = pa.schema(
    [
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("ts_settled", _TS, nullable=False),
        pa.field("market_id", pa.string(), nullable=False),
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("settled", pa.bool_(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("level", pa.string(), nullable=False),  # MARKET or SELECTION
        pa.field("selection", pa.string()),
        pa.field("selection_id", pa.int64()),
        pa.field("runner_name", pa.string()),
        pa.field("result", pa.string(), nullable=False),
        pa.field("back_stake", pa.string(), nullable=False),  # exact decimals as text
        pa.field("lay_stake", pa.string(), nullable=False),
        pa.field("gross_pnl", pa.string(), nullable=False),
        pa.field("commission", pa.string()),
        pa.field("net_pnl", pa.string()),
    ],
    metadata={
        b"nautilus_ext.schema": b"betting_pnl",
        b"nautilus_ext.version": str(BETTING_PNL_SCHEMA_VERSION).encode(),
    },
)
"""Arrow schema of the betting P&L cluster (per settled market and per selection)."""


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _json(v: dict[str, Any] | None) -> str | None:
    return None if v is None else json.dumps(v, sort_keys=True, default=str)


def results_to_table(results: Iterable[ExecutionResult]) -> pa.Table:
    """Return an Arrow table with :data:`EXECUTION_RESULT_ARROW_SCHEMA`."""
    rows = []
    for r in results:
        row = r.model_dump(mode="python")
        row["schema_version"] = EXECUTION_RESULT_SCHEMA_VERSION
        row["kind"] = str(r.kind)
        for name in ("fill_price", "fill_quantity", "fee"):
            row[name] = _dec(getattr(r, name))
        row["position_deltas"] = [(k, str(v)) for k, v in r.position_deltas.items()]
        row["metadata"] = _json(r.metadata)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=EXECUTION_RESULT_ARROW_SCHEMA)


def table_to_results(table: pa.Table) -> list[ExecutionResult]:
    """
    Rebuild execution results from an Arrow table.

    Raises
    ------
    InvalidConfig
        If a row does not validate (the message names the row's ``result_id``).
    """
    out = []
    for row in table.select(EXECUTION_RESULT_ARROW_SCHEMA.names).to_pylist():
        row.pop("schema_version")
        row["position_deltas"] = dict(row["position_deltas"] or [])
        row["metadata"] = None if row["metadata"] is None else json.loads(row["metadata"])
        try:
            out.append(ExecutionResult.model_validate(row))
        except ValidationError as e:
            raise InvalidConfig(f"bad execution result {row.get('result_id')!r}: {e}") from e
    return out


def signals_to_table(signals: Iterable[Signal]) -> pa.Table:
    """Return an Arrow table with :data:`SIGNAL_ARROW_SCHEMA`."""
    rows = []
    for s in signals:
        row = s.model_dump(mode="python")
        row["schema_version"] = SIGNAL_SCHEMA_VERSION
        row["kind"] = str(s.kind)
        row["strength"] = _dec(s.strength)
        row["reference_price"] = _dec(s.reference_price)
        row["metadata"] = _json(s.metadata)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=SIGNAL_ARROW_SCHEMA)


def table_to_signals(table: pa.Table) -> list[Signal]:
    """
    Rebuild signals from an Arrow table.

    Raises
    ------
    InvalidConfig
        If a row does not validate.
    """
    out = []
    for row in table.select(SIGNAL_ARROW_SCHEMA.names).to_pylist():
        row.pop("schema_version")
        row["metadata"] = None if row["metadata"] is None else json.loads(row["metadata"])
        try:
            out.append(Signal.model_validate(row))
        except ValidationError as e:
            raise InvalidConfig(f"bad signal {row.get('signal_id')!r}: {e}") from e
    return out


__all__ = [
    "BETTING_PNL_ARROW_SCHEMA",
    "EXECUTION_RESULT_ARROW_SCHEMA",
    "SIGNAL_ARROW_SCHEMA",
    "ExecutionResult",
    "ResultKind",
    "Signal",
    "SignalKind",
    "results_to_table",
    "signals_to_table",
    "table_to_results",
    "table_to_signals",
]
