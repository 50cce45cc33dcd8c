"""
The ONE boundary where ccxt (and transport) exceptions become the project's error taxonomy.

Every call into ccxt made by this adapter goes through :func:`ccxt_call`, which awaits it with
a timeout and re-raises any failure as a :class:`nautilus_ext.errors.NautilusExtError` with
``raise ... from e``. :data:`CCXT_ERROR_MAP` names every class of ccxt's exception hierarchy
explicitly (a test fails when ccxt adds one we have not mapped). Retry decisions are pure
functions of the translated error.
"""

from __future__ import annotations

import asyncio
import decimal
import json
import random
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Final
from typing import TypeVar

import aiohttp
from ccxt.base import errors as ccxt_errors

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import OrderRejected
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import VenueUnavailable

T = TypeVar("T")

# What ccxt's exception class means for us: (taxonomy class, retryable).
# "order" operations map generic venue refusals to OrderRejected; others to VenueUnavailable.
_ORDER_OR_VENUE: Final = None
CCXT_ERROR_MAP: Final[dict[str, tuple[type[NautilusExtError] | None, bool]]] = {
    # generic venue errors: depends on the operation
    "BaseError": (_ORDER_OR_VENUE, False),
    "ExchangeError": (_ORDER_OR_VENUE, False),
    "OperationRejected": (_ORDER_OR_VENUE, False),
    "NoChange": (_ORDER_OR_VENUE, False),
    "MarginModeAlreadySet": (_ORDER_OR_VENUE, False),
    "MarketClosed": (OrderRejected, False),
    "ManualInteractionNeeded": (_ORDER_OR_VENUE, False),
    "RestrictedLocation": (_ORDER_OR_VENUE, False),
    "ExchangeClosedByUser": (VenueUnavailable, False),
    "UnsubscribeError": (VenueUnavailable, False),
    # credentials and permissions: the configuration is wrong
    "AuthenticationError": (InvalidConfig, False),
    "PermissionDenied": (InvalidConfig, False),
    "AccountNotEnabled": (InvalidConfig, False),
    "AccountSuspended": (VenueUnavailable, False),
    "InvalidProxySettings": (InvalidConfig, False),
    # we asked for something invalid
    "ArgumentsRequired": (InvalidOrder, False),
    "BadRequest": (InvalidOrder, False),
    "BadSymbol": (InvalidOrder, False),
    "NotSupported": (InvalidOrder, False),
    "InvalidAddress": (InvalidOrder, False),
    "AddressPending": (InvalidOrder, False),
    # the venue refused the order
    "InvalidOrder": (OrderRejected, False),
    "OrderNotFound": (OrderRejected, False),
    "OrderNotCached": (OrderRejected, False),
    "OrderImmediatelyFillable": (OrderRejected, False),
    "OrderNotFillable": (OrderRejected, False),
    "DuplicateOrderId": (OrderRejected, False),
    "ContractUnavailable": (OrderRejected, False),
    "InsufficientFunds": (InsufficientBalance, False),
    # the world failed
    "OperationFailed": (VenueUnavailable, True),
    "NetworkError": (VenueUnavailable, True),
    "DDoSProtection": (RateLimited, True),
    "RateLimitExceeded": (RateLimited, True),
    "ExchangeNotAvailable": (VenueUnavailable, True),
    "OnMaintenance": (VenueUnavailable, True),
    "InvalidNonce": (VenueUnavailable, True),  # clock skew or a reused nonce
    "ChecksumError": (VenueUnavailable, True),
    "RequestTimeout": (VenueUnavailable, True),
    "BadResponse": (VenueUnavailable, True),
    "NullResponse": (VenueUnavailable, True),
    "CancelPending": (VenueUnavailable, True),
}


# Venue error codes ccxt maps too coarsely for us, by Nautilus venue: the code is the
# ``error`` field of the venue's JSON body, which ccxt quotes in the exception message.
VENUE_ERROR_CODES: Final[dict[str, dict[str, tuple[type[NautilusExtError], bool]]]] = {
    # Paradex (ccxt 4.5.90): VALIDATION_ERROR is a malformed request, not bad credentials;
    # NOT_ONBOARDED means the account was never registered (configuration); INVALID_TIMESTAMP
    # is clock skew on /auth (like InvalidNonce); INVALID_ORDER_SIZE is not in ccxt's table
    "PARADEX": {
        "VALIDATION_ERROR": (InvalidOrder, False),
        "NOT_ONBOARDED": (InvalidConfig, False),
        "INVALID_TIMESTAMP": (VenueUnavailable, True),
        "INVALID_ORDER_SIZE": (InvalidOrder, False),
    },
}


