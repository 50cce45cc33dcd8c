"""
The Aster fake: ccxt's real EIP-712 signing passes; a wrong key, a wallet that is not the
account's agent, a tampered, replayed or stale request fail with Aster's payloads; the venue's
error codes reach the project's taxonomy; ccxt parses the payloads unmodified; and the ccxt
4.5.90 limitations the adapter works around are pinned.
"""

from __future__ import annotations

import asyncio
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
from eth_account import Account
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CryptoPerpetual

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.credentials import CcxtCredentials
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.aster_wire import TEST_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.aster_wire import TEST_WALLET
from nautilus_ext_testkit.fake_exchange.aster_wire import NonceBook
from nautilus_ext_testkit.fake_exchange.aster_wire import sign_params
from nautilus_ext_testkit.node_harness import NodeHarness
from tests.integration.adapters.ccxt.conftest import VENUES
from tests.integration.adapters.ccxt.conftest import Recorder

OTHER_KEY = "0x" + "44" * 32
AGENT_KEY = "0x" + "55" * 32
AGENT = str(Account.from_key(AGENT_KEY).address).lower()
BTC = "BTC/USDT:USDT"


def _adapter_client(ex: FakeExchange, key: str = TEST_PRIVATE_KEY) -> Any:
    """The adapter's own ccxt exchange (its options and URL rules) on the fake."""
    config = CcxtExecClientConfig(
        exchange_id="aster",
        market_types=("swap",),
        rest_url_override=ex.base_url + "/aster",
        ws_url_override=ex.ws_url + "/aster",
        enable_rate_limit=False,
        timeout_ms=3_000,
    )
    return create_exchange(config, CcxtCredentials("aster", {"privateKey": key}))


def _plain_client(ex: FakeExchange, key: str, *, host_label: bool = True, **options: Any) -> Any:
    """ccxt's Aster with nothing but its URLs pointed at the fake."""
    client = ccxtpro.aster(
        {
            "privateKey": key,
            "enableRateLimit": False,
            "timeout": 3_000,
            "options": {"builderFee": False, **options},
        }
    )
    client.urls["api"] = point_urls(
        client.urls["api"], ex.base_url + "/aster", ex.ws_url + "/aster", ws_host_label=host_label
    )
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]], **kwargs: Any) -> None:
    async def main() -> None:
        ex = FakeExchange(**kwargs)
        await ex.start()
        ex.aster.engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _raw(
    ex: FakeExchange, method: str, path: str, params: str, key: str = TEST_PRIVATE_KEY
) -> tuple[int, Any]:
    """Send ``params`` (already carrying nonce/user/signer) signed by ``key``; return status, body."""
    text = params + "&signature=" + sign_params(key, params)
    url = ex.base_url + "/aster/fapi/v3" + path
    async with aiohttp.ClientSession() as session:
        if method == "GET":
            async with session.get(url + "?" + text) as r:
                return r.status, await r.json(content_type=None)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with session.request(method, url, data=text, headers=headers) as r:
            return r.status, await r.json(content_type=None)


def _auth(nonce: int | None = None, user: str = TEST_WALLET, signer: str = TEST_WALLET) -> str:
    nonce = nonce if nonce is not None else int(time.time() * 1_000_000)
    return f"nonce={nonce}&user={user}&signer={signer}"


async def _close(*clients: Any) -> None:
    for client in clients:
        await client.close()


def test_ccxt_signing_passes_and_orders_carry_no_builder_fee() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _adapter_client(ex)
        try:
            balance = await client.fetch_balance()
            assert balance["USDT"]["total"] == 100_000
            order = await client.create_order(BTC, "limit", "buy", 0.1, 49000.0, {"clientOrderId": "c-1"})
            assert order["status"] == "open"
            assert order["clientOrderId"] == "c-1"
        finally:
            await _close(client)
        sent = ex.aster.signed_requests[-1]
        assert sent["user"] == sent["signer"] == TEST_WALLET
        assert "builder" not in sent
        assert "feeRate" not in sent
        assert ex.aster.engine.open_orders("USER")[0].client_id == "c-1"

    _in_loop(body)


