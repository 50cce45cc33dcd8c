"""
A local stand-in of CoW's order-book API on 127.0.0.1 (aiohttp), settling on Anvil.

Routes (CoW's paths and field names): ``POST /api/v1/quote``, ``POST /api/v1/orders`` (201 and
the UID as a JSON string), ``GET /api/v1/orders/{UID}``, ``DELETE /api/v1/orders`` (200
``"Cancelled"``), ``GET /api/v1/trades?owner=|orderUid=``. Refusals are CoW's error body
``{"errorType", "description"}`` with its HTTP status. A background auction runs every
``auction_interval_secs`` on the server's loop (see
:class:`~nautilus_ext_testkit.fake_cow.orderbook.OrderBook`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from nautilus_ext_testkit.fake_cow.orderbook import ApiError
from nautilus_ext_testkit.fake_cow.orderbook import OrderBook
from nautilus_ext_testkit.threaded_server import ThreadedServer


class FakeCowServer(ThreadedServer):
    """
    The order-book stand-in.

    Parameters
    ----------
    book : OrderBook
        Orders, quotes and the solver.
    auction_interval_secs : float
        Seconds between auctions.
    """

    thread_name = "fake-cow"

    def __init__(self, book: OrderBook, *, auction_interval_secs: float = 0.25) -> None:
        self.book = book
        self.interval = auction_interval_secs
        self.port = 0
        self.requests: list[str] = []
        self.auction_errors: list[str] = []
        self._runner: web.AppRunner | None = None
        self._auction: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        """The API root (what ``CowSwapConfig.base_url`` points at)."""
        return f"http://127.0.0.1:{self.port}"

    async def _answer(self, fn: Any, status: int = 200) -> web.Response:
        try:
            return web.json_response(fn(), status=status)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ApiError(400, "InvalidJson", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidJson", "the body is not a JSON object")
        return body

    async def _quote(self, request: web.Request) -> web.Response:
        try:
            body = await self._json(request)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)
        return await self._answer(lambda: self.book.quote(body))

    async def _post(self, request: web.Request) -> web.Response:
        try:
            body = await self._json(request)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)
        return await self._answer(lambda: self.book.post(body), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        return await self._answer(lambda: self.book.get(request.match_info["uid"]))

    async def _cancel(self, request: web.Request) -> web.Response:
        try:
            body = await self._json(request)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)

        def cancel() -> str:
            self.book.cancel(body)
            return "Cancelled"

        return await self._answer(cancel)

    async def _trades(self, request: web.Request) -> web.Response:
        q = request.query
        return await self._answer(lambda: self.book.get_trades(q.get("owner"), q.get("orderUid")))

    async def _auctions(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.book.run_auction()
            except Exception as e:  # keep auctioning; tests read the errors
                self.auction_errors.append(f"{type(e).__name__}: {e}")

    async def start(self) -> None:
        """Serve on an ephemeral port and start the auctions."""
        self._loop = asyncio.get_running_loop()
        app = web.Application()

        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.requests.append(f"{request.method} {request.path_qs}")
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.append(record)
        app.router.add_post("/api/v1/quote", self._quote)
        app.router.add_post("/api/v1/orders", self._post)
        app.router.add_delete("/api/v1/orders", self._cancel)
        app.router.add_get("/api/v1/orders/{uid}", self._get)
        app.router.add_get("/api/v1/trades", self._trades)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self._auction = asyncio.create_task(self._auctions())

    async def stop(self) -> None:
        """Stop the auctions and the server."""
        if self._auction is not None:
            self._auction.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auction
            self._auction = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


__all__ = ["FakeCowServer"]
