"""
The Deribit API v2 part of the fake exchange: JSON-RPC over HTTP and over WebSocket.

Three transports share one dispatcher (:meth:`DeribitProtocol.rpc`), as on the venue:

* ``GET /api/v2/{public|private}/{method}?params`` (ccxt), signed with
  ``Authorization: deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..`` where ``sig`` is
  ``HMAC_SHA256(secret, ts\\nnonce\\nGET\\n<path?query>\\n\\n)``;
* ``POST /api/v2`` with a JSON-RPC body (NautilusTrader's Rust client), signed the same way over
  ``POST\\n/api/v2\\n<body>\\n``; a bearer token from ``public/auth`` is accepted too;
* ``/ws/api/v2``: any method, plus ``public/auth`` (``client_credentials`` and
  ``client_signature``: ``HMAC_SHA256(secret, timestamp\\nnonce\\ndata)``) and subscriptions
  ``book.{instrument}.{100ms|raw}`` (``change_id``/``prev_change_id``),
  ``trades.{instrument}.{interval}``, ``ticker.{instrument}.{interval}``, ``user.orders.*``,
  ``user.trades.*`` and ``user.portfolio.{currency}``.

Shapes follow https://docs.deribit.com and the recorded payloads in NautilusTrader's
``crates/adapters/deribit/test_data``. Amounts are in the venue's units: USD for inverse
perpetuals (BTC-PERPETUAL, contract size 10) and the base coin for linear USDC perpetuals. Each
settlement currency is its own margin account (``USER:BTC``, ``USER:USDC``). Labels are the client
order ids and, as on Deribit, need not be unique.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange.deribit_wire import _TIF_IN
from nautilus_ext_testkit.fake_exchange.deribit_wire import USER
from nautilus_ext_testkit.fake_exchange.deribit_wire import USER_ID
from nautilus_ext_testkit.fake_exchange.deribit_wire import WS_PATH
from nautilus_ext_testkit.fake_exchange.deribit_wire import DeribitStreams
from nautilus_ext_testkit.fake_exchange.deribit_wire import _n
from nautilus_ext_testkit.fake_exchange.deribit_wire import account_of
from nautilus_ext_testkit.fake_exchange.deribit_wire import settle_of
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

API_PATH: Final = "/api/v2"
# how far a signed request's timestamp may be from the exchange clock
_MAX_TS_DRIFT_MS: Final = 60_000


class RpcError(Exception):
    """A JSON-RPC error with Deribit's code and message (https://docs.deribit.com/#rpc-error-codes)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_dict(self) -> dict[str, Any]:
        """Return the ``error`` member of the response."""
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.data is not None:
            error["data"] = self.data
        return error


UNAUTHORIZED: Final = (13009, "unauthorized")
INVALID_CREDENTIALS: Final = (13004, "invalid_credentials")
ORDER_NOT_FOUND: Final = (10004, "order_not_found")
NOT_OPEN_ORDER: Final = (11044, "not_open_order")
TOO_MANY_REQUESTS: Final = (10028, "too_many_requests")
_REJECT_CODES: Final[dict[RejectReason, tuple[int, str]]] = {
    RejectReason.UNKNOWN_SYMBOL: (10020, "invalid_or_unsupported_instrument"),
    RejectReason.INVALID_QUANTITY: (10021, "invalid_amount"),
    RejectReason.INVALID_PRICE: (10043, "price_wrong_tick"),
    RejectReason.INSUFFICIENT_BALANCE: (10009, "not_enough_funds"),
    RejectReason.POST_ONLY_WOULD_TAKE: (11054, "post_only_reject"),
    RejectReason.REDUCE_ONLY_INCREASES: (11030, "other_reject reduce_only"),
    RejectReason.ORDER_NOT_FOUND: NOT_OPEN_ORDER,
    RejectReason.INJECTED: (11030, "other_reject fake exchange fault injection"),
    RejectReason.FOK_NOT_FILLABLE: (11030, "other_reject fill_or_kill"),
    RejectReason.DUPLICATE_CLIENT_ID: (11030, "other_reject duplicate"),
}


