"""The Coinbase Advanced Trade fake as plain ccxt sees it: CDP JWT checks, error codes, shapes."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro
import pytest
from ccxt.base import errors as ccxt_errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.constants import DEFAULT_EXCHANGE_OPTIONS
from nautilus_ext.adapters.ccxt.credentials import CcxtCredentials
from nautilus_ext.adapters.ccxt.errors import translate_error
from nautilus_ext.adapters.ccxt.parsing.orders import client_id_param
from nautilus_ext.adapters.ccxt.parsing.orders import edit_refusal
from nautilus_ext.errors import ErrorCode
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_KEY_NAME
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_PRIVATE_KEY_PEM

BTC = "BTC/USD"


def _other_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _ccxt(fake: FakeExchange, secret: str = TEST_PRIVATE_KEY_PEM, **options: Any) -> Any:
    ex = ccxtpro.coinbase(
        {
            "apiKey": TEST_KEY_NAME,
            "secret": secret,
            "enableRateLimit": False,
            "options": {**DEFAULT_EXCHANGE_OPTIONS["coinbase"], **options},
        }
    )
    ex.urls["api"] = point_urls(ex.urls["api"], fake.base_url, fake.ws_url)
    return ex


def with_fake(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body as ``fn(fake, ex, ...)`` in its own loop, with a seeded fake."""
    signature = inspect.signature(fn)

    def run(*args: Any, **kwargs: Any) -> None:
        async def main() -> None:
            fake = FakeExchange()
            await fake.start()
            fake.coinbase.engine.seed_book(
                "BTC-USD",
                bids=[("49999.99", "1"), ("49999", "2")],
                asks=[("50000.01", "1"), ("50001", "2")],
            )
            ex = _ccxt(fake)
            try:
                await fn(fake, ex, *args, **kwargs)
            finally:
                await ex.close()
                await fake.stop()

        asyncio.run(main())

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for name, p in signature.parameters.items() if name not in ("fake", "ex")]
    )
    return run


@with_fake
async def test_markets_book_balance_parse_unmodified(fake: FakeExchange, ex: Any) -> None:
    markets = await ex.load_markets()
    btc = markets[BTC]
    assert btc["id"] == "BTC-USD"
    assert btc["spot"]
    assert btc["type"] == "spot"
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (1e-08, 0.01)
    assert btc["taker"] == 0.006
    assert btc["maker"] == 0.004
    assert not any(m["contract"] for m in markets.values())  # spot only: no futures listed
    book = await ex.fetch_order_book(BTC)
    assert book["bids"][0] == [49999.99, 1.0]
    assert book["asks"][0] == [50000.01, 1.0]
    balance = await ex.fetch_balance()
    assert balance["USD"] == {"free": 100000.0, "used": 0.0, "total": 100000.0}
    assert balance["BTC"]["total"] == 0.0