def test_wrong_key_and_unapproved_wallet_are_refused() -> None:
    async def body(ex: FakeExchange) -> None:
        # a key that signs for the account's address: the recovered signer differs (-1022)
        forger = _plain_client(ex, OTHER_KEY, signerAddress=TEST_WALLET)
        # a well-signed request from a wallet that is not the account (-2015)
        stranger = _plain_client(ex, OTHER_KEY)
        try:
            await forger.load_markets()
            with pytest.raises(ccxt_errors.AuthenticationError, match="-1022"):
                await forger.fetch_open_orders(BTC)
            with pytest.raises(ccxt_errors.AuthenticationError, match="-2015"):
                await stranger.fetch_open_orders(BTC)
        finally:
            await _close(forger, stranger)
        status, payload = await _raw(ex, "GET", "/openOrders", _auth() + "&symbol=BTCUSDT", key=OTHER_KEY)
        assert (status, payload["code"]) == (400, -1022)
        assert payload["msg"] == "Signature for this request is not valid."

    _in_loop(body)


def test_approved_agent_signs_for_the_account() -> None:
    async def body(ex: FakeExchange) -> None:
        params = (
            _auth(signer=AGENT)
            + "&symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=49000"
        )
        status, payload = await _raw(ex, "POST", "/order", params, key=AGENT_KEY)
        assert status == 200, payload
        assert payload["status"] == "NEW"
        # the same agent for an account that did not approve it
        stranger = str(Account.from_key(OTHER_KEY).address).lower()
        status, payload = await _raw(
            ex, "GET", "/openOrders", _auth(user=stranger, signer=AGENT), key=AGENT_KEY
        )
        assert payload["code"] == -2015

    _in_loop(body, aster_agents=frozenset({AGENT}))


def test_tampered_replayed_and_stale_requests_are_refused() -> None:
    async def body(ex: FakeExchange) -> None:
        params = _auth() + "&symbol=BTCUSDT"
        signature = sign_params(TEST_PRIVATE_KEY, params)
        url = ex.base_url + "/aster/fapi/v3/openOrders?"
        async with aiohttp.ClientSession() as session:
            async with session.get(url + params + "&signature=" + signature) as r:
                assert r.status == 200
            # the same request again: the nonce is used
            async with session.get(url + params + "&signature=" + signature) as r:
                assert (await r.json())["code"] == -4225
            # a parameter changed after signing
            tampered = params.replace("BTCUSDT", "ETHUSDT") + "&signature=" + signature
            async with session.get(url + tampered) as r:
                assert (await r.json())["code"] == -1022
        stale = _auth(nonce=int(time.time() * 1_000_000) - 61_000_000) + "&symbol=BTCUSDT"
        status, payload = await _raw(ex, "GET", "/openOrders", stale)
        assert (status, payload) == (400, {"code": -4225, "msg": "Nonce Expired"})
        status, payload = await _raw(ex, "GET", "/openOrders", "symbol=BTCUSDT&nonce=1")
        assert payload["code"] == -1102

    _in_loop(body)


def test_nonce_book_keeps_the_last_hundred_per_signer() -> None:
    book = NonceBook()
    now = 1_700_000_000_000_000
    for i in range(100):
        assert book.accept("a", now + i, now)
    assert not book.accept("a", now - 1, now)  # below the smallest of a full list
    assert book.accept("b", now - 1, now)  # each signer has its own list
    assert book.accept("a", now + 100, now)  # evicts the oldest
    assert not book.accept("a", now + 100, now)
    assert not book.accept("a", now + 61_000_000, now)  # too far ahead


