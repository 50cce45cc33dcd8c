"""
CoW Protocol constants: the GPv2 EIP-712 domain, the signed types, the order-book API paths.

Sources: CoW's ``GPv2Order.sol`` (``TYPE_HASH``, the ``KIND_*``/``BALANCE_*`` markers),
``GPv2Signing.sol`` (the domain: name "Gnosis Protocol", version "v2") and the order-book
API's OpenAPI document (``/api/v1/quote``, ``/api/v1/orders``, ``/api/v1/trades``).
"""

from __future__ import annotations

from typing import Final

COWSWAP_VENUE: Final[str] = "COWSWAP-ETH"
"""The instrument-key venue of CoW's Ethereum batch auction (configs/venues/defi.yaml)."""

DOMAIN_NAME: Final[str] = "Gnosis Protocol"
DOMAIN_VERSION: Final[str] = "v2"

EIP712_DOMAIN_TYPE: Final[list[dict[str, str]]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
ORDER_TYPE: Final[list[dict[str, str]]] = [
    {"name": "sellToken", "type": "address"},
    {"name": "buyToken", "type": "address"},
    {"name": "receiver", "type": "address"},
    {"name": "sellAmount", "type": "uint256"},
    {"name": "buyAmount", "type": "uint256"},
    {"name": "validTo", "type": "uint32"},
    {"name": "appData", "type": "bytes32"},
    {"name": "feeAmount", "type": "uint256"},
    {"name": "kind", "type": "string"},
    {"name": "partiallyFillable", "type": "bool"},
    {"name": "sellTokenBalance", "type": "string"},
    {"name": "buyTokenBalance", "type": "string"},
]
"""``GPv2Order.Data`` as signed (``GPv2Order.TYPE_HASH``)."""
ORDER_TYPE_STRING: Final[str] = (
    "Order(address sellToken,address buyToken,address receiver,uint256 sellAmount,uint256 buyAmount,"
    "uint32 validTo,bytes32 appData,uint256 feeAmount,string kind,bool partiallyFillable,"
    "string sellTokenBalance,string buyTokenBalance)"
)
CANCELLATIONS_TYPE: Final[list[dict[str, str]]] = [{"name": "orderUids", "type": "bytes[]"}]
"""The off-chain cancellation the order book accepts on ``DELETE /api/v1/orders``."""

ZERO_ADDRESS: Final[str] = "0x" + "00" * 20
ZERO_APP_DATA: Final[str] = "0x" + "00" * 32
ORDER_UID_LENGTH: Final[int] = 56
"""orderDigest (32) ++ owner (20) ++ validTo (4, big-endian)."""

PATH_QUOTE: Final[str] = "/api/v1/quote"
PATH_ORDERS: Final[str] = "/api/v1/orders"
PATH_TRADES: Final[str] = "/api/v1/trades"

__all__ = [
    "CANCELLATIONS_TYPE",
    "COWSWAP_VENUE",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_DOMAIN_TYPE",
    "ORDER_TYPE",
    "ORDER_TYPE_STRING",
    "ORDER_UID_LENGTH",
    "PATH_ORDERS",
    "PATH_QUOTE",
    "PATH_TRADES",
    "ZERO_ADDRESS",
    "ZERO_APP_DATA",
]
