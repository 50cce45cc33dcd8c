"""Wire messages of CoW's order-book API, with the API's own field names (camelCase on the wire)."""

from __future__ import annotations

from nautilus_ext.adapters.cowswap.schemas.order import CowApiError
from nautilus_ext.adapters.cowswap.schemas.order import CowOrder
from nautilus_ext.adapters.cowswap.schemas.order import CowOrderCancellations
from nautilus_ext.adapters.cowswap.schemas.order import CowOrderCreation
from nautilus_ext.adapters.cowswap.schemas.order import CowOrderParameters
from nautilus_ext.adapters.cowswap.schemas.order import CowQuoteRequest
from nautilus_ext.adapters.cowswap.schemas.order import CowQuoteResponse
from nautilus_ext.adapters.cowswap.schemas.order import CowTrade

__all__ = [
    "CowApiError",
    "CowOrder",
    "CowOrderCancellations",
    "CowOrderCreation",
    "CowOrderParameters",
    "CowQuoteRequest",
    "CowQuoteResponse",
    "CowTrade",
]
