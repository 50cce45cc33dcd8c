"""
The OKX v5 part of the fake exchange: linear USDT swaps over REST (``/api/v5/...``) and
WebSocket (``/ws/v5/public``, ``/ws/v5/private``, ``/ws/v5/business``) with OKX's field names.

Shapes follow https://www.okx.com/docs-v5/en/ and the recorded payloads in NautilusTrader's
``crates/adapters/okx/test_data`` (the tests compare key sets with them). Quantities are in
contracts (``ctVal`` base units each), as on OKX. Authentication is verified the way OKX does:

- REST: ``OK-ACCESS-SIGN = base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + body))``
  with an ISO-8601 ``OK-ACCESS-TIMESTAMP`` that must be within 30 s of the (possibly skewed)
  exchange clock (``50102 Timestamp request expired``), plus key and passphrase.
- WebSocket ``login``: ``sign = base64(HMAC_SHA256(secret, timestamp + "GET" +
  "/users/self/verify"))`` with a Unix-seconds timestamp.

The account is in net position mode; ``tdMode`` must be ``cross`` or ``isolated`` but the
engine margins every order against one USDT balance (cross), whichever is sent.

Order entry works over REST and over the private WebSocket (``op: order`` ...), which
NautilusTrader's native adapter uses. Rejections carry OKX's own ``sCode``/``sMsg`` so ccxt's
exception map (and the project's taxonomy behind it) sees what it would see from OKX.
"""

from __future__ import annotations

import hmac
import itertools
import json
import re
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce
from nautilus_ext_testkit.fake_exchange.okx_wire import BOOK_CHANNEL_DEPTH
from nautilus_ext_testkit.fake_exchange.okx_wire import UID
from nautilus_ext_testkit.fake_exchange.okx_wire import USER
from nautilus_ext_testkit.fake_exchange.okx_wire import OkxWireShapes
from nautilus_ext_testkit.fake_exchange.okx_wire import dec_str
from nautilus_ext_testkit.fake_exchange.okx_wire import ms_str
from nautilus_ext_testkit.fake_exchange.okx_wire import sign

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

API_PREFIX: Final = "/api/v5"
WS_PREFIX: Final = "/ws/v5"
PUBLIC_WS: Final = WS_PREFIX + "/public"
PRIVATE_WS: Final = WS_PREFIX + "/private"
BUSINESS_WS: Final = WS_PREFIX + "/business"
# OKX refuses a request whose timestamp is more than 30 s away from its clock
TIMESTAMP_WINDOW_MS: Final = 30_000
# clOrdId: "a combination of case-sensitive alphanumerics, all numbers, or all letters of up
# to 32 characters" (OKX docs, Place order)
CLIENT_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9]{1,32}$")
# channels a VIP0 account may not subscribe to (books-l2-tbt: VIP5, books50-l2-tbt: VIP4)
VIP_BOOK_CHANNELS: Final = frozenset({"books-l2-tbt", "books50-l2-tbt"})
_ORD_TYPE_IN: Final = {
    "limit": ("limit", TimeInForce.GTC),
    "post_only": ("limit", TimeInForce.POST_ONLY),
    "ioc": ("limit", TimeInForce.IOC),
    "fok": ("limit", TimeInForce.FOK),
    "market": ("market", TimeInForce.IOC),
    "optimal_limit_ioc": ("market", TimeInForce.IOC),
}

# (sCode, sMsg) per engine reject, as OKX words them (https://www.okx.com/docs-v5/en/#error-code)
_REJECT_CODES: Final[dict[RejectReason, tuple[str, str]]] = {
    RejectReason.UNKNOWN_SYMBOL: ("51001", "Instrument ID does not exist."),
    RejectReason.INVALID_QUANTITY: ("51121", "Order quantity must be a multiple of the lot size."),
    RejectReason.INVALID_PRICE: ("51000", "Parameter px error"),
    RejectReason.INSUFFICIENT_BALANCE: (
        "51008",
        "Order failed. Insufficient USDT margin in account",
    ),
    RejectReason.REDUCE_ONLY_INCREASES: ("51112", "Close order size exceeds your available size."),
    RejectReason.DUPLICATE_CLIENT_ID: ("51016", "Duplicated clOrdId"),
    RejectReason.ORDER_NOT_FOUND: (
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    ),
    RejectReason.INJECTED: ("51000", "Parameter error (fake exchange fault injection)"),
}
_NO_POSITION: Final = (
    "51169",
    "Order failed because you don't have any positions in this direction for this contract "
    "to reduce or close.",
)
_MIN_SIZE: Final = ("51020", "Your order should meet or exceed the minimum order amount.")
_AMEND_NOT_FOUND: Final = (
    "51503",
    "Order modification failed as the order has been filled, canceled or does not exist.",
)


