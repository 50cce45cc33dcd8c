"""
The Binance USD-M futures part of the fake exchange: ``/fapi`` REST (public market data, SIGNED
trading and account endpoints, the listenKey user stream) and the market/user WebSockets.

WebSocket routes follow Binance's current USD-M split: ``/public`` (depth, bookTicker, trade),
``/market`` (aggTrade, markPrice, ticker) and ``/private`` (user data), each as raw streams
(``/<route>/ws[/<n>]``, what ccxt uses) or combined streams (``/<route>/stream?streams=``,
``{"stream", "data"}`` envelopes, what NautilusTrader's native client uses). User data is
served at ``/private/ws?listenKey=<key>`` and ``/private/ws/<key>``. Shapes follow
NautilusTrader's recorded payloads in ``crates/adapters/binance/test_data/futures``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import binance_wire as wire
from nautilus_ext_testkit.fake_exchange.binance_streams import BinanceStreams
from nautilus_ext_testkit.fake_exchange.binance_wire import order_number
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange

USER: Final = wire.USER
REST_PREFIX: Final = "/fapi"
WS_ROUTES: Final = ("public", "market", "private")


class BinanceProtocol:
    """
    Serve Binance USD-M futures on top of a :class:`MatchingEngine` (account ``USER``).

    Parameters
    ----------
    exchange : FakeExchange
        The owning server (faults, clock, WebSocket plumbing).
    engine : MatchingEngine
        The engine holding Binance's books.
    api_key, api_secret : str
        The accepted HMAC credentials.
    depth_interval_ms : int, default 100
        How long book changes are aggregated into one ``depthUpdate`` (``@depth@100ms``).
    """

    # what a subclass for a Binance-derived venue (Aster) changes: its WebSocket side and the
    # venue name order arrivals are recorded under
    streams_class: type[BinanceStreams] = BinanceStreams
    venue_name: str = "binance"

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        api_key: str,
        api_secret: str,
        depth_interval_ms: int = 100,
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.api_key = api_key
        self.api_secret = api_secret
        self.depth_interval_ms = depth_interval_ms
        self.listen_keys: set[str] = set()
        self.fill_pnl: dict[str, Decimal] = {}  # realised PnL of each user fill (exec id)
        self.streams = self.streams_class(self)
        from nautilus_ext_testkit.fake_exchange.funding_venues import BinanceFunding

        self.funding = BinanceFunding(self)

    def force_close(
        self, symbol: str, kind: str, qty: Decimal | str | None = None, price: Decimal | str | None = None
    ) -> EngineOrder:
        """
        Close the user's position by the venue's hand (``kind`` ``"adl"`` or ``"liquidation"``):
        an ``ORDER_TRADE_UPDATE`` with execution type ``CALCULATED`` and client id
        ``adl_autoclose`` (ADL, status ``NEW_ADL``) or ``autoclose-<id>`` (liquidation, order
        type ``LIQUIDATION``), then the ``ACCOUNT_UPDATE``; REST lists the order the same way
        and ``GET /fapi/v1/forceOrders`` lists it with its ``autoCloseType``. Run it on the
        server's loop.
        """
        client_id = (
            "adl_autoclose"
            if kind == "adl"
            else f"autoclose-{self.exchange.now_ms()}{len(self.engine.orders)}"
        )
        return self.engine.force_close(USER, symbol, kind, qty, price, client_id=client_id)

    @property
    def funding_rate(self) -> Decimal:
        """The current funding rate of the first listed market (see ``engine.funding``)."""
        return self.engine.funding.state(next(iter(self.engine.markets))).rate

    def register(self, app: web.Application) -> None:
        """Add Binance's routes to ``app``."""
        r = app.router
        v1 = REST_PREFIX + "/v1"
        r.add_get(v1 + "/ping", self.ping)
        r.add_get(v1 + "/time", self.time)
        r.add_get(v1 + "/exchangeInfo", self.exchange_info)
        r.add_get(v1 + "/depth", self.depth_snapshot)
        r.add_get(v1 + "/trades", self.trades)
        r.add_get(v1 + "/aggTrades", self.agg_trades)
        r.add_get(v1 + "/ticker/24hr", self.ticker_24hr)
        r.add_get(v1 + "/ticker/bookTicker", self.book_ticker)
        r.add_get(v1 + "/ticker/price", self.ticker_price)
        r.add_get(v1 + "/premiumIndex", self.premium_index)
        r.add_post(v1 + "/listenKey", self.listen_key)
        self.funding.register(app, REST_PREFIX)
        r.add_put(v1 + "/listenKey", self.listen_key)
        r.add_delete(v1 + "/listenKey", self.listen_key)
        signed = {
            ("POST", v1 + "/order"): self.new_order,
            ("PUT", v1 + "/order"): self.modify_order,
            ("DELETE", v1 + "/order"): self.cancel_order,
            ("GET", v1 + "/order"): self.query_order,
            ("DELETE", v1 + "/allOpenOrders"): self.cancel_all,
            ("GET", v1 + "/openOrders"): self.open_orders,
            ("GET", v1 + "/openOrder"): self.open_order,
            ("GET", v1 + "/allOrders"): self.all_orders,
            ("GET", v1 + "/userTrades"): self.user_trades,
            ("GET", v1 + "/forceOrders"): self.force_orders,
            ("GET", v1 + "/positionSide/dual"): self.position_mode,
            ("GET", v1 + "/leverageBracket"): self.leverage_bracket,
            ("GET", v1 + "/commissionRate"): self.commission_rate,
            ("GET", v1 + "/symbolConfig"): self.symbol_config,
            ("POST", v1 + "/leverage"): self.set_leverage,
            ("GET", v1 + "/multiAssetsMargin"): self.multi_assets_margin,
            ("GET", v1 + "/openAlgoOrders"): self.open_algo_orders,
            # the wallet's coin list: ccxt's fetchCurrencies calls it whenever keys are set
            ("GET", "/sapi/v1/capital/config/getall"): self.coins,
            ("GET", "/sapi/v1/margin/allPairs"): self.margin_pairs,
        }
        for version in ("v2", "v3"):
            signed[("GET", f"{REST_PREFIX}/{version}/account")] = self.account
            signed[("GET", f"{REST_PREFIX}/{version}/balance")] = self.balance
            signed[("GET", f"{REST_PREFIX}/{version}/positionRisk")] = self.position_risk
        for (method, path), handler in signed.items():
            r.add_route(method, path, self._signed(handler))
        for route in WS_ROUTES:
            for suffix in ("/ws", "/ws/{rest}", "/stream"):
                r.add_get(f"/{route}{suffix}", self.streams.ws)

    # -- envelope and auth ------------------------------------------------------------------

    @staticmethod
    def error(err: wire.BinanceError) -> web.Response:
        """Return a Binance error answer."""
        return web.json_response(err.body(), status=err.status)

    def _signed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            body = await request.text() if request.method in ("POST", "PUT") else ""
            params, err = wire.check_signed_request(
                query_string=request.query_string,
                body=body,
                api_key=request.headers.get("X-MBX-APIKEY"),
                expected_key=self.api_key,
                secret=self.api_secret,
                now_ms=self.exchange.now_ms(),
            )
            if err is not None:
                return self.error(err)
            try:
                result: Any = await handler(params)
            except EngineReject as e:
                return self.error(wire.ENGINE_REJECTS.get(e.reason, wire.INJECTED_REJECT))
            if isinstance(result, wire.BinanceError):
                return self.error(result)
            return web.json_response(result)

        return wrapped

    def px(self, symbol: str, value: Decimal) -> str:
        # Binance prints prices and quantities with the symbol's fixed number of decimals
        return wire.fixed(value, wire.precision(self.engine.markets[symbol].tick_size))

    def qty(self, symbol: str, value: Decimal) -> str:
        return wire.fixed(value, wire.precision(self.engine.markets[symbol].qty_step))

    def _market(self, params: dict[str, str], *, required: bool = True) -> str | wire.BinanceError | None:
        symbol = params.get("symbol")
        if symbol is None:
            return wire.missing("symbol") if required else None
        return symbol if symbol in self.engine.markets else wire.INVALID_SYMBOL

    # -- public REST ------------------------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/ping."""
        return web.json_response({})

    async def time(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/time."""
        return web.json_response({"serverTime": self.exchange.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/exchangeInfo."""
        specs = list(self.engine.markets.values())
        return web.json_response(wire.exchange_info(specs, self.exchange.now_ms()))

    async def depth_snapshot(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/depth (``lastUpdateId`` is the engine's book update id)."""
        symbol = self._market(dict(request.query))
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return self.error(symbol or wire.missing("symbol"))
        limit = int(request.query.get("limit", "500"))
        if limit not in wire.DEPTH_LIMITS:
            return self.error(wire.INVALID_DEPTH_LIMIT)
        bids, asks = self.engine.levels(symbol, limit)
        now = self.exchange.now_ms()
        return web.json_response(
            {
                "lastUpdateId": self.engine.book_seq[symbol],
                "E": now,
                "T": now,
                "bids": [[self.px(symbol, p), self.qty(symbol, q)] for p, q in bids],
                "asks": [[self.px(symbol, p), self.qty(symbol, q)] for p, q in asks],
            }
        )

    def _tape(self, request: web.Request) -> list[PublicTrade] | wire.BinanceError:
        symbol = self._market(dict(request.query))
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return symbol or wire.missing("symbol")
        limit = min(int(request.query.get("limit", "500")), 1000)
        return self.engine.trades.get(symbol, [])[-limit:]

    async def trades(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/trades (oldest first)."""
        tape = self._tape(request)
        if isinstance(tape, wire.BinanceError):
            return self.error(tape)
        return web.json_response(
            [
                {
                    "id": wire.trade_number(t.trade_id),
                    "price": self.px(t.symbol, t.price),
                    "qty": self.qty(t.symbol, t.qty),
                    "quoteQty": wire.fmt(t.price * t.qty),
                    "time": t.ts_ms,
                    "isBuyerMaker": t.side is Side.SELL,
                    "isRPITrade": False,
                }
                for t in tape
            ]
        )

    async def agg_trades(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/aggTrades (one aggregate per print; oldest first)."""
        tape = self._tape(request)
        if isinstance(tape, wire.BinanceError):
            return self.error(tape)
        return web.json_response([self.streams.agg_trade(t, event=False) for t in tape])

    def ticker(self, symbol: str) -> dict[str, Any]:
        tape = self.engine.trades.get(symbol) or []
        last = tape[-1].price if tape else self.engine.mark_price(symbol)
        volume = sum((t.qty for t in tape), Decimal(0))
        now = self.exchange.now_ms()
        return {
            "symbol": symbol,
            "priceChange": "0",
            "priceChangePercent": "0",
            "weightedAvgPrice": wire.fmt(last),
            "lastPrice": self.px(symbol, last),
            "lastQty": wire.fmt(tape[-1].qty) if tape else "0",
            "openPrice": wire.fmt(last),
            "highPrice": wire.fmt(max((t.price for t in tape), default=last)),
            "lowPrice": wire.fmt(min((t.price for t in tape), default=last)),
            "volume": wire.fmt(volume),
            "quoteVolume": wire.fmt(
                self.engine.funding.state(symbol).volume_24h
                or sum((t.qty * t.price for t in tape), Decimal(0))
            ),
            "openTime": now - 86_400_000,
            "closeTime": now,
            "firstId": wire.trade_number(tape[0].trade_id) if tape else -1,
            "lastId": wire.trade_number(tape[-1].trade_id) if tape else -1,
            "count": len(tape),
        }

    def _symbols(self, request: web.Request) -> list[str] | wire.BinanceError:
        symbol = request.query.get("symbol")
        if symbol is None:
            return list(self.engine.markets)
        return [symbol] if symbol in self.engine.markets else wire.INVALID_SYMBOL

    def _one_or_all(self, request: web.Request, make: Any) -> web.Response:
        symbols = self._symbols(request)
        if isinstance(symbols, wire.BinanceError):
            return self.error(symbols)
        rows = [make(s) for s in symbols]
        return web.json_response(rows[0] if "symbol" in request.query else rows)

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/ticker/24hr."""
        return self._one_or_all(request, self.ticker)

    def bbo(self, symbol: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(symbol, 1)
        return {
            "symbol": symbol,
            "bidPrice": self.px(symbol, bids[0][0] if bids else Decimal(0)),
            "bidQty": self.qty(symbol, bids[0][1] if bids else Decimal(0)),
            "askPrice": self.px(symbol, asks[0][0] if asks else Decimal(0)),
            "askQty": self.qty(symbol, asks[0][1] if asks else Decimal(0)),
            "time": self.exchange.now_ms(),
            "lastUpdateId": self.engine.book_seq[symbol],
        }

    async def book_ticker(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/ticker/bookTicker."""
        return self._one_or_all(request, self.bbo)

    async def ticker_price(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/ticker/price."""
        return self._one_or_all(
            request,
            lambda s: {
                "symbol": s,
                "price": self.ticker(s)["lastPrice"],
                "time": self.exchange.now_ms(),
            },
        )

    def next_funding_ms(self, symbol: str | None = None) -> int:
        symbol = symbol or next(iter(self.engine.markets))
        return self.engine.funding.state(symbol).next_funding_ms

    def _premium(self, symbol: str) -> dict[str, Any]:
        mark = wire.fmt(self.engine.mark_price(symbol))
        return {
            "symbol": symbol,
            "markPrice": mark,
            "indexPrice": mark,
            "estimatedSettlePrice": mark,
            "interestRate": "0.00010000",
            "time": self.exchange.now_ms(),
            **self.funding.premium_fields(symbol),
        }

    async def premium_index(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/premiumIndex (mark price and funding)."""
        return self._one_or_all(request, self._premium)

    async def listen_key(self, request: web.Request) -> web.Response:
        """POST/PUT/DELETE /fapi/v1/listenKey (USER_STREAM: API key only, no signature)."""
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self.error(wire.INVALID_API_KEY)
        if request.method == "POST":
            # Binance returns the account's active key (and extends it) while one is valid
            key = next(iter(self.listen_keys), None) or f"fakeListenKey{len(self.listen_keys) + 1:051d}"
            self.listen_keys.add(key)
            return web.json_response({"listenKey": key})
        if not self.listen_keys:
            return self.error(wire.INVALID_LISTEN_KEY)
        if request.method == "DELETE":
            self.listen_keys.clear()
            return web.json_response({})
        return web.json_response({"listenKey": next(iter(self.listen_keys))})

    # -- orders -----------------------------------------------------------------------------

    def order_dict(self, order: EngineOrder) -> dict[str, Any]:
        """Return an order in Binance's REST shape."""
        kind = wire.order_type_name(order)
        return {
            "orderId": order_number(order.order_id),
            "symbol": order.symbol,
            "status": wire.order_status(order),
            "clientOrderId": order.client_id,
            "price": self.px(order.symbol, order.price or Decimal(0)),
            "avgPrice": wire.fmt(order.avg_price),
            "origQty": self.qty(order.symbol, order.qty),
            "executedQty": self.qty(order.symbol, order.filled),
            "cumQty": self.qty(order.symbol, order.filled),
            "cumQuote": wire.fmt(order.notional_filled),
            "timeInForce": wire.TIF_OUT[order.tif],
            "type": kind,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": wire.side_name(order.side),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": kind,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": order.created_ms,
            "updateTime": order.updated_ms,
        }

    async def new_order(self, params: dict[str, str]) -> Any:
        """POST /fapi/v1/order (LIMIT/MARKET; GTC, IOC, FOK, GTX post-only; reduceOnly)."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return symbol
        client_id = params.get("newClientOrderId", "")
        self.exchange.record_order(self.venue_name, client_id)
        kind = params.get("type", "")
        if kind not in ("LIMIT", "MARKET"):
            return wire.missing("type") if not kind else wire.INVALID_ORDER_TYPE
        if params.get("side") not in ("BUY", "SELL"):
            return wire.INVALID_SIDE
        side = Side.BUY if params["side"] == "BUY" else Side.SELL
        tif_name = params.get("timeInForce", "GTC" if kind == "MARKET" else "")
        if not tif_name:
            return wire.missing("timeInForce")
        tif = wire.TIF_IN.get(tif_name)
        if tif is None:
            return wire.INVALID_TIF
        try:
            qty = Decimal(params["quantity"])
            price = Decimal(params["price"]) if kind == "LIMIT" else None
        except KeyError as e:
            return wire.missing(str(e.args[0]))
        spec = self.engine.markets[symbol]
        if qty % spec.qty_step:
            return wire.PRECISION
        if qty < spec.min_qty:
            return wire.QTY_BELOW_MIN
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        reference = price if price is not None else self.engine.mark_price(symbol)
        floor = wire.MIN_NOTIONAL.get(symbol, wire.DEFAULT_MIN_NOTIONAL)
        if not reduce_only and qty * reference < floor:
            return wire.min_notional(floor)
        if self.exchange.faults.take("reject_next_orders"):
            return wire.INJECTED_REJECT
        submit = {
            "price": price,
            "tif": tif,
            "reduce_only": reduce_only,
            "client_id": client_id,
        }
        try:
            order = self.engine.submit(USER, symbol, side, kind.lower(), qty, **submit)  # type: ignore[arg-type]
        except EngineReject as e:
            if e.reason is not RejectReason.FOK_NOT_FILLABLE:
                raise
            # Binance accepts a FOK it cannot fill and expires it at once
            order = self.engine.submit(USER, symbol, side, kind.lower(), qty, soft_reject=True, **submit)  # type: ignore[arg-type]
        return self.order_dict(order)

    def _find(self, params: dict[str, str]) -> EngineOrder | None:
        order_id = params.get("orderId")
        engine_id = wire.engine_order_id(int(order_id)) if order_id else None
        order = self.engine.find_order(USER, engine_id, params.get("origClientOrderId") or None)
        if order is not None and order.symbol != params.get("symbol"):
            return None
        return order

    async def cancel_order(self, params: dict[str, str]) -> Any:
        """DELETE /fapi/v1/order."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        order = self._find(params)
        if order is None or not order.is_open:
            return wire.UNKNOWN_ORDER
        return self.order_dict(self.engine.cancel(USER, order.order_id))

    async def cancel_all(self, params: dict[str, str]) -> Any:
        """DELETE /fapi/v1/allOpenOrders."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return symbol
        self.engine.cancel_all(USER, symbol)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def modify_order(self, params: dict[str, str]) -> Any:
        """PUT /fapi/v1/order (price and/or quantity of a resting LIMIT order; keeps the id)."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        order = self._find(params)
        if order is None or not order.is_open:
            return wire.ORDER_DOES_NOT_EXIST
        try:
            qty = Decimal(params["quantity"])
            price = Decimal(params["price"])
        except KeyError as e:
            return wire.missing(str(e.args[0]))
        if qty == order.qty and price == order.price:
            return wire.NO_NEED_TO_MODIFY
        order = self.engine.amend(USER, order_id=order.order_id, qty=qty, price=price)
        return self.order_dict(order)

    async def query_order(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/order."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        order = self._find(params)
        return wire.ORDER_DOES_NOT_EXIST if order is None else self.order_dict(order)

    async def open_order(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/openOrder."""
        order = self._find(params)
        if order is None or not order.is_open:
            return wire.BinanceError(400, -2013, "Order does not exist.")
        return self.order_dict(order)

    async def open_orders(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/openOrders (one symbol or all)."""
        symbol = self._market(params, required=False)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        return [self.order_dict(o) for o in self.engine.open_orders(USER, symbol)]

    async def open_algo_orders(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/openAlgoOrders (the fake has no conditional/algo orders: always empty)."""
        return []

    async def all_orders(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/allOrders (oldest first, filtered by time and id)."""
        symbol = self._market(params, required=False)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        start = int(params.get("startTime", 0) or 0)
        end = int(params.get("endTime", 0) or 0) or None
        from_id = int(params.get("orderId", 0) or 0)
        orders = [
            o
            for o in self.engine.orders.values()
            if o.account == USER
            and (symbol is None or o.symbol == symbol)
            and o.created_ms >= start
            and (end is None or o.created_ms <= end)
            and order_number(o.order_id) >= from_id
        ]
        orders.sort(key=lambda o: order_number(o.order_id))
        return [self.order_dict(o) for o in orders[: int(params.get("limit", 500))]]

    async def force_orders(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/forceOrders (the user's liquidation and ADL orders, newest first)."""
        symbol = self._market(params, required=False)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        wanted = params.get("autoCloseType")
        rows = []
        for o in sorted(self.engine.orders.values(), key=lambda o: (o.created_ms, o.seq), reverse=True):
            close_type = {"adl": "ADL", "liquidation": "LIQUIDATION"}.get(o.order_type)
            if o.account != USER or close_type is None or (symbol is not None and o.symbol != symbol):
                continue
            if wanted is not None and wanted != close_type:
                continue
            rows.append({**self.order_dict(o), "autoCloseType": close_type})
        return rows[: int(params.get("limit", 50))]

    def trade_dict(self, fill: EngineFill) -> dict[str, Any]:
        """Return a fill in the shape of ``GET /fapi/v1/userTrades``."""
        pnl = self.realized(fill)
        return {
            "buyer": fill.side is Side.BUY,
            "commission": wire.fmt(fill.fee),
            "commissionAsset": self.engine.markets[fill.symbol].quote,
            "id": wire.trade_number(fill.exec_id),
            "maker": fill.is_maker,
            "orderId": order_number(fill.order_id),
            "price": self.px(fill.symbol, fill.price),
            "qty": self.qty(fill.symbol, fill.qty),
            "quoteQty": wire.fmt(fill.price * fill.qty),
            "realizedPnl": wire.fmt(pnl),
            "side": wire.side_name(fill.side),
            "positionSide": "BOTH",
            "symbol": fill.symbol,
            "time": fill.ts_ms,
        }

    def realized(self, fill: EngineFill) -> Decimal:
        # the engine books realised PnL on the position; Binance reports it per fill
        return self.fill_pnl.get(fill.exec_id, Decimal(0))

    async def user_trades(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/userTrades (oldest first; by symbol, order, time or trade id)."""
        symbol = self._market(params, required=False)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        start = int(params.get("startTime", 0) or 0)
        from_id = int(params.get("fromId", 0) or 0)
        order_id = params.get("orderId")
        fills = [
            f
            for f in self.engine.account_fills(USER, symbol)
            if f.ts_ms >= start
            and wire.trade_number(f.exec_id) >= from_id
            and (order_id is None or order_number(f.order_id) == int(order_id))
        ]
        limit = int(params.get("limit", 500))
        return [self.trade_dict(f) for f in fills[-limit:]]

    # -- account ----------------------------------------------------------------------------

    def position_row(self, pos: EnginePosition) -> dict[str, Any]:
        mark = self.engine.mark_price(pos.symbol)
        upnl = pos.qty * (mark - pos.avg_price) if pos.qty else Decimal(0)
        notional = pos.qty * mark
        margin = abs(notional) / self.engine.leverage
        return {
            "symbol": pos.symbol,
            "positionSide": "BOTH",
            "positionAmt": self.qty(pos.symbol, pos.qty),
            "entryPrice": wire.fmt(pos.avg_price),
            "breakEvenPrice": wire.fmt(pos.avg_price),
            "markPrice": wire.fmt(mark),
            "unRealizedProfit": wire.fmt(upnl),
            "liquidationPrice": wire.fmt(self.engine.liquidation_price(USER, pos.symbol) or Decimal(0)),
            "leverage": wire.fmt(self.engine.leverage),
            "maxNotionalValue": "250000",
            "marginType": "cross",
            "isolatedMargin": "0",
            "isAutoAddMargin": "false",
            "notional": wire.fmt(notional),
            "isolatedWallet": "0",
            "initialMargin": wire.fmt(margin),
            "maintMargin": wire.fmt(margin / 2),
            "positionInitialMargin": wire.fmt(margin),
            "openOrderInitialMargin": "0",
            "marginAsset": self.engine.markets[pos.symbol].quote,
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": pos.updated_ms,
        }

    def wallet(self) -> tuple[Decimal, Decimal, Decimal]:
        wallet = self.engine.balances.get(USER, Decimal(0))
        upnl = sum(
            (
                p.qty * (self.engine.mark_price(p.symbol) - p.avg_price)
                for (acct, _), p in self.engine.positions.items()
                if acct == USER and p.qty
            ),
            Decimal(0),
        )
        return wallet, upnl, self.engine.available_balance(USER)

    async def balance(self, params: dict[str, str]) -> Any:
        """GET /fapi/v2|v3/balance."""
        wallet, upnl, available = self.wallet()
        return [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": wire.fmt(wallet),
                "crossWalletBalance": wire.fmt(wallet),
                "crossUnPnl": wire.fmt(upnl),
                "availableBalance": wire.fmt(available),
                "maxWithdrawAmount": wire.fmt(available),
                "marginAvailable": True,
                "updateTime": self.exchange.now_ms(),
            }
        ]

    async def account(self, params: dict[str, str]) -> Any:
        """GET /fapi/v2|v3/account."""
        wallet, upnl, available = self.wallet()
        used = wallet - available  # initial margin of positions and open orders
        maintenance = self.engine.maintenance_margin(USER)
        asset = {
            "asset": "USDT",
            "walletBalance": wire.fmt(wallet),
            "unrealizedProfit": wire.fmt(upnl),
            "marginBalance": wire.fmt(wallet + upnl),
            "maintMargin": wire.fmt(maintenance),
            "initialMargin": wire.fmt(used),
            "positionInitialMargin": wire.fmt(used),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": wire.fmt(wallet),
            "crossUnPnl": wire.fmt(upnl),
            "availableBalance": wire.fmt(available),
            "maxWithdrawAmount": wire.fmt(available),
            "marginAvailable": True,
            "updateTime": self.exchange.now_ms(),
        }
        positions = [self.position_row(self.engine.position(USER, s)) for s in self.engine.markets]
        return {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "updateTime": 0,
            "multiAssetsMargin": False,
            "tradeGroupId": -1,
            "totalInitialMargin": wire.fmt(used),
            "totalMaintMargin": wire.fmt(maintenance),
            "totalWalletBalance": wire.fmt(wallet),
            "totalUnrealizedProfit": wire.fmt(upnl),
            "totalMarginBalance": wire.fmt(wallet + upnl),
            "totalPositionInitialMargin": wire.fmt(used),
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": wire.fmt(wallet),
            "totalCrossUnPnl": wire.fmt(upnl),
            "availableBalance": wire.fmt(available),
            "maxWithdrawAmount": wire.fmt(available),
            "assets": [asset],
            "positions": [{**p, "isolated": False, "maxNotional": p["maxNotionalValue"]} for p in positions],
        }

    async def position_risk(self, params: dict[str, str]) -> Any:
        """GET /fapi/v2|v3/positionRisk (every listed symbol, flat ones with amount 0)."""
        symbol = self._market(params, required=False)
        if isinstance(symbol, wire.BinanceError):
            return symbol
        return [
            self.position_row(self.engine.position(USER, s))
            for s in self.engine.markets
            if symbol is None or s == symbol
        ]

    async def coins(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/capital/config/getall (the listed markets' coins, one network each)."""
        names = sorted({c for m in self.engine.markets.values() for c in (m.base, m.quote)})
        return [
            {
                "coin": coin,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "name": coin,
                "free": "0",
                "locked": "0",
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": coin,
                        "coin": coin,
                        "withdrawIntegerMultiple": "0.00000001",
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "specialTips": "",
                        "name": coin,
                        "resetAddressStatus": False,
                        "addressRegex": "",
                        "memoRegex": "",
                        "withdrawFee": "0",
                        "withdrawMin": "0",
                        "withdrawMax": "9999999",
                        "minConfirm": 1,
                        "unLockConfirm": 2,
                        "sameAddress": False,
                        "estimatedArrivalTime": 25,
                        "busy": False,
                    }
                ],
            }
            for coin in names
        ]

    async def margin_pairs(self, params: dict[str, str]) -> Any:
        """GET /sapi/v1/margin/allPairs (ccxt reads which coins are marginable)."""
        return [
            {
                "id": i,
                "symbol": s.symbol,
                "base": s.base,
                "quote": s.quote,
                "isMarginTrade": True,
                "isBuyAllowed": True,
                "isSellAllowed": True,
            }
            for i, s in enumerate(self.engine.markets.values(), start=1)
        ]

    async def position_mode(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/positionSide/dual (one-way mode)."""
        return {"dualSidePosition": False}

    async def multi_assets_margin(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/multiAssetsMargin."""
        return {"multiAssetsMargin": False}

    async def leverage_bracket(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/leverageBracket."""
        return [
            {
                "symbol": s,
                "notionalCoef": 1.0,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": spec.max_leverage,
                        "notionalCap": 50000,
                        "notionalFloor": 0,
                        "maintMarginRatio": 0.004,
                        "cum": 0.0,
                    }
                ],
            }
            for s, spec in self.engine.markets.items()
            if params.get("symbol") in (None, s)
        ]

    async def commission_rate(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/commissionRate."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return symbol
        spec = self.engine.markets[symbol]
        return {
            "symbol": symbol,
            "makerCommissionRate": wire.fmt(spec.maker_fee),
            "takerCommissionRate": wire.fmt(spec.taker_fee),
            "rpiCommissionRate": "0",
        }

    async def symbol_config(self, params: dict[str, str]) -> Any:
        """GET /fapi/v1/symbolConfig."""
        return [
            {
                "symbol": s,
                "marginType": "CROSSED",
                "isAutoAddMargin": False,
                "leverage": int(self.engine.leverage),
                "maxNotionalValue": "250000",
            }
            for s in self.engine.markets
            if params.get("symbol") in (None, s)
        ]

    async def set_leverage(self, params: dict[str, str]) -> Any:
        """POST /fapi/v1/leverage (the engine margins every symbol at one leverage)."""
        symbol = self._market(params)
        if isinstance(symbol, wire.BinanceError) or symbol is None:
            return symbol
        self.engine.leverage = Decimal(params.get("leverage", "10"))
        return {"leverage": int(self.engine.leverage), "maxNotionalValue": "250000", "symbol": symbol}
