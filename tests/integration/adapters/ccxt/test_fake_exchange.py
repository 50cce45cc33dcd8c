"""The fake exchange through unmodified ccxt: real shapes, faults, subprocess mode."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from ccxt.base import errors as ccxt_errors

from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side

BYBIT_DATA = Path("nautilus_trader/crates/adapters/bybit/test_data")
HL_DATA = Path("nautilus_trader/crates/adapters/hyperliquid/test_data")


async def _bybit(ex: FakeExchange) -> Any:
    client = ccxtpro.bybit(
        {
            "apiKey": "fake-key",
            "secret": "fake-secret",
            "enableRateLimit": False,
            "timeout": 1000,
            "options": {"fetchMarkets": {"types": ["linear"]}},
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url, ex.ws_url)
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]]) -> None:
    """Run ``body`` with a fake exchange served from the test's own event loop."""

    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        ex.bybit.engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


def _call(coro_factory: Any, op: str = "create_order") -> Any:
    return ccxt_call(coro_factory, venue="BYBIT", operation=op, timeout_secs=5)


def test_http_429_timeout_and_clock_skew_map_to_the_taxonomy() -> None:
    _in_loop(_faults_body)


async def _faults_body(running: FakeExchange) -> None:
    client = await _bybit(running)
    try:
        await client.load_markets()
        running.faults.fault_path_prefix = "/v5/order/create"
        running.faults.http_429_next = 1
        with pytest.raises(NautilusExtError) as limited:
            await _call(lambda: client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 40000))
        assert limited.value.code is ErrorCode.RATE_LIMITED
        assert limited.value.retryable
        running.faults.rest_timeout_next = 1
        running.faults.timeout_stall_secs = 2.0
        with pytest.raises(NautilusExtError) as timeout:
            await _call(lambda: client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 40000))
        assert timeout.value.code is ErrorCode.VENUE_UNAVAILABLE
        assert timeout.value.retryable
        running.faults.clock_skew_ms = 60_000
        with pytest.raises(NautilusExtError) as skew:
            await _call(lambda: client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 40000))
        assert skew.value.details["ccxt_error"] == "InvalidNonce"
        running.faults.clock_skew_ms = 0
        order = await _call(lambda: client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 40000))
        assert order["id"]
    finally:
        await client.close()


def test_signatures_are_checked() -> None:
    _in_loop(_signature_body)


async def _signature_body(running: FakeExchange) -> None:
    client = ccxtpro.bybit({"apiKey": "fake-key", "secret": "wrong", "enableRateLimit": False})
    client.urls["api"] = point_urls(client.urls["api"], running.base_url, running.ws_url)
    try:
        with pytest.raises(NautilusExtError) as info:
            await _call(lambda: client.fetch_balance(), "fetch_balance")
        assert info.value.code is ErrorCode.INVALID_CONFIG
    finally:
        await client.close()


def _keys(path: Path) -> set[str]:
    data = json.loads(path.read_text())
    result = data.get("result", data)
    items = result.get("list") if isinstance(result, dict) and "list" in result else None
    if items is None and isinstance(data.get("data"), list):
        items = data["data"]
    row = items[0] if items else result
    return set(row)


