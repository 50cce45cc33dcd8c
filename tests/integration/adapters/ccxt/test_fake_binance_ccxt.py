"""Binance USD-M rejects from the fake, through unmodified ccxt and the adapter's error boundary."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.credentials import CcxtCredentials
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange

SYMBOL = "BTC/USDT:USDT"


async def _code(factory: Any, operation: str = "create_order") -> tuple[ErrorCode, bool, str]:
    with pytest.raises(NautilusExtError) as caught:
        await ccxt_call(factory, venue="BINANCE", operation=operation, timeout_secs=5)
    return caught.value.code, caught.value.retryable, str(caught.value.details.get("ccxt_error"))


def test_binance_codes_map_to_the_taxonomy() -> None:
    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        ex.binance.engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")])
        config = CcxtExecClientConfig(
            exchange_id="binanceusdm",
            market_types=("linear",),
            rest_url_override=ex.base_url,
            ws_url_override=ex.ws_url,
            enable_rate_limit=False,
            timeout_ms=3_000,
        )
        client = create_exchange(
            config, CcxtCredentials("binanceusdm", {"apiKey": "fake-key", "secret": "fake-secret"})
        )
        try:
            await client.load_markets()

            def order(*args: Any) -> Any:
                return lambda: client.create_order(SYMBOL, *args)

            expected = [
                (order("limit", "buy", 90, 49000), ErrorCode.INSUFFICIENT_BALANCE, "InsufficientFunds"),
                (
                    order("limit", "buy", 0.1, 50001, {"postOnly": True}),
                    ErrorCode.ORDER_REJECTED,
                    "OrderNotFillable",
                ),
                (
                    order("market", "sell", 1, None, {"reduceOnly": True}),
                    ErrorCode.ORDER_REJECTED,
                    "InvalidOrder",
                ),
                (order("limit", "buy", 0.001, 49000), ErrorCode.ORDER_REJECTED, "InvalidOrder"),
            ]
            for factory, code, ccxt_error in expected:
                assert await _code(factory) == (code, False, ccxt_error)
            ex.faults.clock_skew_ms = 30_000
            skew = await _code(client.fetch_balance, "fetch_balance")
            assert skew == (ErrorCode.VENUE_UNAVAILABLE, True, "InvalidNonce")
            ex.faults.clock_skew_ms = 0
            ex.faults.fault_path_prefix = "/fapi/v1/order"
            ex.faults.http_429_next = 1
            limited = await _code(order("limit", "buy", 0.1, 49000))
            assert limited[:2] == (ErrorCode.RATE_LIMITED, True)
            bad_key = create_exchange(
                config, CcxtCredentials("binanceusdm", {"apiKey": "fake-key", "secret": "wrong"})
            )
            try:
                bad_key.markets = client.markets
                bad_key.markets_by_id = client.markets_by_id
                refused = await _code(bad_key.fetch_balance, "fetch_balance")
                assert refused == (ErrorCode.INVALID_CONFIG, False, "AuthenticationError")
            finally:
                await bad_key.close()
        finally:
            await client.close()
            await ex.stop()

    asyncio.run(main())
