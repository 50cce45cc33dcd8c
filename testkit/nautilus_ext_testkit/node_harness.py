"""
Run a real Nautilus ``TradingNode`` on a background thread with its own event loop.

Tests and benchmarks drive it from their own thread: :meth:`NodeHarness.call` runs a function
on the node's loop (where every Nautilus component must be touched) and returns its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING
from typing import TypeVar

from nautilus_trader.live.node import TradingNode
from nautilus_trader.trading.strategy import Strategy

if TYPE_CHECKING:
    from nautilus_ext.live.config import LiveNodeConfig
    from nautilus_ext.live.node import LiveNode

T = TypeVar("T")


class NodeHarness:
    """
    Own a ``TradingNode`` running on a daemon thread.

    Parameters
    ----------
    node_factory : Callable[[asyncio.AbstractEventLoop], TradingNode]
        Builds (and ``build()``-s) the node on the given loop.
    """

    def __init__(self, node_factory: Callable[[asyncio.AbstractEventLoop], TradingNode]) -> None:
        self._factory = node_factory
        self.loop = asyncio.new_event_loop()
        self.node: TradingNode | None = None
        self._thread: threading.Thread | None = None
        self._run_future: asyncio.Future[None] | None = None
        self.errors: list[BaseException] = []

    def start(self, timeout_secs: float = 30.0) -> TradingNode:
        """
        Build the node on the calling (main) thread, then run it on the loop thread.

        NautilusTrader installs signal handlers when a node is constructed, which Python
        allows only on the main thread; the loop itself then runs on a daemon thread.
        """
        node = self._factory(self.loop)
        self.node = node
        started: Future[None] = Future()

        def thread_main() -> None:
            asyncio.set_event_loop(self.loop)
            self._run_future = asyncio.ensure_future(node.run_async(), loop=self.loop)
            self._run_future.add_done_callback(self._on_done)
            self.loop.call_soon(started.set_result, None)
            self.loop.run_forever()

        self._thread = threading.Thread(target=thread_main, name="trading-node", daemon=True)
        self._thread.start()
        started.result(timeout_secs)
        return node

    def _on_done(self, fut: asyncio.Future[None]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            exc = fut.exception()
            if exc is not None:
                self.errors.append(exc)

    def call(self, fn: Callable[[], T], timeout_secs: float = 10.0) -> T:
        """Run ``fn`` on the node's loop thread and return its result."""
        result: Future[T] = Future()

        def runner() -> None:
            try:
                result.set_result(fn())
            except BaseException as e:
                result.set_exception(e)

        self.loop.call_soon_threadsafe(runner)
        return result.result(timeout_secs)

    def run(
        self, coro_factory: Callable[[], asyncio.Future[T] | asyncio.Task[T]], timeout_secs: float = 10.0
    ) -> T:
        """Run a coroutine-returning callable on the node's loop and return its result."""

        async def wrapper() -> T:
            return await coro_factory()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout_secs)

    def strategy(self, strategy_type: type[Strategy]) -> Strategy:
        """Return the node's first strategy of ``strategy_type``."""
        assert self.node is not None
        for strategy in self.node.trader.strategies():
            if isinstance(strategy, strategy_type):
                return strategy
        raise LookupError(f"no {strategy_type.__name__} on the node")

    def stop(self, timeout_secs: float = 30.0) -> None:
        """
        Stop the node, end the loop thread, then dispose the node (which cancels what is
        left and closes the loop: NautilusTrader does that cleanly only on a stopped loop).
        """
        node = self.node
        if node is not None and self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(node.stop_async(), self.loop).result(timeout_secs)
            run_future = self._run_future
            if run_future is not None:
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(
                        asyncio.wait_for(_wrap(run_future), timeout_secs), self.loop
                    ).result(timeout_secs + 1)
        if self._thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout_secs)
            self._thread = None
        if not self.loop.is_closed():
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(
                    asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout_secs)
                )
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        if node is not None:
            node.dispose()
            self.node = None
        if not self.loop.is_closed():
            self.loop.close()


def start_live_node(config: LiveNodeConfig) -> tuple[NodeHarness, LiveNode]:
    """
    Build the node of a validated live YAML (``build_live_node``: safety gate, control endpoint,
    audit) on a new harness and start it; return the harness and what ``build_live_node`` built.
    """
    from nautilus_ext.live.node import build_live_node

    built: list[LiveNode] = []

    def factory(loop: asyncio.AbstractEventLoop) -> TradingNode:
        live = build_live_node(config, loop)
        built.append(live)
        return live.node

    harness = NodeHarness(factory)
    harness.start()
    return harness, built[0]


async def _wrap(fut: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await fut
