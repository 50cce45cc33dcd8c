"""
The ONE boundary where the order book's answers and transport failures become typed errors.

CoW's order book answers a refusal with HTTP 4xx and ``{"errorType": ..., "description": ...}``;
:data:`COW_ERROR_MAP` names the error types we know (its OpenAPI document) and their taxonomy
class. Unknown types on a 4xx are an :class:`~nautilus_ext.errors.OrderRejected` naming the
type; 429 is :class:`~nautilus_ext.errors.RateLimited`; 5xx, timeouts and connection failures
are :class:`~nautilus_ext.errors.VenueUnavailable` (retryable).
"""

from __future__ import annotations

from typing import Final

from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import OrderRejected
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import VenueUnavailable


class CowOrderRejected(OrderRejected):
    """The order book refused a request; ``error_type`` is CoW's ``errorType``."""

    def __init__(self, message: str, *, error_type: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.error_type = error_type
        self.details.setdefault("error_type", error_type)


class CowOrderExpired(OrderRejected):
    """The order's ``validTo`` passed before it was filled: final, nothing (more) was filled."""


class CowOrderCancelled(OrderRejected):
    """The order was cancelled (off-chain) or invalidated (on-chain) before it was filled."""


COW_ERROR_MAP: Final[dict[str, type[NautilusExtError]]] = {
    # signature and ownership
    "InvalidSignature": CowOrderRejected,
    "WrongOwner": CowOrderRejected,
    "IncompatibleSigningScheme": CowOrderRejected,
    # the order's content
    "DuplicatedOrder": CowOrderRejected,
    "InsufficientValidTo": CowOrderRejected,
    "ExcessiveValidTo": CowOrderRejected,
    "InvalidNativeSellToken": CowOrderRejected,
    "SameBuyAndSellToken": CowOrderRejected,
    "UnsupportedToken": CowOrderRejected,
    "InvalidAppData": CowOrderRejected,
    "NonZeroFee": CowOrderRejected,
    "ZeroAmount": CowOrderRejected,
    "SellAmountOverflow": CowOrderRejected,
    "TransferSimulationFailed": CowOrderRejected,
    "QuoteNotFound": CowOrderRejected,
    "InvalidQuote": CowOrderRejected,
    "NoLiquidity": CowOrderRejected,
    "UnsupportedOrderType": CowOrderRejected,
    # funds
    "InsufficientBalance": InsufficientBalance,
    "InsufficientAllowance": InsufficientBalance,
    # lookups and cancellations
    "OrderNotFound": CowOrderRejected,
    "AlreadyCancelled": CowOrderCancelled,
    "OrderFullyExecuted": CowOrderRejected,
    "OrderExpired": CowOrderExpired,
    "OnChainOrder": CowOrderRejected,
}


def map_api_error(
    status: int, error_type: str | None, description: str, *, order_id: str | None = None
) -> NautilusExtError:
    """Translate an order-book answer (HTTP ``status``, CoW ``errorType``) into a typed error."""
    message = f"CoW order book {status} {error_type or 'error'}: {description}"
    details = {"http_status": status, "error_type": error_type}
    if status == 429:
        return RateLimited(message, venue=COWSWAP_VENUE, order_id=order_id, details=details)
    if status >= 500:
        return VenueUnavailable(message, venue=COWSWAP_VENUE, order_id=order_id, details=details)
    cls = COW_ERROR_MAP.get(error_type or "")
    if cls is None or cls is CowOrderRejected:
        return CowOrderRejected(
            message,
            error_type=error_type or "Unknown",
            venue=COWSWAP_VENUE,
            order_id=order_id,
            details=details,
        )
    if issubclass(cls, InvalidOrder | OrderRejected | InsufficientBalance):
        return cls(message, venue=COWSWAP_VENUE, order_id=order_id, details=details)
    return cls(message, venue=COWSWAP_VENUE, order_id=order_id, details=details)


def transport_error(exc: BaseException, what: str) -> VenueUnavailable:
    """A timeout or connection failure talking to the order book (retryable)."""
    return VenueUnavailable(
        f"CoW order book unreachable during {what}: {type(exc).__name__}: {exc}",
        venue=COWSWAP_VENUE,
        retryable=True,
    )


__all__ = [
    "COW_ERROR_MAP",
    "CowOrderCancelled",
    "CowOrderExpired",
    "CowOrderRejected",
    "map_api_error",
    "transport_error",
]
