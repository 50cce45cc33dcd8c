"""
Run a local stand-in server (the fake exchange, the fake Betfair) on its own thread and loop.

Tests that drive a synchronous ``TradingNode`` harness start the server with
:meth:`ThreadedServer.start_in_thread`, reach into its state with :meth:`ThreadedServer.call`
(run on the server's loop, so nothing races its handlers) and stop it with
:meth:`ThreadedServer.stop_thread`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import ClassVar


class ThreadedServer:
    """
    Mixin: a server with ``async start()`` / ``async stop()`` and a ``_loop`` set by ``start``.

    Subclasses name their thread with :attr:`thread_name`.
    """

    thread_name: ClassVar[str] = "stand-in-server"
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _thread_stop: asyncio.Event | None = None

    async def start(self) -> None:
        """Start serving on the running loop (implemented by the server)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop serving (implemented by the server)."""
        raise NotImplementedError

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

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not started.wait(timeout_secs):
            raise TimeoutError(f"{self.thread_name} did not start in time")
        if errors:
            raise errors[0]

    def stop_thread(self, timeout_secs: float = 10.0) -> None:
        """Stop a server started with :meth:`start_in_thread`."""
        if self._loop is not None and self._thread_stop is not None:
            self._loop.call_soon_threadsafe(self._thread_stop.set)
        if self._thread is not None:
            self._thread.join(timeout_secs)
            self._thread = None

    def call[T](self, fn: Callable[[], T], timeout_secs: float = 5.0) -> T:
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
