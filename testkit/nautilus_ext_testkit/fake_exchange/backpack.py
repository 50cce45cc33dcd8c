"""
The Backpack Exchange part of the fake exchange: USDC-margined perpetuals (``BTC_USDC_PERP``)
over REST (``/api/v1/...``, ``/wapi/v1/...``) and the WebSocket at ``/``, all under the path
prefix ``/backpack`` (Backpack's stream host ``wss://ws.backpack.exchange`` has no path, nor has
Coinbase's, whose signed JWT names the request path: Coinbase keeps the root, Backpack's
signatures do not cover the path, so Backpack moves). Point ccxt at ``<base_url>/backpack``.

Shapes are in :mod:`.backpack_wire`. Every private request is verified as Backpack does: the
ED25519 signature of the instruction string against the registered public key, the timestamp
against the window, and the instruction of the path and method; refusals carry Backpack's
error bodies (``{"code": "INVALID_SIGNATURE", "message": ...}``). Private stream subscriptions
(``account.*``) carry ``signature: [key, signature, timestamp, window]`` over
``instruction=subscribe&timestamp=..&window=..``.

Venue behaviour the fake reproduces: ``clientId`` is an unsigned 32-bit integer and is not
required to be unique (the fake accepts a reused one; lookups by client id find the latest
order); a post-only order that would take is refused, a FOK that cannot fill and IOC/market
leftovers expire (status ``Expired``); order updates stream as ``orderAccepted``, ``orderFill``
(with the fill's ``l``/``L``/``t`` and the cumulative ``z``), ``orderCancelled``,
``orderExpired``; ``netExposureQuantity`` of a position includes open orders while
``netQuantity`` is the signed position. Only perpetual markets are listed (no spot, no RFQ).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import backpack_wire as wire
from nautilus_ext_testkit.fake_exchange.backpack_wire import USER
from nautilus_ext_testkit.fake_exchange.backpack_wire import AuthError
from nautilus_ext_testkit.fake_exchange.backpack_wire import SignedRequest
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

PREFIX: Final = "/backpack"
WS_PATH: Final = "/"
REST_PREFIXES: Final = ("/api/v1/", "/wapi/v1/")
MAX_CLIENT_ID: Final = 2**32 - 1
_DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)
# Backpack's stream error for a private subscription it refuses (the code is the fake's own;
# ccxt only needs ``error.code`` to reject the subscription)
WS_AUTH_ERROR_CODE: Final = 4006

State = tuple[OrderStatus, Decimal, Decimal | None, Decimal]
Handler = Callable[[dict[str, Any]], Awaitable[web.Response]]


def default_backpack_markets() -> list[MarketSpec]:
    """Return BTC and ETH USDC perpetuals with Backpack's increments and base-tier fees."""
    return [
        MarketSpec(
            "BTC_USDC_PERP",
            "BTC",
            "USDC",
            Decimal("0.1"),
            Decimal("0.0001"),
            Decimal("0.0001"),
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            max_leverage=50,
        ),
        MarketSpec(
            "ETH_USDC_PERP",
            "ETH",
            "USDC",
            Decimal("0.01"),
            Decimal("0.001"),
            Decimal("0.001"),
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            max_leverage=50,
        ),
    ]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _invalid_symbol(payload: str) -> web.Response:
    text = wire.INVALID_SYMBOL_TEXT.replace("OrderExecutePayload", payload)
    return web.Response(status=400, text=text)


def _bad_request(message: str) -> web.Response:
    return _error(400, "INVALID_CLIENT_REQUEST", message)