def default_deribit_markets() -> list[MarketSpec]:
    """Return BTC-PERPETUAL (inverse, USD amounts) and BTC_USDC-PERPETUAL (linear, BTC amounts)."""
    return [
        MarketSpec(
            "BTC-PERPETUAL",
            "BTC",
            "USD",
            Decimal("0.5"),
            Decimal(10),
            Decimal(10),
            maker_fee=Decimal(0),
            taker_fee=Decimal("0.0005"),
            max_leverage=50,
            kind="inverse",
            settle="BTC",
            listed_contract_size=Decimal(10),
        ),
        MarketSpec(
            "BTC_USDC-PERPETUAL",
            "BTC",
            "USDC",
            Decimal(1),
            Decimal("0.0001"),
            Decimal("0.0001"),
            maker_fee=Decimal(0),
            taker_fee=Decimal("0.0005"),
            max_leverage=50,
            kind="linear",
            settle="USDC",
            listed_contract_size=Decimal("0.0001"),
        ),
    ]


Handler = Callable[[dict[str, Any], "Session"], Awaitable[Any]]


class Session:
    """Who is calling: authenticated or not, and over which WebSocket (if any)."""

    def __init__(self, conn: WsConnection | None = None, authenticated: bool = False) -> None:
        self.conn = conn
        self.authenticated = authenticated
        self.snapshots: list[str] = []  # book channels subscribed by this call