def test_venue_errors_map_to_the_taxonomy() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _adapter_client(ex)

        async def call(factory: Callable[[], Awaitable[Any]], operation: str) -> NautilusExtError:
            with pytest.raises(NautilusExtError) as info:
                await ccxt_call(factory, venue="ASTER", operation=operation, timeout_secs=5)
            return info.value

        try:
            await client.load_markets()
            too_big = await call(
                lambda: client.create_order(BTC, "limit", "buy", 900, 49000.0), "create_order"
            )
            assert too_big.code is ErrorCode.INSUFFICIENT_BALANCE
            unknown = await call(lambda: client.cancel_order("999999", BTC), "cancel_order")
            assert unknown.details["ccxt_error"] == "OrderNotFound"
            await client.create_order(BTC, "limit", "buy", 0.1, 49000.0, {"clientOrderId": "dup"})
            dup = await call(
                lambda: client.create_order(BTC, "limit", "buy", 0.1, 49000.0, {"clientOrderId": "dup"}),
                "create_order",
            )
            assert dup.details["ccxt_error"] == "DuplicateOrderId"
            long_id = await call(
                lambda: client.create_order(BTC, "limit", "buy", 0.1, 49000.0, {"clientOrderId": "x" * 37}),
                "create_order",
            )
            assert long_id.code is ErrorCode.ORDER_REJECTED
            assert "-4015" in long_id.message
            # an order naming a builder the account never approved (-2031)
            builder = await call(
                lambda: client.create_order(BTC, "limit", "buy", 0.1, 49000.0, {"builder": "0x" + "ab" * 20}),
                "create_order",
            )
            assert builder.details["ccxt_error"] == "BadRequest"
            # the exchange clock two minutes ahead: every nonce is expired, retryable
            ex.faults.clock_skew_ms = 120_000
            expired = await call(client.fetch_balance, "fetch_balance")
            assert expired.details["ccxt_error"] == "InvalidNonce"
            assert expired.retryable
            ex.faults.clock_skew_ms = 0
            ex.faults.fault_path_prefix = "/aster/fapi/v3/openOrders"
            ex.faults.http_429_next = 1
            limited = await call(lambda: client.fetch_open_orders(BTC), "fetch_open_orders")
            assert limited.code is ErrorCode.RATE_LIMITED
        finally:
            await _close(client)

    _in_loop(body)


def test_ccxt_parses_market_and_account_payloads() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _adapter_client(ex)
        try:
            markets = await client.load_markets()
            # Aster lists spot pairs under the perpetuals' ids: both load, apart by type
            assert markets[BTC]["id"] == markets["BTC/USDT"]["id"] == "BTCUSDT"
            assert markets[BTC]["linear"]
            assert markets[BTC]["precision"]["price"] == 0.1
            book = await client.fetch_order_book(BTC, 5)
            assert book["bids"][0] == [49999.9, 1.0]
            filled = await client.create_order(BTC, "market", "buy", 0.5)
            assert filled["status"] == "closed"
            assert filled["filled"] == 0.5
            trades = await client.fetch_my_trades(BTC)
            assert [t["amount"] for t in trades] == [0.5]
            assert trades[0]["fee"]["currency"] == "USDT"
            positions = await client.fetch_positions([BTC])
            assert positions[0]["side"] == "long"
            assert positions[0]["contracts"] == 0.5
            funding = await client.fetch_funding_rate(BTC)
            assert funding["fundingRate"] == float(ex.aster.funding_rate)
            # the streams resolve to the perpetual although a spot BTCUSDT exists
            streamed = await asyncio.wait_for(client.watch_order_book(BTC), 5)
            assert streamed["symbol"] == BTC
            assert streamed["asks"][0] == [50000.1, 0.5]
            mark = await asyncio.wait_for(client.watch_mark_price(BTC), 5)
            assert mark["markPrice"] is not None
        finally:
            await _close(client)

    _in_loop(body)


