"""
A local stand-in of the Telegram Bot API on 127.0.0.1 (the subset a polling bot uses).

Serves ``POST /bot<token>/<method>`` for ``getMe``, ``deleteWebhook``, ``getUpdates`` (a real
long poll: it waits up to ``timeout`` seconds for updates at or past ``offset``), ``sendMessage``,
``setMyCommands``, ``getMyCommands`` and ``close``/``logOut``. Parameters arrive the way
python-telegram-bot sends them (form fields whose non-string values are JSON) or as JSON bodies.
A wrong token gets ``401 Unauthorized`` like the real API. Tests play users with
:meth:`FakeTelegramApi.user_sends` and read the bot's answers with :meth:`FakeTelegramApi.messages_to`
or :meth:`FakeTelegramApi.wait_for`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_ID = 7_000_000_001


class FakeTelegramApi:
    """
    The stand-in server (see the module docstring).

    Parameters
    ----------
    token : str
        The bot token it accepts.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self.sent: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Return the Bot API base URL (``.../bot``: the token follows)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> None:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wake every long poll."""
        with self._lock:
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the test's side ------------------------------------------------------------------------

    def user_sends(self, chat_id: int, user_id: int, text: str, first_name: str = "op") -> int:
        """Queue a message from a user in a private chat; return its update id."""
        with self._lock:
            update_id = self._next_update
            self._next_update += 1
            message: dict[str, Any] = {
                "message_id": self._message_id(),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                "text": text,
            }
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            self._updates.append({"update_id": update_id, "message": message})
            self._lock.notify_all()
            return update_id

    def messages_to(self, chat_id: int) -> list[str]:
        """Return the texts the bot sent to ``chat_id``, oldest first."""
        with self._lock:
            return [m["text"] for m in self.sent if m["chat"]["id"] == chat_id]

    def wait_for(self, chat_id: int, predicate: Callable[[str], bool], timeout_secs: float = 10.0) -> str:
        """Return the first message to ``chat_id`` matching ``predicate`` (waits; raises on timeout)."""
        deadline = time.monotonic() + timeout_secs
        with self._lock:
            while True:
                for m in self.sent:
                    if m["chat"]["id"] == chat_id and predicate(m["text"]):
                        return str(m["text"])
                left = deadline - time.monotonic()
                if left <= 0:
                    texts = [m["text"] for m in self.sent if m["chat"]["id"] == chat_id]
                    raise AssertionError(f"no matching message to chat {chat_id}; got {texts}")
                self._lock.wait(left)

    # -- the Bot API --------------------------------------------------------------------------

    def _message_id(self) -> int:
        value = self._next_message
        self._next_message += 1
        return value

    def _call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append(method)
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "nautilus-ext",
                    "username": "nautilus_ext_bot",
                    "can_join_groups": False,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                },
            }
        if method in ("deleteWebhook", "setMyCommands", "close", "logOut"):
            return 200, {"ok": True, "result": True}
        if method == "getMyCommands":
            return 200, {"ok": True, "result": []}
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), 30.0)
            deadline = time.monotonic() + timeout
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                while not self._updates and time.monotonic() < deadline:
                    self._lock.wait(deadline - time.monotonic())
                return 200, {"ok": True, "result": list(self._updates)}
        if method == "sendMessage":
            if "chat_id" not in params or "text" not in params:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id and text"}
            with self._lock:
                message = {
                    "message_id": self._message_id(),
                    "date": int(time.time()),
                    "chat": {"id": int(params["chat_id"]), "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "nautilus-ext"},
                    "text": str(params["text"]),
                }
                self.sent.append(message)
                self._lock.notify_all()
            return 200, {"ok": True, "result": message}
        return 404, {"ok": False, "error_code": 404, "description": f"Not Found: method {method}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if "json" in (self.headers.get("Content-Type") or ""):
                    loaded = json.loads(raw or b"{}")
                    return loaded if isinstance(loaded, dict) else {}
                params: dict[str, Any] = {}
                for key, values in parse_qs(raw.decode(), keep_blank_values=True).items():
                    try:
                        params[key] = json.loads(values[0])
                    except ValueError:
                        params[key] = values[0]
                return params

            def do_POST(self) -> None:
                prefix = f"/bot{api.token}/"
                if not self.path.startswith("/bot"):
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                if not self.path.startswith(prefix):
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                status, payload = api._call(self.path.removeprefix(prefix), self._params())
                self._reply(status, payload)

            do_GET = do_POST  # noqa: N815 (http.server's handler name)

        return Handler


__all__ = ["FakeTelegramApi"]
