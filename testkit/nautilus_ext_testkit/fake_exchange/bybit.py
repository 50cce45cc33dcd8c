"""
The Bybit v5 part of the fake exchange: REST (public market data, signed trading and account
endpoints) and WebSocket (``/v5/public/linear`` and ``/v5/private``) with Bybit's field names.

Shapes follow https://bybit-exchange.github.io/docs/v5/ and the recorded payloads in
NautilusTrader's ``crates/adapters/bybit/test_data`` (the tests compare key sets with them).
REST signatures are verified: ``HMAC_SHA256(secret, timestamp + key + recv_window + payload)``,
with the timestamp checked against the (possibly skewed) exchange clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

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

USER: Final = "USER"
PUBLIC_WS: Final = "/v5/public"
PRIVATE_WS: Final = "/v5/private"

# Bybit retCodes (https://bybit-exchange.github.io/docs/v5/error)
_REJECT_CODES: Final[dict[RejectReason, tuple[int, str]]] = {
    RejectReason.UNKNOWN_SYMBOL: (10001, "params error: symbol invalid"),
    RejectReason.INVALID_QUANTITY: (10001, "Qty invalid"),
    RejectReason.INVALID_PRICE: (110003, "Order price is out of permissible range"),
    RejectReason.INSUFFICIENT_BALANCE: (110007, "ab not enough for new order"),
    RejectReason.REDUCE_ONLY_INCREASES: (
        110017,
        "current position is zero, cannot fix reduce-only order qty",
    ),
    RejectReason.DUPLICATE_CLIENT_ID: (110072, "OrderLinkedID is duplicate"),
    RejectReason.ORDER_NOT_FOUND: (110001, "order not exists or too late to cancel"),
    RejectReason.INJECTED: (10001, "request rejected by fake exchange fault injection"),
}
_STATUS: Final = {
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
}
_TIF_IN: Final = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
_TIF_OUT: Final = {v: k for k, v in _TIF_IN.items()}
_CANCEL_TYPE: Final = {
    "CANCEL_BY_USER": "CancelByUser",
    "EXPIRED_IOC": "CancelByUser",
    "POST_ONLY_WOULD_TAKE": "CancelByUser",
    "FOK_NOT_FILLABLE": "CancelByUser",
}
_REJECT_REASON: Final = {
    "POST_ONLY_WOULD_TAKE": "EC_PostOnlyWillTakeLiquidity",
    "FOK_NOT_FILLABLE": "EC_CancelForNoFullFill",
    "EXPIRED_IOC": "EC_NoError",
}


def default_bybit_markets() -> list[MarketSpec]:
    """Return BTCUSDT and ETHUSDT linear perpetuals with Bybit's real filters."""
    return [
        MarketSpec("BTCUSDT", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001")),
        MarketSpec("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.01"), Decimal("0.01")),
    ]


def _s(value: Decimal | None) -> str:
    return "0" if value is None else format(value.normalize(), "f")


# a position closed by the venue's own hand (MatchingEngine.force_close): Bybit v5's execution
# ``execType`` (``AdlTrade``, ``BustTrade`` for the takeover of a liquidated position), the order's
# ``createType`` and the position's ``positionStatus`` while it happens
_EXEC_TYPE: Final = {"adl": "AdlTrade", "liquidation": "BustTrade"}
_CREATE_TYPE: Final = {"adl": "CreateByAdl_PassThrough", "liquidation": "CreateByLiq"}
_POSITION_STATUS: Final = {"adl": "Adl", "liquidation": "Liq"}


def _rate(margin: Decimal, equity: Decimal) -> Decimal:
    return (
        (margin / equity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN) if equity > 0 else Decimal(0)
    )


def _side(side: Side) -> str:
    return "Buy" if side is Side.BUY else "Sell"


