"""
Order-book messages (CoW's OpenAPI ``OrderParameters``, ``OrderQuoteRequest``,
``OrderQuoteResponse``, ``OrderCreation``, ``Order``, ``OrderCancellations``, ``Trade`` and
the error body). Amounts travel as decimal strings, addresses and hashes as ``0x`` hex, as on
the wire: :mod:`nautilus_ext.adapters.cowswap.parsing` turns them into integers.
"""

from __future__ import annotations

import msgspec


class CowOrderParameters(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=False):
    """The signed part of an order (``GPv2Order.Data``), as a quote returns it."""

    sell_token: str
    buy_token: str
    sell_amount: str
    buy_amount: str
    valid_to: int
    app_data: str
    fee_amount: str
    kind: str
    partially_fillable: bool
    receiver: str | None = None
    sell_token_balance: str = "erc20"
    buy_token_balance: str = "erc20"
    signing_scheme: str = "eip712"


class CowQuoteRequest(msgspec.Struct, rename="camel", frozen=True, omit_defaults=True):
    """``POST /api/v1/quote``: exactly one of the three amount fields is set, per ``kind``."""

    sell_token: str
    buy_token: str
    from_: str = msgspec.field(name="from")
    kind: str = "sell"
    receiver: str | None = None
    valid_to: int | None = None
    app_data: str = "0x" + "00" * 32
    partially_fillable: bool = False
    sell_token_balance: str = "erc20"
    buy_token_balance: str = "erc20"
    price_quality: str = "optimal"
    signing_scheme: str = "eip712"
    sell_amount_before_fee: str | None = None
    sell_amount_after_fee: str | None = None
    buy_amount_after_fee: str | None = None


class CowQuoteResponse(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=False):
    """The quote: order parameters to sign, the quoted fee, when the quote lapses."""

    quote: CowOrderParameters
    expiration: str
    verified: bool
    from_: str | None = msgspec.field(default=None, name="from")
    id: int | None = None


class CowOrderCreation(msgspec.Struct, rename="camel", frozen=True, omit_defaults=True):
    """``POST /api/v1/orders``: the signed order."""

    sell_token: str
    buy_token: str
    sell_amount: str
    buy_amount: str
    valid_to: int
    app_data: str
    fee_amount: str
    kind: str
    partially_fillable: bool
    signing_scheme: str
    signature: str
    receiver: str | None = None
    sell_token_balance: str = "erc20"
    buy_token_balance: str = "erc20"
    from_: str | None = msgspec.field(default=None, name="from")
    quote_id: int | None = None


class CowOrder(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=False):
    """``GET /api/v1/orders/{UID}``: the order with its state and executed amounts."""

    uid: str
    owner: str
    creation_date: str
    status: str
    sell_token: str
    buy_token: str
    sell_amount: str
    buy_amount: str
    valid_to: int
    app_data: str
    fee_amount: str
    kind: str
    partially_fillable: bool
    signing_scheme: str
    signature: str
    executed_sell_amount: str
    executed_sell_amount_before_fees: str
    executed_buy_amount: str
    executed_fee_amount: str
    invalidated: bool
    receiver: str | None = None
    sell_token_balance: str = "erc20"
    buy_token_balance: str = "erc20"
    order_class: str = msgspec.field(default="market", name="class")


class CowOrderCancellations(msgspec.Struct, rename="camel", frozen=True):
    """``DELETE /api/v1/orders``: a signed cancellation of one or more orders."""

    order_uids: list[str]
    signature: str
    signing_scheme: str = "eip712"


class CowTrade(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=False):
    """``GET /api/v1/trades``: one settlement ``Trade`` event of an order."""

    block_number: int
    log_index: int
    order_uid: str
    owner: str
    sell_token: str
    buy_token: str
    sell_amount: str
    sell_amount_before_fees: str
    buy_amount: str
    tx_hash: str | None = None


class CowApiError(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=False):
    """The order book's error body: ``{"errorType": ..., "description": ...}``."""

    error_type: str
    description: str
    data: dict[str, object] | None = None


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
