"""
A JSON-RPC forwarding proxy in front of Anvil that can drop the connection on cue.

Tests point a ``Web3`` at :attr:`RpcProxy.url`; once :attr:`RpcProxy.cut_after` names a method,
the proxy forwards that request, then closes every later connection without an answer (the
client sees the node vanish mid-operation) until :meth:`RpcProxy.restore`.
"""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any


class RpcProxy:
    """
    Forward JSON-RPC POSTs from 127.0.0.1:<port> to ``upstream``.

    Parameters
    ----------
    upstream : str
        The node's URL.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.cut_after: str | None = None
        self.cut = False
        self.forwarded: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if proxy.cut:
                    self.close_connection = True
                    self.connection.close()
                    return
                method = _method(body)
                request = urllib.request.Request(proxy.upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    reply = response.read()
                proxy.forwarded.append(method)
                if proxy.cut_after is not None and method == proxy.cut_after:
                    proxy.cut = True  # the request reached the node; its answer never comes back
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rpc-proxy", daemon=True)
        self._thread.start()

    def restore(self) -> None:
        """Answer requests again."""
        self.cut = False
        self.cut_after = None

    def close(self) -> None:
        """Stop the proxy."""
        self._server.shutdown()
        self._server.server_close()


def _method(body: bytes) -> str:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return ""
    return str(data.get("method", "")) if isinstance(data, dict) else "batch"


__all__ = ["RpcProxy"]
