"""The ccxt exchange the adapter builds for Aster: options, local URLs and error codes."""

from __future__ import annotations

import pytest
from ccxt.base import errors as ccxt_errors

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.errors import translate_error
from nautilus_ext.errors import ErrorCode

LOCAL = {"rest_url_override": "http://127.0.0.1:9/aster", "ws_url_override": "ws://127.0.0.1:9/aster"}


def _exchange(**kwargs: object) -> object:
    return create_exchange(CcxtExecClientConfig(exchange_id="aster", **kwargs))  # type: ignore[arg-type]


def test_perpetuals_config_sets_swap_default_and_no_builder_fee() -> None:
    ex = _exchange(market_types=("swap",))
    assert ex.options["defaultType"] == "swap"  # type: ignore[attr-defined]
    assert ex.options["builderFee"] is False  # type: ignore[attr-defined]


@pytest.mark.parametrize("market_types", [None, ("spot", "swap")])
def test_ambiguous_types_keep_ccxts_default(market_types: tuple[str, ...] | None) -> None:
    assert _exchange(market_types=market_types).options["defaultType"] == "spot"  # type: ignore[attr-defined]


def test_local_urls_keep_the_stream_host_label() -> None:
    ws = _exchange(**LOCAL).urls["api"]["ws"]  # type: ignore[attr-defined]
    assert ws["public"]["swap"] == "ws://127.0.0.1:9/aster/fstream/stream"
    assert ws["private"]["spot"] == "ws://127.0.0.1:9/aster/sstream/ws"
    urls = {"ws": "wss://fstream.asterdex.com/ws", "rest": "https://fapi.asterdex.com/fapi"}
    assert point_urls(urls, "http://h", "ws://h") == {"ws": "ws://h/ws", "rest": "http://h/fapi"}


@pytest.mark.parametrize(
    ("code", "ccxt_error", "taxonomy", "retryable"),
    [
        ("-4225", "InvalidNonce", ErrorCode.VENUE_UNAVAILABLE, True),
        ("-4116", "DuplicateOrderId", ErrorCode.ORDER_REJECTED, False),
        ("-2031", "BadRequest", ErrorCode.INVALID_ORDER, False),
        ("-1022", "AuthenticationError", ErrorCode.INVALID_CONFIG, False),
    ],
)
def test_aster_codes_reach_the_taxonomy(
    code: str, ccxt_error: str, taxonomy: ErrorCode, retryable: bool
) -> None:
    ex = _exchange(**LOCAL)
    body = f'{{"code": {code}, "msg": "x"}}'
    with pytest.raises(ccxt_errors.BaseError) as info:
        ex.handle_errors(400, "", "u", "GET", {}, body, {"code": int(code), "msg": "x"}, {}, None)  # type: ignore[attr-defined]
    error = translate_error(info.value, venue="ASTER", operation="create_order")
    assert (error.details["ccxt_error"], error.code, error.retryable) == (ccxt_error, taxonomy, retryable)