@with_fake
async def test_order_lifecycle_shapes_and_wallets(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    param = client_id_param("coinbase")
    order = await ex.create_order(BTC, "limit", "buy", 0.3, 49999.99, {param: "O-1"})
    assert order["clientOrderId"] == "O-1"  # our id, not ccxt's random "ccxt-<uuid>"
    listed = await ex.fetch_open_orders(BTC)
    assert [(o["id"], o["amount"], o["price"], o["status"]) for o in listed] == [
        (order["id"], 0.3, 49999.99, "open")
    ]
    assert (await ex.fetch_balance())["USD"]["used"] == pytest.approx(0.3 * 49999.99 * 1.006)
    fake.coinbase.engine.external_trade("BTC-USD", Side.SELL, "1.3")
    fills = await ex.fetch_my_trades(BTC)
    assert [(f["order"], f["amount"], f["price"], f["takerOrMaker"], f["side"]) for f in fills] == [
        (order["id"], 0.3, 49999.99, "maker", "buy")
    ]
    assert fills[0]["fee"] == {"cost": pytest.approx(0.3 * 49999.99 * 0.004), "currency": "USD"}
    fetched = await ex.fetch_order(order["id"], BTC)
    assert (fetched["status"], fetched["filled"], fetched["average"]) == ("closed", 0.3, 49999.99)
    wallets = fake.coinbase.wallets()
    assert wallets["BTC"] == Decimal("0.3")
    assert wallets["USD"] == Decimal(100_000) - Decimal("0.3") * Decimal("49999.99") * Decimal("1.004")


@with_fake
async def test_reused_client_order_id_returns_the_first_order(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    first = await ex.create_order(BTC, "limit", "buy", 0.1, 49000, {"client_order_id": "O-7"})
    again = await ex.create_order(BTC, "limit", "buy", 0.1, 49000, {"client_order_id": "O-7"})
    assert again["id"] == first["id"]
    assert len(fake.coinbase.engine.open_orders("USER")) == 1


@with_fake
async def test_market_buys_by_quote_and_by_base(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    # ccxt's default: quote_size = amount * price rounded to cents (10,000.00 USD), which buys
    # 0.19999996 BTC, not the 0.2 asked for: why the adapter sends a base size instead
    await ex.create_order(BTC, "market", "buy", 0.2, 50000.01, {"client_order_id": "Q-1"})
    assert fake.coinbase.wallets()["BTC"] == Decimal("0.19999996")
    # the adapter's way: the base size itself, exact even across price levels
    params = {
        "client_order_id": "B-1",
        "createMarketBuyOrderRequiresPrice": False,
        "order_configuration": {"market_market_ioc": {"base_size": "1.3"}},
    }
    order = await ex.create_order(BTC, "market", "buy", 1.3, None, params)
    assert (await ex.fetch_order(order["id"], BTC))["filled"] == 1.3
    assert fake.coinbase.wallets()["BTC"] == Decimal("1.49999996")


@pytest.mark.parametrize(
    ("place", "ccxt_error", "code"),
    [
        # 90 BTC at 49,000 USD: far beyond the 100,000 USD wallet
        (("limit", "buy", 90, 49000), "InsufficientFunds", ErrorCode.INSUFFICIENT_BALANCE),
        # nothing to sell
        (("limit", "sell", 1, 60000), "InsufficientFunds", ErrorCode.INSUFFICIENT_BALANCE),
        # a post-only bid through the offer
        (("limit", "buy", 0.1, 50001, {"postOnly": True}), "ExchangeError", ErrorCode.ORDER_REJECTED),
    ],
)
@with_fake
async def test_refusals_map_to_the_taxonomy(
    fake: FakeExchange, ex: Any, place: tuple[Any, ...], ccxt_error: str, code: ErrorCode
) -> None:
    await ex.load_markets()
    kind, side, amount, price, *extra = place
    params = {"client_order_id": "R-1", **(extra[0] if extra else {})}
    with pytest.raises(ccxt_errors.BaseError) as info:
        await ex.create_order(BTC, kind, side, amount, price, params)
    assert type(info.value).__name__ == ccxt_error
    error = translate_error(info.value, venue="COINBASE", operation="create_order")
    assert error.code is code
    assert fake.coinbase.engine.open_orders("USER") == []


@with_fake
async def test_rate_limit_is_retryable(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    fake.faults.fault_path_prefix = "/api/v3/brokerage/orders"
    fake.faults.http_429_next = 1
    with pytest.raises(ccxt_errors.RateLimitExceeded) as info:
        await ex.create_order(BTC, "limit", "buy", 0.1, 49000, {"client_order_id": "L-1"})
    error = translate_error(info.value, venue="COINBASE", operation="create_order")
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.retryable


@with_fake
async def test_refused_edit_is_detected(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    order = await ex.create_order(BTC, "limit", "buy", 0.1, 49000, {"client_order_id": "E-1"})
    edited = await ex.edit_order(order["id"], BTC, "limit", "buy", 0.1, 48000.0)
    assert edit_refusal(edited) is None
    assert fake.coinbase.engine.open_orders("USER")[0].price == Decimal(48000)
    await ex.cancel_order(order["id"], BTC)
    # ccxt returns the venue's refusal as an "order" without raising
    refused = await ex.edit_order(order["id"], BTC, "limit", "buy", 0.1, 47000.0)
    assert refused["id"] is None
    assert edit_refusal(refused) == "ORDER_NOT_FOUND"


@with_fake
async def test_token_signed_by_another_key_is_refused(fake: FakeExchange, ex: Any) -> None:
    impostor = _ccxt(fake, secret=_other_key_pem())
    try:
        with pytest.raises(ccxt_errors.AuthenticationError) as info:
            await impostor.fetch_balance()
    finally:
        await impostor.close()
    assert (
        translate_error(info.value, venue="COINBASE", operation="fetch_balance").code
        is ErrorCode.INVALID_CONFIG
    )
    assert fake.coinbase.auth_failures[-1] == "bad signature"


@with_fake
async def test_expired_token_and_foreign_uri_are_refused(fake: FakeExchange, ex: Any) -> None:
    seconds = int(time.time())
    url = fake.base_url + "/api/v3/brokerage/accounts"
    async with aiohttp.ClientSession() as http:
        # a token minted for another request (its uri claim names GET /accounts)
        token = ex.create_auth_token(seconds, "GET", url)
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(url, headers=headers) as ok:
            assert ok.status == 200
        async with http.get(
            fake.base_url + "/api/v3/brokerage/orders/historical/fills", headers=headers
        ) as r:
            assert (r.status, await r.text()) == (401, "Unauthorized\n")
        assert fake.coinbase.auth_failures[-1].startswith("uri claim")
        # a token past its two minutes
        stale = ex.create_auth_token(seconds - 180, "GET", url)
        async with http.get(url, headers={"Authorization": f"Bearer {stale}"}) as r:
            assert r.status == 401
        assert fake.coinbase.auth_failures[-1] == "token expired"
        async with http.get(url) as r:
            assert r.status == 401


@with_fake
async def test_skewed_venue_clock_refuses_tokens(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    fake.faults.clock_skew_ms = 200_000  # the venue is 200 s ahead: ccxt's token already expired
    with pytest.raises(ccxt_errors.AuthenticationError):
        await ex.fetch_balance()
    assert fake.coinbase.auth_failures[-1] == "token expired"
    fake.faults.clock_skew_ms = -200_000  # 200 s behind: the token is not valid yet
    with pytest.raises(ccxt_errors.AuthenticationError):
        await ex.fetch_balance()
    assert fake.coinbase.auth_failures[-1] == "token not yet valid"
    fake.faults.clock_skew_ms = 0
    assert (await ex.fetch_balance())["USD"]["total"] == 100000.0


@with_fake
async def test_faults_withhold_fills_and_silence_market_data(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    order = await ex.create_order(BTC, "limit", "buy", 0.3, 49999.99, {"client_order_id": "F-1"})
    fake.faults.withhold_fills_next = 1
    fake.coinbase.engine.external_trade("BTC-USD", Side.SELL, "1.1")  # 0.1 of ours: withheld
    fake.coinbase.engine.external_trade("BTC-USD", Side.SELL, "0.2")  # the rest: listed
    assert (await ex.fetch_order(order["id"], BTC))["filled"] == 0.3
    assert [f["amount"] for f in await ex.fetch_my_trades(BTC)] == [0.2]
    fake.faults.silence_market_data = True
    with pytest.raises(ccxt_errors.ExchangeError) as info:
        await ex.fetch_order_book(BTC)
    error = translate_error(info.value, venue="COINBASE", operation="fetch_order_book")
    assert error.code is ErrorCode.VENUE_UNAVAILABLE  # market data, not an order: the venue failed
    fake.faults.silence_market_data = False
    assert (await ex.fetch_order_book(BTC))["asks"][0] == [50000.01, 1.0]


@with_fake
async def test_websocket_user_channel_needs_a_valid_jwt(fake: FakeExchange, ex: Any) -> None:
    await ex.load_markets()
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.ws_url + "/") as ws:
        await ws.send_str(json.dumps({"type": "subscribe", "channel": "user", "product_ids": []}))
        assert json.loads((await ws.receive(timeout=5)).data) == {
            "type": "error",
            "message": "authentication failure",
        }
        forged = _ccxt(fake, secret=_other_key_pem()).create_auth_token(int(time.time()))
        await ws.send_str(
            json.dumps({"type": "subscribe", "channel": "user", "product_ids": [], "jwt": forged})
        )
        assert json.loads((await ws.receive(timeout=5)).data)["message"] == "authentication failure"
    # ccxt's own subscription (a fresh JWT) gets the snapshot, then updates
    await ex.create_order(BTC, "limit", "buy", 0.3, 49999.99, {"client_order_id": "W-1"})
    snapshot = await asyncio.wait_for(ex.watch_orders(), 5)
    assert [(o["clientOrderId"], o["status"]) for o in snapshot] == [("W-1", "open")]
    watcher = asyncio.ensure_future(ex.watch_orders())
    await asyncio.sleep(0.05)
    fake.coinbase.engine.external_trade("BTC-USD", Side.SELL, "1.1")
    update = await asyncio.wait_for(watcher, 5)
    assert (update[-1]["status"], update[-1]["filled"], update[-1]["remaining"]) == ("open", 0.1, 0.2)


@with_fake
async def test_public_streams_parse(fake: FakeExchange, ex: Any) -> None:
    book = await asyncio.wait_for(ex.watch_order_book(BTC), 5)
    assert book["bids"][0] == [49999.99, 1.0]
    assert book["asks"][0] == [50000.01, 1.0]
    trades = asyncio.ensure_future(ex.watch_trades(BTC))
    await asyncio.sleep(0.1)
    fake.coinbase.engine.external_trade("BTC-USD", Side.BUY, "0.5")
    got = await asyncio.wait_for(trades, 5)
    assert [(t["amount"], t["price"], t["side"]) for t in got] == [(0.5, 50000.01, "buy")]
    book = await asyncio.wait_for(ex.watch_order_book(BTC), 5)
    assert book["asks"][0] == [50000.01, 0.5]


def test_adapter_keeps_coinbase_market_loading_option() -> None:
    config = CcxtExecClientConfig(
        exchange_id="coinbase",
        market_types=("spot",),
        rest_url_override="http://127.0.0.1:1",
        ws_url_override="ws://127.0.0.1:1",
    )
    exchange = create_exchange(
        config, CcxtCredentials("coinbase", {"apiKey": TEST_KEY_NAME, "secret": TEST_PRIVATE_KEY_PEM})
    )
    # ccxt's "fetchMarkets" names Coinbase's v3 loader: a {"types": ...} dict would silently
    # switch ccxt to the retail v2 loader; balances come from the v3 brokerage accounts
    assert exchange.options["fetchMarkets"] == "fetchMarketsV3"
    assert exchange.options["fetchBalance"] == "v3PrivateGetBrokerageAccounts"
    assert exchange.urls["api"] == {"rest": "http://127.0.0.1:1", "ws": "ws://127.0.0.1:1"}
