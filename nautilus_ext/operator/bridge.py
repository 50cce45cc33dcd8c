"""
From an operator surface's thread (a web server, a Telegram bot) to the node, safely.

:class:`NodeBridge` queues control commands from any thread; the owning actor drains the queue
on its timer and sends each to the safety layer's bus endpoint
(:data:`~nautilus_ext.safety.events.SAFETY_CONTROL_ENDPOINT`), which runs it through
:func:`~nautilus_ext.safety.control.run_command` under the gate's lock (the CLI's path, audited
with the surface's actor). :meth:`NodeBridge.publish` hands a message to the node's event loop
(``call_soon_threadsafe``) instead of touching the bus from a foreign thread.
"""

from __future__ import annotations

import asyncio
import queue
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from nautilus_ext.safety.events import SAFETY_CONTROL_ENDPOINT

_Job = tuple[dict[str, Any], "Future[dict[str, Any]]"]


class NodeBridge:
    """
    Commands and messages from a surface's thread to the node (see the module docstring).

    Parameters
    ----------
    timeout_secs : float
        How long :meth:`command` waits for the node's reply.
    """

    def __init__(self, timeout_secs: float = 10.0) -> None:
        self._timeout = timeout_secs
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._msgbus: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, msgbus: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        """Bind to the node's message bus and event loop (the actor's ``on_start``)."""
        self._msgbus = msgbus
        self._loop = loop

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue one control command and wait for the reply (any thread; never raises)."""
        future: Future[dict[str, Any]] = Future()
        self._jobs.put((body, future))
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            future.cancel()
            return {"ok": False, "error": "TIMEOUT", "message": "the node did not answer"}

    def drain(self) -> None:
        """Send the queued commands to the safety layer (the actor's timer, on the node)."""
        while True:
            try:
                body, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if self._msgbus is None or SAFETY_CONTROL_ENDPOINT not in self._msgbus.endpoints():
                if future.set_running_or_notify_cancel():
                    future.set_result(
                        {"ok": False, "error": "INVALID_CONFIG", "message": "this node has no safety layer"}
                    )
                continue
            self._msgbus.send(SAFETY_CONTROL_ENDPOINT, (body, future))

    def fail_pending(self, message: str) -> None:
        """Answer every queued command with a timeout error (the node stops)."""
        while True:
            try:
                _, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_result({"ok": False, "error": "TIMEOUT", "message": message})

    def publish(self, topic: str, message: Any) -> bool:
        """Publish ``message`` on ``topic`` from the node's loop; return whether it was handed over."""
        if self._loop is None or self._msgbus is None or self._loop.is_closed():
            return False
        self._loop.call_soon_threadsafe(self._msgbus.publish, topic, message)
        return True


__all__ = ["NodeBridge"]
