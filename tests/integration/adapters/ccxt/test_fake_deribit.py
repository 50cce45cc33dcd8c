"""The fake Deribit through unmodified ccxt and raw JSON-RPC: recorded shapes, all three
transports, authentication, the venue's error codes mapped to the taxonomy, book change ids."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro
import pytest

from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side

DERIBIT_DATA = Path("nautilus_trader/crates/adapters/deribit/test_data")
LINEAR = "BTC/USDC:USDC"
INVERSE = "BTC/USD:BTC"


def _client(ex: FakeExchange, secret: str = "fake-secret") -> Any:
    client = ccxtpro.deribit(
        {"apiKey": "fake-key", "secret": secret, "enableRateLimit": False, "timeout": 2000}
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url, ex.ws_url)
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]]) -> None:
    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        engine = ex.deribit.engine
        engine.seed_book("BTC_USDC-PERPETUAL", bids=[("49999", "1")], asks=[("50001", "1")])
        engine.seed_book("BTC-PERPETUAL", bids=[("49999.5", "1000")], asks=[("50000.5", "1000")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _call(factory: Callable[[], Awaitable[Any]], op: str = "create_order") -> Any:
    return await ccxt_call(factory, venue="DERIBIT", operation=op, timeout_secs=5)


def test_recorded_shapes_are_covered(shared_data: Path) -> None:
    ex = FakeExchange()
    deribit = ex.deribit
    engine = deribit.engine
    engine.seed_book("BTC-PERPETUAL", bids=[("100", "1000")], asks=[("101", "1000")])
    spec = engine.markets["BTC-PERPETUAL"]
    recorded = json.loads((shared_data / DERIBIT_DATA / "http_get_instrument.json").read_text())["result"]
    assert set(recorded) - set(deribit.instrument_dict(spec)) == set()
    # the real contract specification of BTC-PERPETUAL
    for key in ("tick_size", "contract_size", "min_trade_amount", "instrument_type", "settlement_currency"):
        assert deribit.instrument_dict(spec)[key] == recorded[key], key
    order = engine.submit("USER:BTC", "BTC-PERPETUAL", Side.BUY, "limit", Decimal(100), price=Decimal(101))
    real_order = json.loads((shared_data / DERIBIT_DATA / "ws_order_buy_response.json").read_text())
    assert set(real_order["result"]["order"]) - set(deribit.order_dict(order)) == set()
    real_trades = json.loads((shared_data / DERIBIT_DATA / "ws_trades.json").read_text())
    public = deribit._public_trade(engine.trades["BTC-PERPETUAL"][0], 1)
    assert set(real_trades["params"]["data"][1]) - set(public) == set()
    real_ticker = json.loads((shared_data / DERIBIT_DATA / "ws_ticker.json").read_text())
    assert set(real_ticker["params"]["data"]) - set(deribit._ticker(spec)) == set()
    real_summary = json.loads((shared_data / DERIBIT_DATA / "http_get_account_summaries.json").read_text())
    wanted = {"currency", "balance", "equity", "available_funds", "margin_balance", "initial_margin"}
    assert wanted <= set(real_summary["result"]["summaries"][0]) & set(deribit.account_summary("BTC"))


def test_ccxt_round_trip_and_error_codes_map_to_the_taxonomy() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex)
        try:
            markets = await client.load_markets()
            assert markets[INVERSE]["inverse"]
            assert markets[INVERSE]["contractSize"] == 10
            assert markets[LINEAR]["linear"]
            assert markets[LINEAR]["precision"]["amount"] == 0.0001
            order = await _call(
                lambda: client.create_order(LINEAR, "limit", "buy", 0.3, 49999, {"label": "L-1"})
            )
            assert order["info"]["label"] == "L-1"
            assert order["status"] == "open"
            # 10009 not_enough_funds
            with pytest.raises(NautilusExtError) as funds:
                await _call(lambda: client.create_order(LINEAR, "limit", "buy", 90, 49990))
            assert funds.value.code is ErrorCode.INSUFFICIENT_BALANCE
            assert "10009" in funds.value.message
            # 11054 post_only_reject
            with pytest.raises(NautilusExtError) as post_only:
                await _call(
                    lambda: client.create_order(LINEAR, "limit", "buy", 0.1, 50010, {"postOnly": True})
                )
            assert post_only.value.code is ErrorCode.ORDER_REJECTED
            assert "post_only_reject" in post_only.value.message
            await _call(lambda: client.cancel_order(order["id"], LINEAR), "cancel_order")
            # 11044 not_open_order, 10004 order_not_found
            with pytest.raises(NautilusExtError) as closed:
                await _call(lambda: client.cancel_order(order["id"], LINEAR), "cancel_order")
            assert closed.value.code is ErrorCode.ORDER_REJECTED
            assert "11044" in closed.value.message
            with pytest.raises(NautilusExtError) as missing:
                await _call(lambda: client.fetch_order("nope", LINEAR), "fetch_order")
            assert missing.value.details["ccxt_error"] == "OrderNotFound"
            # 10028 too_many_requests with HTTP 429
            ex.faults.fault_path_prefix = "/api/v2/private/buy"
            ex.faults.http_429_next = 1
            with pytest.raises(NautilusExtError) as limited:
                await _call(lambda: client.create_order(LINEAR, "limit", "buy", 0.1, 49000))
            assert limited.value.code is ErrorCode.RATE_LIMITED
            assert limited.value.retryable
            # an inverse market order fills in USD, fees and position value in BTC
            filled = await _call(lambda: client.create_order(INVERSE, "market", "buy", 100))
            assert filled["status"] == "closed"
            assert filled["filled"] == 100
            positions = await _call(lambda: client.fetch_positions([INVERSE]), "fetch_positions")
            assert positions[0]["contracts"] == 100
            assert Decimal(str(positions[0]["notional"])) == Decimal("0.002")
            trades = await _call(lambda: client.fetch_my_trades(INVERSE, 0), "fetch_my_trades")
            assert trades[-1]["fee"]["currency"] == "BTC"
        finally:
            await client.close()

    _in_loop(body)


def test_wrong_secret_and_clock_skew_are_unauthorized() -> None:
    async def body(ex: FakeExchange) -> None:
        bad = _client(ex, secret="wrong")
        good = _client(ex)
        try:
            with pytest.raises(NautilusExtError) as refused:
                await _call(bad.fetch_balance, "fetch_balance")
            assert refused.value.code is ErrorCode.INVALID_CONFIG
            assert "13009" in refused.value.message
            ex.faults.clock_skew_ms = 120_000
            with pytest.raises(NautilusExtError):
                await _call(good.fetch_balance, "fetch_balance")
            ex.faults.clock_skew_ms = 0
            balance = await _call(good.fetch_balance, "fetch_balance")
            assert balance["USDC"]["total"] == 100_000
        finally:
            await bad.close()
            await good.close()

    _in_loop(body)


def _signed_post(
    ex: FakeExchange, payload: dict[str, Any], secret: str = "fake-secret"
) -> tuple[str, dict[str, str]]:
    body = json.dumps(payload)
    ts, nonce = str(ex.now_ms()), "abc123"
    sig = hmac.new(
        secret.encode(), f"{ts}\n{nonce}\nPOST\n/api/v2\n{body}\n".encode(), hashlib.sha256
    ).hexdigest()
    return body, {"Authorization": f"deri-hmac-sha256 id=fake-key,ts={ts},nonce={nonce},sig={sig}"}


def test_json_rpc_over_post_as_the_rust_client_sends_it() -> None:
    async def body(ex: FakeExchange) -> None:
        async with aiohttp.ClientSession() as http:
            payload = {"jsonrpc": "2.0", "id": 7, "method": "private/get_account_summaries", "params": {}}
            data, headers = _signed_post(ex, payload)
            async with http.post(ex.base_url + "/api/v2", data=data, headers=headers) as response:
                answer = await response.json()
            assert answer["id"] == 7
            assert {s["currency"] for s in answer["result"]["summaries"]} == {"BTC", "USDC"}
            data, headers = _signed_post(ex, payload, secret="wrong")
            async with http.post(ex.base_url + "/api/v2", data=data, headers=headers) as response:
                refused = await response.json()
            assert response.status == 400
            assert refused["error"] == {"message": "unauthorized", "code": 13009}
            unsigned = {"jsonrpc": "2.0", "id": 8, "method": "private/buy", "params": {}}
            async with http.post(ex.base_url + "/api/v2", json=unsigned) as response:
                assert (await response.json())["error"]["code"] == 13009
            public = {"jsonrpc": "2.0", "id": 9, "method": "public/get_time", "params": {}}
            async with http.post(ex.base_url + "/api/v2", json=public) as response:
                assert abs((await response.json())["result"] - ex.now_ms()) < 5_000

    _in_loop(body)


def test_websocket_auth_subscriptions_and_change_id_chain() -> None:
    async def body(ex: FakeExchange) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(ex.ws_url + "/ws/api/v2") as ws:

            async def rpc(msg_id: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
                await ws.send_json({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
                while True:
                    message = json.loads((await ws.receive(timeout=5)).data)
                    if message.get("id") == msg_id:
                        return message

            denied = await rpc(1, "private/subscribe", {"channels": ["user.orders.any.any.raw"]})
            assert denied["error"]["code"] == 13009
            bad = await rpc(
                2,
                "public/auth",
                {"grant_type": "client_credentials", "client_id": "fake-key", "client_secret": "x"},
            )
            assert bad["error"] == {"message": "invalid_credentials", "code": 13004}
            ts = ex.now_ms()
            sig = hmac.new(b"fake-secret", f"{ts}\nn1\n".encode(), hashlib.sha256).hexdigest()
            auth = await rpc(
                3,
                "public/auth",
                {
                    "grant_type": "client_signature",
                    "client_id": "fake-key",
                    "timestamp": ts,
                    "signature": sig,
                    "nonce": "n1",
                    "data": "",
                },
            )
            assert auth["result"]["token_type"] == "bearer"
            channels = [
                "book.BTC-PERPETUAL.100ms",
                "user.orders.any.any.raw",
                "user.trades.BTC-PERPETUAL.raw",
            ]
            subscribed = await rpc(4, "private/subscribe", {"channels": channels})
            assert subscribed["result"] == channels
            snapshot = json.loads((await ws.receive(timeout=5)).data)["params"]["data"]
            assert snapshot["type"] == "snapshot"
            assert snapshot["bids"] == [["new", 49999.5, 1000]]
            engine = ex.deribit.engine
            engine.submit(
                "USER:BTC", "BTC-PERPETUAL", Side.BUY, "limit", Decimal(50), price=Decimal("49999.5")
            )
            engine.external_trade("BTC-PERPETUAL", Side.SELL, "1020")
            pushes: dict[str, list[Any]] = {}
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(pushes.get("user.trades.BTC-PERPETUAL.raw", [])) < 1:
                message = json.loads((await ws.receive(timeout=5)).data)
                pushes.setdefault(message["params"]["channel"], []).append(message["params"]["data"])
            await asyncio.sleep(0.1)
            changes = pushes["book.BTC-PERPETUAL.100ms"]
            previous = snapshot["change_id"]
            for change in changes:
                assert change["type"] == "change"
                assert change["prev_change_id"] == previous
                previous = change["change_id"]
            assert changes[0]["bids"] == [["change", 49999.5, 1050]]
            fill = pushes["user.trades.BTC-PERPETUAL.raw"][0][0]
            assert fill["amount"] == 20
            assert fill["liquidity"] == "M"
            assert fill["fee_currency"] == "BTC"
            states = [o["order_state"] for o in pushes["user.orders.any.any.raw"]]
            assert states[0] == "open"

    _in_loop(body)