def _fake_get(ex: FakeExchange, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{ex.base_url}{path}", timeout=5) as response:
        return dict(json.loads(response.read()))


@pytest.mark.parametrize(
    ("recorded", "path"),
    [
        ("http_get_instruments_linear.json", "/v5/market/instruments-info?category=linear"),
        ("http_get_orderbook.json", "/v5/market/orderbook?category=linear&symbol=BTCUSDT"),
    ],
)
def test_bybit_public_shapes_cover_the_recorded_fields(shared_data: Path, recorded: str, path: str) -> None:
    ex = FakeExchange()
    ex.start_in_thread()
    try:
        ex.call(lambda: ex.bybit.engine.seed_book("BTCUSDT", bids=[("1", "1")], asks=[("2", "1")]))
        fake = _fake_get(ex, path)
        real = json.loads((shared_data / BYBIT_DATA / recorded).read_text())
        assert set(real) <= set(fake)
        real_result, fake_result = real["result"], fake["result"]
        if "list" in real_result:
            missing = set(real_result["list"][0]) - set(fake_result["list"][0])
            assert missing <= {"deliveryTime"} or not missing, missing
        else:
            assert set(real_result) <= set(fake_result)
    finally:
        ex.stop_thread()


def test_bybit_private_shapes_cover_the_recorded_fields(shared_data: Path) -> None:
    ex = FakeExchange()
    pairs = [
        ("http_get_orders_realtime.json", ex.bybit.order_dict),
        ("http_get_executions.json", ex.bybit.fill_dict),
        ("http_get_positions.json", ex.bybit.position_dict),
    ]
    engine = ex.bybit.engine
    engine.seed_book("BTCUSDT", bids=[("100", "1")], asks=[("101", "1")])
    order = engine.submit(
        "USER", "BTCUSDT", Side.BUY, "limit", Decimal("0.5"), price=Decimal("101"), client_id="c1"
    )
    samples: dict[Any, Any] = {
        ex.bybit.order_dict: order,
        ex.bybit.fill_dict: engine.account_fills("USER")[0],
        ex.bybit.position_dict: engine.position("USER", "BTCUSDT"),
    }
    for recorded, render in pairs:
        real = json.loads((shared_data / BYBIT_DATA / recorded).read_text())
        real_keys = set(real["result"]["list"][0])
        fake_keys = set(render(samples[render]))
        assert real_keys - fake_keys == set(), (recorded, real_keys - fake_keys)
    ws_pairs = [
        ("ws_account_order.json", ex.bybit.order_dict),
        ("ws_account_execution.json", ex.bybit.fill_dict),
    ]
    for recorded, render in ws_pairs:
        real = json.loads((shared_data / BYBIT_DATA / recorded).read_text())
        ignorable = {"isLeverage", "feeCurrency", "cancelType", "stopOrderType"}
        assert set(real["data"][0]) - set(render(samples[render])) - ignorable == set()


def test_hyperliquid_shapes_cover_the_recorded_fields(shared_data: Path) -> None:
    ex = FakeExchange()
    hl = ex.hyperliquid
    hl.engine.seed_book("BTC", bids=[("100", "1")], asks=[("101", "1")])
    real_book = json.loads((shared_data / HL_DATA / "http_l2_book_btc.json").read_text())
    book = hl._book("BTC")
    assert set(real_book) <= set(book) | {"time"}
    assert set(real_book["levels"][0][0]) <= set(book["levels"][0][0])
    real_meta = json.loads((shared_data / HL_DATA / "http_meta_perp_sample.json").read_text())
    universe = hl._universe()[0]
    assert {"name", "szDecimals", "maxLeverage"} <= set(universe)
    assert set(real_meta["universe"][0]) - set(universe) <= {"isDelisted", "onlyIsolated"}
    fill_msg = json.loads((shared_data / HL_DATA / "ws_user_fill_liquidation.json").read_text())
    hl.engine.submit(hl.wallet, "BTC", Side.BUY, "limit", Decimal(1), price=Decimal(101))
    fake_fill = hl.fill_dict(hl.engine.account_fills(hl.wallet)[0])
    assert set(fill_msg["data"]["fills"][0]) - set(fake_fill) <= {"liquidation"}


def test_runs_as_a_subprocess() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nautilus_ext_testkit.fake_exchange", "--port", "0", "--seed"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING http://127.0.0.1:")
        base = line.split()[1]
        with urllib.request.urlopen(
            f"{base}/v5/market/tickers?category=linear&symbol=BTCUSDT", timeout=5
        ) as response:
            ticker = json.loads(response.read())["result"]["list"][0]
        assert ticker["bid1Price"] == "49999.9"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0


def test_in_loop_websocket_drop() -> None:
    _in_loop(_drop_body)


async def _drop_body(running: FakeExchange) -> None:
    client = await _bybit(running)
    try:
        book = await asyncio.wait_for(client.watch_order_book("BTC/USDT:USDT"), 5)
        assert book["bids"][0][0] == 49999.9
        assert await running.drop_websockets() == 1
        with pytest.raises(ccxt_errors.BaseError):
            await asyncio.wait_for(client.watch_order_book("BTC/USDT:USDT"), 5)
        book = await asyncio.wait_for(client.watch_order_book("BTC/USDT:USDT"), 5)
        assert book["asks"][0][0] == 50000.1
    finally:
        await client.close()


def test_chaos_knobs_withheld_fill_lagging_positions_silenced_market_data() -> None:
    _in_loop(_chaos_knobs_body)


async def _chaos_knobs_body(running: FakeExchange) -> None:
    client = await _bybit(running)
    try:
        await client.load_markets()
        symbol = "BTC/USDT:USDT"
        # a withheld fill: the order shows filled, the fill history does not list it
        running.faults.withhold_fills_next = 1
        running.faults.position_lag_ms = 60_000
        order = await _call(lambda: client.create_order(symbol, "market", "buy", 0.01, 50000.1))
        fetched = await _call(lambda: client.fetch_closed_order(order["id"], symbol), "fetch_closed_order")
        assert fetched["filled"] == 0.01
        assert await _call(lambda: client.fetch_my_trades(symbol), "fetch_my_trades") == []
        # positions lag a minute: still flat
        (lagged,) = await _call(lambda: client.fetch_positions([symbol]), "fetch_positions")
        assert not lagged["contracts"]
        running.faults.position_lag_ms = 0
        (current,) = await _call(lambda: client.fetch_positions([symbol]), "fetch_positions")
        assert current["contracts"] == 0.01
        # market data silenced: REST market data refused
        running.faults.silence_market_data = True
        with pytest.raises(NautilusExtError) as silenced:
            await _call(lambda: client.fetch_order_book(symbol), "fetch_order_book")
        assert silenced.value.code is ErrorCode.VENUE_UNAVAILABLE
        running.faults.silence_market_data = False
        assert (await _call(lambda: client.fetch_order_book(symbol), "fetch_order_book"))["bids"]
    finally:
        await client.close()
