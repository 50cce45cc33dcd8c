"""The unified Order: schema, validation, atomic groups and lossless serialization."""

from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.groups import group_orders
from nautilus_ext.orders.model import ORDER_SCHEMA_VERSION
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Side
from nautilus_ext.orders.model import Urgency
from nautilus_ext.orders.serialization import ORDER_ARROW_SCHEMA
from nautilus_ext.orders.serialization import order_to_row
from nautilus_ext.orders.serialization import orders_to_table
from nautilus_ext.orders.serialization import row_to_order
from nautilus_ext.orders.serialization import table_to_orders

__all__ = [
    "ORDER_ARROW_SCHEMA",
    "ORDER_SCHEMA_VERSION",
    "AtomicGroup",
    "Operation",
    "Order",
    "Side",
    "Urgency",
    "group_orders",
    "order_to_row",
    "orders_to_table",
    "row_to_order",
    "table_to_orders",
]