class BybitProtocol:
    """
    Serve Bybit v5 on top of a :class:`MatchingEngine` (account ``USER``).

    Parameters
    ----------
    exchange : FakeExchange
        The owning server (faults, clock, WebSocket plumbing).
    engine : MatchingEngine
        The engine holding Bybit's books.
    api_key, api_secret : str
        The accepted credentials.
    """

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        api_key: str,
        api_secret: str,
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.api_key = api_key
        self.api_secret = api_secret
        # exec ids of fills lost by ``FaultPlan.withhold_fills_next`` (never reported)
        self.withheld_fills: set[str] = set()
        # symbol -> every user position update as (ms, Bybit row), for ``position_lag_ms``
        self._position_history: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        # symbol -> positionStatus while the venue closes it by force ("Adl", "Liq")
        self._position_status: dict[str, str] = {}
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_position.append(self._push_position)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)
        from nautilus_ext_testkit.fake_exchange.funding_venues import BybitFunding

        self.funding = BybitFunding(self)

    def force_close(
        self, symbol: str, kind: str, qty: Decimal | str | None = None, price: Decimal | str | None = None
    ) -> EngineOrder:
        """
        Close the user's position by the venue's hand (``kind`` ``"adl"`` or ``"liquidation"``):
        an ``execution`` push with ``execType`` ``AdlTrade``/``BustTrade``, an ``order`` push
        with ``createType`` ``CreateByAdl_PassThrough``/``CreateByLiq`` and a ``position``
        push with ``positionStatus`` ``Adl``/``Liq``; REST lists the execution the same way.
        Run it on the server's loop.
        """
        self._position_status[symbol] = _POSITION_STATUS.get(kind, "Normal")
        try:
            return self.engine.force_close(USER, symbol, kind, qty, price)
        finally:
            self._position_status.pop(symbol, None)

    @property
    def funding_rate(self) -> Decimal:
        """The current funding rate of the first listed market (see ``engine.funding``)."""
        return self.engine.funding.state(next(iter(self.engine.markets))).rate

    def register(self, app: web.Application) -> None:
        """Add Bybit's routes to ``app``."""
        get, post = app.router.add_get, app.router.add_post
        get("/v5/market/time", self.market_time)
        get("/v5/market/instruments-info", self.instruments_info)
        get("/v5/market/orderbook", self.orderbook)
        get("/v5/market/tickers", self.tickers)
        get("/v5/market/recent-trade", self.recent_trade)
        get("/v5/asset/coin/query-info", self.private(self.coin_info))
        get("/v5/user/query-api", self.private(self.query_api))
        get("/v5/account/info", self.private(self.account_info))
        get("/v5/account/wallet-balance", self.private(self.wallet_balance))
        get("/v5/account/fee-rate", self.private(self.fee_rate))
        post("/v5/order/create", self.private(self.order_create))
        post("/v5/order/cancel", self.private(self.order_cancel))
        post("/v5/order/cancel-all", self.private(self.order_cancel_all))
        post("/v5/order/amend", self.private(self.order_amend))
        get("/v5/order/realtime", self.private(self.order_realtime))
        get("/v5/order/history", self.private(self.order_history))
        get("/v5/execution/list", self.private(self.execution_list))
        get("/v5/position/list", self.private(self.position_list))
        get(PUBLIC_WS + "/{category}", self.ws_public)
        get(PRIVATE_WS, self.ws_private)
        self.funding.register(app)

    # -- envelope and auth ------------------------------------------------------------------

    def ok(self, result: dict[str, Any] | list[Any]) -> web.Response:
        """Return Bybit's success envelope."""
        return web.json_response(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": self.exchange.now_ms(),
            }
        )

    def error(self, code: int, message: str) -> web.Response:
        """Return Bybit's error envelope (HTTP 200, as Bybit does)."""
        return web.json_response(
            {
                "retCode": code,
                "retMsg": message,
                "result": {},
                "retExtInfo": {},
                "time": self.exchange.now_ms(),
            }
        )

    def private(self, handler: Any) -> Any:
        """Wrap ``handler`` with Bybit's v5 signature and timestamp check."""

        async def wrapped(request: web.Request) -> web.Response:
            key = request.headers.get("X-BAPI-API-KEY", "")
            ts = request.headers.get("X-BAPI-TIMESTAMP", "0")
            window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
            sign = request.headers.get("X-BAPI-SIGN", "")
            if key != self.api_key:
                return self.error(10003, "API key is invalid.")
            body = await request.text() if request.method == "POST" else ""
            payload = body if request.method == "POST" else request.query_string
            expected = hmac.new(
                self.api_secret.encode(),
                (ts + key + window + payload).encode(),
                hashlib.sha256,
            ).hexdigest()
            if not hmac.compare_digest(expected, sign):
                return self.error(10004, "error sign! origin_string[...]")
            now = self.exchange.now_ms()
            if not (now - int(window) <= int(ts) < now + 1000):
                return self.error(
                    10002,
                    "invalid request, please check your server timestamp or recv_window param."
                    f" req_timestamp[{ts}],server_timestamp[{now}],recv_window[{window}]",
                )
            params: dict[str, Any] = json.loads(body) if body else dict(request.query)
            result: web.Response = await handler(params)
            return result

        return wrapped

    # -- public REST ------------------------------------------------------------------------

    async def market_time(self, request: web.Request) -> web.Response:
        """GET /v5/market/time."""
        now = self.exchange.now_ms()
        return self.ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    def _instrument(self, spec: MarketSpec) -> dict[str, Any]:
        return {
            "symbol": spec.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": spec.base,
            "quoteCoin": spec.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(-int(spec.tick_size.normalize().as_tuple().exponent)),
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": f"{spec.max_leverage}.00",
                "leverageStep": "0.01",
            },
            "priceFilter": {
                "minPrice": _s(spec.tick_size),
                "maxPrice": "1999999.8",
                "tickSize": _s(spec.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": "1190.000",
                "minOrderQty": _s(spec.min_qty),
                "qtyStep": _s(spec.qty_step),
                "postOnlyMaxOrderQty": "1190.000",
                "maxMktOrderQty": "500.000",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": self.engine.funding.state(spec.symbol).interval_hours * 60,
            "settleCoin": spec.quote,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
        }

    async def instruments_info(self, request: web.Request) -> web.Response:
        """GET /v5/market/instruments-info (only the ``linear`` category is listed)."""
        category = request.query.get("category", "linear")
        symbol = request.query.get("symbol")
        items = [
            self._instrument(spec)
            for spec in self.engine.markets.values()
            if category == "linear" and (symbol is None or spec.symbol == symbol)
        ]
        return self.ok({"category": category, "list": items, "nextPageCursor": ""})

    async def orderbook(self, request: web.Request) -> web.Response:
        """GET /v5/market/orderbook."""
        symbol = request.query.get("symbol", "")
        if symbol not in self.engine.markets:
            return self.error(10001, "params error: symbol invalid")
        limit = int(request.query.get("limit", "25"))
        bids, asks = self.engine.levels(symbol, limit)
        now = self.exchange.now_ms()
        return self.ok(
            {
                "s": symbol,
                "b": [[_s(p), _s(q)] for p, q in bids],
                "a": [[_s(p), _s(q)] for p, q in asks],
                "ts": now,
                "u": self.engine.book_seq[symbol],
                "seq": self.engine.book_seq[symbol],
                "cts": now,
            }
        )

    def _ticker(self, symbol: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(symbol, 1)
        mark = self.engine.mark_price(symbol)
        tape = self.engine.trades.get(symbol) or []
        last = tape[-1].price if tape else mark
        return {
            "symbol": symbol,
            "lastPrice": _s(last),
            "indexPrice": _s(mark),
            "markPrice": _s(mark),
            "prevPrice24h": _s(last),
            "price24hPcnt": "0",
            "highPrice24h": _s(last),
            "lowPrice24h": _s(last),
            "prevPrice1h": _s(last),
            "openInterest": "0",
            "openInterestValue": "0",
            "turnover24h": "0",
            "volume24h": "0",
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": _s(asks[0][1]) if asks else "0",
            "bid1Price": _s(bids[0][0]) if bids else "0",
            "ask1Price": _s(asks[0][0]) if asks else "0",
            "bid1Size": _s(bids[0][1]) if bids else "0",
            "basis": "",
            "fundingIntervalHour": "8",
            **self.funding.ticker_fields(symbol),
        }

    async def tickers(self, request: web.Request) -> web.Response:
        """GET /v5/market/tickers."""
        symbol = request.query.get("symbol")
        symbols = [symbol] if symbol else list(self.engine.markets)
        if any(s not in self.engine.markets for s in symbols):
            return self.error(10001, "params error: symbol invalid")
        return self.ok({"category": "linear", "list": [self._ticker(s) for s in symbols]})

    def _trade(self, trade: PublicTrade) -> dict[str, Any]:
        return {
            "execId": trade.trade_id,
            "symbol": trade.symbol,
            "price": _s(trade.price),
            "size": _s(trade.qty),
            "side": _side(trade.side),
            "time": str(trade.ts_ms),
            "isBlockTrade": False,
        }

    async def recent_trade(self, request: web.Request) -> web.Response:
        """GET /v5/market/recent-trade."""
        symbol = request.query.get("symbol", "")
        limit = int(request.query.get("limit", "60"))
        tape = self.engine.trades.get(symbol, [])[-limit:]
        return self.ok({"category": "linear", "list": [self._trade(t) for t in reversed(tape)]})

    # -- private REST -----------------------------------------------------------------------

    async def coin_info(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/asset/coin/query-info."""
        coins = sorted({c for m in self.engine.markets.values() for c in (m.base, m.quote)})
        rows = [
            {
                "name": coin,
                "coin": coin,
                "remainAmount": "1000000",
                "chains": [
                    {
                        "chainType": coin,
                        "confirmation": "10",
                        "withdrawFee": "0",
                        "depositMin": "0",
                        "withdrawMin": "0",
                        "chain": coin,
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "minAccuracy": "8",
                        "withdrawPercentageFee": "0",
                    }
                ],
            }
            for coin in coins
        ]
        return self.ok({"rows": rows})

    async def query_api(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/user/query-api (ccxt reads ``unified``/``uta`` from it)."""
        return self.ok(
            {
                "id": "1",
                "note": "fake",
                "apiKey": self.api_key,
                "readOnly": 0,
                "secret": "",
                "permissions": {"ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"]},
                "ips": ["*"],
                "type": 1,
                "deadlineDay": 90,
                "expiredAt": "2099-01-01T00:00:00Z",
                "createdAt": "2025-01-01T00:00:00Z",
                "unified": 0,
                "uta": 1,
                "userID": 1,
                "inviterID": 0,
                "vipLevel": "No VIP",
                "mktMakerLevel": "0",
                "affiliateID": 0,
                "isMaster": True,
            }
        )

    async def account_info(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/account/info (a unified trading account)."""
        return self.ok(
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": "1697078946000",
                "unifiedMarginStatus": 4,
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            }
        )

    async def wallet_balance(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/account/wallet-balance (one USDT coin row)."""
        return self.ok({"list": [self.wallet_row()]})

    def wallet_row(self) -> dict[str, Any]:
        """Return the unified account in Bybit's wallet shape (REST and the ``wallet`` topic)."""
        total = self.engine.balances.get(USER, Decimal(0))
        available = self.engine.available_balance(USER)
        upnl = self.engine.unrealised_pnl(USER)
        equity = total + upnl
        maintenance = self.engine.maintenance_margin(USER)
        initial = maintenance * 2
        coin = {
            "coin": "USDT",
            "equity": _s(equity),
            "usdValue": _s(equity),
            "walletBalance": _s(total),
            "free": "",
            "locked": _s(total - available),
            "spotHedgingQty": "0",
            "borrowAmount": "0",
            "availableToWithdraw": _s(available),
            "availableToBorrow": "",
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": _s(initial),
            "totalPositionMM": _s(maintenance),
            "unrealisedPnl": _s(upnl),
            "cumRealisedPnl": "0",
            "bonus": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
        }
        return {
            "accountType": "UNIFIED",
            "totalEquity": _s(equity),
            "totalWalletBalance": _s(total),
            "totalMarginBalance": _s(equity),
            "totalAvailableBalance": _s(available),
            "totalPerpUPL": _s(upnl),
            "totalInitialMargin": _s(initial),
            "totalMaintenanceMargin": _s(maintenance),
            # Bybit's account rates: margin over margin balance, 4 decimals
            "accountIMRate": _s(_rate(initial, equity)),
            "accountMMRate": _s(_rate(maintenance, equity)),
            "accountLTV": "0",
            "coin": [coin],
        }

    async def fee_rate(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/account/fee-rate."""
        rows = [
            {
                "symbol": m.symbol,
                "takerFeeRate": _s(m.taker_fee),
                "makerFeeRate": _s(m.maker_fee),
                "baseCoin": "",
            }
            for m in self.engine.markets.values()
        ]
        return self.ok({"list": rows})

    async def order_create(self, params: dict[str, Any]) -> web.Response:
        """POST /v5/order/create."""
        client_id = str(params.get("orderLinkId") or "")
        self.exchange.record_order("bybit", client_id)
        if self.exchange.faults.take("reject_next_orders"):
            return self.error(*_REJECT_CODES[RejectReason.INJECTED])
        try:
            order_type = str(params.get("orderType", "")).lower()
            tif = _TIF_IN.get(str(params.get("timeInForce", "GTC")), TimeInForce.GTC)
            order = self.engine.submit(
                USER,
                str(params.get("symbol", "")),
                Side.BUY if params.get("side") == "Buy" else Side.SELL,
                order_type,
                Decimal(str(params.get("qty", "0"))),
                price=Decimal(str(params["price"])) if params.get("price") else None,
                tif=tif if order_type == "limit" else TimeInForce.IOC,
                reduce_only=bool(params.get("reduceOnly", False)),
                client_id=client_id,
                soft_reject=True,
            )
        except EngineReject as e:
            return self.error(*_REJECT_CODES[e.reason])
        return self.ok({"orderId": order.order_id, "orderLinkId": order.client_id})

    async def order_cancel(self, params: dict[str, Any]) -> web.Response:
        """POST /v5/order/cancel (by ``orderId`` or ``orderLinkId``)."""
        try:
            order = self.engine.cancel(
                USER,
                order_id=params.get("orderId") or None,
                client_id=params.get("orderLinkId") or None,
            )
        except EngineReject as e:
            return self.error(*_REJECT_CODES[e.reason])
        return self.ok({"orderId": order.order_id, "orderLinkId": order.client_id})

    async def order_cancel_all(self, params: dict[str, Any]) -> web.Response:
        """POST /v5/order/cancel-all."""
        canceled = self.engine.cancel_all(USER, params.get("symbol") or None)
        return self.ok(
            {
                "list": [{"orderId": o.order_id, "orderLinkId": o.client_id} for o in canceled],
                "success": "1",
            }
        )

    async def order_amend(self, params: dict[str, Any]) -> web.Response:
        """POST /v5/order/amend."""
        try:
            order = self.engine.amend(
                USER,
                order_id=params.get("orderId") or None,
                client_id=params.get("orderLinkId") or None,
                qty=Decimal(str(params["qty"])) if params.get("qty") else None,
                price=Decimal(str(params["price"])) if params.get("price") else None,
            )
        except EngineReject as e:
            return self.error(*_REJECT_CODES[e.reason])
        return self.ok({"orderId": order.order_id, "orderLinkId": order.client_id})

    def order_dict(self, order: EngineOrder) -> dict[str, Any]:
        """Return an order in Bybit's shape (REST list item and WS ``order`` item)."""
        return {
            "category": "linear",
            "orderId": order.order_id,
            "orderLinkId": order.client_id,
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": _s(order.price),
            "qty": _s(order.qty),
            "side": _side(order.side),
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": _STATUS[order.status],
            "cancelType": _CANCEL_TYPE.get(order.cancel_reason, "UNKNOWN"),
            "rejectReason": _REJECT_REASON.get(order.cancel_reason, "EC_NoError"),
            "avgPrice": _s(order.avg_price) if order.avg_price is not None else "",
            "leavesQty": _s(order.leaves),
            "leavesValue": _s(order.leaves * (order.price or Decimal(0))),
            "cumExecQty": _s(order.filled),
            "cumExecValue": _s(order.notional_filled),
            "cumExecFee": _s(order.fee_paid),
            "timeInForce": _TIF_OUT[order.tif],
            "orderType": "Limit" if order.order_type == "limit" else "Market",
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "placeType": "",
            "createType": _CREATE_TYPE.get(order.order_type, "CreateByUser"),
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }

    def _select_orders(self, params: dict[str, Any], *, open_only: bool) -> list[EngineOrder]:
        symbol = params.get("symbol")
        order_id = params.get("orderId")
        client_id = params.get("orderLinkId")
        # Bybit's realtime endpoint defaults to open orders; openOnly=1 adds recent closed ones
        orders = [
            o
            for o in self.engine.orders.values()
            if o.account == USER
            and (symbol is None or o.symbol == symbol)
            and (order_id is None or o.order_id == order_id)
            and (client_id is None or o.client_id == client_id)
            and (not open_only or o.is_open or order_id or client_id)
        ]
        return sorted(orders, key=lambda o: o.created_ms, reverse=True)[: int(params.get("limit", 50))]

    async def order_realtime(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/order/realtime (open orders, or any order queried by id)."""
        orders = self._select_orders(params, open_only=str(params.get("openOnly", "0")) == "0")
        return self.ok(
            {
                "category": "linear",
                "list": [self.order_dict(o) for o in orders],
                "nextPageCursor": "",
            }
        )

    async def order_history(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/order/history."""
        orders = self._select_orders(params, open_only=False)
        return self.ok(
            {
                "category": "linear",
                "list": [self.order_dict(o) for o in orders],
                "nextPageCursor": "",
            }
        )

    def fill_dict(self, fill: EngineFill) -> dict[str, Any]:
        """Return a fill in Bybit's execution shape (REST list item and WS item)."""
        return {
            "category": "linear",
            "symbol": fill.symbol,
            "orderId": fill.order_id,
            "orderLinkId": fill.client_id,
            "side": _side(fill.side),
            "orderPrice": _s(fill.order_price),
            "orderQty": _s(fill.order_qty),
            "leavesQty": _s(fill.leaves_qty),
            "createType": _CREATE_TYPE.get(fill.order_type, "CreateByUser"),
            "orderType": "Limit" if fill.order_type == "limit" else "Market",
            "stopOrderType": "",
            "execFee": _s(fill.fee),
            "execId": fill.exec_id,
            "execPrice": _s(fill.price),
            "execQty": _s(fill.qty),
            "execType": _EXEC_TYPE.get(fill.order_type, "Trade"),
            "execValue": _s(fill.price * fill.qty),
            "execTime": str(fill.ts_ms),
            "feeCurrency": "USDT",
            "isMaker": fill.is_maker,
            "feeRate": _s(fill.fee_rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": _s(self.engine.mark_price(fill.symbol)),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": _s(fill.closed_size),
            "seq": fill.seq,
        }

    async def execution_list(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/execution/list (newest first, filtered by symbol/order/startTime)."""
        start = int(params.get("startTime", 0) or 0)
        if params.get("execType") == "Funding":
            return self.ok(self.funding.funding_executions(params))
        fills = [
            f
            for f in self.engine.account_fills(USER, params.get("symbol"))
            if f.ts_ms >= start
            and params.get("orderId") in (None, f.order_id)
            and f.exec_id not in self.withheld_fills
        ]
        limit = int(params.get("limit", 50))
        rows = [self.fill_dict(f) for f in reversed(fills)][:limit]
        return self.ok({"category": "linear", "list": rows, "nextPageCursor": ""})

    def position_dict(self, pos: EnginePosition) -> dict[str, Any]:
        """Return a position in Bybit's shape."""
        mark = self.engine.mark_price(pos.symbol)
        side = "Buy" if pos.qty > 0 else ("Sell" if pos.qty < 0 else "")
        upnl = pos.qty * (mark - pos.avg_price) if pos.qty else Decimal(0)
        return {
            "category": "linear",
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": pos.symbol,
            "side": side,
            "size": _s(abs(pos.qty)),
            "avgPrice": _s(pos.avg_price),
            "entryPrice": _s(pos.avg_price),
            "positionValue": _s(abs(pos.qty) * pos.avg_price),
            "tradeMode": 0,
            "positionStatus": self._position_status.get(pos.symbol, "Normal"),
            "autoAddMargin": 0,
            "adlRankIndicator": 2 if pos.qty else 0,
            "leverage": _s(self.engine.leverage),
            "positionBalance": "0",
            "markPrice": _s(mark),
            "liqPrice": _s(self.engine.liquidation_price(USER, pos.symbol)) if pos.qty else "",
            "bustPrice": "",
            "positionMM": _s(self.engine.maintenance_margin(USER, pos.symbol)),
            "positionIM": _s(self.engine.maintenance_margin(USER, pos.symbol) * 2),
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": _s(upnl),
            "curRealisedPnl": _s(pos.realized_pnl),
            "cumRealisedPnl": _s(pos.realized_pnl),
            "seq": pos.seq,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(pos.updated_ms),
            "updatedTime": str(pos.updated_ms),
        }

    async def position_list(self, params: dict[str, Any]) -> web.Response:
        """GET /v5/position/list (every listed market, flat ones with size 0)."""
        symbol = params.get("symbol")
        lag_ms = self.exchange.faults.position_lag_ms
        rows = [
            self._lagged_position(s, lag_ms) if lag_ms else self.position_dict(self.engine.position(USER, s))
            for s in self.engine.markets
            if symbol is None or s == symbol
        ]
        return self.ok({"category": "linear", "list": rows, "nextPageCursor": ""})

    def _lagged_position(self, symbol: str, lag_ms: float) -> dict[str, Any]:
        # the newest position update at least ``lag_ms`` old, else the flat position
        cutoff = self.exchange.now_ms() - lag_ms
        for ts_ms, row in reversed(self._position_history.get(symbol, [])):
            if ts_ms <= cutoff:
                return row
        return self.position_dict(EnginePosition(USER, symbol))

    # -- WebSocket --------------------------------------------------------------------------

    async def ws_public(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/v5/public/{category}``."""
        return await self.exchange.serve_ws(request, self._on_public)

    async def ws_private(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/v5/private``."""
        return await self.exchange.serve_ws(request, self._on_private)

    def _pong(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        conn.send(
            {
                "success": True,
                "ret_msg": "pong",
                "conn_id": conn.conn_id,
                "req_id": msg.get("req_id", ""),
                "op": "ping",
            }
        )

    def _ack(self, conn: WsConnection, msg: dict[str, Any], ok: bool, why: str = "") -> None:
        conn.send(
            {
                "success": ok,
                "ret_msg": why,
                "conn_id": conn.conn_id,
                "req_id": msg.get("req_id", ""),
                "op": msg.get("op"),
            }
        )

    async def _on_public(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op == "ping":
            self._pong(conn, msg)
            return
        topics = [str(t) for t in msg.get("args") or []]
        if op == "unsubscribe":
            conn.topics.difference_update(topics)
            self._ack(conn, msg, True)
            return
        if op != "subscribe":
            return
        symbols_ok = all(t.rsplit(".", 1)[-1] in self.engine.markets for t in topics)
        self._ack(conn, msg, symbols_ok, "" if symbols_ok else "Invalid symbol")
        if not symbols_ok:
            return
        for topic in topics:
            conn.topics.add(topic)
            parts = topic.split(".")
            symbol = parts[-1]
            now = self.exchange.now_ms()
            if parts[0] == "orderbook":
                bids, asks = self.engine.levels(symbol, int(parts[1]))
                seq = self.engine.book_seq[symbol]
                conn.send(
                    {
                        "topic": topic,
                        "type": "snapshot",
                        "ts": now,
                        "data": {
                            "s": symbol,
                            "b": [[_s(p), _s(q)] for p, q in bids],
                            "a": [[_s(p), _s(q)] for p, q in asks],
                            "u": seq,
                            "seq": seq,
                        },
                        "cts": now,
                    }
                )
            elif parts[0] == "tickers":
                conn.send(
                    {
                        "topic": topic,
                        "type": "snapshot",
                        "data": self._ticker(symbol),
                        "cs": self.engine.book_seq[symbol],
                        "ts": now,
                    }
                )

    async def _on_private(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op == "ping":
            self._pong(conn, msg)
        elif op == "auth":
            args = msg.get("args") or ["", "0", ""]
            key, expires, sign = str(args[0]), str(args[1]), str(args[2])
            expected = hmac.new(
                self.api_secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256
            ).hexdigest()
            ok = key == self.api_key and hmac.compare_digest(expected, sign)
            ok = ok and int(expires) > self.exchange.now_ms()
            conn.authenticated = ok
            conn.send(
                {
                    "req_id": msg.get("req_id", ""),
                    "success": ok,
                    "ret_msg": "" if ok else "Params Error",
                    "op": "auth",
                    "conn_id": conn.conn_id,
                }
            )
        elif op == "subscribe":
            if not conn.authenticated:
                self._ack(conn, msg, False, "Request not authorized")
                return
            conn.topics.update(str(t) for t in msg.get("args") or [])
            self._ack(conn, msg, True)
        elif op == "unsubscribe":
            conn.topics.difference_update(str(t) for t in msg.get("args") or [])
            self._ack(conn, msg, True)

    def _private_push(self, topic: str, data: list[dict[str, Any]]) -> None:
        now = self.exchange.now_ms()
        message = {
            "id": f"{topic}-{time.perf_counter_ns()}",
            "topic": topic,
            "creationTime": now,
            "data": data,
        }
        self.exchange.broadcast(PRIVATE_WS, topic, message, private=True)

    def _push_order(self, order: EngineOrder) -> None:
        if order.account == USER:
            self._private_push("order", [self.order_dict(order)])

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != USER:
            return
        if self.exchange.faults.take("withhold_fills_next"):
            self.withheld_fills.add(fill.exec_id)
            return
        if self.exchange.faults.take("drop_private_fills"):
            return
        self._private_push("execution", [self.fill_dict(fill)])
        if self.exchange.faults.duplicate_fills:
            self._private_push("execution", [self.fill_dict(fill)])

    def _push_position(self, pos: EnginePosition) -> None:
        if pos.account == USER:
            row = self.position_dict(pos)
            self._position_history.setdefault(pos.symbol, []).append((pos.updated_ms, row))
            self._private_push("position", [row])

    def _push_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        now = self.exchange.now_ms()
        seq = self.engine.book_seq[symbol]
        bids = [[_s(p), _s(q)] for side, p, q in changes if side is Side.BUY]
        asks = [[_s(p), _s(q)] for side, p, q in changes if side is Side.SELL]
        for conn in list(self.exchange.connections):
            if not conn.path.startswith(PUBLIC_WS):
                continue
            for topic in conn.topics:
                parts = topic.split(".")
                if parts[0] == "orderbook" and parts[-1] == symbol:
                    conn.send(
                        {
                            "topic": topic,
                            "type": "delta",
                            "ts": now,
                            "data": {"s": symbol, "b": bids, "a": asks, "u": seq, "seq": seq},
                            "cts": now,
                        }
                    )
                elif parts[0] == "tickers" and parts[-1] == symbol:
                    conn.send(
                        {
                            "topic": topic,
                            "type": "snapshot",
                            "data": self._ticker(symbol),
                            "cs": seq,
                            "ts": now,
                        }
                    )

    def _push_trade(self, trade: PublicTrade) -> None:
        topic = f"publicTrade.{trade.symbol}"
        self.exchange.broadcast(
            PUBLIC_WS,
            topic,
            {
                "topic": topic,
                "type": "snapshot",
                "ts": trade.ts_ms,
                "data": [
                    {
                        "T": trade.ts_ms,
                        "s": trade.symbol,
                        "S": _side(trade.side),
                        "v": _s(trade.qty),
                        "p": _s(trade.price),
                        "L": "PlusTick",
                        "i": trade.trade_id,
                        "BT": False,
                    }
                ],
            },
        )
