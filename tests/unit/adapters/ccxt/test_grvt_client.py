"""The ccxt exchange the adapter builds for GRVT: options, local URLs, client ids, error codes."""

from __future__ import annotations

import pytest
from ccxt.base import errors as ccxt_errors

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.errors import is_duplicate_order
from nautilus_ext.adapters.ccxt.errors import translate_error
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.errors import ErrorCode

LOCAL = {"rest_url_override": "http://127.0.0.1:9/grvt", "ws_url_override": "ws://127.0.0.1:9/grvt"}


def _exchange(**kwargs: object) -> object:
    return create_exchange(CcxtExecClientConfig(exchange_id="grvt", **kwargs))  # type: ignore[arg-type]


def test_no_builder_fee_and_a_ticker_selector_apart_from_the_book() -> None:
    options = _exchange().options  # type: ignore[attr-defined]
    assert options["builderFee"] is False
    # the book's default selector is <instrument>@500: the ticker's must differ
    assert options["watchTickers"] == {"channel": "v1.ticker.s", "interval": 1000}


def test_local_urls_keep_each_host_label_and_trailing_slash() -> None:
    urls = _exchange(**LOCAL).urls["api"]  # type: ignore[attr-defined]
    assert urls["privateEdge"] == "http://127.0.0.1:9/grvt/edge/"
    assert urls["privateTrading"] == "http://127.0.0.1:9/grvt/trades/"
    assert urls["publicMarket"] == "http://127.0.0.1:9/grvt/market-data/"
    assert urls["ws"]["publicMarket"] == "ws://127.0.0.1:9/grvt/market-data/ws/full"
    assert urls["ws"]["privateTrading"] == "ws://127.0.0.1:9/grvt/trades/ws/full"
    # other venues keep the old mapping
    plain = {"rest": "https://trades.grvt.io/", "ws": "wss://trades.grvt.io/ws/full"}
    assert point_urls(plain, "http://h", "ws://h") == {"rest": "http://h", "ws": "ws://h/ws/full"}


@pytest.mark.parametrize("coid", ["O-20261123-175901-001-000-1", "O-1", "x" * 36])
def test_client_ids_are_deterministic_uint64_in_the_api_range(coid: str) -> None:
    wire = venue_client_id("grvt", coid)
    assert wire.isdigit()
    assert 2**63 <= int(wire) <= 2**64 - 1
    assert venue_client_id("grvt", coid) == wire
    assert venue_client_id("grvt", coid + "0") != wire


@pytest.mark.parametrize(
    ("code", "ccxt_error", "taxonomy", "retryable"),
    [
        ("2012", "DuplicateOrderId", ErrorCode.ORDER_REJECTED, False),
        ("2001", "InvalidNonce", ErrorCode.VENUE_UNAVAILABLE, True),
        ("2000", "PermissionDenied", ErrorCode.INVALID_CONFIG, False),
        ("2002", "BadRequest", ErrorCode.INVALID_ORDER, False),
        ("1000", "AuthenticationError", ErrorCode.INVALID_CONFIG, False),
        ("2080", "InsufficientFunds", ErrorCode.INSUFFICIENT_BALANCE, False),
        ("2401", "OperationRejected", ErrorCode.ORDER_REJECTED, False),
        ("1006", "RateLimitExceeded", ErrorCode.RATE_LIMITED, True),
    ],
)
def test_grvt_codes_reach_the_taxonomy(
    code: str, ccxt_error: str, taxonomy: ErrorCode, retryable: bool
) -> None:
    ex = _exchange(**LOCAL)
    body = {"code": int(code), "message": "x", "status": 400}
    with pytest.raises(ccxt_errors.BaseError) as info:
        ex.handle_errors(
            400, "", "http://h/grvt/trades/full/v1/create_order", "POST", {}, str(body), body, {}, None
        )  # type: ignore[attr-defined]
    error = translate_error(info.value, venue="GRVT", operation="create_order")
    assert (error.details["ccxt_error"], error.code, error.retryable) == (ccxt_error, taxonomy, retryable)
    assert is_duplicate_order(error) is (code == "2012")