class DeribitProtocol(DeribitStreams):
    """
    Serve Deribit API v2 on top of a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server (faults, clock, WebSocket plumbing).
    engine : MatchingEngine
        The engine holding Deribit's books (accounts ``USER:<currency>``).
    api_key, api_secret : str
        The accepted client id and secret.
    """

    def __init__(
        self, exchange: FakeExchange, engine: MatchingEngine, *, api_key: str, api_secret: str
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.api_key = api_key
        self.api_secret = api_secret
        self.funding_rate = Decimal("0.00001742")
        self.labels: dict[str, str] = {}  # order id -> label
        self._pending_label: str | None = None  # label of the order being submitted
        self.tokens: set[str] = set()
        self._trade_seq = itertools.count(1)
        self._change_ids: dict[str, int] = {}
        self._levels: dict[str, dict[Side, set[Decimal]]] = {
            s: {Side.BUY: set(), Side.SELL: set()} for s in engine.markets
        }
        self._methods: dict[str, Handler] = {
            "public/get_time": self._get_time,
            "public/test": self._test,
            "public/hello": self._test,
            "public/set_heartbeat": self._ok,
            "public/disable_heartbeat": self._ok,
            "public/get_currencies": self._get_currencies,
            "public/get_instruments": self._get_instruments,
            "public/get_instrument": self._get_instrument,
            "public/get_order_book": self._get_order_book,
            "public/ticker": self._ticker_rpc,
            "public/get_last_trades_by_instrument": self._last_trades,
            "public/get_last_trades_by_instrument_and_time": self._last_trades,
            "public/get_funding_rate_value": self._funding_rate_value,
            "public/get_index_price": self._index_price,
            "public/auth": self._auth,
            "public/subscribe": self._subscribe,
            "public/unsubscribe": self._unsubscribe,
            "private/subscribe": self._subscribe,
            "private/unsubscribe": self._unsubscribe,
            "private/logout": self._ok,
            "private/get_account_summary": self._account_summary,
            "private/get_account_summaries": self._account_summaries,
            "private/get_positions": self._positions,
            "private/get_position": self._position,
            "private/buy": self._buy,
            "private/sell": self._sell,
            "private/edit": self._edit,
            "private/cancel": self._cancel,
            "private/cancel_all": self._cancel_all,
            "private/cancel_all_by_instrument": self._cancel_all,
            "private/cancel_all_by_currency": self._cancel_all,
            "private/cancel_by_label": self._cancel_by_label,
            "private/get_open_orders": self._open_orders,
            "private/get_open_orders_by_currency": self._open_orders,
            "private/get_open_orders_by_instrument": self._open_orders,
            "private/get_order_state": self._order_state,
            "private/get_order_state_by_label": self._order_state_by_label,
            "private/get_order_history_by_currency": self._order_history,
            "private/get_order_history_by_instrument": self._order_history,
            "private/get_user_trades_by_currency": self._user_trades,
            "private/get_user_trades_by_currency_and_time": self._user_trades,
            "private/get_user_trades_by_instrument": self._user_trades,
            "private/get_user_trades_by_instrument_and_time": self._user_trades,
            "private/get_user_trades_by_order": self._user_trades,
        }
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_position.append(self._push_portfolio)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)

    def register(self, app: web.Application) -> None:
        """Add Deribit's routes to ``app``."""
        app.router.add_get(API_PATH + "/{scope:public|private}/{name}", self.http_get)
        app.router.add_post(API_PATH, self.http_post)
        app.router.add_get(WS_PATH, self.ws)

    # -- envelopes --------------------------------------------------------------------------

    def _envelope(self, request_id: Any, started_us: int) -> dict[str, Any]:
        now_us = self.exchange.now_ms() * 1000
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "usIn": started_us,
            "usOut": now_us,
            "usDiff": max(now_us - started_us, 0),
            "testnet": False,
        }

    async def call(
        self, method: str, params: dict[str, Any], session: Session, request_id: Any
    ) -> dict[str, Any]:
        """Run one JSON-RPC call and return the full response message."""
        started_us = self.exchange.now_ms() * 1000
        message = self._envelope(request_id, started_us)
        try:
            message["result"] = await self.rpc(method, params, session)
        except RpcError as e:
            message.pop("usIn")
            message.pop("usOut")
            message.pop("usDiff")
            message["error"] = e.as_dict()
        return message

    async def rpc(self, method: str, params: dict[str, Any], session: Session) -> Any:
        """
        Dispatch one method.

        Raises
        ------
        RpcError
            With Deribit's code: ``-32601`` unknown method, ``13009`` private call without
            authentication, or the method's own refusal.
        """
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found")
        if method.startswith("private/") and not session.authenticated:
            raise RpcError(*UNAUTHORIZED)
        return await handler(params, session)

    # -- HTTP -------------------------------------------------------------------------------

    def _check_signature(self, header: str, method: str, uri: str, body: str) -> bool:
        if header.startswith("bearer "):
            return header[len("bearer ") :] in self.tokens
        if not header.startswith("deri-hmac-sha256 "):
            return False
        fields = dict(
            part.split("=", 1) for part in header[len("deri-hmac-sha256 ") :].split(",") if "=" in part
        )
        try:
            ts = int(fields["ts"])
            client_id, nonce, sig = fields["id"], fields["nonce"], fields["sig"]
        except (KeyError, ValueError):
            return False
        if client_id != self.api_key or abs(self.exchange.now_ms() - ts) > _MAX_TS_DRIFT_MS:
            return False
        expected = self._hmac(f"{ts}\n{nonce}\n{method}\n{uri}\n{body}\n")
        return hmac.compare_digest(expected, sig)

    def _hmac(self, text: str) -> str:
        return hmac.new(self.api_secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    def _reply(self, message: dict[str, Any]) -> web.Response:
        # the venue answers errors with HTTP 400 and the JSON-RPC error body
        return web.json_response(message, status=400 if "error" in message else 200)

    async def http_get(self, request: web.Request) -> web.Response:
        """``GET /api/v2/{scope}/{name}`` (ccxt's transport)."""
        method = f"{request.match_info['scope']}/{request.match_info['name']}"
        header = request.headers.get("Authorization", "")
        authenticated = bool(header) and self._check_signature(
            header.lower() if header.lower().startswith("bearer ") else header,
            "GET",
            request.raw_path,
            "",
        )
        if header and not authenticated:
            return self._reply(await self._refuse(None))
        params = {k: _coerce(v) for k, v in request.query.items()}
        return self._reply(await self.call(method, params, Session(authenticated=authenticated), None))

    async def http_post(self, request: web.Request) -> web.Response:
        """``POST /api/v2`` with a JSON-RPC body (NautilusTrader's transport)."""
        body = await request.text()
        try:
            payload = json.loads(body)
        except ValueError:
            return self._reply(
                {"jsonrpc": "2.0", "id": None, "error": {"message": "Parse error", "code": -32700}}
            )
        header = request.headers.get("Authorization", "")
        authenticated = bool(header) and self._check_signature(header, "POST", request.path, body)
        if header and not authenticated:
            return self._reply(await self._refuse(payload.get("id")))
        return self._reply(
            await self.call(
                str(payload.get("method", "")),
                payload.get("params") or {},
                Session(authenticated=authenticated),
                payload.get("id"),
            )
        )

    async def _refuse(self, request_id: Any) -> dict[str, Any]:
        message = self._envelope(request_id, self.exchange.now_ms() * 1000)
        message["error"] = RpcError(*UNAUTHORIZED).as_dict()
        return message

    # -- WebSocket --------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/ws/api/v2``."""
        return await self.exchange.serve_ws(request, self._on_ws)

    async def _on_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        session = Session(conn, conn.authenticated)
        response = await self.call(
            str(msg.get("method", "")), msg.get("params") or {}, session, msg.get("id")
        )
        conn.send(response)
        # the book snapshot follows the subscription's answer, as on the venue
        for channel in session.snapshots:
            self._send_snapshot(conn, channel)

    # -- public -----------------------------------------------------------------------------

    async def _ok(self, params: dict[str, Any], session: Session) -> Any:
        return "ok"

    async def _get_time(self, params: dict[str, Any], session: Session) -> Any:
        return self.exchange.now_ms()

    async def _test(self, params: dict[str, Any], session: Session) -> Any:
        return {"version": "1.2.26"}

    async def _get_currencies(self, params: dict[str, Any], session: Session) -> Any:
        currencies = sorted({settle_of(s) for s in self.engine.markets.values()})
        return [
            {
                "currency": c,
                "currency_long": c,
                "coin_type": "BITCOIN" if c == "BTC" else "ERC20",
                "fee_precision": 4,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [],
            }
            for c in currencies
        ]

    def _spec(self, params: dict[str, Any]) -> MarketSpec:
        spec = self.engine.markets.get(str(params.get("instrument_name", "")))
        if spec is None:
            raise RpcError(-32602, "Invalid params", {"reason": "wrong format", "param": "instrument_name"})
        return spec

    async def _get_instruments(self, params: dict[str, Any], session: Session) -> Any:
        currency = str(params.get("currency", "any")).upper()
        kind = str(params.get("kind", "future"))
        return [
            self.instrument_dict(s)
            for s in self.engine.markets.values()
            if currency in ("ANY", s.base, settle_of(s)) and kind in ("future", "any")
        ]

    async def _get_instrument(self, params: dict[str, Any], session: Session) -> Any:
        return self.instrument_dict(self._spec(params))

    async def _ticker_rpc(self, params: dict[str, Any], session: Session) -> Any:
        return self._ticker(self._spec(params))

    async def _get_order_book(self, params: dict[str, Any], session: Session) -> Any:
        spec = self._spec(params)
        bids, asks = self.engine.levels(spec.symbol, int(params.get("depth", 20)))
        book = self._ticker(spec)
        book.update(
            {
                "bids": [[_n(p), _n(q)] for p, q in bids],
                "asks": [[_n(p), _n(q)] for p, q in asks],
                "change_id": self.engine.book_seq[spec.symbol],
            }
        )
        return book

    async def _last_trades(self, params: dict[str, Any], session: Session) -> Any:
        spec = self._spec(params)
        start = int(params.get("start_timestamp", 0) or 0)
        tape = [(i + 1, t) for i, t in enumerate(self.engine.trades.get(spec.symbol, [])) if t.ts_ms >= start]
        count = int(params.get("count", 10))
        rows = [self._public_trade(t, seq) for seq, t in tape[-count:]]
        return {"trades": rows, "has_more": len(tape) > count}

    async def _funding_rate_value(self, params: dict[str, Any], session: Session) -> Any:
        self._spec(params)
        return _n(self.funding_rate)

    async def _index_price(self, params: dict[str, Any], session: Session) -> Any:
        name = str(params.get("index_name", "")).upper()
        spec = next((s for s in self.engine.markets.values() if name.startswith(s.base)), None)
        if spec is None:
            raise RpcError(-32602, "Invalid params")
        mark = self.engine.mark_price(spec.symbol)
        return {"index_price": _n(mark), "estimated_delivery_price": _n(mark)}

    async def _auth(self, params: dict[str, Any], session: Session) -> Any:
        grant = params.get("grant_type")
        ok = False
        if grant == "client_credentials":
            ok = params.get("client_id") == self.api_key and params.get("client_secret") == self.api_secret
        elif grant == "client_signature":
            ts = int(params.get("timestamp", 0) or 0)
            expected = self._hmac(f"{ts}\n{params.get('nonce', '')}\n{params.get('data', '')}")
            ok = (
                params.get("client_id") == self.api_key
                and hmac.compare_digest(expected, str(params.get("signature", "")))
                and abs(self.exchange.now_ms() - ts) <= _MAX_TS_DRIFT_MS
            )
        elif grant == "refresh_token":
            ok = str(params.get("refresh_token", "")) in self.tokens
        if not ok:
            raise RpcError(*INVALID_CREDENTIALS)
        token = f"{self.exchange.now_ms()}.{secrets.token_hex(16)}"
        refresh = f"{self.exchange.now_ms()}.{secrets.token_hex(16)}"
        self.tokens.update({token, refresh})
        if session.conn is not None:
            session.conn.authenticated = True
            session.authenticated = True
        scope = str(params.get("scope") or "connection mainaccount")
        return {
            "token_type": "bearer",
            "scope": scope + " account:read_write trade:read_write wallet:read_write",
            "refresh_token": refresh,
            "expires_in": 31536000,
            "access_token": token,
            "enabled_features": [],
        }

    async def _subscribe(self, params: dict[str, Any], session: Session) -> Any:
        conn = session.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = [str(c) for c in params.get("channels") or []]
        accepted = [c for c in channels if self._valid_channel(c)]
        if any(c.startswith("user.") for c in accepted) and not conn.authenticated:
            raise RpcError(*UNAUTHORIZED)
        fresh = [c for c in accepted if c not in conn.topics]
        conn.topics.update(accepted)
        session.snapshots.extend(c for c in fresh if c.split(".")[0] in ("book", "quote", "ticker"))
        return accepted

    async def _unsubscribe(self, params: dict[str, Any], session: Session) -> Any:
        if session.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = [str(c) for c in params.get("channels") or []]
        session.conn.topics.difference_update(channels)
        return channels

    def _valid_channel(self, channel: str) -> bool:
        parts = channel.split(".")
        if parts[0] in ("book", "trades", "ticker", "quote", "incremental_ticker"):
            return len(parts) >= 2 and parts[1] in self.engine.markets
        # instrument state changes are accepted but never happen on the fake
        return parts[0] in ("user", "instrument") and len(parts) >= 3

    # -- private: account -------------------------------------------------------------------

    def _currencies(self) -> list[str]:
        return sorted({settle_of(s) for s in self.engine.markets.values()})

    async def _account_summary(self, params: dict[str, Any], session: Session) -> Any:
        currency = str(params.get("currency", "")).upper()
        if currency not in self._currencies():
            raise RpcError(-32602, "Invalid params", {"reason": "wrong format", "param": "currency"})
        return self.account_summary(currency)

    async def _account_summaries(self, params: dict[str, Any], session: Session) -> Any:
        return {
            "id": USER_ID,
            "username": "fake",
            "system_name": "fake",
            "type": "main",
            "creation_timestamp": 1687352432143,
            "summaries": [self.account_summary(c) for c in self._currencies()],
        }

    async def _positions(self, params: dict[str, Any], session: Session) -> Any:
        currency = str(params.get("currency", "any")).upper()
        rows = []
        for spec in self.engine.markets.values():
            if currency not in ("ANY", settle_of(spec)):
                continue
            pos = self.engine.position(account_of(settle_of(spec)), spec.symbol)
            if pos.qty:
                rows.append(self.position_dict(spec, pos))
        return rows

    async def _position(self, params: dict[str, Any], session: Session) -> Any:
        spec = self._spec(params)
        return self.position_dict(spec, self.engine.position(account_of(settle_of(spec)), spec.symbol))

    # -- private: orders --------------------------------------------------------------------

    async def _buy(self, params: dict[str, Any], session: Session) -> Any:
        return self._place(Side.BUY, params)

    async def _sell(self, params: dict[str, Any], session: Session) -> Any:
        return self._place(Side.SELL, params)

    def _place(self, side: Side, params: dict[str, Any]) -> dict[str, Any]:
        spec = self._spec(params)
        label = str(params.get("label", ""))
        if len(label) > 64:
            raise RpcError(-32602, "Invalid params", {"reason": "string too long", "param": "label"})
        self.exchange.record_order("deribit", label)
        if self.exchange.faults.take("reject_next_orders"):
            raise RpcError(*_REJECT_CODES[RejectReason.INJECTED])
        order_type = str(params.get("type", "limit"))
        if order_type not in ("limit", "market"):
            raise RpcError(-32602, "Invalid params", {"reason": "not supported by the fake", "param": "type"})
        try:
            amount = Decimal(str(params["amount"]))
            price = Decimal(str(params["price"])) if order_type == "limit" else None
        except (KeyError, ArithmeticError) as e:
            raise RpcError(-32602, "Invalid params", {"reason": "must be a number", "param": str(e)}) from e
        tif = _TIF_IN.get(str(params.get("time_in_force", "good_til_cancelled")))
        if tif is None:
            raise RpcError(-32602, "Invalid params", {"reason": "wrong format", "param": "time_in_force"})
        if _flag(params.get("post_only")):
            if order_type != "limit" or tif is not TimeInForce.GTC:
                raise RpcError(11047, "unsupported_arg_combination")
            tif = TimeInForce.POST_ONLY
            if not _flag(params.get("reject_post_only")) and price is not None:
                price = self._reprice_post_only(spec, side, price)
        account = account_of(settle_of(spec))
        self._pending_label = label
        try:
            order = self.engine.submit(
                account,
                spec.symbol,
                side,
                order_type,
                amount,
                price=price,
                tif=tif,
                reduce_only=_flag(params.get("reduce_only")),
                soft_reject=tif is TimeInForce.FOK,
            )
        except EngineReject as e:
            raise RpcError(*_REJECT_CODES[e.reason]) from e
        finally:
            self._pending_label = None
        trades = [self.trade_dict(f) for f in self.engine.fills if f.order_id == order.order_id]
        return {"order": self.order_dict(order), "trades": trades}

    def _reprice_post_only(self, spec: MarketSpec, side: Side, price: Decimal) -> Decimal:
        # Deribit moves a crossing post-only order to just inside the spread
        # unless reject_post_only is set (https://docs.deribit.com/#private-buy)
        bid, ask = self.engine.best(spec.symbol)
        if side is Side.BUY and ask is not None and price >= ask:
            return ask - spec.tick_size
        if side is Side.SELL and bid is not None and price <= bid:
            return bid + spec.tick_size
        return price

    def _find(self, order_id: Any) -> EngineOrder:
        order = self.engine.orders.get(str(order_id or ""))
        if order is None or not order.account.startswith(USER + ":"):
            raise RpcError(*ORDER_NOT_FOUND)
        return order

    async def _edit(self, params: dict[str, Any], session: Session) -> Any:
        order = self._find(params.get("order_id"))
        if not order.is_open:
            raise RpcError(*NOT_OPEN_ORDER)
        try:
            amount = Decimal(str(params["amount"])) if "amount" in params else None
            price = Decimal(str(params["price"])) if "price" in params else None
            edited = self.engine.amend(order.account, order_id=order.order_id, qty=amount, price=price)
        except (ArithmeticError, KeyError) as e:
            raise RpcError(-32602, "Invalid params") from e
        except EngineReject as e:
            raise RpcError(*_REJECT_CODES[e.reason]) from e
        trades = [self.trade_dict(f) for f in self.engine.fills if f.order_id == edited.order_id]
        data = self.order_dict(edited)
        data["replaced"] = True
        return {"order": data, "trades": trades}

    async def _cancel(self, params: dict[str, Any], session: Session) -> Any:
        order = self._find(params.get("order_id"))
        if not order.is_open:
            raise RpcError(*NOT_OPEN_ORDER)
        return self.order_dict(self.engine.cancel(order.account, order.order_id))

    def _user_orders(self, params: dict[str, Any], *, open_only: bool) -> list[EngineOrder]:
        instrument = params.get("instrument_name")
        currency = str(params.get("currency", "any")).upper()
        orders = []
        for order in self.engine.orders.values():
            if not order.account.startswith(USER + ":") or (open_only and not order.is_open):
                continue
            spec = self.engine.markets[order.symbol]
            if instrument is not None and order.symbol != instrument:
                continue
            if currency not in ("ANY", spec.base, settle_of(spec)):
                continue
            orders.append(order)
        return orders

    async def _cancel_all(self, params: dict[str, Any], session: Session) -> Any:
        if "instrument_name" in params:
            self._spec(params)
        cancelled = [
            self.engine.cancel(o.account, o.order_id) for o in self._user_orders(params, open_only=True)
        ]
        return len(cancelled)

    async def _cancel_by_label(self, params: dict[str, Any], session: Session) -> Any:
        label = str(params.get("label", ""))
        targets = [
            o for o in self._user_orders(params, open_only=True) if self.labels.get(o.order_id) == label
        ]
        for order in targets:
            self.engine.cancel(order.account, order.order_id)
        return len(targets)

    async def _open_orders(self, params: dict[str, Any], session: Session) -> Any:
        return [self.order_dict(o) for o in self._user_orders(params, open_only=True)]

    async def _order_state(self, params: dict[str, Any], session: Session) -> Any:
        return self.order_dict(self._find(params.get("order_id")))

    async def _order_state_by_label(self, params: dict[str, Any], session: Session) -> Any:
        label = str(params.get("label", ""))
        return [
            self.order_dict(o)
            for o in self._user_orders(params, open_only=False)
            if self.labels.get(o.order_id) == label
        ]

    async def _order_history(self, params: dict[str, Any], session: Session) -> Any:
        closed = [o for o in self._user_orders(params, open_only=False) if not o.is_open]
        count = int(params.get("count", 20))
        return [self.order_dict(o) for o in sorted(closed, key=lambda o: -o.updated_ms)[:count]]

    async def _user_trades(self, params: dict[str, Any], session: Session) -> Any:
        instrument = params.get("instrument_name")
        currency = str(params.get("currency", "any")).upper()
        start = int(params.get("start_timestamp", 0) or 0)
        end = int(params.get("end_timestamp", 0) or 0)
        order_id = params.get("order_id")
        rows = []
        for fill in self.engine.fills:
            spec = self.engine.markets[fill.symbol]
            if not fill.account.startswith(USER + ":"):
                continue
            if instrument is not None and fill.symbol != instrument:
                continue
            if currency not in ("ANY", spec.base, settle_of(spec)) or fill.ts_ms < start:
                continue
            if (end and fill.ts_ms > end) or (order_id is not None and fill.order_id != order_id):
                continue
            rows.append(self.trade_dict(fill))
        count = int(params.get("count", 10))
        if order_id is not None:
            return rows
        return {"trades": rows[-count:], "has_more": len(rows) > count}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _coerce(value: str) -> Any:
    # query strings carry everything as text; Deribit parses booleans and numbers
    if value in ("true", "false"):
        return value == "true"
    return value
