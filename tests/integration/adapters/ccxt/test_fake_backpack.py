"""The Backpack fake through raw signed requests and unmodified ccxt: ED25519 auth, error codes,
the taxonomy behind them, and payload shapes as ccxt parses them."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro
import pytest

from nautilus_ext.adapters.ccxt.client import apply_error_overrides
from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_order
from nautilus_ext.adapters.ccxt.parsing.venue_fixes import normalize_position
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.backpack import PREFIX
from nautilus_ext_testkit.fake_exchange.backpack_wire import TEST_API_KEY
from nautilus_ext_testkit.fake_exchange.backpack_wire import TEST_API_SECRET
from nautilus_ext_testkit.fake_exchange.backpack_wire import sign
from nautilus_ext_testkit.fake_exchange.backpack_wire import signing_string

SYMBOL = "BTC/USDC:USDC"
MARKET = "BTC_USDC_PERP"
# another ED25519 seed: signs validly, but not for the registered key
OTHER_SECRET = base64.b64encode(bytes(range(100, 132))).decode()


def _client(ex: FakeExchange, **overrides: Any) -> Any:
    client = ccxtpro.backpack(
        {
            "apiKey": TEST_API_KEY,
            "secret": TEST_API_SECRET,
            "enableRateLimit": False,
            "timeout": 3000,
            **overrides,
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url + PREFIX, ex.ws_url + PREFIX)
    apply_error_overrides(client, "backpack")
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]]) -> None:
    async def main() -> None:
        ex = FakeExchange(balances={"backpack": Decimal(10_000)})
        await ex.start()
        ex.backpack.engine.seed_book(MARKET, bids=[("49999.9", "1"), ("49999", "2")], asks=[("50000.1", "1")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _taxonomy(factory: Callable[[], Awaitable[Any]], op: str = "create_order") -> NautilusExtError:
    with pytest.raises(NautilusExtError) as info:
        await ccxt_call(factory, venue="BACKPACK", operation=op, timeout_secs=5)
    return info.value


def _headers(
    instruction: str,
    params: dict[str, Any],
    *,
    ts: int,
    secret: str = TEST_API_SECRET,
    window: str = "5000",
) -> dict[str, str]:
    signature = sign(secret, signing_string(instruction, params, str(ts), window))
    return {"X-API-Key": TEST_API_KEY, "X-Signature": signature, "X-Timestamp": str(ts), "X-Window": window}


async def _raw(
    ex: FakeExchange, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        data = None if body is None else json.dumps(body)
        request_headers = {**headers, **({"Content-Type": "application/json"} if body is not None else {})}
        async with session.request(
            method, ex.base_url + PREFIX + path, headers=request_headers, data=data
        ) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


def test_rest_auth_refusals_carry_backpack_codes() -> None:
    async def body(ex: FakeExchange) -> None:
        now = ex.now_ms()
        status, reply = await _raw(ex, "GET", "/api/v1/capital", _headers("balanceQuery", {}, ts=now))
        assert status == 200
        assert "USDC" in reply
        status, reply = await _raw(ex, "GET", "/api/v1/capital", {})
        assert (status, reply["code"]) == (401, "UNAUTHORIZED")
        forged = _headers("balanceQuery", {}, ts=now, secret=OTHER_SECRET)
        status, reply = await _raw(ex, "GET", "/api/v1/capital", forged)
        assert (status, reply) == (401, {"code": "INVALID_SIGNATURE", "message": "Invalid signature"})
        # a valid signature of another instruction does not authorize this endpoint
        status, reply = await _raw(ex, "GET", "/api/v1/capital", _headers("orderQueryAll", {}, ts=now))
        assert (status, reply["code"]) == (401, "INVALID_SIGNATURE")
        # the body is signed: a changed price breaks the signature
        order = {"orderType": "Limit", "price": "40000", "quantity": "0.1", "side": "Bid", "symbol": MARKET}
        headers = _headers("orderExecute", order, ts=now)
        status, reply = await _raw(ex, "POST", "/api/v1/order", headers, {**order, "price": "40001"})
        assert (status, reply["code"]) == (401, "INVALID_SIGNATURE")
        status, reply = await _raw(ex, "POST", "/api/v1/order", headers, order)
        assert (status, reply["status"], reply["side"]) == (200, "New", "Bid")
        # timestamp outside the window, and a window above Backpack's 60 s maximum
        stale = _headers("balanceQuery", {}, ts=now - 6_000)
        assert await _raw(ex, "GET", "/api/v1/capital", stale) == (401, "Request has expired")
        wide = _headers("balanceQuery", {}, ts=now, window="70000")
        status, reply = await _raw(ex, "GET", "/api/v1/capital", wide)
        assert (status, reply["code"]) == (400, "INVALID_CLIENT_REQUEST")
        assert len(ex.backpack.engine.open_orders("USER")) == 1

    _in_loop(body)


def test_ccxt_errors_map_to_the_taxonomy() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        bad = _client(ex, secret=OTHER_SECRET)
        try:
            await client.load_markets()
            bad.markets, bad.markets_by_id, bad.symbols = client.markets, client.markets_by_id, client.symbols
            assert (await _taxonomy(bad.fetch_balance, "fetch_balance")).code is ErrorCode.INVALID_CONFIG
            # too big for 10,000 USDC at 10x
            big = await _taxonomy(lambda: client.create_order(SYMBOL, "limit", "buy", 5, 49000))
            assert big.code is ErrorCode.INSUFFICIENT_BALANCE
            post_only = await _taxonomy(
                lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 50000.1, {"postOnly": True})
            )
            assert post_only.code is ErrorCode.ORDER_REJECTED
            assert "immediately match" in post_only.message
            reduce = await _taxonomy(
                lambda: client.create_order(SYMBOL, "market", "sell", 0.1, None, {"reduceOnly": True})
            )
            assert reduce.code is ErrorCode.ORDER_REJECTED
            unknown = await _taxonomy(lambda: client.cancel_order("111000000999", SYMBOL), "cancel_order")
            assert (unknown.code, unknown.retryable) == (ErrorCode.ORDER_REJECTED, False)
            assert unknown.details["ccxt_error"] == "OrderNotFound"
            ex.faults.reject_next_orders = 1
            injected = await _taxonomy(lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 40000))
            assert injected.code is ErrorCode.ORDER_REJECTED
            ex.faults.http_429_next, ex.faults.fault_path_prefix = 1, PREFIX + "/api/v1/order"
            limited = await _taxonomy(lambda: client.create_order(SYMBOL, "limit", "buy", 0.1, 40000))
            assert (limited.code, limited.retryable) == (ErrorCode.RATE_LIMITED, True)
            # a FOK that cannot fill is not refused: it expires unfilled
            fok = await client.create_order(SYMBOL, "limit", "buy", 3, 50000.1, {"timeInForce": "FOK"})
            assert (fok["status"], fok["filled"], fok["info"]["status"]) == ("canceled", 0, "Expired")
            # the exchange clock runs 10 s ahead: outside the 5 s window (a plain-text 401)
            ex.faults.clock_skew_ms = 10_000
            skewed = await _taxonomy(client.fetch_balance, "fetch_balance")
            assert skewed.details["ccxt_error"] == "AuthenticationError"
        finally:
            await client.close()
            await bad.close()

    _in_loop(body)


def test_shapes_parsed_by_plain_ccxt() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            markets = await client.load_markets()
            market = markets[SYMBOL]
            assert (market["id"], market["type"], market["linear"], market["settle"]) == (
                MARKET,
                "swap",
                True,
                "USDC",
            )
            assert (market["precision"]["price"], market["precision"]["amount"]) == (0.1, 0.0001)
            assert (market["limits"]["amount"]["min"], market["contractSize"]) == (0.0001, 1)
            book = await client.fetch_order_book(SYMBOL, 5)
            assert (book["bids"][0], book["asks"][0]) == ([49999.9, 1.0], [50000.1, 1.0])
            assert book["nonce"] == ex.backpack.engine.book_seq[MARKET]
            order = await client.create_order(SYMBOL, "limit", "buy", 0.4, 49999.9, {"clientOrderId": "4242"})
            assert (order["status"], order["clientOrderId"], order["amount"]) == ("open", "4242", 0.4)
            ex.backpack.engine.external_trade(MARKET, Side.SELL, "1.1")  # 1.0 of MM first, 0.1 ours
            fetched = await client.fetch_order(order["id"], SYMBOL)
            assert (fetched["filled"], fetched["average"], fetched["status"]) == (0.1, 49999.9, "open")
            trades = await client.fetch_my_trades(SYMBOL)
            assert [(t["order"], t["amount"], t["takerOrMaker"]) for t in trades] == [
                (order["id"], 0.1, "maker")
            ]
            assert trades[0]["fee"]["currency"] == "USDC"
            assert trades[0]["timestamp"] > 0
            public = await client.fetch_trades(SYMBOL)
            assert [t["side"] for t in public] == ["sell", "sell"]
            # ccxt sizes the position by netExposureQuantity (0.1 held + 0.3 still bid); the
            # adapter's correction reads the signed netQuantity
            (position,) = await client.fetch_positions()
            assert (Decimal(position["contracts"]), position["side"]) == (Decimal("0.4"), "long")
            assert Decimal(normalize_position("backpack", position)["contracts"]) == Decimal("0.1")
            balance = await client.fetch_balance()
            assert balance["USDC"]["total"] == pytest.approx(10_000 - 0.999998)
            funding = await client.fetch_funding_rate(SYMBOL)
            assert funding["fundingRate"] == float(ex.backpack.funding_rate)
            assert funding["markPrice"] == 50000.0  # the mid
            canceled = await client.cancel_order(order["id"], SYMBOL)
            assert (canceled["status"], canceled["filled"]) == ("canceled", 0.1)
            assert await client.fetch_open_orders(SYMBOL) == []
        finally:
            await client.close()

    _in_loop(body)


def test_streams_signed_subscriptions_and_order_events() -> None:
    async def body(ex: FakeExchange) -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(ex.ws_url + PREFIX + "/") as ws:

            async def receive() -> dict[str, Any]:
                message: dict[str, Any] = json.loads((await ws.receive(timeout=3)).data)
                return message

            now = str(ex.now_ms())
            await ws.send_json({"method": "SUBSCRIBE", "params": ["account.orderUpdate"]})
            assert (await receive())["error"]["code"] == 4006
            forged = sign(OTHER_SECRET, f"instruction=subscribe&timestamp={now}&window=5000")
            signature = [TEST_API_KEY, forged, now, "5000"]
            await ws.send_json(
                {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": signature}
            )
            assert (await receive())["error"]["message"] == "Invalid signature"
            good = sign(TEST_API_SECRET, f"instruction=subscribe&timestamp={now}&window=5000")
            streams = ["account.orderUpdate", "account.positionUpdate", f"depth.{MARKET}"]
            signature = [TEST_API_KEY, good, now, "5000"]
            await ws.send_json({"method": "SUBSCRIBE", "params": streams, "signature": signature})
            engine = ex.backpack.engine
            order = {"clientId": 9, "orderType": "Limit", "price": "49999.9", "quantity": "0.3"}
            order |= {"side": "Bid", "symbol": MARKET}
            headers = _headers("orderExecute", order, ts=ex.now_ms())
            assert (await _raw(ex, "POST", "/api/v1/order", headers, order))[0] == 200
            accepted, depth = await receive(), await receive()
            assert accepted["stream"] == "account.orderUpdate"
            assert (accepted["data"]["e"], accepted["data"]["X"], accepted["data"]["c"]) == (
                "orderAccepted",
                "New",
                9,
            )
            assert depth["data"]["b"] == [["49999.9", "1.3"]]
            assert depth["data"]["U"] == depth["data"]["u"] == ex.backpack.engine.book_seq[MARKET]
            engine.external_trade(MARKET, Side.SELL, "1.2")  # 1.0 of MM, then 0.2 of ours
            events = [await receive() for _ in range(3)]
            fill = next(e["data"] for e in events if e["data"].get("e") == "orderFill")
            assert (fill["l"], fill["z"], fill["L"], fill["m"], fill["X"]) == (
                "0.2",
                "0.2",
                "49999.9",
                True,
                "PartiallyFilled",
            )
            opened = next(e["data"] for e in events if e["stream"] == "account.positionUpdate")
            assert (opened["e"], opened["q"]) == ("positionOpened", "0.2")
            # a new private subscriber gets the open position as a snapshot without an event type
            await ws.send_json(
                {
                    "method": "SUBSCRIBE",
                    "params": [f"account.positionUpdate.{MARKET}"],
                    "signature": signature,
                }
            )
            snapshot = (await receive())["data"]
            assert "e" not in snapshot
            assert snapshot["q"] == "0.2"

    _in_loop(body)


def test_ccxt_watch_orders_reads_the_last_fill_as_filled() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            await client.load_markets()
            order = await client.create_order(SYMBOL, "limit", "buy", 0.4, 49999.9, {"clientOrderId": 5})
            watcher = asyncio.ensure_future(client.watch_orders())
            await asyncio.sleep(0.3)
            ex.backpack.engine.external_trade(MARKET, Side.SELL, "1.1")  # 0.1 of ours
            first = dict((await asyncio.wait_for(watcher, 3))[-1])  # ccxt updates its cache in place
            ex.backpack.engine.external_trade(MARKET, Side.SELL, "0.2")  # 0.2 more
            second = (await asyncio.wait_for(client.watch_orders(), 3))[-1]
            assert (first["id"], first["filled"], second["filled"]) == (
                order["id"],
                0.1,
                0.2,
            )  # ccxt: the last fill
            assert Decimal(normalize_order("backpack", second)["filled"]) == Decimal(
                "0.3"
            )  # the order's total
            assert second["info"]["t"] != first["info"]["t"]
        finally:
            await client.close()

    _in_loop(body)
