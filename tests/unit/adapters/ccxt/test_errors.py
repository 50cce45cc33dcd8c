"""The one ccxt -> taxonomy boundary: every ccxt exception class is mapped explicitly."""

from __future__ import annotations

import asyncio
import inspect

import aiohttp
import pytest
from ccxt.base import errors as ccxt_errors

from nautilus_ext.adapters.ccxt.errors import CCXT_ERROR_MAP
from nautilus_ext.adapters.ccxt.errors import backoff_delay
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.errors import is_duplicate_order
from nautilus_ext.adapters.ccxt.errors import should_retry
from nautilus_ext.adapters.ccxt.errors import translate_error
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError

CCXT_CLASSES = sorted(
    (c for _, c in inspect.getmembers(ccxt_errors, inspect.isclass) if issubclass(c, ccxt_errors.BaseError)),
    key=lambda c: c.__name__,
)


def test_every_ccxt_exception_class_is_mapped_explicitly() -> None:
    names = {c.__name__ for c in CCXT_CLASSES}
    unmapped = names - set(CCXT_ERROR_MAP)
    assert not unmapped, f"ccxt exception classes without a mapping: {sorted(unmapped)}"
    assert set(CCXT_ERROR_MAP) <= names, "mapping names a class ccxt no longer has"


@pytest.mark.parametrize("klass", CCXT_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("operation", ["create_order", "fetch_balance"])
def test_every_ccxt_exception_translates_to_the_taxonomy(klass: type, operation: str) -> None:
    error = translate_error(klass("boom"), venue="BYBIT", operation=operation, order_id="O-1")
    assert isinstance(error, NautilusExtError)
    assert error.venue == "BYBIT"
    assert error.order_id == "O-1"
    assert error.details["ccxt_error"] == klass.__name__


@pytest.mark.parametrize(
    ("klass", "code", "retryable"),
    [
        (ccxt_errors.RateLimitExceeded, ErrorCode.RATE_LIMITED, True),
        (ccxt_errors.DDoSProtection, ErrorCode.RATE_LIMITED, True),
        (ccxt_errors.InsufficientFunds, ErrorCode.INSUFFICIENT_BALANCE, False),
        (ccxt_errors.InvalidOrder, ErrorCode.ORDER_REJECTED, False),
        (ccxt_errors.OrderNotFound, ErrorCode.ORDER_REJECTED, False),
        (ccxt_errors.RequestTimeout, ErrorCode.VENUE_UNAVAILABLE, True),
        (ccxt_errors.ExchangeNotAvailable, ErrorCode.VENUE_UNAVAILABLE, True),
        (ccxt_errors.InvalidNonce, ErrorCode.VENUE_UNAVAILABLE, True),
        (ccxt_errors.BadSymbol, ErrorCode.INVALID_ORDER, False),
        (ccxt_errors.AuthenticationError, ErrorCode.INVALID_CONFIG, False),
    ],
)
def test_specific_codes(klass: type, code: ErrorCode, retryable: bool) -> None:
    error = translate_error(klass("x"), venue="V", operation="create_order")
    assert error.code is code
    assert error.retryable is retryable


def test_generic_exchange_error_depends_on_operation() -> None:
    on_order = translate_error(ccxt_errors.ExchangeError("x"), venue="V", operation="create_order")
    on_fetch = translate_error(ccxt_errors.ExchangeError("x"), venue="V", operation="fetch_ticker")
    assert on_order.code is ErrorCode.ORDER_REJECTED
    assert on_fetch.code is ErrorCode.VENUE_UNAVAILABLE


def test_transport_errors_are_retryable_venue_unavailable() -> None:
    for exc in (TimeoutError(), aiohttp.ClientConnectionError("x"), ConnectionResetError()):
        error = translate_error(exc, venue="V", operation="fetch_ticker")
        assert error.code is ErrorCode.VENUE_UNAVAILABLE
        assert error.retryable


def test_ccxt_call_raises_translated_with_cause() -> None:
    async def failing() -> None:
        raise ccxt_errors.InsufficientFunds("no money")

    with pytest.raises(NautilusExtError) as info:
        asyncio.run(ccxt_call(failing, venue="V", operation="create_order", timeout_secs=1))
    assert info.value.code is ErrorCode.INSUFFICIENT_BALANCE
    assert isinstance(info.value.__cause__, ccxt_errors.InsufficientFunds)


def test_ccxt_call_times_out() -> None:
    async def slow() -> None:
        await asyncio.sleep(5)

    with pytest.raises(NautilusExtError) as info:
        asyncio.run(ccxt_call(slow, venue="V", operation="fetch_ticker", timeout_secs=0.05))
    assert info.value.code is ErrorCode.VENUE_UNAVAILABLE
    assert info.value.retryable


def test_retry_and_backoff_are_pure() -> None:
    retryable = translate_error(ccxt_errors.RateLimitExceeded("x"), venue="V", operation="o")
    final = translate_error(ccxt_errors.InvalidOrder("x"), venue="V", operation="create_order")
    assert should_retry(retryable, 1, 2)
    assert not should_retry(retryable, 3, 2)
    assert not should_retry(final, 1, 2)
    assert backoff_delay(1, 100, 1000, random_fn=lambda: 0.0) == pytest.approx(0.05)
    assert backoff_delay(10, 100, 1000, random_fn=lambda: 1.0) == pytest.approx(1.0)
    duplicate = translate_error(
        ccxt_errors.InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}'),
        venue="V",
        operation="create_order",
    )
    assert is_duplicate_order(duplicate)
    assert not is_duplicate_order(final)


def test_ccxt_call_keeps_the_callers_decimal_context() -> None:
    """ccxt's number formatting sets ROUND_HALF_UP and traps Underflow in place; not on us."""
    import decimal

    from ccxt.base.decimal_to_precision import ROUND
    from ccxt.base.decimal_to_precision import decimal_to_precision

    async def formats() -> str:
        return str(decimal_to_precision("1.25", ROUND, 1))

    async def run() -> tuple[str, decimal.Context]:
        with decimal.localcontext() as ours:
            ours.rounding = decimal.ROUND_HALF_EVEN
            ours.traps[decimal.Underflow] = False
            out = await ccxt_call(formats, venue="X", operation="format", timeout_secs=1.0)
            assert decimal.Decimal("0.125").quantize(decimal.Decimal("0.01")) == decimal.Decimal("0.12")
            return out, decimal.getcontext().copy()

    out, after = asyncio.run(run())
    assert out == "1.3"  # ccxt still rounds half up inside its own call
    assert after.rounding == decimal.ROUND_HALF_EVEN
    assert not after.traps[decimal.Underflow]
