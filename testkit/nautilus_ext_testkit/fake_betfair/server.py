"""
The fake Betfair server: the identity, betting, accounts and navigation HTTP APIs (one aiohttp
application; Betfair's paths) and the Exchange Stream API (CRLF-delimited JSON over TCP).

HTTP (all on :attr:`FakeBetfair.base_url`):

* ``POST /api/login`` (form ``username``/``password``), ``POST /api/keepAlive``;
* ``GET /exchange/betting/rest/v1/en/navigation/menu.json``;
* ``POST /exchange/betting/json-rpc/v1/SportsAPING/v1.0/<method>``: ``listMarketCatalogue``,
  ``placeOrders``, ``cancelOrders``, ``replaceOrders``, ``listCurrentOrders``,
  ``listClearedOrders`` (settled bets after :meth:`FakeBetfair.settle_market`);
* ``POST /exchange/account/json-rpc/v1/AccountAPING/v1.0/<method>``: ``getAccountDetails``,
  ``getAccountFunds``.

JSON-RPC calls need the session token (``X-Authentication``) and the application key
(``X-Application``), else Betfair's ``INVALID_SESSION_INFORMATION`` / ``INVALID_APP_KEY``
APINGException. Stream (:attr:`FakeBetfair.stream_url`, plain TCP): ``connection`` on connect,
then ``authentication``, ``marketSubscription`` (a ``SUB_IMAGE`` ``mcm``, then an update per
change and per market tick), ``orderSubscription`` (a ``SUB_IMAGE`` ``ocm``, then an ``ocm`` per
bet change) and ``heartbeat``, each answered with a ``status``. It binds to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final
from urllib.parse import parse_qs

from aiohttp import web

from nautilus_ext_testkit.fake_betfair.exchange import Bet
from nautilus_ext_testkit.fake_betfair.exchange import BetError
from nautilus_ext_testkit.fake_betfair.exchange import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair.exchange import current_order_of
from nautilus_ext_testkit.fake_betfair.exchange import uo_of
from nautilus_ext_testkit.threaded_server import ThreadedServer

HOST: Final = "127.0.0.1"
BETTING_PREFIX: Final = "/exchange/betting/json-rpc/v1/SportsAPING/v1.0/"
ACCOUNT_PREFIX: Final = "/exchange/account/json-rpc/v1/AccountAPING/v1.0/"
NAVIGATION_PATH: Final = "/exchange/betting/rest/v1/en/navigation/menu.json"
CRLF: Final = b"\r\n"


def _json(obj: Any) -> str:
    # Betfair's wire numbers are JSON numbers; the exchange keeps Decimals
    return json.dumps(obj, default=lambda o: float(o) if isinstance(o, Decimal) else str(o))


@dataclass(frozen=True)
class ReceivedRequest:
    """One order-entry call as the fake saw it."""

    method: str  # placeOrders / cancelOrders / replaceOrders
    params: dict[str, Any]


class StreamConnection:
    """One Exchange Stream API connection: authenticated or not, its subscriptions, its writer."""

    _ids = itertools.count(1)

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connection_id = f"fake-{next(self._ids):03d}-{secrets.token_hex(4)}"
        self.authenticated = False
        self.market_sub_id: int | None = None
        self.market_ids: set[str] = set()
        self.order_sub_id: int | None = None

    def send(self, message: dict[str, Any]) -> None:
        """Write one message, CRLF-terminated."""
        if not self.writer.is_closing():
            self.writer.write(_json(message).encode() + CRLF)


class FakeBetfair(ThreadedServer):
    """
    A local Betfair (see the module docstring) around a :class:`FakeBetfairExchange`.

    Parameters
    ----------
    exchange : FakeBetfairExchange
        Markets, ladders and the account.
    username, password, app_key : str
        The one login the fake accepts.
    market_tick_ms : int, optional
        Push every subscribed market's ladders this often (a live market keeps ticking); ``None``
        sends only changes and heartbeats.
    """

    thread_name = "fake-betfair"

    def __init__(
        self,
        exchange: FakeBetfairExchange,
        *,
        username: str = "fake-user",
        password: str = "fake-password",
        app_key: str = "fake-app-key",
        market_tick_ms: int | None = 500,
        session_ttl_secs: float | None = None,
    ) -> None:
        self.exchange = exchange
        self.session_ttl_secs = session_ttl_secs
        self.keep_alives = 0  # successful keepAlive calls
        self.username = username
        self.password = password
        self.app_key = app_key
        self.market_tick_ms = market_tick_ms
        self.port = 0
        self.stream_port = 0
        # session token -> expiry (time.monotonic(); inf without a session TTL). Betfair expires
        # a session after a period without keepAlive: a TTL makes that testable in seconds
        self.sessions: dict[str, float] = {}
        self.order_requests: list[ReceivedRequest] = []
        self.connections: list[StreamConnection] = []
        self._clk = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stream_server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- addresses and clock --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:<port>`` (every HTTP API)."""
        return f"http://{HOST}:{self.port}"

    @property
    def stream_url(self) -> str:
        """Return ``tcp://127.0.0.1:<stream port>`` (the Exchange Stream API, no TLS)."""
        return f"tcp://{HOST}:{self.stream_port}"

    @staticmethod
    def now_ms() -> int:
        """Return the exchange clock (Unix milliseconds)."""
        return int(time.time() * 1000)

    @property
    def placed_bets(self) -> list[Bet]:
        """Return every bet placed, in order."""
        return list(self.exchange.bets.values())

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving in the running event loop."""
        self._loop = asyncio.get_running_loop()
        app = web.Application()
        app.router.add_post("/api/login", self._login)
        app.router.add_post("/api/keepAlive", self._keep_alive)
        app.router.add_get(NAVIGATION_PATH, self._navigation)
        app.router.add_post(BETTING_PREFIX + "{method}", self._betting)
        app.router.add_post(ACCOUNT_PREFIX + "{method}", self._account)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        self._stream_server = await asyncio.start_server(self._serve_stream, HOST, self.stream_port)
        self.stream_port = self._stream_server.sockets[0].getsockname()[1]
        if self.market_tick_ms is not None:
            self._spawn(self._tick_markets())

    async def stop(self) -> None:
        """Close every stream connection and stop serving."""
        for task in list(self._tasks):
            task.cancel()
        for conn in list(self.connections):
            conn.writer.close()
        if self._stream_server is not None:
            self._stream_server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stream_server.wait_closed(), 5)
            self._stream_server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- identity -------------------------------------------------------------------------------

    async def _login(self, request: web.Request) -> web.Response:
        form = parse_qs((await request.read()).decode())
        app_key = request.headers.get("X-Application", "")
        ok = (
            form.get("username", [""])[0] == self.username
            and form.get("password", [""])[0] == self.password
            and app_key == self.app_key
        )
        if not ok:
            error = "INVALID_USERNAME_OR_PASSWORD" if app_key == self.app_key else "INVALID_APP_KEY"
            return web.json_response({"token": "", "product": app_key, "status": "FAIL", "error": error})
        token = secrets.token_urlsafe(24)
        self.sessions[token] = self._expiry()
        return web.json_response({"token": token, "product": self.app_key, "status": "SUCCESS", "error": ""})

    def _expiry(self) -> float:
        return math.inf if self.session_ttl_secs is None else time.monotonic() + self.session_ttl_secs

    def session_valid(self, token: str | None) -> bool:
        """Whether ``token`` is a session that has not expired."""
        return token is not None and self.sessions.get(token, -1.0) > time.monotonic()

    async def _keep_alive(self, request: web.Request) -> web.Response:
        token = request.headers.get("X-Authentication", "")
        if not self.session_valid(token):
            return web.json_response(
                {"token": "", "product": self.app_key, "status": "FAIL", "error": "NO_SESSION"}
            )
        self.sessions[token] = self._expiry()  # keepAlive renews the session
        self.keep_alives += 1
        return web.json_response({"token": token, "product": self.app_key, "status": "SUCCESS", "error": ""})

    def _auth_error(self, request: web.Request) -> str | None:
        if request.headers.get("X-Application") != self.app_key:
            return "INVALID_APP_KEY"
        if not self.session_valid(request.headers.get("X-Authentication")):
            return "INVALID_SESSION_INFORMATION"
        return None

    async def _navigation(self, request: web.Request) -> web.Response:
        error = self._auth_error(request)
        if error is not None:
            return web.json_response({"error": error}, status=400)
        return web.Response(text=_json(self.exchange.navigation()), content_type="application/json")

    # -- JSON-RPC -------------------------------------------------------------------------------

    @staticmethod
    def _rpc_error(rpc_id: Any, code: str, exception: str = "APINGException") -> web.Response:
        body = {
            "jsonrpc": "2.0",
            "id": rpc_id,
            "error": {
                "code": -32099,
                "message": "ANGX-0003" if code == "INVALID_SESSION_INFORMATION" else "ANGX-0001",
                "data": {
                    "exceptionname": exception,
                    exception: {"requestUUID": secrets.token_hex(8), "errorCode": code, "errorDetails": code},
                },
            },
        }
        return web.Response(text=_json(body), content_type="application/json")

    @staticmethod
    def _rpc_result(rpc_id: Any, result: Any) -> web.Response:
        return web.Response(
            text=_json({"jsonrpc": "2.0", "id": rpc_id, "result": result}), content_type="application/json"
        )

    async def _account(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read(), parse_float=Decimal)
        rpc_id = body.get("id")
        error = self._auth_error(request)
        if error is not None:
            return self._rpc_error(rpc_id, error, "AccountAPINGException")
        method = request.match_info["method"]
        ex = self.exchange
        if method == "getAccountDetails":
            return self._rpc_result(
                rpc_id,
                {
                    "currencyCode": ex.currency,
                    "firstName": "Fake",
                    "lastName": "Bettor",
                    "localeCode": "en",
                    "region": "GBR",
                    "timezone": "Europe/London",
                    "discountRate": 0.0,
                    "pointsBalance": 0,
                    "countryCode": "GB",
                },
            )
        if method == "getAccountFunds":
            exposure = ex.exposure()
            return self._rpc_result(
                rpc_id,
                {
                    "availableToBetBalance": ex.balance + exposure,
                    "exposure": exposure,
                    "retainedCommission": 0.0,
                    "exposureLimit": -10000.0,
                    "discountRate": 0.0,
                    "pointsBalance": 0,
                    "wallet": "UK",
                },
            )
        return self._rpc_error(rpc_id, "INVALID_INPUT_DATA", "AccountAPINGException")

    async def _betting(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read(), parse_float=Decimal)
        rpc_id = body.get("id")
        error = self._auth_error(request)
        if error is not None:
            return self._rpc_error(rpc_id, error)
        method = request.match_info["method"]
        params = body.get("params") or {}
        handler = {
            "listMarketCatalogue": self._list_market_catalogue,
            "placeOrders": self._place_orders,
            "cancelOrders": self._cancel_orders,
            "replaceOrders": self._replace_orders,
            "listCurrentOrders": self._list_current_orders,
            "listClearedOrders": self._list_cleared_orders,
        }.get(method)
        if handler is None:
            return self._rpc_error(rpc_id, "INVALID_INPUT_DATA")
        if method in ("placeOrders", "cancelOrders", "replaceOrders"):
            self.order_requests.append(ReceivedRequest(method, params))
        return self._rpc_result(rpc_id, handler(params))

    def _list_market_catalogue(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = (params.get("filter") or {}).get("marketIds")
        ids = [m for m in self.exchange.markets if wanted is None or m in wanted]
        return [self.exchange.catalogue(m) for m in ids[: int(params.get("maxResults", 1000))]]

    def _place_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        market_id = params["marketId"]
        now = self.now_ms()
        reports = []
        placed: list[Bet] = []
        failed = False
        for instruction in params.get("instructions", []):
            try:
                bet = self.exchange.place(market_id, instruction, params.get("customerStrategyRef"), now)
            except BetError as e:
                failed = True
                reports.append({"status": "FAILURE", "errorCode": e.code, "instruction": instruction})
                continue
            placed.append(bet)
            reports.append(
                {
                    "status": "SUCCESS",
                    "instruction": instruction,
                    "betId": bet.bet_id,
                    "placedDate": _iso_ms(bet.placed_ms),
                    "averagePriceMatched": bet.average_price_matched,
                    "sizeMatched": bet.size_matched,
                    "orderStatus": bet.status,
                }
            )
        return self._execution_report(params, market_id, reports, failed, placed)

    def _cancel_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        market_id = params["marketId"]
        now = self.now_ms()
        reports = []
        changed: list[Bet] = []
        failed = False
        for instruction in params.get("instructions") or [{}]:
            bet_id = instruction.get("betId")
            reduction = instruction.get("sizeReduction")
            try:
                bets = self.exchange.cancel(
                    market_id,
                    None if bet_id is None else str(bet_id),
                    reduction and Decimal(str(reduction)),
                    now,
                )
            except BetError as e:
                failed = True
                reports.append({"status": "FAILURE", "errorCode": e.code, "instruction": instruction})
                continue
            changed.extend(bets)
            for bet in bets:
                reports.append(
                    {
                        "status": "SUCCESS",
                        "instruction": {"betId": bet.bet_id},
                        "sizeCancelled": bet.size_cancelled,
                        "cancelledDate": _iso_ms(now),
                    }
                )
        return self._execution_report(params, market_id, reports, failed, changed)

    def _replace_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        # a replace is a cancel of the unmatched part and a new bet at the new odds (Betfair)
        market_id = params["marketId"]
        now = self.now_ms()
        reports: list[dict[str, Any]] = []
        changed: list[Bet] = []
        failed = False
        for instruction in params.get("instructions", []):
            old = self.exchange.bets.get(str(instruction["betId"]))
            try:
                if old is None:
                    raise BetError("BET_TAKEN_OR_LAPSED")
                remaining = old.size_remaining
                self.exchange.cancel(market_id, old.bet_id, None, now)
                new = self.exchange.place(
                    market_id,
                    {
                        "selectionId": old.selection_id,
                        "side": old.side,
                        "orderType": "LIMIT",
                        "limitOrder": {
                            "size": remaining,
                            "price": instruction["newPrice"],
                            "persistenceType": old.persistence,
                        },
                        "customerOrderRef": old.customer_order_ref,
                    },
                    old.customer_strategy_ref,
                    now,
                )
            except BetError as e:
                failed = True
                reports.append({"status": "FAILURE", "errorCode": e.code})
                continue
            changed.extend([old, new])
            reports.append(
                {
                    "status": "SUCCESS",
                    "cancelInstructionReport": {
                        "status": "SUCCESS",
                        "instruction": {"betId": old.bet_id},
                        "sizeCancelled": remaining,
                        "cancelledDate": _iso_ms(now),
                    },
                    "placeInstructionReport": {
                        "status": "SUCCESS",
                        "instruction": {
                            "selectionId": new.selection_id,
                            "limitOrder": {
                                "size": new.size,
                                "price": new.price,
                                "persistenceType": new.persistence,
                            },
                            "orderType": "LIMIT",
                            "side": new.side,
                        },
                        "betId": new.bet_id,
                        "placedDate": _iso_ms(now),
                        "averagePriceMatched": new.average_price_matched,
                        "sizeMatched": new.size_matched,
                        "orderStatus": new.status,
                    },
                }
            )
        return self._execution_report(params, market_id, reports, failed, changed)

    def _list_current_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        bet_ids = {str(b) for b in params.get("betIds") or []}
        market_ids = set(params.get("marketIds") or [])
        refs = set(params.get("customerOrderRefs") or [])
        bets = [
            b
            for b in self.exchange.bets.values()
            if (not bet_ids or b.bet_id in bet_ids)
            and (not market_ids or b.market_id in market_ids)
            and (not refs or b.customer_order_ref in refs)
            and b.size - b.size_lapsed - b.size_cancelled > 0  # a fully lapsed/cancelled bet is gone
        ]
        start = int(params.get("fromRecord") or 0)
        count = int(params.get("recordCount") or 1000)
        page = bets[start : start + count]
        return {
            "currentOrders": [current_order_of(b) for b in page],
            "moreAvailable": start + count < len(bets),
        }

    def _list_cleared_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        # settled bets only (betStatus SETTLED); per bet, or per market with its commission
        if params.get("betStatus") not in (None, "SETTLED"):
            return {"clearedOrders": [], "moreAvailable": False}
        rows = self.exchange.cleared_orders(set(params.get("marketIds") or []), params.get("groupBy"))
        start = int(params.get("fromRecord") or 0)
        count = int(params.get("recordCount") or 1000)
        return {"clearedOrders": rows[start : start + count], "moreAvailable": start + count < len(rows)}

    def settle_market(self, market_id: str, results: dict[int, str], **kw: Any) -> None:
        """
        Settle ``market_id`` (:meth:`FakeBetfairExchange.settle_market`) and push its CLOSED
        definition to market subscribers.
        """
        self.exchange.settle_market(market_id, results, self.now_ms(), **kw)
        for conn in self.connections:
            if conn.market_sub_id is not None and market_id in conn.market_ids:
                conn.send(
                    {
                        "op": "mcm",
                        "id": conn.market_sub_id,
                        "clk": str(next(self._clk)),
                        "pt": self.now_ms(),
                        "mc": [
                            {"id": market_id, "marketDefinition": self.exchange.market_definition(market_id)}
                        ],
                    }
                )

    # -- stream ---------------------------------------------------------------------------------

    async def _serve_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = StreamConnection(writer)
        self.connections.append(conn)
        conn.send({"op": "connection", "connectionId": conn.connection_id})
        try:
            while not reader.at_eof():
                line = await reader.readuntil(CRLF)
                text = line.strip()
                if text:
                    self._on_stream_message(conn, json.loads(text))
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, json.JSONDecodeError):
            pass
        finally:
            self.connections.remove(conn)
            with contextlib.suppress(Exception):
                writer.close()

    def _status(self, conn: StreamConnection, rpc_id: Any, error: str | None = None) -> None:
        message: dict[str, Any] = {"op": "status", "statusCode": "SUCCESS" if error is None else "FAILURE"}
        if rpc_id is not None:
            message["id"] = rpc_id
        if error is None:
            message["connectionClosed"] = False
            message["connectionsAvailable"] = 9
        else:
            message["errorCode"] = error
            message["errorMessage"] = error
            message["connectionClosed"] = True
            message["connectionId"] = conn.connection_id
        conn.send(message)
        if error is not None:
            conn.writer.close()

    def _on_stream_message(self, conn: StreamConnection, message: dict[str, Any]) -> None:
        op = message.get("op")
        rpc_id = message.get("id")
        if op == "heartbeat":
            self._status(conn, rpc_id)
            return
        if op == "authentication":
            if message.get("appKey") != self.app_key:
                self._status(conn, rpc_id, "INVALID_APP_KEY")
            elif not self.session_valid(message.get("session")):
                self._status(conn, rpc_id, "INVALID_SESSION_INFORMATION")
            else:
                conn.authenticated = True
                self._status(conn, rpc_id)
            return
        if not conn.authenticated:
            self._status(conn, rpc_id, "NOT_AUTHORIZED")
            return
        if op == "marketSubscription":
            wanted = (message.get("marketFilter") or {}).get("marketIds")
            conn.market_sub_id = rpc_id
            conn.market_ids = {m for m in self.exchange.markets if wanted is None or m in wanted}
            self._status(conn, rpc_id)
            clk = str(next(self._clk))
            conn.send(
                {
                    "op": "mcm",
                    "id": rpc_id,
                    "initialClk": clk,
                    "clk": clk,
                    "conflateMs": message.get("conflateMs", 0),
                    "heartbeatMs": message.get("heartbeatMs", 5000),
                    "pt": self.now_ms(),
                    "ct": "SUB_IMAGE",
                    "mc": [self._market_change(m, image=True) for m in sorted(conn.market_ids)],
                }
            )
            return
        if op == "orderSubscription":
            conn.order_sub_id = rpc_id
            self._status(conn, rpc_id)
            clk = str(next(self._clk))
            markets = sorted({b.market_id for b in self.exchange.bets.values()} | set(self.exchange.markets))
            conn.send(
                {
                    "op": "ocm",
                    "id": rpc_id,
                    "initialClk": clk,
                    "clk": clk,
                    "conflateMs": 0,
                    "heartbeatMs": message.get("heartbeatMs", 5000),
                    "pt": self.now_ms(),
                    "ct": "SUB_IMAGE",
                    "oc": [self._order_change(m, None, full_image=True) for m in markets],
                }
            )
            return
        self._status(conn, rpc_id, "INVALID_INPUT")

    def _market_change(
        self, market_id: str, *, image: bool = False, selections: list[int] | None = None
    ) -> dict[str, Any]:
        ex = self.exchange
        runners = list(ex.markets[market_id].runners) if selections is None else selections
        change: dict[str, Any] = {"id": market_id, "rc": [ex.runner_change(market_id, s) for s in runners]}
        if image:
            change["img"] = True
            change["marketDefinition"] = ex.market_definition(market_id)
        return change

    def _order_change(
        self, market_id: str, bets: list[Bet] | None, *, full_image: bool = False
    ) -> dict[str, Any]:
        chosen = (
            [b for b in self.exchange.bets.values() if b.market_id == market_id] if bets is None else bets
        )
        by_selection: dict[int, list[Bet]] = {}
        for bet in chosen:
            by_selection.setdefault(bet.selection_id, []).append(bet)
        change: dict[str, Any] = {"id": market_id, "accountId": 1, "closed": False}
        if full_image:
            change["fullImage"] = True
        orc = []
        for selection_id, selection_bets in by_selection.items():
            runner: dict[str, Any] = {"id": selection_id, "uo": [uo_of(b) for b in selection_bets]}
            all_bets = [
                b
                for b in self.exchange.bets.values()
                if b.market_id == market_id and b.selection_id == selection_id
            ]
            for side, key in (("BACK", "mb"), ("LAY", "ml")):
                matched: dict[Decimal, Decimal] = {}
                for bet in all_bets:
                    if bet.side == side:
                        for price, size in bet.matches:
                            matched[price] = matched.get(price, Decimal(0)) + size
                if matched:
                    runner[key] = [[p, s] for p, s in sorted(matched.items())]
            if full_image:
                runner["fullImage"] = True
            orc.append(runner)
        if orc:
            change["orc"] = orc
        return change

    def _execution_report(
        self,
        params: dict[str, Any],
        market_id: str,
        reports: list[dict[str, Any]],
        failed: bool,
        bets: list[Bet],
    ) -> dict[str, Any]:
        # the envelope of placeOrders/cancelOrders/replaceOrders, after the bets were applied
        result: dict[str, Any] = {
            "status": "FAILURE" if failed else "SUCCESS",
            "marketId": market_id,
            "instructionReports": reports,
        }
        if failed:
            result["errorCode"] = "BET_ACTION_ERROR"
        if params.get("customerRef"):
            result["customerRef"] = params["customerRef"]
        self._after_bets(market_id, bets)
        return result

    def _after_bets(self, market_id: str, bets: list[Bet]) -> None:
        # push the bets to order subscribers and the changed ladders to market subscribers,
        # after the HTTP answer is built (Betfair's stream and API are not ordered either)
        if not bets:
            return
        pt = self.now_ms()
        ocm = {
            "op": "ocm",
            "clk": str(next(self._clk)),
            "pt": pt,
            "oc": [self._order_change(market_id, bets)],
        }
        selections = sorted({b.selection_id for b in bets})
        for conn in self.connections:
            if conn.order_sub_id is not None:
                conn.send({**ocm, "id": conn.order_sub_id})
            if conn.market_sub_id is not None and market_id in conn.market_ids:
                conn.send(
                    {
                        "op": "mcm",
                        "id": conn.market_sub_id,
                        "clk": str(next(self._clk)),
                        "pt": pt,
                        "mc": [self._market_change(market_id, selections=selections)],
                    }
                )

    def push_market(self, market_id: str) -> None:
        """Push ``market_id``'s ladders to its subscribers now (after a test changed them)."""
        for conn in self.connections:
            if conn.market_sub_id is not None and market_id in conn.market_ids:
                conn.send(
                    {
                        "op": "mcm",
                        "id": conn.market_sub_id,
                        "clk": str(next(self._clk)),
                        "pt": self.now_ms(),
                        "mc": [self._market_change(market_id)],
                    }
                )

    async def _tick_markets(self) -> None:
        assert self.market_tick_ms is not None
        while True:
            await asyncio.sleep(self.market_tick_ms / 1000)
            for market_id in list(self.exchange.markets):
                self.push_market(market_id)


def _iso_ms(ms: int) -> str:
    from datetime import UTC
    from datetime import datetime

    from nautilus_ext_testkit.fake_betfair.exchange import iso

    return iso(datetime.fromtimestamp(ms / 1000, tz=UTC))
