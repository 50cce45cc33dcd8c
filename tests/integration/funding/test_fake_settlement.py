"""
The fake exchanges settle funding into positions and balances and push each venue's messages.

A long pays ``size x mark x rate`` when the rate is positive, a short receives it; the account
balance changes by exactly that, the rate joins the venue's history at that funding time, the
next funding time moves one interval on, and the venue pushes what it really pushes: Bybit an
``execution`` row with ``execType: "Funding"`` plus ``wallet``; Binance ``ACCOUNT_UPDATE``
with reason ``FUNDING_FEE``; OKX ``balance_and_position`` with ``eventType: "funding_fee"``;
Hyperliquid ``userFundings``. The REST views (balances, Binance income, Hyperliquid
``userFunding``) agree, read through ccxt.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from nautilus_ext.adapters.ccxt.client import create_exchange
from nautilus_ext.adapters.ccxt.config import CcxtDataClientConfig
from nautilus_ext.funding.model import funding_payment
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange.okx_wire import sign as okx_sign

from .conftest import MARK

ACCOUNTS = {"bybit": "USER", "binance": "USER", "okx": "USER"}
SYMBOLS = {"bybit": "BTCUSDT", "binance": "BTCUSDT", "okx": "BTC-USDT-SWAP", "hyperliquid": "BTC"}


def _account(ex: FakeExchange, venue: str) -> str:
    return ex.hyperliquid.wallet if venue == "hyperliquid" else ACCOUNTS[venue]


def _open(ex: FakeExchange, venue: str, side: Side, qty: Decimal) -> None:
    engine = getattr(ex, venue).engine
    ex.call(lambda: engine.submit(_account(ex, venue), SYMBOLS[venue], side, "market", qty))


async def _read_until(
    ws: aiohttp.ClientWebSocketResponse, match: Any, timeout: float = 5.0
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT or msg.data == "pong":
                continue
            data = json.loads(msg.data)
            if match(data):
                return data


@pytest.mark.parametrize(
    ("venue", "side", "rate"),
    [
        ("bybit", Side.BUY, Decimal("0.0001")),
        ("binance", Side.SELL, Decimal("0.0001")),
        ("okx", Side.BUY, Decimal("-0.0003")),
        ("hyperliquid", Side.SELL, Decimal("0.0000125")),
    ],
)
def test_settlement_moves_the_balance_by_size_mark_rate(
    fake: FakeExchange, venue: str, side: Side, rate: Decimal
) -> None:
    engine = getattr(fake, venue).engine
    symbol = SYMBOLS[venue]
    account = _account(fake, venue)
    fake.call(lambda: engine.funding.configure(symbol, rate=rate))
    _open(fake, venue, side, Decimal(1))
    position = fake.call(lambda: engine.position(account, symbol).qty)
    contract = engine.markets[symbol].contract_size
    before = fake.call(lambda: engine.balances[account])
    state = fake.call(lambda: engine.funding.state(symbol))
    funding_time, interval_ms, history_len = state.next_funding_ms, state.interval_ms, len(state.history)

    settlements = fake.call(lambda: fake.settle_funding(venue, symbol))

    expected = funding_payment(position * contract, MARK, rate)
    assert [s.amount for s in settlements if s.account == account] == [expected]
    assert sum(s.amount for s in settlements) == 0  # the market maker took the other side
    assert fake.call(lambda: engine.balances[account]) - before == expected
    # longs pay when the rate is positive, shorts receive; a negative rate reverses it
    assert (expected < 0) == ((position > 0) == (rate > 0))
    state = fake.call(lambda: engine.funding.state(symbol))
    assert state.next_funding_ms == funding_time + interval_ms
    assert len(state.history) == history_len + 1
    assert (state.history[-1].ts_ms, state.history[-1].rate) == (funding_time, rate)


def test_bybit_pushes_a_funding_execution_and_the_wallet(fake: FakeExchange) -> None:
    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.ws_connect(fake.ws_url + "/v5/private") as ws:
            expires = fake.now_ms() + 10_000
            signature = hmac.new(
                b"fake-secret", f"GET/realtime{expires}".encode(), hashlib.sha256
            ).hexdigest()
            await ws.send_json({"op": "auth", "args": ["fake-key", expires, signature]})
            await _read_until(ws, lambda d: d.get("op") == "auth" and d["success"])
            await ws.send_json({"op": "subscribe", "args": ["execution", "position", "wallet"]})
            await _read_until(ws, lambda d: d.get("op") == "subscribe")
            _open(fake, "bybit", Side.BUY, Decimal("0.5"))
            await _read_until(ws, lambda d: d.get("topic") == "execution")  # the trade
            fake.call(lambda: fake.settle_funding("bybit", "BTCUSDT"))
            execution = await _read_until(
                ws, lambda d: d.get("topic") == "execution" and d["data"][0]["execType"] == "Funding"
            )
            wallet = await _read_until(ws, lambda d: d.get("topic") == "wallet")
            return execution["data"][0], wallet["data"][0]

    execution, wallet = asyncio.run(run())
    paid = Decimal("0.5") * MARK * Decimal("0.0001")  # long, positive rate: the account pays
    assert Decimal(execution["execFee"]) == paid
    assert (execution["side"], Decimal(execution["execQty"])) == ("Buy", Decimal("0.5"))
    assert Decimal(execution["feeRate"]) == Decimal("0.0001")
    balance = fake.call(lambda: fake.bybit.engine.balances["USER"])
    assert Decimal(wallet["coin"][0]["walletBalance"]) == balance


def test_binance_pushes_account_update_funding_fee_and_lists_income(fake: FakeExchange) -> None:
    async def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                fake.base_url + "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "fake-key"}
            ) as response:
                key = (await response.json())["listenKey"]
            async with session.ws_connect(f"{fake.ws_url}/private/ws/{key}") as ws:
                _open(fake, "binance", Side.SELL, Decimal("0.2"))
                fake.call(lambda: fake.settle_funding("binance", "BTCUSDT"))
                update = await _read_until(
                    ws, lambda d: d.get("e") == "ACCOUNT_UPDATE" and d["a"]["m"] == "FUNDING_FEE"
                )
        client = create_exchange(
            CcxtDataClientConfig(
                exchange_id="binanceusdm", rest_url_override=fake.base_url, ws_url_override=fake.ws_url
            )
        )
        client.apiKey, client.secret = "fake-key", "fake-secret"
        try:
            history = await client.fetch_funding_history("BTC/USDT:USDT")
        finally:
            await client.close()
        return update, history

    update, history = asyncio.run(run())
    received = Decimal("0.2") * MARK * Decimal("0.0001")  # short, positive rate: receives
    balance = update["a"]["B"][0]
    assert Decimal(balance["bc"]) == received
    assert Decimal(balance["wb"]) == fake.call(lambda: fake.binance.engine.balances["USER"])
    assert Decimal(update["a"]["P"][0]["pa"]) == Decimal("-0.2")
    assert [Decimal(str(h["amount"])) for h in history] == [received]


def test_okx_pushes_balance_and_position_funding_fee(fake: FakeExchange) -> None:
    async def run() -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(fake.ws_url + "/ws/v5/private") as ws,
        ):
            ts = str(int(time.time()))
            login = {
                "apiKey": "fake-key",
                "passphrase": "fake-passphrase",
                "timestamp": ts,
                "sign": okx_sign("fake-secret", ts + "GET/users/self/verify"),
            }
            await ws.send_json({"op": "login", "args": [login]})
            await _read_until(ws, lambda d: d.get("event") == "login")
            await ws.send_json({"op": "subscribe", "args": [{"channel": "balance_and_position"}]})
            await _read_until(ws, lambda d: d.get("event") == "subscribe")
            _open(fake, "okx", Side.BUY, Decimal(5))  # 5 contracts of ctVal BTC
            fake.call(lambda: fake.settle_funding("okx", "BTC-USDT-SWAP"))
            return await _read_until(
                ws,
                lambda d: (
                    d.get("arg", {}).get("channel") == "balance_and_position"
                    and d["data"][0]["eventType"] == "funding_fee"
                ),
            )

    message = asyncio.run(run())
    data = message["data"][0]
    contract = fake.okx.engine.markets["BTC-USDT-SWAP"].contract_size
    assert Decimal(data["balData"][0]["cashBal"]) == fake.call(lambda: fake.okx.engine.balances["USER"])
    assert Decimal(data["posData"][0]["pos"]) == Decimal(5)
    assert fake.call(lambda: fake.okx.engine.balances["USER"]) == Decimal(100_000) - (
        5 * contract * MARK * Decimal("0.0001")
    ) - fake.call(lambda: sum((f.fee for f in fake.okx.engine.fills if f.account == "USER"), Decimal(0)))


def test_hyperliquid_pushes_user_fundings_and_lists_them(fake: FakeExchange) -> None:
    wallet = fake.hyperliquid.wallet

    async def run() -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.ws_connect(fake.ws_url + "/ws") as ws:
            await ws.send_json(
                {"method": "subscribe", "subscription": {"type": "userFundings", "user": wallet}}
            )
            await _read_until(ws, lambda d: d.get("channel") == "subscriptionResponse")
            _open(fake, "hyperliquid", Side.BUY, Decimal("0.3"))
            fake.call(lambda: fake.settle_funding("hyperliquid", "BTC"))
            pushed = await _read_until(ws, lambda d: d.get("channel") == "userFundings")
            async with session.post(
                fake.base_url + "/info", json={"type": "userFunding", "user": wallet, "startTime": 0}
            ) as response:
                listed = await response.json()
            async with session.post(
                fake.base_url + "/info", json={"type": "clearinghouseState", "user": wallet}
            ) as response:
                state = await response.json()
        return pushed, listed, state

    pushed, listed, state = asyncio.run(run())
    paid = -(Decimal("0.3") * MARK * Decimal("0.0000125"))
    funding = pushed["data"]["fundings"][0]
    assert (funding["coin"], Decimal(funding["usdc"]), Decimal(funding["szi"])) == (
        "BTC",
        paid,
        Decimal("0.3"),
    )
    assert [Decimal(r["delta"]["usdc"]) for r in listed] == [paid]
    assert listed[0]["delta"]["type"] == "funding"
    [position] = state["assetPositions"]
    assert Decimal(position["position"]["cumFunding"]["allTime"]) == -paid  # paid counts positive
    assert Decimal(state["marginSummary"]["accountValue"]) == fake.call(
        lambda: fake.hyperliquid.engine.balances[wallet]
    )


def test_settling_every_market_with_no_positions_only_advances_the_clock(fake: FakeExchange) -> None:
    before = fake.call(lambda: dict(fake.bybit.engine.balances))
    times = fake.call(lambda: {s: st.next_funding_ms for s, st in fake.bybit.engine.funding.states.items()})
    assert fake.call(lambda: fake.settle_funding("bybit")) == []
    assert fake.call(lambda: dict(fake.bybit.engine.balances)) == before
    after = fake.call(lambda: {s: st.next_funding_ms for s, st in fake.bybit.engine.funding.states.items()})
    assert after == {s: t + 8 * 3_600_000 for s, t in times.items()}


def _ccxt(fake: FakeExchange, exchange_id: str, market_types: tuple[str, ...]) -> Any:
    client = create_exchange(
        CcxtDataClientConfig(
            exchange_id=exchange_id,
            market_types=market_types,
            rest_url_override=fake.base_url,
            ws_url_override=fake.ws_url,
            enable_rate_limit=False,
        )
    )
    client.apiKey, client.secret, client.password = "fake-key", "fake-secret", "fake-passphrase"
    return client


@pytest.mark.parametrize(
    ("venue", "exchange_id", "market_types", "symbol"),
    [("bybit", "bybit", ("linear",), "BTC/USDT:USDT"), ("okx", "okx", ("swap",), "BTC/USDT:USDT")],
)
def test_funding_history_of_the_account_reads_back_through_ccxt(
    fake: FakeExchange, venue: str, exchange_id: str, market_types: tuple[str, ...], symbol: str
) -> None:
    _open(fake, venue, Side.BUY, Decimal(2))
    engine = getattr(fake, venue).engine
    flows = []
    for rate in (Decimal("0.0001"), Decimal("-0.0002")):
        fake.call(lambda r=rate: engine.funding.configure(SYMBOLS[venue], rate=r))
        [own] = [
            s for s in fake.call(lambda: fake.settle_funding(venue, SYMBOLS[venue])) if s.account == "USER"
        ]
        flows.append(own)

    async def run() -> list[dict[str, Any]]:
        client = _ccxt(fake, exchange_id, market_types)
        try:
            await client.load_markets()
            return list(await client.fetch_funding_history(symbol))
        finally:
            await client.close()

    history = sorted(asyncio.run(run()), key=lambda h: h["timestamp"])
    assert [h["timestamp"] for h in history] == [f.ts_ms for f in flows]
    # OKX's balChg: received positive. ccxt 4.5.90 passes Bybit's execFee through as the amount,
    # and a fee is positive when paid: on Bybit ccxt's funding "amount" has the opposite sign
    sign = -1 if venue == "bybit" else 1
    assert [Decimal(str(h["amount"])) for h in history] == [sign * f.amount for f in flows]
    assert flows[0].amount < 0 < flows[1].amount  # a long pays a positive rate, receives a negative one
