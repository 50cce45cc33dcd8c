"""The fake exchange's Binance USD-M protocol: signatures, error codes, depth sequencing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange import binance_wire as wire

KEY, SECRET = "fake-key", "fake-secret"


def _signed_query(params: dict[str, Any], secret: str = SECRET) -> str:
    query = urlencode(params)
    return f"{query}&signature={wire.sign(secret, query)}"


def _check(query: str = "", body: str = "", key: str = KEY, now: int = 1_000_000) -> wire.BinanceError | None:
    return wire.check_signed_request(
        query_string=query, body=body, api_key=key, expected_key=KEY, secret=SECRET, now_ms=now
    )[1]


# -- signatures and timestamps ----------------------------------------------------------------


def test_valid_signature_in_query_or_body_is_accepted() -> None:
    params = {"symbol": "BTCUSDT", "timestamp": 999_000, "recvWindow": 5000}
    assert _check(query=_signed_query(params)) is None
    assert _check(body=_signed_query(params)) is None
    # query + body are signed together (Binance's totalParams)
    query = "symbol=BTCUSDT"
    body = "timestamp=999000"
    assert _check(query=query, body=f"{body}&signature={wire.sign(SECRET, query + body)}") is None


def test_wrong_secret_tampered_params_and_unknown_key_are_refused() -> None:
    params = {"symbol": "BTCUSDT", "timestamp": 999_000}
    assert _check(query=_signed_query(params, secret="other")) is wire.BAD_SIGNATURE
    tampered = _signed_query(params).replace("BTCUSDT", "ETHUSDT")
    assert _check(query=tampered) is wire.BAD_SIGNATURE
    refused = _check(query=_signed_query(params), key="someone-else")
    assert refused is wire.INVALID_API_KEY
    assert (refused.status, refused.code) == (401, -2015)
    unsigned = _check(query=urlencode(params))
    assert unsigned is not None
    assert unsigned.code == -1102


def test_timestamp_outside_recv_window_is_1021() -> None:
    late = _check(query=_signed_query({"timestamp": 1_000_000 - 5_001, "recvWindow": 5000}))
    assert late is wire.TIMESTAMP_OUTSIDE_WINDOW
    assert late.code == -1021
    ahead = _check(query=_signed_query({"timestamp": 1_000_000 + 1_000}))
    assert ahead is wire.TIMESTAMP_AHEAD
    assert ahead.code == -1021
    assert _check(query=_signed_query({"timestamp": 1_000_000 + 999})) is None
    assert _check(query=_signed_query({"timestamp": 1, "recvWindow": 60_001})) is wire.BAD_RECV_WINDOW


# -- depth sequencing -------------------------------------------------------------------------


def test_depth_events_chain_u_and_pu_and_cover_the_snapshot() -> None:
    seq = wire.DepthSequencer("BTCUSDT", last_u=100)
    seq.add(101, [(Side.BUY, Decimal(10), Decimal(1))])
    seq.add(102, [(Side.BUY, Decimal(10), Decimal(2)), (Side.SELL, Decimal(11), Decimal(3))])
    first = seq.flush(1, 1)
    assert first is not None
    assert (first["U"], first["u"], first["pu"]) == (101, 102, 100)
    assert first["b"] == [["10", "2"]]  # the level's latest size, once
    assert seq.flush(2, 2) is None
    seq.add(103, [(Side.SELL, Decimal(11), Decimal(0))])
    second = seq.flush(3, 3)
    assert second is not None
    assert (second["U"], second["u"], second["pu"]) == (103, 103, 102)
    # a client holding snapshot 101 applies both; one holding 102 too (u >= 102)
    assert wire.apply_depth_events(101, [first, second]) == [first, second]
    assert wire.apply_depth_events(103, [first, second]) == [second]
    with pytest.raises(ValueError, match="gap"):
        wire.apply_depth_events(101, [first, {**second, "pu": 101}])
    with pytest.raises(ValueError, match="misses"):
        wire.apply_depth_events(99, [first])
    with pytest.raises(ValueError, match="not after"):
        seq.add(103, [])  # ids only move forward


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5), st.integers(0, 4)), min_size=1, max_size=40))
def test_replaying_events_over_any_snapshot_rebuilds_the_book(steps: list[tuple[bool, int, int]]) -> None:
    # steps: (flush after?, price, size); snapshots are taken after every step
    seq = wire.DepthSequencer("X", last_u=0)
    book: dict[Decimal, Decimal] = {}
    snapshots: list[tuple[int, dict[Decimal, Decimal]]] = [(0, {})]
    events: list[dict[str, Any]] = []
    for update_id, (flush, price, size) in enumerate(steps, start=1):
        seq.add(update_id, [(Side.BUY, Decimal(price), Decimal(size))])
        book[Decimal(price)] = Decimal(size)
        snapshots.append((update_id, dict(book)))
        if flush:
            events.append(seq.flush(update_id, update_id) or {})
    last = seq.flush(0, 0)
    if last is not None:
        events.append(last)
    for snapshot_id, snapshot in snapshots:
        local = dict(snapshot)
        for event in wire.apply_depth_events(snapshot_id, events):
            local.update({Decimal(p): Decimal(q) for p, q in event["b"]})
        assert {p: q for p, q in local.items() if q} == {p: q for p, q in book.items() if q}


# -- over HTTP and WebSocket ------------------------------------------------------------------


def _served(body: Callable[[FakeExchange, aiohttp.ClientSession], Awaitable[None]]) -> None:
    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        ex.binance.engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")])
        try:
            async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY}) as session:
                await body(ex, session)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _order(ex: FakeExchange, session: aiohttp.ClientSession, **params: Any) -> tuple[int, Any]:
    fields = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", **params}
    fields["timestamp"] = int(time.time() * 1000)  # the client clock: the host's
    async with session.post(
        ex.base_url + "/fapi/v1/order",
        data=_signed_query(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        return response.status, await response.json()


def test_order_rejects_carry_binance_codes() -> None:
    async def body(ex: FakeExchange, session: aiohttp.ClientSession) -> None:
        cases = {
            -5022: {"quantity": "0.1", "price": "50000.1", "timeInForce": "GTX"},
            -2019: {"quantity": "90", "price": "49000"},
            -2022: {"quantity": "0.1", "type": "MARKET", "reduceOnly": "true", "side": "SELL"},
            -1121: {"quantity": "0.1", "price": "49000", "symbol": "NOPEUSDT"},
            -4164: {"quantity": "0.001", "price": "49000"},
            -4014: {"quantity": "0.1", "price": "49000.05"},
            -1111: {"quantity": "0.0001", "price": "49000"},
        }
        for code, params in cases.items():
            status, answer = await _order(ex, session, **params)
            assert (status, answer["code"]) == (400, code), params
        ok_status, ok = await _order(ex, session, quantity="0.1", price="49000", newClientOrderId="C-1")
        assert ok_status == 200
        assert (ok["status"], ok["clientOrderId"], ok["positionSide"]) == ("NEW", "C-1", "BOTH")
        _, dup = await _order(ex, session, quantity="0.1", price="49000", newClientOrderId="C-1")
        assert dup["code"] == -4116
        _, fok = await _order(ex, session, quantity="5", price="50000.1", timeInForce="FOK")
        assert (fok["status"], fok["executedQty"]) == ("EXPIRED", "0.000")
        ex.faults.clock_skew_ms = 30_000
        skewed_status, skewed = await _order(ex, session, quantity="0.1", price="49000")
        assert (skewed_status, skewed["code"]) == (400, -1021)

    _served(body)


def test_rate_limit_fault_answers_binance_429() -> None:
    async def body(ex: FakeExchange, session: aiohttp.ClientSession) -> None:
        ex.faults.fault_path_prefix = "/fapi/v1/depth"
        ex.faults.http_429_next = 1
        async with session.get(ex.base_url + "/fapi/v1/depth?symbol=BTCUSDT&limit=50") as response:
            assert response.status == 429
            assert (await response.json())["code"] == -1003
        async with session.get(ex.base_url + "/fapi/v1/depth?symbol=BTCUSDT&limit=7") as response:
            assert (await response.json())["code"] == -4021

    _served(body)


def test_ws_depth_updates_continue_the_rest_snapshot() -> None:
    async def body(ex: FakeExchange, session: aiohttp.ClientSession) -> None:
        engine = ex.binance.engine
        async with session.ws_connect(ex.ws_url + "/public/stream?streams=btcusdt@depth@100ms") as ws:
            engine.seed_book("BTCUSDT", bids=[("49990.0", "2")], asks=[])  # before the snapshot
            async with session.get(ex.base_url + "/fapi/v1/depth?symbol=BTCUSDT&limit=50") as r:
                snapshot = await r.json()
            engine.seed_book("BTCUSDT", bids=[("49980.0", "3")], asks=[])
            engine.external_trade("BTCUSDT", Side.BUY, "0.4")
            events: list[dict[str, Any]] = []
            deadline = time.monotonic() + 5
            final_id = engine.book_seq["BTCUSDT"]
            while time.monotonic() < deadline and (not events or events[-1]["u"] < final_id):
                message = json.loads((await ws.receive(timeout=5)).data)
                assert message["stream"] == "btcusdt@depth@100ms"
                events.append(message["data"])
        applied = wire.apply_depth_events(snapshot["lastUpdateId"], events)
        book = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
        for event in applied:
            book.update({Decimal(p): Decimal(q) for p, q in event["a"]})
        assert {p: q for p, q in book.items() if q} == {Decimal("50000.1"): Decimal("0.6")}
        assert events == ex.binance.streams.depth_events[-len(events) :]

    _served(body)


def test_user_stream_needs_a_listen_key_and_pushes_order_and_account_updates() -> None:
    async def body(ex: FakeExchange, session: aiohttp.ClientSession) -> None:
        async with session.post(ex.base_url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "x"}) as r:
            assert (await r.json())["code"] == -2015
        async with session.post(ex.base_url + "/fapi/v1/listenKey") as r:
            key = (await r.json())["listenKey"]
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(ex.ws_url + "/private/ws?listenKey=wrong")
        async with session.ws_connect(ex.ws_url + f"/private/ws?listenKey={key}") as ws:
            await _order(ex, session, type="MARKET", quantity="0.5", newClientOrderId="M-1")
            kinds = []
            while len(kinds) < 3:
                data = json.loads((await ws.receive(timeout=5)).data)
                kinds.append((data["e"], data.get("o", {}).get("x"), data.get("o", {}).get("X")))
        assert kinds == [
            ("ORDER_TRADE_UPDATE", "NEW", "NEW"),
            ("ORDER_TRADE_UPDATE", "TRADE", "FILLED"),
            ("ACCOUNT_UPDATE", None, None),
        ]

    _served(body)
