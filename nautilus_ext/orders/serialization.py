"""
Lossless Order <-> Parquet rows. The Arrow schema lives here and nowhere else.

Decimals are stored as their exact text (Parquet decimals cannot hold 30-digit wei amounts
and 18-decimal prices at once); dictionaries are JSON text; instrument keys canonical text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from typing import Final

import pyarrow as pa

from nautilus_ext.orders.model import FREE_FORM_FIELDS
from nautilus_ext.orders.model import ORDER_SCHEMA_VERSION
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import exact_json_dumps

_DECIMAL_FIELDS: Final = (
    "amount",
    "price",
    "odds",
    "max_slippage",
    "take_profit_price",
    "stop_loss_price",
)
_JSON_FIELDS: Final = FREE_FORM_FIELDS

ORDER_ARROW_SCHEMA: Final = pa.schema(
    [
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("operation_id", pa.string(), nullable=False),
        pa.field("operation", pa.string(), nullable=False),
        pa.field("instrument_key", pa.string(), nullable=False),
        pa.field("venue", pa.string()),
        pa.field("source_venue", pa.string()),
        pa.field("target_venue", pa.string()),
        pa.field("side", pa.string(), nullable=False),
        pa.field("amount", pa.string(), nullable=False),
        pa.field("price", pa.string()),
        pa.field("odds", pa.string()),
        pa.field("selection", pa.string()),
        pa.field("source_token", pa.string()),
        pa.field("target_token", pa.string()),
        pa.field("contract_address", pa.string()),
        pa.field("function_name", pa.string()),
        pa.field("function_params", pa.string()),
        pa.field("expected_deltas", pa.map_(pa.string(), pa.string()), nullable=False),
        pa.field("max_slippage", pa.string()),
        pa.field("urgency", pa.string()),
        pa.field("smart_execution_enabled", pa.bool_(), nullable=False),
        pa.field("take_profit_price", pa.string()),
        pa.field("stop_loss_price", pa.string()),
        pa.field("atomic_group_id", pa.string()),
        pa.field("sequence_in_group", pa.int64()),
        pa.field("priority", pa.int64()),
        pa.field("strategy_id", pa.string()),
        pa.field("strategy_intent", pa.string()),
        pa.field("created_at", pa.timestamp("ns", tz="UTC")),
        pa.field("metadata", pa.string()),
    ],
    metadata={
        b"nautilus_ext.schema": b"order",
        b"nautilus_ext.version": str(ORDER_SCHEMA_VERSION).encode(),
    },
)
"""Arrow schema of the orders cluster (one row per order)."""


def order_to_row(order: Order) -> dict[str, Any]:
    """Return the Parquet row of an order (a dict matching :data:`ORDER_ARROW_SCHEMA`)."""
    row: dict[str, Any] = order.model_dump(mode="python")
    row["operation"] = str(order.operation)
    row["side"] = str(order.side)
    row["urgency"] = None if order.urgency is None else str(order.urgency)
    row["instrument_key"] = str(order.instrument_key)
    for name in _DECIMAL_FIELDS:
        value = getattr(order, name)
        row[name] = None if value is None else str(value)
    for name in _JSON_FIELDS:
        value = getattr(order, name)
        row[name] = None if value is None else exact_json_dumps(value, sort_keys=True)
    row["expected_deltas"] = [(str(k), str(v)) for k, v in order.expected_deltas.items()]
    return row


def row_to_order(row: dict[str, Any]) -> Order:
    """Rebuild an Order from a Parquet row (raises ``InvalidOrder`` if the row is invalid)."""
    data = {k: v for k, v in row.items() if v is not None}
    for name in _JSON_FIELDS:
        if name in data:
            data[name] = json.loads(data[name], parse_float=Decimal)
    deltas = row.get("expected_deltas") or []
    data["expected_deltas"] = dict(deltas.items() if isinstance(deltas, dict) else deltas)
    return Order.model_validate(data)


def orders_to_table(orders: Iterable[Order]) -> pa.Table:
    """Return an Arrow table of orders with :data:`ORDER_ARROW_SCHEMA`."""
    rows = [order_to_row(o) for o in orders]
    return pa.Table.from_pylist(rows, schema=ORDER_ARROW_SCHEMA)


def table_to_orders(table: pa.Table) -> list[Order]:
    """Rebuild orders from an Arrow table written with :data:`ORDER_ARROW_SCHEMA`."""
    missing = set(ORDER_ARROW_SCHEMA.names) - set(table.column_names)
    if missing:
        from nautilus_ext.errors import InvalidOrder

        raise InvalidOrder(f"orders table lacks columns {sorted(missing)}")
    return [row_to_order(r) for r in table.select(ORDER_ARROW_SCHEMA.names).to_pylist()]