class OkxProtocol(OkxWireShapes):
    """
    Serve OKX v5 (linear swaps, net position mode, cross margin) on a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server (faults, clock, WebSocket plumbing).
    engine : MatchingEngine
        The engine holding OKX's books (quantities in contracts).
    api_key, api_secret, passphrase : str
        The accepted credentials.
    """

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        api_key: str,
        api_secret: str,
        passphrase: str,
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.api_key = api_key
        self.api_secret = api_secret
        self.passphrase = passphrase
        # order ids whose next order push is already covered by a fill push
        self._fill_pushed: set[str] = set()
        self._conn_ids = itertools.count(1)
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_position.append(self._push_position)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)
        from nautilus_ext_testkit.fake_exchange.funding_venues import OkxFunding

        self.funding = OkxFunding(self)

    @property
    def funding_rate(self) -> Decimal:
        """The current funding rate of the first listed market (see ``engine.funding``)."""
        return self.engine.funding.state(next(iter(self.engine.markets))).rate

    def register(self, app: web.Application) -> None:
        """Add OKX's routes to ``app``."""
        get, post = app.router.add_get, app.router.add_post
        p = API_PREFIX
        get(p + "/public/time", self.public_time)
        get(p + "/public/instruments", self.instruments)
        get(p + "/public/funding-rate", self.funding_rate_now)
        self.funding.register(app, p)
        get(p + "/public/mark-price", self.mark_prices)
        get(p + "/market/books", self.books)
        get(p + "/market/trades", self.market_trades)
        get(p + "/market/history-trades", self.market_trades)
        get(p + "/market/ticker", self.ticker)
        get(p + "/market/tickers", self.tickers)
        get(p + "/asset/currencies", self.private(self.currencies))
        get(p + "/account/config", self.private(self.account_config))
        get(p + "/account/balance", self.private(self.balance))
        for bills in ("/account/bills", "/account/bills-archive"):
            get(p + bills, self.private(self.funding.bills))
        get(p + "/account/positions", self.private(self.positions))
        get(p + "/account/trade-fee", self.private(self.trade_fee))
        post(p + "/account/set-position-mode", self.private(self.set_position_mode))
        post(p + "/account/set-leverage", self.private(self.set_leverage))
        post(p + "/trade/order", self.private(self.rest_order))
        post(p + "/trade/batch-orders", self.private(self.rest_batch_orders))
        post(p + "/trade/cancel-order", self.private(self.rest_cancel))
        post(p + "/trade/cancel-batch-orders", self.private(self.rest_cancel_batch))
        post(p + "/trade/amend-order", self.private(self.rest_amend))
        get(p + "/trade/order", self.private(self.order_details))
        get(p + "/trade/orders-pending", self.private(self.orders_pending))
        get(p + "/trade/orders-history", self.private(self.orders_history))
        get(p + "/trade/orders-history-archive", self.private(self.orders_history))
        get(p + "/trade/fills", self.private(self.fills))
        get(p + "/trade/fills-history", self.private(self.fills))
        get(PUBLIC_WS, self.ws_public)
        get(PRIVATE_WS, self.ws_private)
        get(BUSINESS_WS, self.ws_business)

    # -- envelope and auth ------------------------------------------------------------------

    @staticmethod
    def ok(data: list[Any]) -> web.Response:
        """Return OKX's success envelope."""
        return web.json_response({"code": "0", "msg": "", "data": data})

    @staticmethod
    def error(code: str, message: str, status: int = 200, data: list[Any] | None = None) -> web.Response:
        """Return OKX's error envelope (auth failures come with HTTP 401, as OKX does)."""
        return web.json_response({"code": code, "msg": message, "data": data or []}, status=status)

    def _now_iso(self) -> str:
        now = self.exchange.now_ms()
        return datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now % 1000:03d}Z"

    def check_auth(self, method: str, path_qs: str, body: str, headers: Any) -> tuple[str, str] | None:
        """Return OKX's ``(code, msg)`` if the signed request is refused, else ``None``."""
        key = headers.get("OK-ACCESS-KEY", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        timestamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        if not key:
            return ("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
        if not passphrase:
            return ("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
        if not signature:
            return ("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
        if not timestamp:
            return ("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
        if key != self.api_key:
            return ("50111", "Invalid OK-ACCESS-KEY.")
        try:
            ts_ms = int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return ("50112", "Invalid OK-ACCESS-TIMESTAMP.")
        if abs(self.exchange.now_ms() - ts_ms) > TIMESTAMP_WINDOW_MS:
            return ("50102", "Timestamp request expired.")
        if passphrase != self.passphrase:
            return ("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
        expected = sign(self.api_secret, timestamp + method + path_qs + body)
        if not hmac.compare_digest(expected, signature):
            return ("50113", "Invalid Sign")
        return None

    def private(self, handler: Callable[[Any], Awaitable[web.Response]]) -> Any:
        """Wrap ``handler`` with OKX's REST signature, key, passphrase and timestamp checks."""

        async def wrapped(request: web.Request) -> web.Response:
            body = await request.text() if request.method == "POST" else ""
            path_qs = request.rel_url.raw_path_qs if request.method == "GET" else request.rel_url.raw_path
            refused = self.check_auth(request.method, path_qs, body, request.headers)
            if refused is not None:
                return self.error(*refused, status=401)
            if request.method == "POST":
                try:
                    params: Any = json.loads(body) if body else {}
                except ValueError:
                    return self.error("50002", "Json data format error.", status=400)
            else:
                params = dict(request.query)
            return await handler(params)

        return wrapped

    # -- public REST ------------------------------------------------------------------------

    async def public_time(self, request: web.Request) -> web.Response:
        """GET /api/v5/public/time."""
        return self.ok([{"ts": ms_str(self.exchange.now_ms())}])

    async def instruments(self, request: web.Request) -> web.Response:
        """GET /api/v5/public/instruments (only ``SWAP`` is listed; other types are empty)."""
        inst_type = request.query.get("instType", "")
        if not inst_type:
            return self.error("50014", "Parameter instType can not be empty.", status=400)
        inst_id = request.query.get("instId")
        family = request.query.get("instFamily") or request.query.get("uly")
        rows = [
            self.instrument_dict(spec)
            for spec in self.engine.markets.values()
            if inst_type == "SWAP"
            and inst_id in (None, spec.symbol)
            and family in (None, f"{spec.base}-{spec.quote}")
        ]
        return self.ok(rows)

    def _unknown(self, inst_id: str) -> web.Response | None:
        if inst_id in self.engine.markets:
            return None
        return self.error("51001", "Instrument ID does not exist.", status=400)

    async def funding_rate_now(self, request: web.Request) -> web.Response:
        """GET /api/v5/public/funding-rate (``instId=ANY``: every perpetual)."""
        inst_id = request.query.get("instId", "")
        if inst_id == "ANY":
            return self.ok([self._funding_dict(i) for i in self.engine.markets])
        unknown = self._unknown(inst_id)
        return unknown or self.ok([self._funding_dict(inst_id)])

    async def mark_prices(self, request: web.Request) -> web.Response:
        """GET /api/v5/public/mark-price."""
        inst_id = request.query.get("instId")
        ids = [inst_id] if inst_id else list(self.engine.markets)
        if inst_id and self._unknown(inst_id):
            return self.error("51001", "Instrument ID does not exist.", status=400)
        return self.ok([self._mark_dict(i) for i in ids])

    async def books(self, request: web.Request) -> web.Response:
        """GET /api/v5/market/books (``sz`` levels per side, max 400)."""
        inst_id = request.query.get("instId", "")
        unknown = self._unknown(inst_id)
        if unknown is not None:
            return unknown
        depth = min(int(request.query.get("sz", "1") or 1), 400)
        bids, asks = self._levels(inst_id, depth)
        return self.ok([{"asks": asks, "bids": bids, "ts": ms_str(self.exchange.now_ms())}])

    async def market_trades(self, request: web.Request) -> web.Response:
        """GET /api/v5/market/trades (newest first)."""
        inst_id = request.query.get("instId", "")
        unknown = self._unknown(inst_id)
        if unknown is not None:
            return unknown
        limit = min(int(request.query.get("limit", "100") or 100), 500)
        tape = self.engine.trades.get(inst_id, [])[-limit:]
        return self.ok([self._trade_dict(t) for t in reversed(tape)])

    async def ticker(self, request: web.Request) -> web.Response:
        """GET /api/v5/market/ticker."""
        inst_id = request.query.get("instId", "")
        unknown = self._unknown(inst_id)
        return unknown or self.ok([self.ticker_dict(inst_id)])

    async def tickers(self, request: web.Request) -> web.Response:
        """GET /api/v5/market/tickers (``instType=SWAP``)."""
        if request.query.get("instType") != "SWAP":
            return self.ok([])
        return self.ok([self.ticker_dict(i) for i in self.engine.markets])

    # -- private REST: account --------------------------------------------------------------

    async def currencies(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/asset/currencies (one chain per currency)."""
        return self.ok(self.currency_rows())

    async def account_config(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/account/config (single-currency margin, net position mode)."""
        return self.ok([self.account_config_row()])

    async def balance(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/account/balance."""
        return self.ok([self.balance_dict()])

    async def positions(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/account/positions (open positions only, as OKX lists them)."""
        ids = set(str(params.get("instId", "")).split(",")) - {""}
        rows = [
            self.position_dict(pos)
            for (acct, symbol), pos in self.engine.positions.items()
            if acct == USER and pos.qty and (not ids or symbol in ids)
        ]
        return self.ok(rows)

    async def trade_fee(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/account/trade-fee (OKX reports fees as negative rates)."""
        spec = next(iter(self.engine.markets.values()))
        return self.ok(
            [
                {
                    "category": "1",
                    "delivery": "",
                    "exercise": "",
                    "fiat": [],
                    "instType": params.get("instType", "SWAP"),
                    "level": "Lv1",
                    "maker": "",
                    "makerU": dec_str(-spec.maker_fee),
                    "makerUSDC": dec_str(-spec.maker_fee),
                    "ruleType": "normal",
                    "taker": "",
                    "takerU": dec_str(-spec.taker_fee),
                    "takerUSDC": dec_str(-spec.taker_fee),
                    "ts": ms_str(self.exchange.now_ms()),
                }
            ]
        )

    async def set_position_mode(self, params: dict[str, Any]) -> web.Response:
        """POST /api/v5/account/set-position-mode (only ``net_mode`` is modelled)."""
        mode = str(params.get("posMode", ""))
        if mode != "net_mode":
            return self.error("51000", "Parameter posMode error", status=400)
        return self.ok([{"posMode": mode}])

    async def set_leverage(self, params: dict[str, Any]) -> web.Response:
        """POST /api/v5/account/set-leverage (acknowledged; the engine's leverage is fixed)."""
        return self.ok(
            [
                {
                    "instId": params.get("instId", ""),
                    "lever": str(params.get("lever", "")),
                    "mgnMode": params.get("mgnMode", "cross"),
                    "posSide": params.get("posSide", "net"),
                }
            ]
        )

    # -- order entry (shared by REST and WebSocket) -----------------------------------------

    def _result(
        self, code: str, msg: str, order: EngineOrder | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "clOrdId": order.client_id if order else str(params.get("clOrdId") or ""),
            "ordId": order.order_id if order else "",
            "tag": str(params.get("tag") or ""),
            "ts": ms_str(self.exchange.now_ms()),
            "sCode": code,
            "sMsg": msg,
        }

    def _resolve_inst(self, params: dict[str, Any]) -> dict[str, Any]:
        # newer clients (NautilusTrader's native adapter) name the instrument by ``instIdCode``
        if not params.get("instId") and params.get("instIdCode") not in (None, ""):
            codes = {10000 + i: symbol for i, symbol in enumerate(self.engine.markets)}
            try:
                params["instId"] = codes.get(int(params["instIdCode"]), "")
            except ValueError:
                params["instId"] = ""
        return params

    def place(self, params: dict[str, Any]) -> dict[str, Any]:
        """Place one order from OKX's request fields; return its result row (``sCode`` ...)."""
        params = self._resolve_inst(params)
        client_id = str(params.get("clOrdId") or "")
        self.exchange.record_order("okx", client_id)
        if self.exchange.faults.take("reject_next_orders"):
            return self._result(*_REJECT_CODES[RejectReason.INJECTED], None, params)
        inst_id = str(params.get("instId") or "")
        spec = self.engine.markets.get(inst_id)
        if spec is None:
            return self._result(*_REJECT_CODES[RejectReason.UNKNOWN_SYMBOL], None, params)
        for field in ("side", "ordType", "sz", "tdMode"):
            if not params.get(field):
                return self._result("51000", f"Parameter {field} error", None, params)
        if client_id and not CLIENT_ID_PATTERN.match(client_id):
            return self._result("51000", "Parameter clOrdId error", None, params)
        side = str(params["side"])
        if side not in ("buy", "sell"):
            return self._result("51000", "Parameter side error", None, params)
        kind = _ORD_TYPE_IN.get(str(params["ordType"]))
        if kind is None:
            return self._result("51000", "Parameter ordType error", None, params)
        if str(params["tdMode"]) not in ("cross", "isolated"):
            # swaps trade on margin: "cash" (spot) mode is refused
            return self._result("51000", "Parameter tdMode error", None, params)
        if str(params.get("posSide") or "net") != "net":
            # the account is in net mode: long/short position sides are refused
            return self._result("51000", "Parameter posSide error", None, params)
        try:
            qty = Decimal(str(params["sz"]))
            price = Decimal(str(params["px"])) if params.get("px") not in (None, "") else None
        except ArithmeticError:
            return self._result("51000", "Parameter sz error", None, params)
        order_type, tif = kind
        if order_type == "limit" and price is None:
            return self._result("51000", "Parameter px error", None, params)
        if qty < spec.min_qty:
            return self._result(*_MIN_SIZE, None, params)
        reduce_only = str(params.get("reduceOnly", "false")).lower() == "true"
        if reduce_only and self.engine.position(USER, inst_id).qty == 0:
            return self._result(*_NO_POSITION, None, params)
        try:
            order = self.engine.submit(
                USER,
                inst_id,
                Side.BUY if side == "buy" else Side.SELL,
                order_type,
                qty,
                price=price if order_type == "limit" else None,
                tif=tif,
                reduce_only=reduce_only,
                client_id=client_id,
                # OKX accepts a crossing post-only (or unfillable FOK) order and cancels it
                soft_reject=True,
            )
        except EngineReject as e:
            return self._result(*_REJECT_CODES[e.reason], None, params)
        return self._result("0", "Order placed", order, params)

    def cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        """Cancel one order by ``ordId`` or ``clOrdId``; return its result row."""
        params = self._resolve_inst(params)
        if params.get("instId") not in self.engine.markets:
            return self._result(*_REJECT_CODES[RejectReason.UNKNOWN_SYMBOL], None, params)
        if not params.get("ordId") and not params.get("clOrdId"):
            return self._result("51003", "Either client order ID or order ID is required.", None, params)
        try:
            order = self.engine.cancel(
                USER,
                order_id=params.get("ordId") or None,
                client_id=params.get("clOrdId") or None,
            )
        except EngineReject as e:
            return self._result(*_REJECT_CODES[e.reason], None, params)
        return self._result("0", "Cancellation succeeded.", order, params)

    def amend(self, params: dict[str, Any]) -> dict[str, Any]:
        """Amend one order's ``newSz``/``newPx``; return its result row."""
        params = self._resolve_inst(params)
        if params.get("instId") not in self.engine.markets:
            return self._result(*_REJECT_CODES[RejectReason.UNKNOWN_SYMBOL], None, params)
        try:
            order = self.engine.amend(
                USER,
                order_id=params.get("ordId") or None,
                client_id=params.get("clOrdId") or None,
                qty=Decimal(str(params["newSz"])) if params.get("newSz") else None,
                price=Decimal(str(params["newPx"])) if params.get("newPx") else None,
            )
        except EngineReject as e:
            if e.reason is RejectReason.ORDER_NOT_FOUND:
                return self._result(*_AMEND_NOT_FOUND, None, params)
            return self._result(*_REJECT_CODES[e.reason], None, params)
        row = self._result("0", "", order, params)
        row["reqId"] = str(params.get("reqId") or "")
        return row

    @staticmethod
    def envelope(rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Return OKX's batch envelope: code 0, 1 (all failed) or 2 (partial)."""
        failed = sum(r["sCode"] != "0" for r in rows)
        if failed == 0:
            return {"code": "0", "msg": "", "data": rows}
        if failed == len(rows):
            return {"code": "1", "msg": "All operations failed", "data": rows}
        return {"code": "2", "msg": "Bulk operation partially succeeded", "data": rows}

    def _batch(self, params: Any, op: Callable[[dict[str, Any]], dict[str, Any]]) -> web.Response:
        items = params if isinstance(params, list) else [params]
        if not items or len(items) > 20:
            return self.error("51000", "Parameter data error", status=400)
        return web.json_response(self.envelope([op(dict(item)) for item in items]))

    async def rest_order(self, params: Any) -> web.Response:
        """POST /api/v5/trade/order."""
        return self._batch(params if isinstance(params, dict) else {}, self.place)

    async def rest_batch_orders(self, params: Any) -> web.Response:
        """POST /api/v5/trade/batch-orders (up to 20)."""
        return self._batch(params, self.place)

    async def rest_cancel(self, params: Any) -> web.Response:
        """POST /api/v5/trade/cancel-order."""
        return self._batch(params if isinstance(params, dict) else {}, self.cancel)

    async def rest_cancel_batch(self, params: Any) -> web.Response:
        """POST /api/v5/trade/cancel-batch-orders (up to 20)."""
        return self._batch(params, self.cancel)

    async def rest_amend(self, params: Any) -> web.Response:
        """POST /api/v5/trade/amend-order."""
        return self._batch(params if isinstance(params, dict) else {}, self.amend)

    # -- private REST: queries --------------------------------------------------------------

    def _user_orders(self, params: dict[str, Any], *, open_only: bool) -> list[EngineOrder]:
        inst_id = params.get("instId")
        orders = [
            o
            for o in self.engine.orders.values()
            if o.account == USER and o.is_open == open_only and inst_id in (None, o.symbol)
        ]
        limit = int(params.get("limit", 100) or 100)
        return sorted(orders, key=lambda o: o.created_ms, reverse=True)[:limit]

    async def orders_pending(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/trade/orders-pending."""
        return self.ok([self.order_dict(o) for o in self._user_orders(params, open_only=True)])

    async def orders_history(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/trade/orders-history (closed orders: filled or canceled)."""
        if not params.get("instType"):
            return self.error("50014", "Parameter instType can not be empty.", status=400)
        state = params.get("state")
        orders = self._user_orders(params, open_only=False)
        rows = [self.order_dict(o) for o in orders]
        return self.ok([r for r in rows if state in (None, r["state"])])

    async def order_details(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/trade/order (by ``ordId`` or ``clOrdId``)."""
        if params.get("instId") not in self.engine.markets:
            return self.error("51001", "Instrument ID does not exist.", status=400)
        order = self.engine.find_order(
            USER, order_id=params.get("ordId") or None, client_id=params.get("clOrdId") or None
        )
        if order is None or order.symbol != params.get("instId"):
            return self.error("51603", "Order does not exist")
        return self.ok([self.order_dict(order)])

    async def fills(self, params: dict[str, Any]) -> web.Response:
        """GET /api/v5/trade/fills and /fills-history (newest first; ``begin``/``end`` in ms)."""
        if not params.get("instType") and params.get("instId") is None:
            return self.error("50014", "Parameter instType can not be empty.", status=400)
        begin = int(params.get("begin", 0) or 0)
        end = int(params.get("end", 0) or 0) or None
        rows = [
            self.fill_dict(f)
            for f in reversed(self.engine.account_fills(USER, params.get("instId")))
            if f.ts_ms >= begin
            and (end is None or f.ts_ms <= end)
            and params.get("ordId") in (None, f.order_id)
        ]
        return self.ok(rows[: int(params.get("limit", 100) or 100)])

    # -- WebSocket --------------------------------------------------------------------------

    async def ws_public(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/ws/v5/public``."""
        return await self.exchange.serve_ws(request, self._on_public)

    async def ws_private(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/ws/v5/private``."""
        return await self.exchange.serve_ws(request, self._on_private)

    async def ws_business(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/ws/v5/business`` (login and subscribe acks; no candle data is produced)."""
        return await self.exchange.serve_ws(request, self._on_business)

    def _conn_id(self, conn: WsConnection) -> str:
        return conn.conn_id.replace("fake-conn-", "a4d3ae55")

    def _ws_error(self, conn: WsConnection, code: str, msg: str) -> None:
        conn.send({"event": "error", "code": code, "msg": msg, "connId": self._conn_id(conn)})

    @staticmethod
    def _topic(arg: dict[str, Any]) -> str:
        return f"{arg.get('channel', '')}:{arg.get('instId') or arg.get('instType') or ''}"

    def _login(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        args = (msg.get("args") or [{}])[0]
        timestamp = str(args.get("timestamp", ""))
        try:
            ts_secs = float(timestamp)
        except ValueError:
            self._ws_error(conn, "60004", f"Invalid timestamp: {timestamp}")
            return
        if abs(self.exchange.now_ms() - ts_secs * 1000) > TIMESTAMP_WINDOW_MS:
            self._ws_error(conn, "60006", "Timestamp request expired.")
            return
        if args.get("apiKey") != self.api_key:
            self._ws_error(conn, "60005", f"Invalid apiKey: {args.get('apiKey')}")
            return
        if args.get("passphrase") != self.passphrase:
            self._ws_error(conn, "60024", "Wrong passphrase")
            return
        expected = sign(self.api_secret, timestamp + "GET/users/self/verify")
        if not hmac.compare_digest(expected, str(args.get("sign", ""))):
            self._ws_error(conn, "60007", "Invalid sign")
            return
        conn.authenticated = True
        conn.user = USER
        conn.send({"event": "login", "code": "0", "msg": "", "connId": self._conn_id(conn)})

    async def _on_text(self, conn: WsConnection, msg: dict[str, Any]) -> bool:
        # OKX's keep-alive is the text frame "ping" (answered "pong"); the server's JSON
        # decoder never sees it, so the JSON form is handled here too
        if msg.get("op") == "ping":
            conn.send({"event": "pong"})
            return True
        return False

    async def _on_public(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        if await self._on_text(conn, msg):
            return
        op = msg.get("op")
        if op == "login":
            self._login(conn, msg)
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ws_error(conn, "60012", f"Invalid request: {msg}")
            return
        for arg in msg.get("args") or []:
            channel = str(arg.get("channel", ""))
            inst_id = str(arg.get("instId", ""))
            topic = self._topic(arg)
            if op == "unsubscribe":
                conn.topics.discard(topic)
                conn.send({"event": "unsubscribe", "arg": arg, "connId": self._conn_id(conn)})
                continue
            if channel == "instruments":
                if arg.get("instType") != "SWAP":
                    self._ws_error(conn, "60018", f"Wrong URL or channel:{channel} doesn't exist.")
                    continue
                conn.topics.add(topic)
                conn.send({"event": "subscribe", "arg": arg, "connId": self._conn_id(conn)})
                rows = [self.instrument_dict(spec) for spec in self.engine.markets.values()]
                conn.send({"arg": arg, "data": rows})
                continue
            if channel in VIP_BOOK_CHANNELS:
                if not conn.authenticated:
                    self._ws_error(conn, "60011", "Please log in")
                else:
                    self._ws_error(
                        conn,
                        "64003",
                        "Your trading fee tier doesn't meet the requirement to access this channel",
                    )
                continue
            known = channel in BOOK_CHANNEL_DEPTH or channel in (
                "trades",
                "trades-all",
                "tickers",
                "funding-rate",
                "mark-price",
                "index-tickers",
            )
            if not known or inst_id not in self.engine.markets:
                self._ws_error(
                    conn,
                    "60018",
                    f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist. "
                    "Please use the correct URL, channel and parameters referring to API document.",
                )
                continue
            conn.topics.add(topic)
            conn.send({"event": "subscribe", "arg": arg, "connId": self._conn_id(conn)})
            self._initial_push(conn, channel, inst_id)

    def _initial_push(self, conn: WsConnection, channel: str, inst_id: str) -> None:
        if channel == "books":
            conn.send(self._book_message(channel, inst_id, "snapshot"))
        elif channel in ("books5", "bbo-tbt"):
            conn.send(self._book_message(channel, inst_id, None))
        elif channel == "tickers":
            conn.send({"arg": {"channel": channel, "instId": inst_id}, "data": [self.ticker_dict(inst_id)]})
        elif channel == "funding-rate":
            conn.send({"arg": {"channel": channel, "instId": inst_id}, "data": [self._funding_dict(inst_id)]})
        elif channel == "mark-price":
            conn.send({"arg": {"channel": channel, "instId": inst_id}, "data": [self._mark_dict(inst_id)]})

    async def _on_private(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        if await self._on_text(conn, msg):
            return
        op = msg.get("op")
        if op == "login":
            self._login(conn, msg)
            return
        if op in ("subscribe", "unsubscribe"):
            for arg in msg.get("args") or []:
                if not conn.authenticated:
                    self._ws_error(conn, "60011", "Please log in")
                    continue
                channel = str(arg.get("channel", ""))
                if channel not in ("orders", "positions", "account", "balance_and_position", "fills"):
                    self._ws_error(conn, "60018", f"Wrong URL or channel:{channel} doesn't exist.")
                    continue
                if channel == "fills":
                    self._ws_error(
                        conn,
                        "64003",
                        "Your trading fee tier doesn't meet the requirement to access this channel",
                    )
                    continue
                if op == "unsubscribe":
                    conn.topics.discard(channel)
                else:
                    conn.topics.add(channel)
                ack_arg = {**arg, "uid": UID}
                conn.send({"event": op, "arg": ack_arg, "connId": self._conn_id(conn)})
            return
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "order": self.place,
            "batch-orders": self.place,
            "cancel-order": self.cancel,
            "batch-cancel-orders": self.cancel,
            "amend-order": self.amend,
            "batch-amend-orders": self.amend,
        }
        if op in handlers:
            self._ws_trade(conn, msg, handlers[str(op)])
        elif op == "mass-cancel":
            self._ws_mass_cancel(conn, msg)
        else:
            self._ws_error(conn, "60012", f"Invalid request: {msg}")

    def _ws_trade(
        self,
        conn: WsConnection,
        msg: dict[str, Any],
        handler: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        in_time = str(self.exchange.now_ms() * 1000)
        if not conn.authenticated:
            self._ws_error(conn, "60011", "Please log in")
            return
        rows = [handler(dict(a)) for a in msg.get("args") or []]
        for row in rows:
            row.pop("ts", None)
        reply = self.envelope(rows) if rows else {"code": "60013", "msg": "Invalid args", "data": []}
        conn.send(
            {
                "id": msg.get("id", ""),
                "op": msg.get("op"),
                **reply,
                "inTime": in_time,
                "outTime": str(self.exchange.now_ms() * 1000),
            }
        )

    def _ws_mass_cancel(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        args = (msg.get("args") or [{}])[0]
        family = str(args.get("instFamily", ""))
        for spec in self.engine.markets.values():
            if f"{spec.base}-{spec.quote}" == family:
                self.engine.cancel_all(USER, spec.symbol)
        conn.send(
            {"id": msg.get("id", ""), "op": "mass-cancel", "code": "0", "msg": "", "data": [{"result": True}]}
        )

    async def _on_business(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        if await self._on_text(conn, msg):
            return
        op = msg.get("op")
        if op == "login":
            self._login(conn, msg)
        elif op in ("subscribe", "unsubscribe"):
            for arg in msg.get("args") or []:
                channel = str(arg.get("channel", ""))
                if channel in ("orders-algo", "algo-advance") and not conn.authenticated:
                    self._ws_error(conn, "60011", "Please log in")
                    continue
                topic = self._topic(arg)
                (conn.topics.add if op == "subscribe" else conn.topics.discard)(topic)
                conn.send({"event": op, "arg": arg, "connId": self._conn_id(conn)})

    # -- pushes -----------------------------------------------------------------------------

    def _private_push(self, channel: str, data: list[dict[str, Any]], inst_type: str = "SWAP") -> None:
        arg: dict[str, Any] = {"channel": channel, "uid": UID}
        if channel != "account":
            arg["instType"] = inst_type
        message: dict[str, Any] = {"arg": arg, "data": data}
        if channel == "positions":
            message["eventType"] = "event_update"
        self.exchange.broadcast(PRIVATE_WS, channel, message, private=True, user=USER)

    def _push_order(self, order: EngineOrder) -> None:
        if order.account != USER:
            return
        if order.order_id in self._fill_pushed:
            # the fill's own order push (with fillSz/fillPx) already carried this state
            self._fill_pushed.discard(order.order_id)
            return
        self._private_push("orders", [self.order_dict(order)])

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != USER:
            return
        self._fill_pushed.add(fill.order_id)
        if self.exchange.faults.take("drop_private_fills"):
            return
        message = [self.order_dict(self.engine.orders[fill.order_id], fill)]
        self._private_push("orders", message)
        if self.exchange.faults.duplicate_fills:
            self._private_push("orders", message)
        self._private_push("account", [self.balance_dict()])

    def _push_position(self, pos: EnginePosition) -> None:
        if pos.account != USER:
            return
        row = self.position_dict(pos)
        if pos.qty == 0:
            row["pos"] = "0"
        self._private_push("positions", [row])

    def _push_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        counts = self._order_counts(symbol)

        def row(side: Side, price: Decimal, size: Decimal) -> list[str]:
            return [dec_str(price), dec_str(size), "0", str(counts.get((side, price), 0))]

        bids = [row(s, p, q) for s, p, q in changes if s is Side.BUY]
        asks = [row(s, p, q) for s, p, q in changes if s is Side.SELL]
        for conn in list(self.exchange.connections):
            if not conn.path.startswith(PUBLIC_WS):
                continue
            for topic in list(conn.topics):
                channel, _, inst_id = topic.partition(":")
                if inst_id != symbol:
                    continue
                if channel == "books":
                    conn.send(self._book_message(channel, symbol, "update", (bids, asks)))
                elif channel in ("books5", "bbo-tbt"):
                    conn.send(self._book_message(channel, symbol, None))
                elif channel == "tickers":
                    conn.send(
                        {"arg": {"channel": channel, "instId": symbol}, "data": [self.ticker_dict(symbol)]}
                    )
                elif channel == "mark-price":
                    conn.send(
                        {"arg": {"channel": channel, "instId": symbol}, "data": [self._mark_dict(symbol)]}
                    )

    def _push_trade(self, trade: PublicTrade) -> None:
        row = {**self._trade_dict(trade), "count": "1"}
        for channel in ("trades", "trades-all"):
            self.exchange.broadcast(
                PUBLIC_WS,
                f"{channel}:{trade.symbol}",
                {"arg": {"channel": channel, "instId": trade.symbol}, "data": [row]},
            )
