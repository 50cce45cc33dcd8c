"""
The fake exchange server: one aiohttp application speaking Bybit v5, Binance USD-M futures,
OKX v5, Deribit v2, Hyperliquid and Backpack.

Run it in the test's own event loop (``await ex.start()``), in a background thread with its own
loop (``ex.start_in_thread()``), or as a subprocess (``python -m
nautilus_ext_testkit.fake_exchange --port 0`` prints ``LISTENING <base_url>``). It binds to
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from aiohttp import WSMsgType
from aiohttp import web

from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.faults import FaultPlan
from nautilus_ext_testkit.fake_exchange.funding import FundingSettlement
from nautilus_ext_testkit.threaded_server import ThreadedServer

HOST: Final = "127.0.0.1"
OKX_API_PREFIX: Final = "/api/v5/"
# Bybit's REST market-data endpoints, refused while ``FaultPlan.silence_market_data`` is set
_MARKET_DATA_PATHS: Final = ("/v5/market/orderbook", "/v5/market/tickers", "/v5/market/recent-trade")


@dataclass(frozen=True)
class ReceivedOrder:
    """An order-entry request as the exchange saw it (for latency measurements)."""

    venue: str
    client_id: str
    received_ns: int


class WsConnection:
    """One accepted WebSocket with an ordered outbound queue (so pushes never interleave)."""

    _ids = itertools.count(1)

    def __init__(self, ws: web.WebSocketResponse, path: str, faults: FaultPlan) -> None:
        self.ws = ws
        self.path = path
        self.conn_id = f"fake-conn-{next(self._ids)}"
        self.topics: set[str] = set()
        self.authenticated = False
        self.user: str | None = None
        self._faults = faults
        self._queue: asyncio.Queue[tuple[str | bytes, bool]] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, message: dict[str, Any], *, private: bool = False) -> None:
        """Queue a JSON message (private pushes get the fill delay)."""
        if not private and self._faults.silence_market_data and "topic" in message:
            return  # market data silenced: pushes dropped, pongs and acks still answered
        self._queue.put_nowait((json.dumps(message), private))

    def send_text(self, text: str) -> None:
        """Queue a raw text frame (OKX's ``pong``)."""
        self._queue.put_nowait((text, False))

    def send_bytes(self, frame: bytes, *, private: bool = False) -> None:
        """Queue a binary frame (Paradex's SBE pushes; private ones get the fill delay)."""
        self._queue.put_nowait((frame, private))

    async def _write_loop(self) -> None:
        while not self.ws.closed:
            text, private = await self._queue.get()
            delay_ms = self._faults.fill_delay_ms if private else self._faults.ws_latency_ms
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            if self.ws.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                if isinstance(text, bytes):
                    await self.ws.send_bytes(text)
                else:
                    await self.ws.send_str(text)

    async def close(self) -> None:
        """Stop the writer and close the socket."""
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        await self.ws.close()


WsHandler = Callable[[WsConnection, dict[str, Any]], Awaitable[None]]


class FakeExchange(ThreadedServer):
    """
    A local exchange speaking Bybit v5, Binance USD-M, OKX v5, Deribit v2 and Hyperliquid REST and WS.

    Parameters
    ----------
    port : int, default 0
        TCP port on 127.0.0.1 (0 picks a free one).
    faults : FaultPlan, optional
        Latency and fault injection (mutable while running, through :meth:`call`).
    bybit_markets, binance_markets, okx_markets, hyperliquid_markets, deribit_markets : list, optional
        Markets to list on each venue (defaults: BTC and ETH linear perpetuals; on Deribit
        BTC-PERPETUAL inverse and BTC_USDC-PERPETUAL linear).
    coinbase_markets : list, optional
        Coinbase Advanced Trade spot products (default BTC-USD and ETH-USD); the user's USD
        wallet starts at ``balances["coinbase"]`` (default 100,000), crypto wallets at zero.
    balances : dict[str, Decimal], optional
        Starting quote balance of the user account on each venue (``bybit``, ``binance``, ``okx``,
        ``hyperliquid``; ``deribit`` is the USDC account, ``deribit_btc`` the BTC one, default 10).
    api_key, api_secret : str
        The Bybit, Binance, OKX and Deribit credentials the server accepts (signatures verified).
    api_passphrase : str
        The OKX passphrase the server accepts.
    hl_wallet : str
        The Hyperliquid user address the server treats as the trading account (default: the
        address of ``hyperliquid.TEST_PRIVATE_KEY``); requests must be signed by it or its agent.
    hl_mainnet : bool, default True
        Whether Hyperliquid signatures must name mainnet (ccxt without sandbox mode) or testnet.
    aster_markets, aster_spot_markets : list, optional
        Aster's perpetuals (BTC and ETH) and listed spot pairs (served under ``/aster``).
    aster_wallet : str, optional
        The Aster account address (default: the address of ``aster_wire.TEST_PRIVATE_KEY``);
        its requests must be EIP-712 signed by it or one of ``aster_agents`` (balance ``aster``).
    backpack_markets : list, optional
        Backpack perpetuals (default: ``BTC_USDC_PERP`` and ``ETH_USDC_PERP``); the starting
        USDC balance is ``balances["backpack"]``.
    backpack_api_key : str, optional
        The base64 ED25519 public key Backpack requests must be signed for (default: the key
        of ``backpack_wire.TEST_SEED``, whose base64 seed is ``TEST_API_SECRET``).
    paradex_markets : list, optional
        Paradex markets (default: BTC-USD-PERP and ETH-USD-PERP, USDC settled).
    paradex_accounts : dict[str, str], optional
        Onboarded Paradex accounts, STARK address -> public key (default: the account ccxt
        derives from ``paradex.TEST_ETH_PRIVATE_KEY``); ``balances['paradex']`` funds each.
    grvt_markets : list, optional
        GRVT's perpetuals (BTC_USDT_Perp and ETH_USDT_Perp, served under ``/grvt``); the
        account is ``grvt_wire.TEST_SUB_ACCOUNT`` of the wallet of ``grvt_wire.TEST_PRIVATE_KEY``,
        which also signs its orders (balance ``grvt``).
    """

    thread_name = "fake-exchange"

    def __init__(
        self,
        *,
        port: int = 0,
        faults: FaultPlan | None = None,
        bybit_markets: list[MarketSpec] | None = None,
        hyperliquid_markets: list[MarketSpec] | None = None,
        binance_markets: list[MarketSpec] | None = None,
        okx_markets: list[MarketSpec] | None = None,
        deribit_markets: list[MarketSpec] | None = None,
        backpack_markets: list[MarketSpec] | None = None,
        coinbase_markets: list[MarketSpec] | None = None,
        balances: dict[str, Decimal] | None = None,
        api_key: str = "fake-key",
        api_secret: str = "fake-secret",
        api_passphrase: str = "fake-passphrase",
        hl_wallet: str | None = None,
        hl_mainnet: bool = True,
        aster_markets: list[MarketSpec] | None = None,
        aster_spot_markets: list[MarketSpec] | None = None,
        aster_wallet: str | None = None,
        aster_agents: frozenset[str] = frozenset(),
        backpack_api_key: str | None = None,
        paradex_markets: list[MarketSpec] | None = None,
        paradex_accounts: dict[str, str] | None = None,
        grvt_markets: list[MarketSpec] | None = None,
    ) -> None:
        from nautilus_ext_testkit.fake_exchange.binance import BinanceProtocol
        from nautilus_ext_testkit.fake_exchange.binance_wire import TOO_MANY_REQUESTS
        from nautilus_ext_testkit.fake_exchange.binance_wire import default_binance_markets
        from nautilus_ext_testkit.fake_exchange.bybit import BybitProtocol
        from nautilus_ext_testkit.fake_exchange.bybit import default_bybit_markets
        from nautilus_ext_testkit.fake_exchange.deribit import DeribitProtocol
        from nautilus_ext_testkit.fake_exchange.deribit import default_deribit_markets
        from nautilus_ext_testkit.fake_exchange.deribit_wire import account_of
        from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_WALLET
        from nautilus_ext_testkit.fake_exchange.hyperliquid import HyperliquidProtocol
        from nautilus_ext_testkit.fake_exchange.hyperliquid import default_hyperliquid_markets
        from nautilus_ext_testkit.fake_exchange.okx import OkxProtocol
        from nautilus_ext_testkit.fake_exchange.okx_wire import default_okx_markets

        self.port = port
        self.faults = faults or FaultPlan()
        self.received_orders: list[ReceivedOrder] = []
        self.order_listeners: list[Callable[[ReceivedOrder], None]] = []
        self.connections: list[WsConnection] = []
        balances = balances or {}
        hl_wallet = (hl_wallet or TEST_WALLET).lower()
        self.bybit = BybitProtocol(
            self,
            MatchingEngine(
                bybit_markets or default_bybit_markets(),
                self.now_ms,
                {"USER": balances.get("bybit", Decimal(100_000))},
            ),
            api_key=api_key,
            api_secret=api_secret,
        )
        self.binance = BinanceProtocol(
            self,
            MatchingEngine(
                binance_markets or default_binance_markets(),
                self.now_ms,
                {"USER": balances.get("binance", Decimal(100_000))},
            ),
            api_key=api_key,
            api_secret=api_secret,
        )
        # HTTP 429 bodies per venue path prefix (the default is Bybit's)
        self.rate_limit_bodies: dict[str, dict[str, Any]] = {
            "/fapi": TOO_MANY_REQUESTS.body(),
            OKX_API_PREFIX: {"code": "50011", "msg": "Too Many Requests", "data": []},
            # Deribit's refusal: JSON-RPC error 10028 with HTTP 429
            "/api/v2": {"jsonrpc": "2.0", "error": {"message": "too_many_requests", "code": 10028}},
        }
        self.okx = OkxProtocol(
            self,
            MatchingEngine(
                okx_markets or default_okx_markets(),
                self.now_ms,
                {"USER": balances.get("okx", Decimal(100_000))},
            ),
            api_key=api_key,
            api_secret=api_secret,
            passphrase=api_passphrase,
        )
        self.hyperliquid = HyperliquidProtocol(
            self,
            MatchingEngine(
                hyperliquid_markets or default_hyperliquid_markets(),
                self.now_ms,
                {hl_wallet: balances.get("hyperliquid", Decimal(100_000))},
            ),
            wallet=hl_wallet,
            mainnet=hl_mainnet,
        )
        self.deribit = DeribitProtocol(
            self,
            MatchingEngine(
                deribit_markets or default_deribit_markets(),
                self.now_ms,
                {
                    account_of("USDC"): balances.get("deribit", Decimal(100_000)),
                    account_of("BTC"): balances.get("deribit_btc", Decimal(10)),
                },
            ),
            api_key=api_key,
            api_secret=api_secret,
        )
        # Coinbase Advanced Trade (spot): USD wallet from ``balances["coinbase"]``, crypto at zero
        from nautilus_ext_testkit.fake_exchange.coinbase import RATE_LIMITED_BODY as COINBASE_429
        from nautilus_ext_testkit.fake_exchange.coinbase import CoinbaseProtocol
        from nautilus_ext_testkit.fake_exchange.coinbase import default_coinbase_markets

        self.coinbase = CoinbaseProtocol(
            self,
            MatchingEngine(coinbase_markets or default_coinbase_markets(), self.now_ms),
            starting_balances={"USD": balances.get("coinbase", Decimal(100_000))},
        )
        self.rate_limit_bodies["/api/v3/brokerage"] = COINBASE_429
        self._add_aster(aster_markets, aster_spot_markets, aster_wallet, aster_agents, balances)
        # -- Backpack (USDC perpetuals, ED25519-signed requests) --
        from nautilus_ext_testkit.fake_exchange.backpack import PREFIX as BACKPACK_PREFIX
        from nautilus_ext_testkit.fake_exchange.backpack import BackpackProtocol
        from nautilus_ext_testkit.fake_exchange.backpack import default_backpack_markets
        from nautilus_ext_testkit.fake_exchange.backpack_wire import TEST_API_KEY as BACKPACK_TEST_KEY
        from nautilus_ext_testkit.fake_exchange.backpack_wire import USER as BACKPACK_USER

        self.backpack = BackpackProtocol(
            self,
            MatchingEngine(
                backpack_markets or default_backpack_markets(),
                self.now_ms,
                {BACKPACK_USER: balances.get("backpack", Decimal(100_000))},
            ),
            api_key=backpack_api_key or BACKPACK_TEST_KEY,
        )
        self.rate_limit_bodies[BACKPACK_PREFIX] = {
            "code": "TOO_MANY_REQUESTS",
            "message": "Too many requests",
        }
        # -- Paradex (StarkNet-signed auth and orders, JWT sessions) --
        from nautilus_ext_testkit.fake_exchange.paradex import ParadexProtocol
        from nautilus_ext_testkit.fake_exchange.paradex import default_paradex_accounts
        from nautilus_ext_testkit.fake_exchange.paradex_wire import default_paradex_markets

        paradex_accounts = paradex_accounts or default_paradex_accounts()
        self.paradex = ParadexProtocol(
            self,
            MatchingEngine(
                paradex_markets or default_paradex_markets(),
                self.now_ms,
                {hex(int(a, 16)): balances.get("paradex", Decimal(100_000)) for a in paradex_accounts},
            ),
            paradex_accounts,
        )
        # Paradex documents no 429 body: a plain message, so ccxt falls back to the status
        self.rate_limit_bodies["/v1/"] = {"message": "rate limit exceeded"}
        self._add_grvt(grvt_markets, balances)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _add_aster(
        self,
        markets: list[MarketSpec] | None,
        spot_markets: list[MarketSpec] | None,
        wallet: str | None,
        agents: frozenset[str],
        balances: dict[str, Decimal],
    ) -> None:
        from nautilus_ext_testkit.fake_exchange.aster import PREFIX as ASTER_PREFIX
        from nautilus_ext_testkit.fake_exchange.aster import AsterProtocol
        from nautilus_ext_testkit.fake_exchange.aster_wire import TEST_WALLET as ASTER_WALLET
        from nautilus_ext_testkit.fake_exchange.aster_wire import default_aster_markets
        from nautilus_ext_testkit.fake_exchange.aster_wire import default_aster_spot_markets
        from nautilus_ext_testkit.fake_exchange.binance_wire import TOO_MANY_REQUESTS

        self.aster = AsterProtocol(
            self,
            MatchingEngine(
                markets or default_aster_markets(),
                self.now_ms,
                {"USER": balances.get("aster", Decimal(100_000))},
            ),
            wallet=wallet or ASTER_WALLET,
            agents=agents,
            spot_markets=spot_markets or default_aster_spot_markets(),
        )
        # Aster's 429 body is Binance's -1003 envelope
        self.rate_limit_bodies[ASTER_PREFIX] = TOO_MANY_REQUESTS.body()

    def _add_grvt(self, markets: list[MarketSpec] | None, balances: dict[str, Decimal]) -> None:
        from nautilus_ext_testkit.fake_exchange.grvt import PREFIX as GRVT_PREFIX
        from nautilus_ext_testkit.fake_exchange.grvt import GrvtProtocol
        from nautilus_ext_testkit.fake_exchange.grvt_wire import RATE_LIMITED
        from nautilus_ext_testkit.fake_exchange.grvt_wire import TEST_SUB_ACCOUNT
        from nautilus_ext_testkit.fake_exchange.grvt_wire import default_grvt_markets

        self.grvt = GrvtProtocol(
            self,
            MatchingEngine(
                markets or default_grvt_markets(),
                self.now_ms,
                {TEST_SUB_ACCOUNT: balances.get("grvt", Decimal(100_000))},
            ),
        )
        self.rate_limit_bodies[GRVT_PREFIX] = RATE_LIMITED.body()

    @property
    def binanceusdm(self) -> Any:
        """Return :attr:`binance` under ccxt's exchange id for USD-M futures."""
        return self.binance

    # -- funding ----------------------------------------------------------------------------

    def settle_funding(self, venue: str, symbol: str | None = None) -> list[FundingSettlement]:
        """
        Settle the next funding time of ``venue`` (``bybit``, ``binance``, ``okx``,
        ``hyperliquid`` ...), one market or all: balances change, the venue pushes its account
        and position messages. Run it on the server's loop (``ex.call(lambda: ...)``).
        """
        protocol = getattr(self, venue)
        return protocol.engine.funding.settle(symbol)  # type: ignore[no-any-return]

    def force_close(
        self,
        venue: str,
        symbol: str,
        kind: str,
        qty: Decimal | str | None = None,
        price: Decimal | str | None = None,
    ) -> Any:
        """
        Close the user's position on ``venue`` by the venue's hand: ``kind`` ``"adl"`` or
        ``"liquidation"``, in the venue's own message shapes (only venues whose protocol has
        ``force_close``: Bybit and Binance USD-M). Run it on the server's loop.
        """
        protocol = getattr(self, venue)
        if not hasattr(protocol, "force_close"):
            raise ValueError(f"{venue} has no injected ADL or liquidation")
        return protocol.force_close(symbol, kind, qty, price)

    # -- time -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Return the exchange clock (host clock plus the injected skew) in Unix ms."""
        return int(time.time() * 1000) + self.faults.clock_skew_ms

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Return ``ws://127.0.0.1:<port>``."""
        return f"ws://{HOST}:{self.port}"

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware])
        self.bybit.register(app)
        self.binance.register(app)
        self.okx.register(app)
        self.hyperliquid.register(app)
        self.deribit.register(app)
        self.coinbase.register(app)
        self.aster.register(app)
        # Backpack under /backpack: its WebSocket, like Coinbase's, lives at the host root
        from nautilus_ext_testkit.fake_exchange.backpack import PREFIX as BACKPACK_PREFIX

        backpack = web.Application()
        self.backpack.register(backpack)
        app.router.add_get(BACKPACK_PREFIX, self.backpack.ws)  # the stream URL has no trailing slash
        app.add_subapp(BACKPACK_PREFIX, backpack)
        self.paradex.register(app)
        self.grvt.register(app)
        app.router.add_get("/_fake/received", self._received)
        return app

    async def _received(self, request: web.Request) -> web.Response:
        # test-control endpoint (not a venue API): order arrivals, for out-of-process clients
        return web.json_response(
            [
                {"venue": r.venue, "client_id": r.client_id, "received_ns": r.received_ns}
                for r in self.received_orders
            ]
        )

    async def start(self) -> None:
        """Start serving in the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(self._build_app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every WebSocket and stop serving."""
        await self.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- WebSocket plumbing -----------------------------------------------------------------

    async def serve_ws(
        self,
        request: web.Request,
        handler: WsHandler,
        on_open: Callable[[WsConnection], None] | None = None,
    ) -> web.WebSocketResponse:
        """Accept a WebSocket, call ``on_open`` with it, and feed each JSON message to ``handler``."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = WsConnection(ws, request.path, self.faults)
        self.connections.append(conn)
        if on_open is not None:
            on_open(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    # OKX's text keep-alive (other venues ping in JSON)
                    conn.send_text("pong")
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(payload, dict):
                    await handler(conn, payload)
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
            await conn.close()
        return ws

    async def drop_websockets(self) -> int:
        """Close every open WebSocket (the clients see a dropped connection); return how many."""
        conns = list(self.connections)
        self.connections.clear()
        for conn in conns:
            await conn.close()
        return len(conns)

    def drop_websockets_threadsafe(self, timeout_secs: float = 5.0) -> int:
        """Call :meth:`drop_websockets` from another thread."""
        if self._loop is None:
            raise RuntimeError("fake exchange is not running")
        return asyncio.run_coroutine_threadsafe(self.drop_websockets(), self._loop).result(
            timeout_secs,
        )

    def broadcast(
        self,
        path_prefix: str,
        topic: str,
        message: dict[str, Any],
        *,
        private: bool = False,
        user: str | None = None,
    ) -> None:
        """Push ``message`` to every connection on ``path_prefix`` subscribed to ``topic``."""
        for conn in list(self.connections):
            if not conn.path.startswith(path_prefix) or topic not in conn.topics:
                continue
            if private and (not conn.authenticated or (user is not None and conn.user != user)):
                continue
            conn.send(message, private=private)

    # -- REST faults ------------------------------------------------------------------------

    @web.middleware
    async def _fault_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if self.faults.refuse_websockets:
                return web.Response(status=503, text="streams unavailable")
            return await handler(request)
        faults = self.faults
        if faults.silence_market_data and request.path.endswith(_MARKET_DATA_PATHS):
            return web.json_response({"retCode": 10016, "retMsg": "Service unavailable"}, status=503)
        if faults.rest_latency_ms:
            await asyncio.sleep(faults.rest_latency_ms / 1000)
        if request.path.startswith(faults.fault_path_prefix) and faults.fault_method in ("", request.method):
            if faults.take("http_429_next"):
                body = next(
                    (b for prefix, b in self.rate_limit_bodies.items() if request.path.startswith(prefix)),
                    {"retCode": 10006, "retMsg": "Too many visits!"},
                )
                return web.json_response(body, status=429)
            if faults.take("rest_timeout_next"):
                # the venue processes the request, then the response is late: the client
                # times out not knowing whether it took effect (the dangerous case)
                response = await asyncio.shield(handler(request))
                await asyncio.sleep(faults.timeout_stall_secs)
                return response
        return await handler(request)

    def record_order(self, venue: str, client_id: str) -> None:
        """Note the arrival of an order-entry request (before any processing)."""
        received = ReceivedOrder(venue, client_id, time.perf_counter_ns())
        self.received_orders.append(received)
        for listener in list(self.order_listeners):
            listener(received)
