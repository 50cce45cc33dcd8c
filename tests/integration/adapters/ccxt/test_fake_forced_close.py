"""
The fakes' injected ADL and liquidation, read back through unmodified ccxt REST calls: Bybit's
execution list marks them (``execType`` ``AdlTrade``/``BustTrade``), Binance lists them under
``forceOrders`` and ``allOrders`` with its ``adl_autoclose``/``autoclose-`` client ids, and the
adapter's parser recognises every one.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.config import CcxtExecClientConfig
from nautilus_ext.adapters.ccxt.credentials import CcxtCredentials
from nautilus_ext.adapters.ccxt.parsing.forced import forced_kind
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.engine import EngineReject

SYMBOL = "BTC/USDT:USDT"


def _client(ex: FakeExchange, exchange_id: str) -> Any:
    config = CcxtExecClientConfig(
        exchange_id=exchange_id,
        market_types=("linear",),
        rest_url_override=ex.base_url,
        ws_url_override=ex.ws_url,
        enable_rate_limit=False,
        timeout_ms=3_000,
    )
    return create_exchange(
        config, CcxtCredentials(exchange_id, {"apiKey": "fake-key", "secret": "fake-secret"})
    )


def _hold(ex: FakeExchange, venue: str, side: Side) -> None:
    engine = getattr(ex, venue).engine
    engine.seed_book("BTCUSDT", bids=[("49999.9", "1")], asks=[("50000.1", "1")])
    engine.submit("USER", "BTCUSDT", side, "market", Decimal("0.2"))


def test_bybit_adl_and_liquidation_through_ccxt() -> None:
    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        client = _client(ex, "bybit")
        try:
            _hold(ex, "bybit", Side.SELL)
            ex.force_close("bybit", "BTCUSDT", "adl", qty="0.05")
            ex.force_close("bybit", "BTCUSDT", "liquidation")
            assert ex.bybit.engine.position("USER", "BTCUSDT").qty == 0
            with pytest.raises(EngineReject):
                ex.force_close("bybit", "BTCUSDT", "adl")  # nothing left to close
            await client.load_markets()
            trades = await client.fetch_my_trades(SYMBOL)
            kinds = sorted((forced_kind(t), t["side"], t["amount"]) for t in trades if forced_kind(t))
            assert kinds == [("ADL", "buy", 0.05), ("LIQUIDATION", "buy", 0.15)]
            assert {t["info"]["execType"] for t in trades} == {"Trade", "AdlTrade", "BustTrade"}
            assert all(t["fee"]["cost"] == 0 for t in trades if forced_kind(t))
        finally:
            await client.close()
            await ex.stop()

    asyncio.run(main())


def test_binance_adl_and_liquidation_through_ccxt() -> None:
    async def main() -> None:
        ex = FakeExchange()
        await ex.start()
        client = _client(ex, "binanceusdm")
        try:
            _hold(ex, "binance", Side.BUY)
            ex.force_close("binance", "BTCUSDT", "adl", qty="0.05")
            ex.force_close("binance", "BTCUSDT", "liquidation", price="45000")
            assert ex.binance.engine.position("USER", "BTCUSDT").qty == 0
            await client.load_markets()
            forced = await client.fapiPrivateGetForceOrders({"symbol": "BTCUSDT"})
            assert [(o["autoCloseType"], o["side"]) for o in forced] == [
                ("LIQUIDATION", "SELL"),
                ("ADL", "SELL"),
            ]
            assert forced[0]["clientOrderId"].startswith("autoclose-")
            assert forced[0]["type"] == "LIQUIDATION"
            assert forced[1]["clientOrderId"] == "adl_autoclose"
            only_adl = await client.fapiPrivateGetForceOrders({"symbol": "BTCUSDT", "autoCloseType": "ADL"})
            assert len(only_adl) == 1
            orders = await client.fetch_orders(SYMBOL)
            assert sorted(k for o in orders if (k := forced_kind(o))) == ["ADL", "LIQUIDATION"]
            trades = await client.fetch_my_trades(SYMBOL)
            assert sorted(t["price"] for t in trades if t["side"] == "sell") == [45000.0, 50000.0]
        finally:
            await client.close()
            await ex.stop()

    asyncio.run(main())