def test_user_stream_speaks_binance_shapes_ccxt_parses() -> None:
    async def body(ex: FakeExchange) -> None:
        status, payload = await _raw(ex, "POST", "/listenKey", _auth())
        assert status == 200
        key = payload["listenKey"]
        client = _adapter_client(ex)
        await client.load_markets()
        async with aiohttp.ClientSession() as session:
            # an unknown listenKey is refused at the upgrade
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(ex.ws_url + "/aster/fstream/ws/not-a-key")
            async with session.ws_connect(ex.ws_url + "/aster/fstream/ws/" + key) as ws:
                params = _auth() + "&symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.2&newClientOrderId=ws-1"
                status, _ = await _raw(ex, "POST", "/order", params)
                assert status == 200
                events = [json.loads((await asyncio.wait_for(ws.receive(), 5)).data) for _ in range(3)]
        kinds = [e["e"] for e in events]
        assert kinds.count("ORDER_TRADE_UPDATE") == 2
        assert "ACCOUNT_UPDATE" in kinds
        trade = next(e["o"] for e in events if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE")
        parsed = client.parse_ws_order(trade, client.market(BTC))
        assert (parsed["status"], parsed["filled"], parsed["clientOrderId"]) == ("closed", 0.2, "ws-1")
        fill = client.parse_ws_trade(trade, client.market(BTC))
        assert fill["price"] == 50000.1
        assert fill["amount"] == 0.2
        await client.close()

    _in_loop(body)


def test_ccxt_private_streams_still_broken() -> None:
    """Pin ccxt 4.5.90's bug the adapter works around (NO_PRIVATE_STREAM_EXCHANGES): when this
    test fails, ccxt's Aster private streams work and the workaround can go."""

    async def body(ex: FakeExchange) -> None:
        client = _adapter_client(ex)
        try:
            await client.load_markets()
            for method in (client.watch_orders, client.watch_my_trades, client.watch_balance):
                with pytest.raises(ccxt_errors.ArgumentsRequired, match="requires a market type"):
                    await method()
        finally:
            await _close(client)

    _in_loop(body)


def test_balance_and_market_type_follow_the_configured_types() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _adapter_client(ex)
        plain = _plain_client(ex, TEST_PRIVATE_KEY)
        try:
            assert client.options["defaultType"] == "swap"
            assert (await client.fetch_balance())["USDT"]["total"] == 100_000
            # ccxt's default (spot) asks the spot account (sapi), which this fake does not serve
            assert plain.options["defaultType"] == "spot"
            with pytest.raises(ccxt_errors.BaseError, match="/aster/api/v3/account"):
                await plain.fetch_balance()
        finally:
            await _close(client, plain)
        assert Decimal(ex.aster.engine.balances["USER"]) == Decimal(100_000)

    _in_loop(body)


def test_local_stream_urls_keep_the_host_label() -> None:
    """ccxt's Aster reads swap vs spot from the WebSocket host (``fstream``): from a local URL
    without it, the perpetual's depth is filed under the spot pair and a swap watch never
    resolves; with the host label kept, it lands on the perpetual."""

    async def body(ex: FakeExchange) -> None:
        labelled = _plain_client(ex, TEST_PRIVATE_KEY)
        bare = _plain_client(ex, TEST_PRIVATE_KEY, host_label=False)
        try:
            event = ex.aster.streams.partial_depth("BTCUSDT", 20)
            for client in (labelled, bare):
                await client.load_markets()
                client.handle_message(client.client(client.urls["api"]["ws"]["public"]["swap"]), event)
            assert labelled.urls["api"]["ws"]["public"]["swap"].endswith("/aster/fstream/stream")
            assert list(labelled.orderbooks) == [BTC]
            assert list(bare.orderbooks) == ["BTC/USDT"]
        finally:
            await _close(labelled, bare)

    _in_loop(body)


@pytest.mark.slow
def test_node_polls_marks_through_the_funding_rate_and_loads_only_perpetuals(
    fake_exchange: FakeExchange, start_node: Callable[..., NodeHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ccxt's Aster has no REST mark price: with streaming off the data client polls the
    premium index (funding rate) for it; the spot pairs ccxt loads too are not instruments."""
    spec = VENUES["aster"]
    for name, value in spec["env"].items():
        monkeypatch.setenv(name, value)
    h = start_node(
        "aster",
        subscribe=False,
        subscribe_derivatives=True,
        data_overrides={"use_websocket": False, "poll_interval_ms": 100},
    )
    strat = h.strategy(Recorder)
    eventually(lambda: strat.marks and strat.fundings, 15, message="no polled mark/funding")
    assert strat.marks[-1].value.as_decimal() == Decimal("50000.0")
    instruments = h.call(lambda: h.node.cache.instruments(venue=Venue("ASTER")))  # type: ignore[union-attr]
    assert sorted(str(i.id) for i in instruments) == ["BTC/USDT:USDT.ASTER", "ETH/USDT:USDT.ASTER"]
    assert all(isinstance(i, CryptoPerpetual) for i in instruments)