def venue_error_code(exc: BaseException) -> str | None:
    """Return the ``error`` field of a venue JSON body quoted in a ccxt message, if any."""
    _, _, body = str(exc).partition(" ")
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    code = payload.get("error") if isinstance(payload, dict) else None
    return code if isinstance(code, str) else None


def _lookup(exc: ccxt_errors.BaseError) -> tuple[str, type[NautilusExtError] | None, bool]:
    for klass in type(exc).__mro__:
        entry = CCXT_ERROR_MAP.get(klass.__name__)
        if entry is not None and issubclass(klass, ccxt_errors.BaseError):
            return klass.__name__, entry[0], entry[1]
    return "BaseError", _ORDER_OR_VENUE, False


def translate_error(
    exc: BaseException,
    *,
    venue: str,
    operation: str,
    order_id: str | None = None,
) -> NautilusExtError:
    """
    Return the taxonomy error for a failure of ``operation`` (pure; does not raise).

    Parameters
    ----------
    exc : BaseException
        The ccxt, aiohttp or timeout exception.
    venue : str
        The venue name for the error context.
    operation : str
        What was attempted (``create_order``, ``fetch_positions`` ...).
    order_id : str, optional
        The client order id involved.
    """
    if isinstance(exc, NautilusExtError):
        return exc
    details = {"operation": operation, "source": type(exc).__name__}
    message = f"{operation} failed on {venue}: {type(exc).__name__}: {exc}"
    if isinstance(exc, ccxt_errors.BaseError):
        name, klass, retryable = _lookup(exc)
        details["ccxt_error"] = name
        venue_code = venue_error_code(exc) if venue in VENUE_ERROR_CODES else None
        if venue_code is not None and venue_code in VENUE_ERROR_CODES[venue]:
            klass, retryable = VENUE_ERROR_CODES[venue][venue_code]
            details["venue_error"] = venue_code
        if klass is None:
            is_order_op = operation in ("create_order", "edit_order", "cancel_order")
            klass = OrderRejected if is_order_op else VenueUnavailable
        return klass(message, venue=venue, order_id=order_id, retryable=retryable, details=details)
    if isinstance(exc, asyncio.TimeoutError | TimeoutError | aiohttp.ClientError | OSError):
        return VenueUnavailable(message, venue=venue, order_id=order_id, retryable=True, details=details)
    return VenueUnavailable(message, venue=venue, order_id=order_id, retryable=False, details=details)


async def ccxt_call[T](
    factory: Callable[[], Awaitable[T]],
    *,
    venue: str,
    operation: str,
    timeout_secs: float,
    order_id: str | None = None,
) -> T:
    """
    Await ``factory()`` with a timeout; re-raise any failure as a taxonomy error.

    Raises
    ------
    NautilusExtError
        The translated failure (``__cause__`` is the original exception).
    """
    try:
        # ccxt's decimal_to_precision sets the current decimal context to ROUND_HALF_UP with
        # Underflow trapped, in place: give it a throwaway copy so our Decimal math never changes
        with decimal.localcontext():
            return await asyncio.wait_for(factory(), timeout_secs)
    except asyncio.CancelledError:
        raise
    except Exception as e:
        raise translate_error(e, venue=venue, operation=operation, order_id=order_id) from e


def should_retry(error: NautilusExtError, attempt: int, max_retries: int) -> bool:
    """Return whether to retry after ``attempt`` (1-based) failed with ``error``."""
    return error.retryable and attempt <= max_retries


def is_duplicate_order(error: NautilusExtError) -> bool:
    """Return whether the venue said the client order id was already used."""
    return error.details.get("ccxt_error") == "DuplicateOrderId" or (
        "duplicate" in error.message.lower() and error.code is ErrorCode.ORDER_REJECTED
    )


def backoff_delay(
    attempt: int,
    initial_ms: int,
    max_ms: int,
    random_fn: Callable[[], float] = random.random,
) -> float:
    """Return the delay (seconds) before retry ``attempt`` (1-based): full-jitter exponential."""
    ceiling = float(min(max_ms, initial_ms * 2 ** max(attempt - 1, 0)))
    return float((ceiling / 2 + random_fn() * ceiling / 2) / 1000)
