"""The Paradex fake through raw StarkNet-signed requests and unmodified ccxt: auth, JWTs,
order signatures, onboarding, error codes and the payload shapes ccxt parses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import ccxt.pro as ccxtpro
import pytest

from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.errors import is_duplicate_order
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.paradex import TEST_ETH_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.paradex import derive_account
from nautilus_ext_testkit.fake_exchange.paradex import system_config
from nautilus_ext_testkit.fake_exchange.paradex_wire import STARKNET_CHAIN_ID

SYMBOL = "BTC/USD:USDC"
MARKET = "BTC-USD-PERP"
OTHER_ETH_KEY = "0x" + "33" * 32
WALLET = "0x" + "ab" * 20


def _client(ex: FakeExchange, key: str = TEST_ETH_PRIVATE_KEY, **options: Any) -> Any:
    client = ccxtpro.paradex(
        {
            "privateKey": key,
            "walletAddress": WALLET,
            "enableRateLimit": False,
            "timeout": 5000,
            "options": {"sbe": False, **options},  # JSON-RPC frames, as the adapter asks
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url, ex.ws_url)
    return client


def _signer(key: str = TEST_ETH_PRIVATE_KEY) -> Any:
    # a synchronous ccxt instance used only for its StarkNet signing helpers
    signer = ccxt.paradex({"privateKey": key, "walletAddress": WALLET})
    signer.options["systemConfig"] = system_config()
    return signer


def _auth_headers(key: str, timestamp: int, expiration: int, account: str | None = None) -> dict[str, str]:
    signer = _signer(key)
    stark = signer.retrieve_account()
    address = account or stark["address"]
    fields = ["method", "path", "body", "timestamp", "expiration"]
    msg = signer.starknet_encode_structured_data(
        {"name": "Paradex", "chainId": STARKNET_CHAIN_ID, "version": 1},
        {"Request": [{"name": n, "type": "felt"} for n in fields]},
        {"method": "POST", "path": "/v1/auth", "body": "", "timestamp": timestamp, "expiration": expiration},
        address,
    )
    return {
        "PARADEX-STARKNET-ACCOUNT": address,
        "PARADEX-STARKNET-SIGNATURE": signer.starknet_sign(msg, stark["privateKey"]),
        "PARADEX-TIMESTAMP": str(timestamp),
        "PARADEX-SIGNATURE-EXPIRATION": str(expiration),
    }


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]]) -> None:
    async def main() -> None:
        ex = FakeExchange(balances={"paradex": Decimal(10_000)})
        await ex.start()
        ex.paradex.engine.seed_book(
            MARKET, bids=[("49999.9", "1"), ("49999.0", "2")], asks=[("50000.1", "1"), ("50001.0", "2")]
        )
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _post(ex: FakeExchange, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(ex.base_url + path, headers=headers, json=body) as resp,
    ):
        return resp.status, await resp.json()


async def _get(ex: FakeExchange, path: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http, http.get(ex.base_url + path, headers=headers) as resp:
        return resp.status, await resp.json()


async def _taxonomy(factory: Callable[[], Awaitable[Any]], op: str = "create_order") -> NautilusExtError:
    with pytest.raises(NautilusExtError) as info:
        await ccxt_call(factory, venue="PARADEX", operation=op, timeout_secs=10)
    return info.value


def test_auth_verifies_the_starknet_signature_and_issues_a_jwt() -> None:
    async def body(ex: FakeExchange) -> None:
        now = ex.now_ms() // 1000
        status, ok = await _post(ex, "/v1/auth", _auth_headers(TEST_ETH_PRIVATE_KEY, now, now + 180))
        assert status == 200
        token = ok["jwt_token"]
        assert (await _get(ex, "/v1/balance", token))[1]["results"][0]["token"] == "USDC"
        # the right account, signed by another key: the signature does not verify
        mine = derive_account(TEST_ETH_PRIVATE_KEY)["address"]
        forged = _auth_headers(OTHER_ETH_KEY, now, now + 180, account=mine)
        status, refused = await _post(ex, "/v1/auth", forged)
        assert (status, refused["error"]) == (401, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
        # a signed header changed after signing
        tampered = {
            **_auth_headers(TEST_ETH_PRIVATE_KEY, now, now + 180),
            "PARADEX-SIGNATURE-EXPIRATION": str(now + 170),
        }
        assert (await _post(ex, "/v1/auth", tampered))[1]["error"] == "STARKNET_SIGNATURE_VERIFICATION_FAILED"
        stale = _auth_headers(TEST_ETH_PRIVATE_KEY, now - 600, now + 180)
        assert (await _post(ex, "/v1/auth", stale))[1]["error"] == "INVALID_TIMESTAMP"
        expired = _auth_headers(TEST_ETH_PRIVATE_KEY, now - 10, now - 1)
        assert (await _post(ex, "/v1/auth", expired))[1]["error"] == "INVALID_SIGNATURE_EXPIRATION"
        stranger = _auth_headers(OTHER_ETH_KEY, now, now + 180)
        assert (await _post(ex, "/v1/auth", stranger))[1] == {
            "error": "NOT_ONBOARDED",
            "message": "User has never called /onboarding endpoint",
            "data": None,
        }
        # bearer tokens: missing, forged and expired ones are refused
        assert (await _get(ex, "/v1/balance", None))[1]["message"] == "missing or malformed jwt"
        head, claims, mac = token.split(".")
        forged_token = f"{head}.{claims}.{mac[:-2]}AA"
        assert (await _get(ex, "/v1/balance", forged_token))[0] == 401
        ex.faults.clock_skew_ms = 301_000  # the venue clock passes the JWT's five minutes
        status, late = await _get(ex, "/v1/balance", token)
        assert (status, late["message"]) == (401, "invalid or expired jwt")

    _in_loop(body)


def test_orders_must_carry_the_accounts_starknet_signature() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            await client.load_markets()
            token = await client.authenticate_rest()
            request = client.create_order_request(SYMBOL, "limit", "buy", 0.1, 49000, {})
            signed = await client.sign_order_request(request)
            headers = {"Authorization": f"Bearer {token}"}
            tampered = {**signed, "size": "0.2"}  # a bigger order under the old signature
            status, refused = await _post(ex, "/v1/orders", headers, tampered)
            assert (status, refused["error"]) == (400, "INVALID_ORDER_SIGNATURE")
            other = _signer(OTHER_ETH_KEY)
            other.options["paradexAccount"] = derive_account(OTHER_ETH_KEY)
            foreign = other.sign_order_request(dict(request))
            assert (await _post(ex, "/v1/orders", headers, foreign))[1]["error"] == "INVALID_ORDER_SIGNATURE"
            assert ex.paradex.tickets == {}
            status, accepted = await _post(ex, "/v1/orders", headers, signed)
            assert (status, accepted["status"]) == (201, "NEW")
            # ccxt reports the refusal as an authentication failure: the adapter's config error
            original = client.sign_order_request

            async def corrupt(req: dict[str, Any], modify: bool = False) -> dict[str, Any]:
                out = await original(req, modify)
                return {**out, "price": "48000"}

            client.sign_order_request = corrupt
            error = await _taxonomy(lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 49000))
            assert error.code is ErrorCode.INVALID_CONFIG
            assert error.details["ccxt_error"] == "AuthenticationError"
        finally:
            await client.close()

    _in_loop(body)


def test_onboarding_registers_an_account_whose_address_derives_from_its_key() -> None:
    async def body(ex: FakeExchange) -> None:
        newcomer = _client(ex, key=OTHER_ETH_KEY)
        try:
            error = await _taxonomy(lambda: newcomer.fetch_balance(), op="fetch_balance")
            assert error.code is ErrorCode.INVALID_CONFIG  # NOT_ONBOARDED: a configuration problem
            assert error.details["venue_error"] == "NOT_ONBOARDED"
            account = derive_account(OTHER_ETH_KEY)
            signer = _signer(OTHER_ETH_KEY)
            msg = signer.starknet_encode_structured_data(
                {"name": "Paradex", "chainId": STARKNET_CHAIN_ID, "version": 1},
                {"Constant": [{"name": "action", "type": "felt"}]},
                {"action": "Onboarding"},
                account["address"],
            )
            headers = {
                "PARADEX-ETHEREUM-ACCOUNT": WALLET,
                "PARADEX-STARKNET-ACCOUNT": account["address"],
                "PARADEX-STARKNET-SIGNATURE": signer.starknet_sign(msg, account["privateKey"]),
            }
            # a public key that does not deploy to this address is refused
            wrong_key = derive_account(TEST_ETH_PRIVATE_KEY)["publicKey"]
            status, refused = await _post(ex, "/v1/onboarding", headers, {"public_key": wrong_key})
            assert (status, refused["error"]) == (400, "PUBLIC_KEY_INVALID")
            # ccxt's own onboarding call succeeds, then the account trades
            await newcomer.onboarding()
            balance = await newcomer.fetch_balance()
            assert balance["USDC"]["total"] == 0
        finally:
            await newcomer.close()

    _in_loop(body)


def test_plain_ccxt_parses_markets_books_orders_fills_and_positions() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            markets = await client.load_markets()
            btc = markets[SYMBOL]
            assert (btc["id"], btc["settle"], btc["linear"], btc["swap"]) == (MARKET, "USDC", True, True)
            assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.001, 0.1)
            book = await client.fetch_order_book(SYMBOL)
            assert book["bids"][0] == [49999.9, 1.0]
            assert book["asks"][0] == [50000.1, 1.0]
            funding = await client.fetch_funding_rate(SYMBOL)
            assert Decimal(str(funding["fundingRate"])) == ex.paradex.funding_rate
            ticker = await client.fetch_ticker(SYMBOL)
            assert ticker["markPrice"] == 50000.0
            # an order rests (NEW on the answer, OPEN once matched), then fills partly
            order = await client.create_order(SYMBOL, "limit", "buy", 0.3, 49999.9, {"clientOrderId": "c-1"})
            assert (order["status"], order["clientOrderId"], order["amount"]) == ("open", "c-1", 0.3)
            await asyncio.sleep(0.05)
            ex.paradex.engine.external_trade(MARKET, Side.SELL, "1.1")
            fetched = await client.fetch_order(order["id"])
            assert (fetched["status"], fetched["filled"], fetched["remaining"]) == ("open", 0.1, 0.2)
            trades = await client.fetch_my_trades(SYMBOL)
            assert [(t["order"], t["amount"], t["takerOrMaker"]) for t in trades] == [
                (order["id"], 0.1, "maker")
            ]
            assert trades[0]["fee"]["currency"] == "USDC"
            positions = await client.fetch_positions()
            assert [(p["symbol"], p["side"], p["contracts"]) for p in positions] == [(SYMBOL, "long", 0.1)]
            # a margin failure is a CLOSED order with NOT_ENOUGH_MARGIN: ccxt says rejected
            big = await client.create_order(SYMBOL, "limit", "buy", 50, 49000.0)
            await asyncio.sleep(0.05)
            rejected = await client.fetch_order(big["id"])
            assert (rejected["status"], rejected["info"]["cancel_reason"]) == (
                "rejected",
                "NOT_ENOUGH_MARGIN",
            )
            # a reused client id is refused synchronously
            error = await _taxonomy(
                lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 49000.0, {"clientOrderId": "c-1"})
            )
            assert error.code is ErrorCode.ORDER_REJECTED
            assert is_duplicate_order(error)
            # post-only that would cross closes unfilled (canceled)
            po = await client.create_order(SYMBOL, "limit", "buy", 0.1, 50001.0, {"postOnly": True})
            await asyncio.sleep(0.05)
            assert (await client.fetch_order(po["id"]))["status"] == "canceled"
            # cancel answers 204; the order closes with USER_CANCELED
            await client.cancel_order(order["id"], SYMBOL)
            await asyncio.sleep(0.05)
            closed = await client.fetch_order(order["id"])
            assert (closed["status"], closed["filled"], closed["info"]["cancel_reason"]) == (
                "canceled",
                0.1,
                "USER_CANCELED",
            )
            assert await client.fetch_open_orders(SYMBOL) == []
            missing = await _taxonomy(lambda: client.cancel_order(order["id"], SYMBOL), op="cancel_order")
            assert "ORDER_IS_CLOSED" in missing.message
        finally:
            await client.close()

    _in_loop(body)


def test_websocket_streams_parse_and_private_channels_need_auth() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            await client.load_markets()
            book = await asyncio.wait_for(client.watch_order_book(SYMBOL), 5)
            assert book["bids"][0] == [49999.9, 1.0]
            ticker = await asyncio.wait_for(client.watch_ticker(SYMBOL), 5)
            assert ticker["markPrice"] == 50000.0
            orders = asyncio.ensure_future(client.watch_orders())
            fills = asyncio.ensure_future(client.watch_my_trades())
            trades = asyncio.ensure_future(client.watch_trades(SYMBOL))

            def subscribed() -> bool:
                topics = {t for conn in ex.connections for t in conn.topics}
                return {"orders.ALL", "fills.ALL", f"trades.{MARKET}"} <= topics

            # the private subscriptions need a StarkNet-signed auth first (~0.2 s of CPU each in
            # ccxt): trade only once all three are live on the fake, however loaded the machine
            for _ in range(500):
                if subscribed():
                    break
                await asyncio.sleep(0.02)
            assert subscribed(), {t for conn in ex.connections for t in conn.topics}
            await client.create_order(SYMBOL, "market", "buy", 0.2)
            update = (await asyncio.wait_for(orders, 5))[-1]
            assert update["symbol"] == SYMBOL
            assert update["side"] == "buy"
            mine = (await asyncio.wait_for(fills, 5))[-1]
            assert (mine["amount"], mine["price"], mine["takerOrMaker"]) == (0.2, 50000.1, "taker")
            tape = (await asyncio.wait_for(trades, 5))[-1]
            assert (tape["side"], tape["amount"]) == ("buy", 0.2)
        finally:
            await client.close()
        # raw JSON-RPC: a bad bearer and an unauthenticated private subscription are refused
        async with aiohttp.ClientSession() as http, http.ws_connect(ex.ws_url + "/v1") as ws:
            await ws.send_str(
                json.dumps({"jsonrpc": "2.0", "method": "auth", "params": {"bearer": "x.y.z"}, "id": 1})
            )
            refused = json.loads((await ws.receive(timeout=5)).data)
            assert refused["error"]["code"] == 40111
            assert refused["id"] == 1
            sub = {"jsonrpc": "2.0", "method": "subscribe", "params": {"channel": "orders.ALL"}, "id": 2}
            await ws.send_str(json.dumps(sub))
            assert json.loads((await ws.receive(timeout=5)).data)["error"]["code"] == 40110

    _in_loop(body)


def test_venue_codes_reach_the_taxonomy() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            await client.load_markets()
            token = await client.authenticate_rest()
            request = client.create_order_request(SYMBOL, "limit", "buy", 0.1, 49000, {})
            request["size"] = "0.0001"  # below the 0.001 step, signed as sent
            signed = await client.sign_order_request(request)
            status, refused = await _post(ex, "/v1/orders", {"Authorization": f"Bearer {token}"}, signed)
            assert (status, refused["error"]) == (400, "INVALID_ORDER_SIZE")
            # ccxt has no entry for INVALID_ORDER_SIZE; the adapter's venue table makes it InvalidOrder
            error = await _taxonomy(lambda: client.private_post_orders(signed))
            assert error.code is ErrorCode.INVALID_ORDER
            assert error.details["venue_error"] == "INVALID_ORDER_SIZE"
            long_id = await client.sign_order_request({**request, "size": "0.1", "client_id": "x" * 65})
            status, refused = await _post(ex, "/v1/orders", {"Authorization": f"Bearer {token}"}, long_id)
            assert (status, refused["error"]) == (400, "INVALID_REQUEST_PARAMETER")
            # a 429 carries no Paradex code: ccxt's status mapping makes it retryable
            ex.faults.fault_path_prefix = "/v1/orders"
            ex.faults.http_429_next = 1
            limited = await _taxonomy(lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 49000.0))
            assert limited.code is ErrorCode.RATE_LIMITED
            assert limited.retryable
        finally:
            await client.close()

    _in_loop(body)


def test_sbe_binary_frames_decode_like_the_json_ones() -> None:
    # ccxt's default asks for SBE: the same events arrive as binary frames and parse the same
    async def body(ex: FakeExchange) -> None:
        json_client, sbe_client = _client(ex), _client(ex, sbe=True)
        try:
            for client in (json_client, sbe_client):
                await client.load_markets()
            assert "sbeSchemaId=1" in sbe_client.get_ws_url()
            books = [await asyncio.wait_for(c.watch_order_book(SYMBOL), 5) for c in (json_client, sbe_client)]
            assert books[0]["bids"] == books[1]["bids"]
            assert books[0]["asks"] == books[1]["asks"]
            assert books[0]["nonce"] == books[1]["nonce"]
            tickers = [await asyncio.wait_for(c.watch_ticker(SYMBOL), 5) for c in (json_client, sbe_client)]
            assert tickers[0]["markPrice"] == tickers[1]["markPrice"] == 50000.0
            assert tickers[0]["bid"] == tickers[1]["bid"] == 49999.9
            streams = {
                name: [asyncio.ensure_future(getattr(c, name)()) for c in (json_client, sbe_client)]
                for name in ("watch_orders", "watch_my_trades", "watch_positions", "watch_balance")
            }
            trades = [asyncio.ensure_future(c.watch_trades(SYMBOL)) for c in (json_client, sbe_client)]
            await asyncio.sleep(0.5)
            await json_client.create_order(SYMBOL, "limit", "buy", 0.25, 50000.1, {"reduceOnly": False})
            for name, futures in streams.items():
                got = [await asyncio.wait_for(f, 5) for f in futures]
                if name == "watch_balance":
                    assert got[0]["USDC"] == got[1]["USDC"]
                    continue
                first, second = got[0][-1], got[1][-1]
                keys = {
                    "watch_orders": ("id", "clientOrderId", "symbol", "side", "type", "price", "amount"),
                    "watch_my_trades": (
                        "id",
                        "order",
                        "symbol",
                        "side",
                        "price",
                        "amount",
                        "takerOrMaker",
                        "fee",
                    ),
                    "watch_positions": ("symbol", "side", "contracts", "entryPrice", "leverage"),
                }[name]
                assert {k: first[k] for k in keys} == {k: second[k] for k in keys}, name
            tape = [(await asyncio.wait_for(f, 5))[-1] for f in trades]
            assert [(t["side"], t["price"], t["amount"]) for t in tape] == [("buy", 50000.1, 0.25)] * 2
        finally:
            await json_client.close()
            await sbe_client.close()

    _in_loop(body)
