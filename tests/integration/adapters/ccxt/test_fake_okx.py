"""The OKX v5 fake through raw signed requests and unmodified ccxt: auth, reject codes, shapes."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
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
from nautilus_ext_testkit.fake_exchange.okx_wire import book_checksum
from nautilus_ext_testkit.fake_exchange.okx_wire import sign

OKX_DATA = Path("nautilus_trader/crates/adapters/okx/test_data")
SYMBOL = "BTC/USDT:USDT"
INST = "BTC-USDT-SWAP"


def _client(ex: FakeExchange, **overrides: Any) -> Any:
    client = ccxtpro.okx(
        {
            "apiKey": "fake-key",
            "secret": "fake-secret",
            "password": "fake-passphrase",
            "enableRateLimit": False,
            "timeout": 2000,
            "options": {"fetchMarkets": {"types": ["swap"]}},
            **overrides,
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url, ex.ws_url)
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]]) -> None:
    async def main() -> None:
        ex = FakeExchange(balances={"okx": Decimal(10_000)})
        await ex.start()
        ex.okx.engine.seed_book(INST, bids=[("49999.9", "1"), ("49999", "2")], asks=[("50000.1", "1")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _taxonomy(factory: Callable[[], Awaitable[Any]], op: str = "create_order") -> NautilusExtError:
    with pytest.raises(NautilusExtError) as info:
        await ccxt_call(factory, venue="OKX", operation=op, timeout_secs=5)
    return info.value


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


async def _signed(
    ex: FakeExchange,
    method: str,
    path: str,
    body: str = "",
    *,
    secret: str = "fake-secret",
    passphrase: str = "fake-passphrase",
    key: str = "fake-key",
    ts_ms: int | None = None,
) -> tuple[int, dict[str, Any]]:
    timestamp = _iso(ex.now_ms() - ex.faults.clock_skew_ms if ts_ms is None else ts_ms)
    headers = {
        "OK-ACCESS-KEY": key,
        "OK-ACCESS-PASSPHRASE": passphrase,
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-SIGN": sign(secret, timestamp + method + path + body),
        "Content-Type": "application/json",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, ex.base_url + path, data=body or None, headers=headers) as r,
    ):
        return r.status, dict(await r.json())


def test_rest_auth_refusals_carry_okx_codes() -> None:
    _in_loop(_auth_body)


async def _auth_body(ex: FakeExchange) -> None:
    path = "/api/v5/account/balance"
    status, ok = await _signed(ex, "GET", path)
    assert (status, ok["code"]) == (200, "0")
    assert ok["data"][0]["details"][0]["eq"] == "10000"
    cases = [
        ({"secret": "wrong"}, "50113"),
        ({"passphrase": "wrong"}, "50105"),
        ({"key": "other"}, "50111"),
        ({"ts_ms": ex.now_ms() - 31_000}, "50102"),
    ]
    for kwargs, code in cases:
        status, refused = await _signed(ex, "GET", path, **kwargs)  # type: ignore[arg-type]
        assert (status, refused["code"]) == (401, code), kwargs
    # the body is part of the signature: a tampered body is refused
    body = json.dumps({"instId": INST, "ordId": "x"})
    timestamp = _iso(ex.now_ms())
    headers = {
        "OK-ACCESS-KEY": "fake-key",
        "OK-ACCESS-PASSPHRASE": "fake-passphrase",
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-SIGN": sign("fake-secret", timestamp + "POST/api/v5/trade/cancel-order" + body),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            ex.base_url + "/api/v5/trade/cancel-order", data=body.replace("x", "y"), headers=headers
        ) as r,
    ):
        assert (await r.json())["code"] == "50113"


def test_ccxt_auth_and_clock_skew_map_to_the_taxonomy() -> None:
    _in_loop(_ccxt_auth_body)


async def _ccxt_auth_body(ex: FakeExchange) -> None:
    bad = _client(ex, secret="wrong")
    good = _client(ex)
    try:
        # with credentials ccxt's loadMarkets already signs (asset/currencies)
        wrong_secret = await _taxonomy(lambda: bad.load_markets(), "load_markets")
        assert wrong_secret.code is ErrorCode.INVALID_CONFIG
        ex.faults.clock_skew_ms = 60_000
        skew = await _taxonomy(lambda: good.fetch_balance(), "fetch_balance")
        assert skew.details["ccxt_error"] == "InvalidNonce"
        assert skew.code is ErrorCode.VENUE_UNAVAILABLE
        assert skew.retryable
        assert "50102" in skew.message
        ex.faults.clock_skew_ms = 0
        assert (await good.fetch_balance())["USDT"]["total"] == 10_000
    finally:
        await bad.close()
        await good.close()


def test_order_rejects_carry_okx_scodes_and_map_to_the_taxonomy() -> None:
    _in_loop(_reject_body)


async def _reject_body(ex: FakeExchange) -> None:
    client = _client(ex)
    try:
        await client.load_markets()

        def place(amount: float, price: float | None = 49_000.0, **params: Any) -> Any:
            kind = "limit" if price is not None else "market"
            return lambda: client.create_order(SYMBOL, kind, "buy", amount, price, params)

        # 300 contracts of 0.01 BTC at 49,000 need 14,700 USDT of margin at 10x
        insufficient = await _taxonomy(place(300))
        assert insufficient.code is ErrorCode.INSUFFICIENT_BALANCE
        assert "51008" in insufficient.message
        # ccxt refuses sizes under minSz itself; the venue's own answer, signed by hand
        body = json.dumps(
            {
                "instId": INST,
                "tdMode": "cross",
                "side": "buy",
                "ordType": "limit",
                "px": "49000",
                "sz": "0.001",
            }
        )
        status, too_small = await _signed(ex, "POST", "/api/v5/trade/order", body)
        assert (status, too_small["code"], too_small["data"][0]["sCode"]) == (200, "1", "51020")
        status, cash = await _signed(ex, "POST", "/api/v5/trade/order", body.replace("cross", "cash"))
        assert (cash["data"][0]["sCode"], cash["data"][0]["sMsg"]) == ("51000", "Parameter tdMode error")
        bad_id = await _taxonomy(place(0.1, clientOrderId="has-hyphens"))
        assert "51000" in bad_id.message
        assert bad_id.code is ErrorCode.INVALID_ORDER
        await client.create_order(SYMBOL, "limit", "buy", 0.1, 49_000.0, {"clientOrderId": "dup1"})
        duplicate = await _taxonomy(place(0.1, clientOrderId="dup1"))
        assert "51016" in duplicate.message
        assert duplicate.code is ErrorCode.ORDER_REJECTED
        reduce_only = await _taxonomy(place(0.1, None, reduceOnly=True))
        assert "51169" in reduce_only.message
        missing = await _taxonomy(lambda: client.cancel_order("404", SYMBOL), "cancel_order")
        assert "51400" in missing.message
        assert missing.details["ccxt_error"] == "OrderNotFound"
        ex.faults.fault_path_prefix = "/api/v5/trade/"
        ex.faults.http_429_next = 1
        limited = await _taxonomy(place(0.1))
        assert limited.code is ErrorCode.RATE_LIMITED
        assert limited.retryable
        ex.faults.reject_next_orders = 1
        injected = await _taxonomy(place(0.1))
        assert injected.code in (ErrorCode.ORDER_REJECTED, ErrorCode.INVALID_ORDER)
        # a crossing post-only order is accepted, then canceled by OKX (cancelSource 31)
        po = await client.create_order(SYMBOL, "limit", "buy", 0.1, 50_001.0, {"postOnly": True})
        fetched = await client.fetch_order(po["id"], SYMBOL)
        assert fetched["status"] == "canceled"
        assert fetched["filled"] == 0
        assert fetched["info"]["cancelSource"] == "31"
        assert fetched["info"]["ordType"] == "post_only"
    finally:
        await client.close()


def test_contract_sizes_margin_fees_and_positions() -> None:
    _in_loop(_contracts_body)


async def _contracts_body(ex: FakeExchange) -> None:
    client = _client(ex)
    try:
        market = (await client.load_markets())[SYMBOL]
        assert market["contractSize"] == 0.01
        assert market["linear"]
        assert market["swap"]
        order = await client.create_order(SYMBOL, "market", "buy", 1.0, None, {"clientOrderId": "m1"})
        assert order["id"]
        trades = await client.fetch_my_trades(SYMBOL)
        assert [(t["amount"], t["price"]) for t in trades] == [(1.0, 50000.1)]
        # taker fee 0.05% of 1 contract * 0.01 BTC * 50,000.1
        assert Decimal(str(trades[0]["fee"]["cost"])) == Decimal("0.2500005")
        [position] = await client.fetch_positions([SYMBOL])
        assert (position["contracts"], position["side"]) == (1.0, "long")
        balance = await client.fetch_balance()
        assert Decimal(str(balance["USDT"]["total"])) < Decimal(10_000)
    finally:
        await client.close()


def test_websocket_login_books_checksum_and_private_pushes() -> None:
    _in_loop(_ws_body)


async def _ws_body(ex: FakeExchange) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(ex.ws_url + "/ws/v5/private") as ws:
            ts = str(ex.now_ms() // 1000)
            bad = {"apiKey": "fake-key", "passphrase": "fake-passphrase", "timestamp": ts, "sign": "x"}
            await ws.send_json({"op": "login", "args": [bad]})
            assert (await ws.receive_json(timeout=5))["code"] == "60007"
            await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SWAP"}]})
            assert (await ws.receive_json(timeout=5))["code"] == "60011"
            good = {**bad, "sign": sign("fake-secret", ts + "GET/users/self/verify")}
            await ws.send_json({"op": "login", "args": [good]})
            assert (await ws.receive_json(timeout=5))["event"] == "login"
            await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SWAP"}]})
            assert (await ws.receive_json(timeout=5))["event"] == "subscribe"
            await ws.send_str("ping")
            assert (await ws.receive(timeout=5)).data == "pong"
            # order entry over the socket, as NautilusTrader's native adapter does it
            args = {"instId": INST, "tdMode": "cross", "side": "sell", "ordType": "limit", "sz": "0.5"}
            await ws.send_json(
                {"id": "7", "op": "order", "args": [{**args, "px": "49999.9", "clOrdId": "w1"}]}
            )
            messages = [await ws.receive_json(timeout=5) for _ in range(3)]
            reply = next(m for m in messages if m.get("op") == "order")
            assert (reply["id"], reply["code"], reply["data"][0]["sCode"]) == ("7", "0", "0")
            fills = [m["data"][0] for m in messages if m.get("arg", {}).get("channel") == "orders"]
            assert any(f["fillSz"] == "0.5" and f["state"] == "filled" for f in fills)
        async with session.ws_connect(ex.ws_url + "/ws/v5/public") as ws:
            await ws.send_json({"op": "subscribe", "args": [{"channel": "books50-l2-tbt", "instId": INST}]})
            assert (await ws.receive_json(timeout=5))["code"] == "60011"
            await ws.send_json({"op": "subscribe", "args": [{"channel": "books", "instId": INST}]})
            assert (await ws.receive_json(timeout=5))["event"] == "subscribe"
            snapshot = (await ws.receive_json(timeout=5))["data"][0]
            assert snapshot["prevSeqId"] == -1
            assert snapshot["checksum"] == book_checksum(snapshot["bids"], snapshot["asks"])
            ex.okx.engine.external_trade(INST, Side.BUY, "0.4")
            update = (await ws.receive_json(timeout=5))["data"][0]
            assert update["prevSeqId"] == snapshot["seqId"]
            assert update["asks"][0][:2] == ["50000.1", "0.6"]


def test_checksum_interleaves_levels_and_is_signed() -> None:
    bids = [["3366.1", "7"], ["3366", "6"], ["3365", "1"]]
    asks = [["3366.8", "9"], ["3368", "8"]]
    text = "3366.1:7:3366.8:9:3366:6:3368:8:3365:1"
    expected = zlib.crc32(text.encode())
    expected = expected - (1 << 32) if expected >= 1 << 31 else expected
    assert book_checksum(bids, asks) == expected
    assert -(1 << 31) <= book_checksum([["1", "1"]] * 30, [["2", "2"]] * 30) < 1 << 31


def _row(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload["data"]
    return dict(data[0] if isinstance(data, list) else data)


def test_shapes_cover_the_recorded_okx_fields(shared_data: Path) -> None:
    ex = FakeExchange()
    okx = ex.okx
    engine = okx.engine
    engine.seed_book(INST, bids=[("100", "5")], asks=[("101", "5")])
    order = engine.submit(
        "USER", INST, Side.BUY, "limit", Decimal("0.5"), price=Decimal("101"), client_id="c1"
    )
    fill = engine.account_fills("USER")[0]
    resting = engine.submit(
        "USER", INST, Side.BUY, "limit", Decimal("1"), price=Decimal("99"), client_id="c2"
    )
    rendered = {
        "http_get_instruments_swap.json": okx.instrument_dict(engine.markets[INST]),
        "http_get_orders_pending.json": okx.order_dict(resting),
        "ws_orders.json": okx.order_dict(order, fill),
        "http_get_positions.json": okx.position_dict(engine.position("USER", INST)),
        "http_get_account_balance.json": okx.balance_dict(),
        "ws_tickers.json": okx.ticker_dict(INST),
        "http_get_mark_price.json": okx._mark_dict(INST),
    }
    for recorded, fake in rendered.items():
        real = _row(json.loads((shared_data / OKX_DATA / recorded).read_text()))
        assert set(real) - set(fake) == set(), (recorded, set(real) - set(fake))
    balance = _row(json.loads((shared_data / OKX_DATA / "http_get_account_balance.json").read_text()))
    assert set(balance["details"][0]) <= set(okx.balance_dict()["details"][0])
    transaction = json.loads((shared_data / OKX_DATA / "http_transaction_detail.json").read_text())
    assert set(transaction) - set(okx.fill_dict(fill)) == set()