class BackpackProtocol:
    """
    Serve Backpack's REST and stream APIs on top of a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server.
    engine : MatchingEngine
        The engine holding Backpack's books (the account is :data:`backpack_wire.USER`).
    api_key : str
        The registered base64 ED25519 public key (default: the key of ``TEST_SEED``).
    """

    def __init__(
        self, exchange: FakeExchange, engine: MatchingEngine, *, api_key: str = wire.TEST_API_KEY
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.api_key = api_key
        self.funding_rate = Decimal("0.0000125")
        # engine order id <-> the clientId it was placed with (not unique on Backpack)
        self._client_ids: dict[str, int] = {}
        self._by_client: dict[int, str] = {}
        self._pending_client_id: int | None = None
        self._states: dict[str, State] = {}
        self._position_qty: dict[str, Decimal] = {}
        self._withheld: set[str] = set()
        # Backpack numbers each market's trades from 1: engine match id -> that number
        self._trade_ids: dict[str, int] = {}
        self._trade_counts: dict[str, int] = {}
        self._conns: dict[str, WsConnection] = {}
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_position.append(self._push_position)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)

    def register(self, app: web.Application) -> None:
        """Add Backpack's routes to ``app``."""
        r = app.router
        public: dict[str, Callable[[web.Request], Awaitable[web.Response]]] = {
            "/api/v1/markets": self.markets,
            "/api/v1/assets": self.assets,
            "/api/v1/securities": self.securities,
            "/api/v1/depth": self.depth,
            "/api/v1/trades": self.trades,
            "/api/v1/ticker": self.ticker,
            "/api/v1/tickers": self.tickers,
            "/api/v1/markPrices": self.mark_prices,
            "/api/v1/time": self.time,
            "/api/v1/status": self.status,
        }
        for path, handler in public.items():
            r.add_get(path, handler)
        private: dict[tuple[str, str], Handler] = {
            ("/api/v1/capital", "GET"): self.capital,
            ("/api/v1/position", "GET"): self.positions,
            ("/api/v1/order", "GET"): self.get_order,
            ("/api/v1/order", "POST"): self.execute_order,
            ("/api/v1/order", "DELETE"): self.cancel_order,
            ("/api/v1/orders", "GET"): self.open_orders,
            ("/api/v1/orders", "DELETE"): self.cancel_all,
            ("/wapi/v1/history/orders", "GET"): self.order_history,
            ("/wapi/v1/history/fills", "GET"): self.fill_history,
        }
        for (path, method), phandler in private.items():
            r.add_route(method, path, self._signed(path, method, phandler))
        r.add_get(WS_PATH, self.ws)

    # -- authentication ---------------------------------------------------------------------

    def _signed(
        self, path: str, method: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        instruction = wire.INSTRUCTIONS[(path, method)]

        async def wrapped(request: web.Request) -> web.Response:
            params: dict[str, Any]
            if method == "GET":
                params = dict(request.query)
            else:
                text = await request.text()
                try:
                    body = json.loads(text) if text else {}
                except ValueError:
                    return _bad_request("Request body is not valid JSON")
                if not isinstance(body, dict):
                    return _bad_request("Batch requests are not supported by this endpoint")
                params = body
            headers = request.headers
            signed = SignedRequest(
                api_key=headers.get("X-API-Key", ""),
                signature=headers.get("X-Signature", ""),
                timestamp=headers.get("X-Timestamp", ""),
                window=headers.get("X-Window", ""),
            )
            try:
                wire.verify(
                    signed,
                    registered_key=self.api_key,
                    instruction=instruction,
                    params=params,
                    now_ms=self.exchange.now_ms(),
                )
            except AuthError as e:
                if e.code is None:
                    return web.Response(status=e.status, text=e.message)
                return web.json_response(e.body(), status=e.status)
            return await handler(params)

        return wrapped

    def trade_id(self, symbol: str, engine_id: str) -> int:
        """Return Backpack's per-market trade id of an engine trade or fill id."""
        key = wire.match_key(engine_id)
        if key not in self._trade_ids:
            self._trade_counts[symbol] = self._trade_counts.get(symbol, 0) + 1
            self._trade_ids[key] = self._trade_counts[symbol]
        return self._trade_ids[key]

    # -- public REST ------------------------------------------------------------------------

    async def markets(self, request: web.Request) -> web.Response:
        """GET /api/v1/markets (optionally filtered by ``marketType``)."""
        wanted = request.query.getall("marketType", [])
        rows = [wire.market(spec) for spec in self.engine.markets.values()]
        return web.json_response([m for m in rows if not wanted or m["marketType"] in wanted])

    async def assets(self, request: web.Request) -> web.Response:
        """GET /api/v1/assets."""
        chains = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "USDC": "Solana"}
        codes = sorted({s.base for s in self.engine.markets.values()} | {"USDC"})
        return web.json_response([wire.asset(c, chains.get(c, "Solana")) for c in codes])

    async def securities(self, request: web.Request) -> web.Response:
        """GET /api/v1/securities: no tokenized stocks are listed."""
        return web.json_response([])

    async def depth(self, request: web.Request) -> web.Response:
        """GET /api/v1/depth: bids and asks both ascending by price, as Backpack prints them."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.engine.markets:
            return _invalid_symbol("DepthQuery")
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return _bad_request("Invalid limit")
        if limit not in _DEPTH_LIMITS:
            return _bad_request(f"Limit must be one of {list(_DEPTH_LIMITS)}")
        bids, asks = self.engine.levels(symbol, limit)
        return web.json_response(
            {
                "asks": [[wire.dec(p), wire.dec(q)] for p, q in asks],
                "bids": [[wire.dec(p), wire.dec(q)] for p, q in reversed(bids)],
                "lastUpdateId": str(self.engine.book_seq[symbol]),
                "timestamp": self.exchange.now_ms() * 1000,
            }
        )

    async def trades(self, request: web.Request) -> web.Response:
        """GET /api/v1/trades: the latest ``limit`` (default 100, max 1000) prints, oldest first."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.engine.markets:
            return _invalid_symbol("TradesQuery")
        limit = min(int(request.query.get("limit", "100")), 1000)
        tape = self.engine.trades[symbol][-limit:]
        return web.json_response(
            [
                {
                    "id": self.trade_id(symbol, t.trade_id),
                    "isBuyerMaker": t.side is Side.SELL,
                    "price": wire.dec(t.price),
                    "quantity": wire.dec(t.qty),
                    "quoteQuantity": wire.dec(t.price * t.qty),
                    "timestamp": t.ts_ms,
                }
                for t in tape
            ]
        )

    def _ticker(self, symbol: str) -> dict[str, Any]:
        tape = self.engine.trades[symbol]
        mark = self.engine.mark_price(symbol)
        prices = [t.price for t in tape] or [mark]
        first, last = prices[0], prices[-1]
        change = last - first
        return {
            "firstPrice": wire.dec(first),
            "high": wire.dec(max(prices)),
            "lastPrice": wire.dec(last),
            "low": wire.dec(min(prices)),
            "priceChange": wire.dec(change),
            "priceChangePercent": wire.dec(change / first if first else Decimal(0)),
            "quoteVolume": wire.dec(sum((t.price * t.qty for t in tape), Decimal(0))),
            "symbol": symbol,
            "trades": str(len(tape)),
            "volume": wire.dec(sum((t.qty for t in tape), Decimal(0))),
        }

    async def ticker(self, request: web.Request) -> web.Response:
        """GET /api/v1/ticker."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.engine.markets:
            return _invalid_symbol("TickerQuery")
        return web.json_response(self._ticker(symbol))

    async def tickers(self, request: web.Request) -> web.Response:
        """GET /api/v1/tickers."""
        return web.json_response([self._ticker(s) for s in self.engine.markets])

    def next_funding_ms(self) -> int:
        """Return the next hourly funding time."""
        hour = 3_600_000
        return (self.exchange.now_ms() // hour + 1) * hour

    def _mark_row(self, symbol: str) -> dict[str, Any]:
        mark = wire.dec(self.engine.mark_price(symbol))
        return {
            "fundingRate": wire.dec(self.funding_rate),
            "indexPrice": mark,
            "markPrice": mark,
            "nextFundingTimestamp": self.next_funding_ms(),
            "symbol": symbol,
        }

    async def mark_prices(self, request: web.Request) -> web.Response:
        """GET /api/v1/markPrices (one market with ``symbol``)."""
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in self.engine.markets:
            return _invalid_symbol("MarkPricesQuery")
        symbols = [symbol] if symbol else list(self.engine.markets)
        return web.json_response([self._mark_row(s) for s in symbols])

    async def time(self, request: web.Request) -> web.Response:
        """GET /api/v1/time: the exchange clock in ms, as a bare number."""
        return web.Response(text=str(self.exchange.now_ms()), content_type="application/json")

    async def status(self, request: web.Request) -> web.Response:
        """GET /api/v1/status."""
        return web.json_response({"message": None, "status": "Ok"})

    # -- private REST -----------------------------------------------------------------------

    def _client_id(self, order: EngineOrder) -> int | None:
        return self._client_ids.get(order.order_id)

    def _order_json(self, order: EngineOrder, *, history: bool = False) -> dict[str, Any]:
        return wire.order(order, self._client_id(order), history=history)

    async def capital(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v1/capital: the USDC collateral, ``locked`` being margin in use."""
        balance = self.engine.balances.get(USER, Decimal(0))
        available = self.engine.available_balance(USER)
        return web.json_response(
            {
                "USDC": {
                    "available": wire.dec(available),
                    "locked": wire.dec(balance - available),
                    "staked": "0",
                }
            }
        )

    def _position_id(self, symbol: str) -> str:
        return str(wire.ORDER_ID_BASE + 900_000_000 + list(self.engine.markets).index(symbol))

    async def positions(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v1/position: open positions only."""
        rows = []
        for symbol in self.engine.markets:
            pos = self.engine.position(USER, symbol)
            if pos.qty:
                rows.append(
                    wire.position(
                        pos,
                        self.engine.mark_price(symbol),
                        self.engine.open_orders(USER, symbol),
                        self._position_id(symbol),
                    )
                )
        return web.json_response(rows)

    def _find(self, params: dict[str, Any]) -> EngineOrder | None:
        order_id = wire.engine_order_id(params["orderId"]) if params.get("orderId") else None
        if order_id is None and params.get("clientId") not in (None, ""):
            try:
                order_id = self._by_client.get(int(params["clientId"]))
            except ValueError:
                return None
        found = self.engine.find_order(USER, order_id=order_id) if order_id else None
        symbol = params.get("symbol")
        if found is not None and symbol and found.symbol != symbol:
            return None
        return found

    async def get_order(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v1/order: an open order by ``orderId`` or ``clientId`` (404 once closed)."""
        if not params.get("orderId") and params.get("clientId") in (None, ""):
            return _bad_request("Either orderId or clientId is required")
        found = self._find(params)
        if found is None or not found.is_open:
            return _error(*wire.ORDER_ERRORS[RejectReason.ORDER_NOT_FOUND])
        return web.json_response(self._order_json(found))

    async def open_orders(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v1/orders: the account's open orders (optionally in one market)."""
        symbol = params.get("symbol")
        if symbol is not None and symbol not in self.engine.markets:
            return _invalid_symbol("OrderQueryAllPayload")
        orders = self.engine.open_orders(USER, symbol)
        return web.json_response([self._order_json(o) for o in orders])

    async def order_history(self, params: dict[str, Any]) -> web.Response:
        """GET /wapi/v1/history/orders: newest first, filtered by ``symbol``/``orderId``."""
        orders = [o for o in self.engine.orders.values() if o.account == USER]
        if params.get("symbol"):
            orders = [o for o in orders if o.symbol == params["symbol"]]
        if params.get("orderId"):
            wanted = wire.engine_order_id(params["orderId"])
            orders = [o for o in orders if o.order_id == wanted]
        offset = int(params.get("offset", 0))
        limit = min(int(params.get("limit", 100)), 1000)
        page = list(reversed(orders))[offset : offset + limit]
        return web.json_response([self._order_json(o, history=True) for o in page])

    async def fill_history(self, params: dict[str, Any]) -> web.Response:
        """GET /wapi/v1/history/fills: newest first; ``from``/``to`` in ms, ``limit`` <= 1000."""
        fills = [f for f in self.engine.account_fills(USER) if f.exec_id not in self._withheld]
        if params.get("symbol"):
            fills = [f for f in fills if f.symbol == params["symbol"]]
        if params.get("orderId"):
            wanted = wire.engine_order_id(params["orderId"])
            fills = [f for f in fills if f.order_id == wanted]
        if params.get("from"):
            fills = [f for f in fills if f.ts_ms >= int(params["from"])]
        if params.get("to"):
            fills = [f for f in fills if f.ts_ms <= int(params["to"])]
        offset = int(params.get("offset", 0))
        limit = min(int(params.get("limit", 100)), 1000)
        page = list(reversed(fills))[offset : offset + limit]
        return web.json_response(
            [wire.fill(f, self._client_ids.get(f.order_id), self.trade_id(f.symbol, f.exec_id)) for f in page]
        )

    def _order_inputs(
        self, params: dict[str, Any]
    ) -> tuple[Side, str, Decimal, Decimal | None, TimeInForce, int | None] | web.Response:
        side = {"Bid": Side.BUY, "Ask": Side.SELL}.get(str(params.get("side")))
        if side is None:
            return _bad_request("side must be Bid or Ask")
        kind = {"Limit": "limit", "Market": "market"}.get(str(params.get("orderType")))
        if kind is None:
            return _bad_request("orderType must be Limit or Market (trigger orders are not served)")
        if params.get("quantity") is None:
            return _bad_request("quantity is required (quoteQuantity orders are not served)")
        try:
            qty = Decimal(str(params["quantity"]))
            price = Decimal(str(params["price"])) if params.get("price") is not None else None
        except InvalidOperation:
            return _bad_request("quantity and price must be decimal strings")
        if kind == "limit" and price is None:
            return _bad_request("price is required for a Limit order")
        tif_name = str(params.get("timeInForce") or "GTC")
        tif = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}.get(tif_name)
        if tif is None:
            return _bad_request(f"Invalid timeInForce {tif_name}")
        if params.get("postOnly") is True:
            if tif is not TimeInForce.GTC or kind != "limit":
                return _bad_request("postOnly requires a GTC Limit order")
            tif = TimeInForce.POST_ONLY
        client_id: int | None = None
        if params.get("clientId") is not None:
            raw = params["clientId"]
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_CLIENT_ID:
                return _bad_request("clientId must be an unsigned 32-bit integer")
            client_id = raw
        return side, kind, qty, price, tif, client_id

    async def execute_order(self, params: dict[str, Any]) -> web.Response:
        """POST /api/v1/order."""
        symbol = str(params.get("symbol", ""))
        self.exchange.record_order("backpack", str(params.get("clientId", "")))
        if symbol not in self.engine.markets:
            return _invalid_symbol("OrderExecutePayload")
        if self.exchange.faults.take("reject_next_orders"):
            return _error(*wire.ORDER_ERRORS[RejectReason.INJECTED])
        parsed = self._order_inputs(params)
        if isinstance(parsed, web.Response):
            return parsed
        side, kind, qty, price, tif, client_id = parsed
        self._pending_client_id = client_id
        try:
            order = self.engine.submit(
                USER,
                symbol,
                side,
                kind,
                qty,
                price=price,
                tif=tif,
                reduce_only=params.get("reduceOnly") is True,
                soft_reject=tif is TimeInForce.FOK,
            )
        except EngineReject as e:
            return _error(*wire.ORDER_ERRORS[e.reason])
        finally:
            self._pending_client_id = None
        return web.json_response(self._order_json(order))

    async def cancel_order(self, params: dict[str, Any]) -> web.Response:
        """DELETE /api/v1/order: by ``orderId`` or ``clientId`` in ``symbol``."""
        if str(params.get("symbol", "")) not in self.engine.markets:
            return _invalid_symbol("OrderCancelPayload")
        found = self._find(params)
        try:
            if found is None:
                raise EngineReject(RejectReason.ORDER_NOT_FOUND, "not found")
            canceled = self.engine.cancel(USER, found.order_id)
        except EngineReject as e:
            return _error(*wire.ORDER_ERRORS[e.reason])
        return web.json_response(self._order_json(canceled))

    async def cancel_all(self, params: dict[str, Any]) -> web.Response:
        """DELETE /api/v1/orders: every open order in ``symbol``."""
        symbol = str(params.get("symbol", ""))
        if symbol not in self.engine.markets:
            return _invalid_symbol("OrderCancelAllPayload")
        canceled = self.engine.cancel_all(USER, symbol)
        return web.json_response([self._order_json(o) for o in canceled])

    # -- WebSocket --------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve the stream endpoint."""
        return await self.exchange.serve_ws(request, self._on_ws, on_open=self._opened)

    def _opened(self, conn: WsConnection) -> None:
        self._conns[conn.conn_id] = conn

    def _live(self) -> list[WsConnection]:
        alive = {c.conn_id for c in self.exchange.connections}
        for conn_id in [c for c in self._conns if c not in alive]:
            self._conns.pop(conn_id)
        return list(self._conns.values())

    def _now_us(self) -> int:
        return self.exchange.now_ms() * 1000

    def _send(self, conn: WsConnection, stream: str, data: dict[str, Any], *, private: bool = False) -> None:
        if not private and self.exchange.faults.silence_market_data:
            return
        conn.send({"stream": stream, "data": data}, private=private)

    def _publish(self, stream: str, data: dict[str, Any]) -> None:
        for conn in self._live():
            if stream in conn.topics:
                self._send(conn, stream, data)

    def _publish_private(self, kind: str, symbol: str, data: dict[str, Any]) -> None:
        streams = {f"account.{kind}", f"account.{kind}.{symbol}"}
        for conn in self._live():
            if conn.authenticated and conn.user == USER:
                for stream in streams & conn.topics:
                    self._send(conn, stream, data, private=True)

    def _check_subscription(self, signature: Any) -> str | None:
        if not isinstance(signature, list) or len(signature) != 4:
            return "Private streams require a signature [key, signature, timestamp, window]"
        key, sig, ts, window = (str(x) for x in signature)
        try:
            wire.verify(
                SignedRequest(key, sig, ts, window),
                registered_key=self.api_key,
                instruction=wire.SUBSCRIBE_INSTRUCTION,
                params={},
                now_ms=self.exchange.now_ms(),
            )
        except AuthError as e:
            return e.message
        return None

    async def _on_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        method = str(msg.get("method", "")).upper()
        streams = [str(s) for s in msg.get("params") or []]
        if method == "UNSUBSCRIBE":
            conn.topics.difference_update(streams)
            return
        if method != "SUBSCRIBE":
            conn.send({"id": msg.get("id"), "error": {"code": 4000, "message": f"Invalid method {method}"}})
            return
        if any(s.startswith("account.") for s in streams):
            refusal = self._check_subscription(msg.get("signature"))
            if refusal is not None:
                conn.send({"id": msg.get("id"), "error": {"code": WS_AUTH_ERROR_CODE, "message": refusal}})
                return
            conn.authenticated = True
            conn.user = USER
        conn.topics.update(streams)
        for stream in streams:
            self._on_subscribed(conn, stream)

    def _on_subscribed(self, conn: WsConnection, stream: str) -> None:
        kind, _, symbol = stream.partition(".")
        if stream.startswith("account.positionUpdate"):
            # the current open positions, without an event type (Backpack's snapshot)
            wanted = stream.removeprefix("account.positionUpdate").lstrip(".")
            for sym in self.engine.markets:
                pos = self.engine.position(USER, sym)
                if pos.qty and (not wanted or wanted == sym):
                    self._send(conn, stream, self._position_data(None, pos), private=True)
        elif kind == "markPrice" and symbol in self.engine.markets:
            self._send(conn, stream, self._mark_event(symbol))
        elif kind == "bookTicker" and symbol in self.engine.markets:
            self._send(conn, stream, self._book_ticker(symbol))

    def _mark_event(self, symbol: str) -> dict[str, Any]:
        now = self._now_us()
        mark = wire.dec(self.engine.mark_price(symbol))
        return {
            "e": "markPrice",
            "E": now,
            "s": symbol,
            "p": mark,
            "f": wire.dec(self.funding_rate),
            "i": mark,
            "n": self.next_funding_ms(),
            "T": now,
        }

    def _book_ticker(self, symbol: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(symbol, 1)
        now = self._now_us()
        return {
            "e": "bookTicker",
            "E": now,
            "s": symbol,
            "a": wire.dec(asks[0][0]) if asks else None,
            "A": wire.dec(asks[0][1]) if asks else None,
            "b": wire.dec(bids[0][0]) if bids else None,
            "B": wire.dec(bids[0][1]) if bids else None,
            "u": str(self.engine.book_seq[symbol]),
            "T": now,
        }

    # -- engine events -> streams -----------------------------------------------------------

    def _push_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        seq = self.engine.book_seq[symbol]
        now = self._now_us()
        self._publish(
            f"depth.{symbol}",
            {
                "e": "depth",
                "E": now,
                "s": symbol,
                "a": [[wire.dec(p), wire.dec(q)] for side, p, q in changes if side is Side.SELL],
                "b": [[wire.dec(p), wire.dec(q)] for side, p, q in changes if side is Side.BUY],
                "U": seq,
                "u": seq,
                "T": now,
            },
        )
        self._publish(f"bookTicker.{symbol}", self._book_ticker(symbol))
        self._publish(f"markPrice.{symbol}", self._mark_event(symbol))

    def _push_trade(self, trade: PublicTrade) -> None:
        now = self._now_us()
        self._publish(
            f"trade.{trade.symbol}",
            {
                "e": "trade",
                "E": now,
                "s": trade.symbol,
                "p": wire.dec(trade.price),
                "q": wire.dec(trade.qty),
                "t": self.trade_id(trade.symbol, trade.trade_id),
                "T": trade.ts_ms * 1000,
                "m": trade.side is Side.SELL,
            },
        )
        ticker = self._ticker(trade.symbol)
        self._publish(
            f"ticker.{trade.symbol}",
            {
                "e": "ticker",
                "E": now,
                "s": trade.symbol,
                "o": ticker["firstPrice"],
                "c": ticker["lastPrice"],
                "h": ticker["high"],
                "l": ticker["low"],
                "v": ticker["volume"],
                "V": ticker["quoteVolume"],
                "n": int(ticker["trades"]),
            },
        )

    def _push_order(self, order: EngineOrder) -> None:
        if order.account != USER:
            return
        state: State = (order.status, order.filled, order.price, order.qty)
        previous = self._states.get(order.order_id)
        self._states[order.order_id] = state
        if previous is None and self._pending_client_id is not None:
            self._client_ids[order.order_id] = self._pending_client_id
            self._by_client[self._pending_client_id] = order.order_id
        if state == previous:
            return
        if order.status is OrderStatus.CANCELED:
            expired = order.cancel_reason in wire.EXPIRY_REASONS
            event = "orderExpired" if expired else "orderCancelled"
        elif previous is None:
            event = "orderAccepted"
        elif order.filled != previous[1]:
            return  # the orderFill event (pushed by _push_fill) carried this change
        else:
            event = "orderModified"
        data = wire.order_event(event, order, self._client_id(order), self._now_us())
        self._publish_private("orderUpdate", order.symbol, data)

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != USER:
            return
        faults = self.exchange.faults
        if faults.take("withhold_fills_next"):
            self._withheld.add(fill.exec_id)
            return
        if faults.take("drop_private_fills"):
            return
        order = self.engine.orders[fill.order_id]
        trade_id = self.trade_id(fill.symbol, fill.exec_id)
        data = wire.order_event("orderFill", order, self._client_id(order), self._now_us(), fill, trade_id)
        for _ in range(2 if faults.duplicate_fills else 1):
            self._publish_private("orderUpdate", fill.symbol, data)

    def _position_data(self, event: str | None, pos: EnginePosition) -> dict[str, Any]:
        return wire.position_event(
            event,
            pos,
            self.engine.mark_price(pos.symbol),
            self.engine.open_orders(USER, pos.symbol),
            self._position_id(pos.symbol),
            self._now_us(),
        )

    def _push_position(self, pos: EnginePosition) -> None:
        if pos.account != USER:
            return
        before = self._position_qty.get(pos.symbol, Decimal(0))
        self._position_qty[pos.symbol] = pos.qty
        if pos.qty == 0:
            event = "positionClosed"
        elif before == 0:
            event = "positionOpened"
        else:
            event = "positionAdjusted"
        self._publish_private("positionUpdate", pos.symbol, self._position_data(event, pos))
