"""
Serve a registry at ``/metrics`` over HTTP (Prometheus' text format), loopback by default.

The server binds when constructed, so a port that is taken fails the node's build with
``INVALID_CONFIG`` instead of a silent exporter; it serves from :meth:`MetricsServer.start` on
a daemon thread. Only ``GET /metrics`` (and ``/``) answer; nothing is logged per request.
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any
from typing import Final
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer
from wsgiref.simple_server import make_server

from prometheus_client import CollectorRegistry
from prometheus_client import make_wsgi_app

from nautilus_ext.errors import InvalidConfig

logger = logging.getLogger(__name__)

LOOPBACK: Final = frozenset({"127.0.0.1", "localhost"})


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("metrics connection from %s failed", client_address[0], exc_info=True)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("metrics %s", format % args)


class MetricsServer:
    """
    Serve ``registry`` on ``host:port``.

    Parameters
    ----------
    registry : CollectorRegistry
        What to expose.
    host : str
        Address to bind; loopback unless ``allow_remote``.
    port : int
        TCP port (0 picks a free one; see :attr:`port`).
    allow_remote : bool
        Permit a non-loopback ``host`` (put the exporter behind a firewall or a reverse proxy:
        metrics name strategies, venues and positions).

    Raises
    ------
    InvalidConfig
        If ``host`` is not loopback without ``allow_remote``, or the port cannot be bound.
    """

    def __init__(
        self, registry: CollectorRegistry, host: str, port: int, *, allow_remote: bool = False
    ) -> None:
        if host not in LOOPBACK and not allow_remote:
            raise InvalidConfig(
                f"the metrics exporter binds to loopback unless allow_remote is set, not {host!r}"
            )
        app = make_wsgi_app(registry)

        def only_metrics(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO") not in ("/metrics", "/"):
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"GET /metrics\n"]
            return app(environ, start_response)

        try:
            self._server = make_server(host, port, only_metrics, _Server, handler_class=_QuietHandler)
        except OSError as e:
            raise InvalidConfig(
                f"the metrics exporter cannot listen on {host}:{port}: {e.strerror or type(e).__name__}"
            ) from None
        self._host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Return the bound TCP port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Return the scrape URL."""
        return f"http://{self._host}:{self.port}/metrics"

    def start(self) -> None:
        """Serve on a daemon thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-exporter", daemon=True
        )
        self._thread.start()
        logger.info("Metrics exporter serving %s", self.url)

    def stop(self) -> None:
        """Stop serving and release the port (also if never started)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


__all__ = ["LOOPBACK", "MetricsServer"]
