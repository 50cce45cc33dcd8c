"""The common part of the vendor stand-ins: an aiohttp app on 127.0.0.1 with injectable faults."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from enum import unique
from typing import Any

from aiohttp import web

from nautilus_ext_testkit.threaded_server import ThreadedServer
from nautilus_ext_testkit.vendors.tls import SelfSignedCert


@unique
class Fault(StrEnum):
    """A failure a stand-in injects into the next matching download."""

    RATE_LIMIT = "RATE_LIMIT"  # HTTP 429 with a Retry-After the clients treat as an exhausted quota
    RATE_LIMIT_ONCE = "RATE_LIMIT_ONCE"  # HTTP 429 with Retry-After: 0, once, then normal service
    TRUNCATE = "TRUNCATE"  # send the first half of the body, then end the response cleanly
    SERVER_ERROR = "SERVER_ERROR"  # HTTP 500


@dataclass
class _Injected:
    fault: Fault
    match: str
    remaining: int


class VendorServer(ThreadedServer):
    """
    An aiohttp application on 127.0.0.1 (HTTPS when given a certificate).

    Subclasses add their routes in :meth:`routes` and call :meth:`take_fault` in handlers.
    """

    thread_name = "vendor-stand-in"

    def __init__(self, *, api_key: str, cert: SelfSignedCert | None = None) -> None:
        self.api_key = api_key
        self.cert = cert
        self.port = 0
        self.requests: list[str] = []
        self._faults: list[_Injected] = []
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The server's root URL (``https://`` with a certificate)."""
        scheme = "https" if self.cert is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        """Add the vendor's routes (implemented by subclasses)."""
        raise NotImplementedError

    def inject(self, fault: Fault, match: str = "", times: int = 1) -> None:
        """Fail the next ``times`` requests whose path contains ``match``."""
        self._faults.append(_Injected(fault, match, times))

    def take_fault(self, path: str) -> Fault | None:
        """Return (and consume) the fault injected for ``path``, if any."""
        for injected in self._faults:
            if injected.remaining > 0 and injected.match in path:
                injected.remaining -= 1
                return injected.fault
        return None

    @staticmethod
    def fault_response(fault: Fault) -> web.StreamResponse | None:
        """Answer a status fault; ``None`` for TRUNCATE, which handlers stream themselves."""
        if fault is Fault.RATE_LIMIT:
            return web.json_response(
                {"detail": "rate limit exceeded"}, status=429, headers={"Retry-After": "3600"}
            )
        if fault is Fault.RATE_LIMIT_ONCE:
            return web.json_response(
                {"detail": "rate limit exceeded"}, status=429, headers={"Retry-After": "0"}
            )
        if fault is Fault.SERVER_ERROR:
            return web.json_response({"detail": "internal error"}, status=500)
        return None

    @staticmethod
    async def stream_truncated(request: web.Request, body: bytes, content_type: str) -> web.StreamResponse:
        """Send half of ``body`` chunked (no Content-Length) and end the response cleanly."""
        response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(body[: max(1, len(body) // 2)])
        await response.write_eof()
        return response

    async def start(self) -> None:
        """Serve on an ephemeral port."""
        self._loop = asyncio.get_running_loop()
        app = web.Application()

        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.requests.append(f"{request.method} {request.path_qs}")
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.append(record)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        ssl_context = self.cert.server_context() if self.cert is not None else None
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is None:
            return
        server = self._runner.server
        transports = [c.transport for c in (server.connections if server is not None else [])]
        await self._runner.cleanup()
        self._runner = None
        # a TLS close waits for the client's close_notify, which a synchronous client that keeps
        # the connection alive never sends: abort what is left before the loop closes
        for transport in transports:
            if transport is not None:
                transport.abort()
        await asyncio.sleep(0)
