"""
The fake exchange server: one aiohttp application speaking Bybit v5, Hyperliquid and Deribit v2.

Run it in the test's own event loop (``await ex.start()``), in a background thread with its own
loop (``ex.start_in_thread()``), or as a subprocess (``python -m
nautilus_ext.testing.fake_exchange --port 0`` prints ``LISTENING <base_url>``). It binds to
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final
from typing import TypeVar

from aiohttp import WSMsgType
from aiohttp import web

from nautilus_ext.testing.fake_exchange.engine import MarketSpec
from nautilus_ext.testing.fake_exchange.engine import MatchingEngine
from nautilus_ext.testing.fake_exchange.faults import FaultPlan

HOST: Final = "127.0.0.1"
T = TypeVar("T")


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
        self._queue: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, message: dict[str, Any], *, private: bool = False) -> None:
        """Queue a JSON message (private pushes get the fill delay)."""
        self._queue.put_nowait((json.dumps(message), private))

    async def _write_loop(self) -> None:
        while not self.ws.closed:
            text, private = await self._queue.get()
            delay_ms = self._faults.fill_delay_ms if private else self._faults.ws_latency_ms
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            if self.ws.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(text)

    async def close(self) -> None:
        """Stop the writer and close the socket."""
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        await self.ws.close()


WsHandler = Callable[[WsConnection, dict[str, Any]], Awaitable[None]]


class FakeExchange:
    """
    A local exchange speaking Bybit v5, Hyperliquid and Deribit v2 REST and WebSocket.

    Parameters
    ----------
    port : int, default 0
        TCP port on 127.0.0.1 (0 picks a free one).
    faults : FaultPlan, optional
        Latency and fault injection (mutable while running, through :meth:`call`).
    bybit_markets, hyperliquid_markets, deribit_markets : list[MarketSpec], optional
        Markets to list on each venue (defaults: BTC and ETH linear perpetuals; on Deribit
        BTC-PERPETUAL inverse and BTC_USDC-PERPETUAL linear).
    balances : dict[str, Decimal], optional
        Starting quote balance of the user account on each venue (``deribit`` is the USDC
        account; ``deribit_btc`` the BTC one, default 10 BTC).
    api_key, api_secret : str
        The Bybit and Deribit credentials the server accepts (signatures are verified).
    hl_wallet : str
        The Hyperliquid user address the server treats as the trading account (default: the
        address of ``hyperliquid.TEST_PRIVATE_KEY``); requests must be signed by it or its agent.
    hl_mainnet : bool, default True
        Whether Hyperliquid signatures must name mainnet (ccxt without sandbox mode) or testnet.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        faults: FaultPlan | None = None,
        bybit_markets: list[MarketSpec] | None = None,
        hyperliquid_markets: list[MarketSpec] | None = None,
        deribit_markets: list[MarketSpec] | None = None,
        balances: dict[str, Decimal] | None = None,
        api_key: str = "fake-key",
        api_secret: str = "fake-secret",
        hl_wallet: str | None = None,
        hl_mainnet: bool = True,
    ) -> None:
        from nautilus_ext.testing.fake_exchange.bybit import BybitProtocol
        from nautilus_ext.testing.fake_exchange.bybit import default_bybit_markets
        from nautilus_ext.testing.fake_exchange.deribit import DeribitProtocol
        from nautilus_ext.testing.fake_exchange.deribit import default_deribit_markets
        from nautilus_ext.testing.fake_exchange.deribit_wire import account_of
        from nautilus_ext.testing.fake_exchange.hyperliquid import TEST_WALLET
        from nautilus_ext.testing.fake_exchange.hyperliquid import HyperliquidProtocol
        from nautilus_ext.testing.fake_exchange.hyperliquid import default_hyperliquid_markets

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
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None

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
        self.hyperliquid.register(app)
        self.deribit.register(app)
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

    def start_in_thread(self, timeout_secs: float = 10.0) -> None:
        """Start serving from a daemon thread with its own event loop."""
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._thread_stop = asyncio.Event()

            async def main() -> None:
                try:
                    await self.start()
                except BaseException as e:
                    errors.append(e)
                    started.set()
                    return
                started.set()
                assert self._thread_stop is not None
                await self._thread_stop.wait()
                await self.stop()

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-exchange", daemon=True)
        self._thread.start()
        if not started.wait(timeout_secs):
            raise TimeoutError("fake exchange did not start in time")
        if errors:
            raise errors[0]

    def stop_thread(self, timeout_secs: float = 10.0) -> None:
        """Stop a server started with :meth:`start_in_thread`."""
        if self._loop is not None and self._thread_stop is not None:
            self._loop.call_soon_threadsafe(self._thread_stop.set)
        if self._thread is not None:
            self._thread.join(timeout_secs)
            self._thread = None

    def call(self, fn: Callable[[], T], timeout_secs: float = 5.0) -> T:
        """Run ``fn`` on the server's loop (from any thread) and return its result."""
        if self._loop is None:
            return fn()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            return fn()
        future: Future[T] = Future()

        def runner() -> None:
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)

        self._loop.call_soon_threadsafe(runner)
        return future.result(timeout_secs)

    # -- WebSocket plumbing -----------------------------------------------------------------

    async def serve_ws(self, request: web.Request, handler: WsHandler) -> web.WebSocketResponse:
        """Accept a WebSocket and feed each JSON message to ``handler``."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = WsConnection(ws, request.path, self.faults)
        self.connections.append(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
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
        if faults.rest_latency_ms:
            await asyncio.sleep(faults.rest_latency_ms / 1000)
        if request.path.startswith(faults.fault_path_prefix):
            if faults.take("http_429_next"):
                if request.path.startswith("/api/v2"):
                    # Deribit's rate-limit refusal: JSON-RPC error 10028 with HTTP 429
                    error = {"message": "too_many_requests", "code": 10028}
                    return web.json_response({"jsonrpc": "2.0", "error": error}, status=429)
                return web.json_response({"retCode": 10006, "retMsg": "Too many visits!"}, status=429)
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
