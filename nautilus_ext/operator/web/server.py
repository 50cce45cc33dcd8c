"""
Serve an ASGI application with uvicorn on a daemon thread, on a socket bound up front.

Binding in the constructor makes a taken port fail the node's build (``InvalidConfig``), and
port 0 gives a free port known before the server starts (:attr:`ConsoleServer.url`).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from typing import Final

import uvicorn

from nautilus_ext.errors import InvalidConfig

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class ConsoleServer:
    """
    Run ``app`` on ``host:port`` (see the module docstring).

    Raises
    ------
    InvalidConfig
        If the address cannot be bound, or is not loopback without ``allow_remote``.
    """

    def __init__(self, app: Any, host: str, port: int, *, allow_remote: bool = False) -> None:
        if host not in _LOOPBACK and not allow_remote:
            raise InvalidConfig(
                f"the web console binds to loopback unless allowed remote access, not {host!r}"
            )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as e:
            self._socket.close()
            raise InvalidConfig(
                f"the web console cannot use {host}:{port}: {e.strerror or type(e).__name__}"
            ) from None
        self._server = uvicorn.Server(
            uvicorn.Config(
                app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        host, port = self._socket.getsockname()[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def start(self, timeout_secs: float = 10.0) -> None:
        """Listen and serve on a daemon thread; return once the server has started."""
        if self._thread is not None:
            return
        self._socket.listen(64)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="web-console", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_secs
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and release the port (also if never started)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._socket.close()


__all__ = ["ConsoleServer"]
