"""
The Coinbase Advanced Trade part of the fake exchange: spot products over REST
(``/api/v3/brokerage/...`` plus the ``/v2`` currency endpoints ccxt reads when it loads
markets) and the Advanced Trade WebSocket (``level2``, ``market_trades``, ``ticker`` and the
authenticated ``user`` channel) on the root path, as ``wss://advanced-trade-ws.coinbase.com``.

Authentication is Coinbase's CDP scheme, verified as Coinbase does (:mod:`.coinbase_auth`):
an ES256 JWT per REST request (signature, key, lifetime, ``uri`` claim naming the request) and
per private subscription.

Coinbase Advanced is a spot venue: there are no positions. The account holds one wallet per
currency; each fill moves base and quote (the fee is charged in quote), and resting orders put
funds on hold (buys: limit notional plus the taker fee, as Coinbase holds it; sells: the base
quantity). An order that would spend more than the available balance is refused with
``INSUFFICIENT_FUND`` before it reaches the book, as Coinbase refuses it.

Order entry answers the way Coinbase does: HTTP 200 with ``success: false`` and an
``error_response`` (``INSUFFICIENT_FUND``/``PREVIEW_INSUFFICIENT_FUND``,
``INVALID_LIMIT_PRICE_POST_ONLY`` ...) for refused orders, and a reused ``client_order_id``
returns the order already placed under it instead of creating a second one (Create Order
reference: "If the ID provided is not unique, the order will not be created and the order
corresponding with that ID will be returned instead").

Fault injection (:class:`FaultPlan`): ``reject_next_orders`` (a refused order),
``http_429_next``/``rest_timeout_next``/``rest_latency_ms``/``refuse_websockets`` (the server's
middleware; the 429 body is Coinbase's ``rate_limit_exceeded``), ``clock_skew_ms`` (JWT
``nbf``/``exp`` are judged by the skewed clock), ``withhold_fills_next`` (a fill that never
appears in List Fills), ``drop_private_fills`` and ``duplicate_fills`` (the ``user`` channel
update carrying a fill is lost or sent twice; Coinbase streams no fills of its own),
``silence_market_data`` (public pushes stop and the market-data REST endpoints answer 503),
``ws_latency_ms``/``fill_delay_ms`` (public/private push delays).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import ROUND_DOWN
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_KEY_NAME
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TEST_PRIVATE_KEY_PEM
from nautilus_ext_testkit.fake_exchange.coinbase_auth import TokenRejected
from nautilus_ext_testkit.fake_exchange.coinbase_auth import public_key_of
from nautilus_ext_testkit.fake_exchange.coinbase_auth import verify_token
from nautilus_ext_testkit.fake_exchange.coinbase_wire import USER
from nautilus_ext_testkit.fake_exchange.coinbase_wire import account_dict
from nautilus_ext_testkit.fake_exchange.coinbase_wire import crypto_currency_rows
from nautilus_ext_testkit.fake_exchange.coinbase_wire import dec_str
from nautilus_ext_testkit.fake_exchange.coinbase_wire import error_response
from nautilus_ext_testkit.fake_exchange.coinbase_wire import fee_tier
from nautilus_ext_testkit.fake_exchange.coinbase_wire import fiat_currency_rows
from nautilus_ext_testkit.fake_exchange.coinbase_wire import fill_dict
from nautilus_ext_testkit.fake_exchange.coinbase_wire import order_configuration
from nautilus_ext_testkit.fake_exchange.coinbase_wire import order_dict
from nautilus_ext_testkit.fake_exchange.coinbase_wire import product_dict
from nautilus_ext_testkit.fake_exchange.coinbase_wire import rfc3339
from nautilus_ext_testkit.fake_exchange.coinbase_wire import ws_order_dict
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

API: Final = "/api/v3/brokerage"
V2: Final = "/v2"
WS_PATH: Final = "/"
# what Coinbase answers a refused token with (HTTP 401, plain text)
UNAUTHORIZED_BODY: Final = "Unauthorized\n"
WS_AUTH_FAILURE: Final = {"type": "error", "message": "authentication failure"}
RATE_LIMITED_BODY: Final = {
    "error": "rate_limit_exceeded",
    "error_details": "Too many requests",
    "message": "Too many requests",
}
PUBLIC_CHANNELS: Final = frozenset({"level2", "market_trades", "ticker", "ticker_batch", "heartbeats"})
PRIVATE_CHANNELS: Final = frozenset({"user"})
_TRADE_SNAPSHOT: Final = 50
_REFUSALS: Final[dict[RejectReason, tuple[str, str, str]]] = {
    RejectReason.UNKNOWN_SYMBOL: ("INVALID_PRODUCT_ID", "Invalid product_id", "PREVIEW_INVALID_PRODUCT_ID"),
    RejectReason.INVALID_QUANTITY: (
        "INVALID_SIZE_PRECISION",
        "Too many decimals in order amount",
        "PREVIEW_INVALID_SIZE_PRECISION",
    ),
    RejectReason.INVALID_PRICE: (
        "INVALID_PRICE_PRECISION",
        "Too many decimals in order price",
        "PREVIEW_INVALID_PRICE_PRECISION",
    ),
    RejectReason.INSUFFICIENT_BALANCE: (
        "INSUFFICIENT_FUND",
        "Insufficient balance in source account",
        "PREVIEW_INSUFFICIENT_FUND",
    ),
    RejectReason.POST_ONLY_WOULD_TAKE: (
        "INVALID_LIMIT_PRICE_POST_ONLY",
        "Invalid limit price for post only order",
        "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
    ),
    RejectReason.INJECTED: (
        "UNKNOWN_FAILURE_REASON",
        "order rejected (fake exchange fault injection)",
        "PREVIEW_INVALID_ORDER_CONFIG",
    ),
}


def default_coinbase_markets() -> list[MarketSpec]:
    """Return BTC-USD and ETH-USD spot with Coinbase's increments and Advanced 1 fees."""
    return [
        MarketSpec(
            "BTC-USD",
            "BTC",
            "USD",
            Decimal("0.01"),
            Decimal("0.00000001"),
            Decimal("0.00000001"),
            maker_fee=Decimal("0.004"),
            taker_fee=Decimal("0.006"),
            kind="spot",
        ),
        MarketSpec(
            "ETH-USD",
            "ETH",
            "USD",
            Decimal("0.01"),
            Decimal("0.00000001"),
            Decimal("0.00000001"),
            maker_fee=Decimal("0.004"),
            taker_fee=Decimal("0.006"),
            kind="spot",
        ),
    ]


class CoinbaseProtocol:
    """
    Serve Coinbase Advanced Trade (spot wallets, CDP JWT auth) on a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server (faults, clock, WebSocket plumbing).
    engine : MatchingEngine
        The engine holding Coinbase's books (``kind="spot"`` markets).
    starting_balances : dict[str, Decimal]
        The user's wallets before any fill (currencies not named start at zero).
    keys : dict[str, EllipticCurvePublicKey], optional
        Accepted CDP key names and their public keys (default: the test key of
        :mod:`.coinbase_auth`).
    """

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        starting_balances: dict[str, Decimal],
        keys: dict[str, ec.EllipticCurvePublicKey] | None = None,
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.keys = dict(keys or {TEST_KEY_NAME: public_key_of(TEST_PRIVATE_KEY_PEM)})
        self.starting_balances = dict(starting_balances)
        # spot has no funding; kept so venue-generic tests can read the attribute
        self.funding_rate: Decimal | None = None
        self.auth_failures: list[str] = []
        self._post_only: set[str] = set()
        self._edits: dict[str, list[dict[str, Any]]] = {}
        self._sequences: dict[str, itertools.count[int]] = {}
        self._created_ms = exchange.now_ms()
        # fills lost by ``FaultPlan.withhold_fills_next``: executed, never listed
        self._withheld: set[str] = set()
        # order ids whose next user-channel update carries a new fill
        self._filled: set[str] = set()
        engine.listeners.on_fill.append(self._on_fill)
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)

    def register(self, app: web.Application) -> None:
        """Add Coinbase's routes to ``app`` (fixed paths before the ``{order_id}`` pattern)."""
        get, post = app.router.add_get, app.router.add_post
        get(API + "/time", self.server_time)
        get(API + "/market/products", self.products)
        get(API + "/market/products/{product_id}", self.product)
        get(API + "/market/product_book", self.product_book)
        get(API + "/market/products/{product_id}/ticker", self.market_trades)
        get(V2 + "/currencies", self.fiat_currencies)
        get(V2 + "/currencies/crypto", self.crypto_currencies)
        get(V2 + "/exchange-rates", self.exchange_rates)
        get(V2 + "/time", self.v2_time)
        get(API + "/transaction_summary", self.private(self.transaction_summary))
        get(API + "/accounts", self.private(self.accounts))
        get(API + "/cfm/positions", self.private(self.cfm_positions))
        post(API + "/orders", self.private(self.create_order))
        post(API + "/orders/batch_cancel", self.private(self.batch_cancel))
        post(API + "/orders/edit", self.private(self.edit_order))
        get(API + "/orders/historical/batch", self.private(self.list_orders))
        get(API + "/orders/historical/fills", self.private(self.list_fills))
        get(API + "/orders/historical/{order_id}", self.private(self.get_order))
        get(WS_PATH, self.ws)

    # -- auth -------------------------------------------------------------------------------

    def _now_secs(self) -> int:
        return self.exchange.now_ms() // 1000

    def private(self, handler: Callable[[web.Request, Any], Awaitable[web.Response]]) -> Any:
        """Wrap ``handler`` with the CDP JWT check; pass it the JSON body or the query."""

        async def wrapped(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            try:
                if scheme != "Bearer" or not token:
                    raise TokenRejected("no bearer token")
                verify_token(
                    token,
                    self.keys,
                    self._now_secs(),
                    method=request.method,
                    host=request.host,
                    path=request.path,
                )
            except TokenRejected as e:
                self.auth_failures.append(str(e))
                return web.Response(status=401, text=UNAUTHORIZED_BODY)
            params: Any
            if request.method == "POST":
                try:
                    params = json.loads(await request.text() or "{}")
                except ValueError:
                    return self._invalid_argument("malformed JSON body")
                if not isinstance(params, dict):
                    return self._invalid_argument("body must be a JSON object")
            else:
                params = request.query
            return await handler(request, params)

        return wrapped

    @staticmethod
    def _invalid_argument(message: str, status: int = 400) -> web.Response:
        return web.json_response(
            {"error": "INVALID_ARGUMENT", "error_details": message, "message": message}, status=status
        )

    # -- public REST ------------------------------------------------------------------------

    async def server_time(self, request: web.Request) -> web.Response:
        """GET /api/v3/brokerage/time."""
        now = self.exchange.now_ms()
        return web.json_response(
            {"iso": rfc3339(now), "epochSeconds": str(now // 1000), "epochMillis": str(now)}
        )

    async def v2_time(self, request: web.Request) -> web.Response:
        """GET /v2/time."""
        now = self.exchange.now_ms()
        return web.json_response({"data": {"iso": rfc3339(now)[:19] + "Z", "epoch": now // 1000}})

    async def products(self, request: web.Request) -> web.Response:
        """GET /api/v3/brokerage/market/products (spot only: FUTURE lists nothing)."""
        if request.query.get("product_type", "SPOT").upper() != "SPOT":
            return web.json_response({"products": [], "num_products": 0})
        rows = [product_dict(s, self.engine.mark_price(s.symbol)) for s in self.engine.markets.values()]
        return web.json_response({"products": rows, "num_products": len(rows)})

    def _silenced(self) -> web.Response | None:
        # ``FaultPlan.silence_market_data``: the venue's market data is down
        if not self.exchange.faults.silence_market_data:
            return None
        message = "Service unavailable"
        return web.json_response(
            {"error": "UNAVAILABLE", "error_details": message, "message": message}, status=503
        )

    def _unknown_product(self, product_id: str) -> web.Response | None:
        if product_id in self.engine.markets:
            return None
        return web.json_response(
            {
                "error": "NOT_FOUND",
                "error_details": "ProductID is invalid",
                "message": "ProductID is invalid",
            },
            status=404,
        )

    async def product(self, request: web.Request) -> web.Response:
        """GET /api/v3/brokerage/market/products/{product_id}."""
        product_id = request.match_info["product_id"]
        unknown = self._unknown_product(product_id)
        if unknown is not None:
            return unknown
        spec = self.engine.markets[product_id]
        return web.json_response(product_dict(spec, self.engine.mark_price(product_id)))

    async def product_book(self, request: web.Request) -> web.Response:
        """GET /api/v3/brokerage/market/product_book (``limit`` levels per side)."""
        product_id = request.query.get("product_id", "")
        unknown = self._silenced() or self._unknown_product(product_id)
        if unknown is not None:
            return unknown
        depth = int(request.query.get("limit", "50") or 50)
        bids, asks = self.engine.levels(product_id, depth)
        mid = self.engine.mark_price(product_id)
        tape = self.engine.trades.get(product_id) or []
        return web.json_response(
            {
                "pricebook": {
                    "product_id": product_id,
                    "bids": [{"price": dec_str(p), "size": dec_str(q)} for p, q in bids],
                    "asks": [{"price": dec_str(p), "size": dec_str(q)} for p, q in asks],
                    "time": rfc3339(self.exchange.now_ms()),
                },
                "last": dec_str(tape[-1].price) if tape else "",
                "mid_market": dec_str(mid),
                "spread_bps": "0",
                "spread_absolute": dec_str(asks[0][0] - bids[0][0]) if bids and asks else "0",
            }
        )

    def _trade_row(self, trade: PublicTrade) -> dict[str, Any]:
        bid, ask = self.engine.best(trade.symbol)
        return {
            "trade_id": trade.trade_id,
            "product_id": trade.symbol,
            "price": dec_str(trade.price),
            "size": dec_str(trade.qty),
            "time": rfc3339(trade.ts_ms),
            # the taker's side (Coinbase's market_trades names the aggressor)
            "side": "BUY" if trade.side is Side.BUY else "SELL",
            "bid": dec_str(bid),
            "ask": dec_str(ask),
            "exchange": "",
        }

    async def market_trades(self, request: web.Request) -> web.Response:
        """GET /api/v3/brokerage/market/products/{product_id}/ticker (newest first)."""
        product_id = request.match_info["product_id"]
        unknown = self._silenced() or self._unknown_product(product_id)
        if unknown is not None:
            return unknown
        limit = min(int(request.query.get("limit", "100") or 100), 1000)
        tape = self.engine.trades.get(product_id, [])[-limit:]
        bid, ask = self.engine.best(product_id)
        return web.json_response(
            {
                "trades": [self._trade_row(t) for t in reversed(tape)],
                "best_bid": dec_str(bid),
                "best_ask": dec_str(ask),
            }
        )

    def _currencies(self) -> tuple[list[str], list[str]]:
        codes = sorted({c for s in self.engine.markets.values() for c in (s.base, s.quote)})
        fiat = [c for c in codes if c in ("USD", "EUR", "GBP")]
        return fiat, [c for c in codes if c not in fiat]

    async def fiat_currencies(self, request: web.Request) -> web.Response:
        """GET /v2/currencies."""
        return web.json_response({"data": fiat_currency_rows(self._currencies()[0])})

    async def crypto_currencies(self, request: web.Request) -> web.Response:
        """GET /v2/currencies/crypto."""
        return web.json_response({"data": crypto_currency_rows(self._currencies()[1])})

    async def exchange_rates(self, request: web.Request) -> web.Response:
        """GET /v2/exchange-rates (units of each currency per USD)."""
        rates = {"USD": "1"}
        for spec in self.engine.markets.values():
            mark = self.engine.mark_price(spec.symbol)
            if spec.quote == "USD" and mark:
                rates[spec.base] = dec_str((1 / mark).quantize(Decimal("1e-12")))
        return web.json_response({"data": {"currency": "USD", "rates": rates}})

    # -- private REST: account --------------------------------------------------------------

    def wallets(self) -> dict[str, Decimal]:
        """Return the user's total per currency (starting balances moved by every fill)."""
        totals = {c: Decimal(v) for c, v in self.starting_balances.items()}
        for fill in self.engine.account_fills(USER):
            spec = self.engine.markets[fill.symbol]
            sign = 1 if fill.side is Side.BUY else -1
            totals[spec.base] = totals.get(spec.base, Decimal(0)) + sign * fill.qty
            totals[spec.quote] = totals.get(spec.quote, Decimal(0)) - sign * fill.qty * fill.price - fill.fee
        return totals

    def holds(self) -> dict[str, Decimal]:
        """Return the funds resting orders hold per currency."""
        held: dict[str, Decimal] = {}
        for order in self.engine.open_orders(USER):
            spec = self.engine.markets[order.symbol]
            if order.side is Side.BUY:
                amount = order.leaves * (order.price or Decimal(0)) * (1 + spec.taker_fee)
                held[spec.quote] = held.get(spec.quote, Decimal(0)) + amount
            else:
                held[spec.base] = held.get(spec.base, Decimal(0)) + order.leaves
        return held

    def available(self, currency: str) -> Decimal:
        """Return the funds of ``currency`` free to trade."""
        return self.wallets().get(currency, Decimal(0)) - self.holds().get(currency, Decimal(0))

    async def transaction_summary(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/transaction_summary (the account's fee tier)."""
        spec = next(iter(self.engine.markets.values()))
        fees = sum((f.fee for f in self.engine.account_fills(USER)), Decimal(0))
        volume = sum((f.qty * f.price for f in self.engine.account_fills(USER)), Decimal(0))
        return web.json_response(
            {
                "total_volume": float(volume),
                "total_fees": float(fees),
                "fee_tier": fee_tier(spec),
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": float(volume),
                "advanced_trade_only_fees": float(fees),
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
                "has_promo_fee": False,
            }
        )

    async def accounts(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/accounts (one wallet per currency, one page)."""
        wallets, held = self.wallets(), self.holds()
        codes = sorted(set(wallets) | set(held) | set(self._currencies()[0] + self._currencies()[1]))
        rows = [
            account_dict(
                c,
                wallets.get(c, Decimal(0)) - held.get(c, Decimal(0)),
                held.get(c, Decimal(0)),
                self._created_ms,
            )
            for c in codes
        ]
        return web.json_response({"accounts": rows, "has_next": False, "cursor": "", "size": len(rows)})

    async def cfm_positions(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/cfm/positions (futures positions: a spot account has none)."""
        return web.json_response({"positions": []})

    # -- order entry ------------------------------------------------------------------------

    def _refusal(self, reason: RejectReason, config: dict[str, Any]) -> web.Response:
        body = error_response(*_REFUSALS[reason])
        body["order_configuration"] = config
        return web.json_response(body)

    def _success(self, order: EngineOrder) -> web.Response:
        return web.json_response(
            {
                "success": True,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": order.order_id,
                "success_response": {
                    "order_id": order.order_id,
                    "product_id": order.symbol,
                    "side": "BUY" if order.side is Side.BUY else "SELL",
                    "client_order_id": order.client_id,
                },
                "order_configuration": order_configuration(order, order.order_id in self._post_only),
            }
        )

    def _parse_config(self, config: Any) -> tuple[str, TimeInForce, dict[str, Any]] | None:
        # (engine order type, time in force, the configuration's fields), or None if unsupported
        if not isinstance(config, dict) or len(config) != 1:
            return None
        ((name, fields),) = config.items()
        if not isinstance(fields, dict):
            return None
        kinds = {
            "market_market_ioc": ("market", TimeInForce.IOC),
            "limit_limit_gtc": ("limit", TimeInForce.GTC),
            "sor_limit_ioc": ("limit", TimeInForce.IOC),
            "limit_limit_fok": ("limit", TimeInForce.FOK),
        }
        if name not in kinds:
            return None
        order_type, tif = kinds[name]
        if name == "limit_limit_gtc" and fields.get("post_only") in (True, "true"):
            tif = TimeInForce.POST_ONLY
        return order_type, tif, fields

    def _base_for_quote(self, symbol: str, quote_size: Decimal) -> Decimal:
        # a market buy sized in quote: the base it buys sweeping the asks, down to the step
        spec = self.engine.markets[symbol]
        remaining, base = quote_size, Decimal(0)
        for price, size in self.engine.levels(symbol, 1000)[1]:
            take = min(size, remaining / price)
            base += take
            remaining -= take * price
            if remaining <= 0:
                break
        return base.quantize(spec.qty_step, rounding=ROUND_DOWN)

    def _cost_of_buy(self, symbol: str, qty: Decimal, price: Decimal | None) -> Decimal:
        spec = self.engine.markets[symbol]
        if price is not None:
            return qty * price * (1 + spec.taker_fee)
        cost, remaining = Decimal(0), qty
        for level_price, size in self.engine.levels(symbol, 1000)[1]:
            take = min(size, remaining)
            cost += take * level_price
            remaining -= take
            if remaining <= 0:
                break
        return cost * (1 + spec.taker_fee)

    async def create_order(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        """POST /api/v3/brokerage/orders."""
        client_id = str(params.get("client_order_id") or "")
        self.exchange.record_order("coinbase", client_id)
        config = params.get("order_configuration") or {}
        if not client_id:
            return self._invalid_argument("client_order_id is required")
        existing = self.engine.find_order(USER, client_id=client_id)
        if existing is not None:
            return self._success(existing)
        if self.exchange.faults.take("reject_next_orders"):
            return self._refusal(RejectReason.INJECTED, config)
        product_id = str(params.get("product_id") or "")
        spec = self.engine.markets.get(product_id)
        if spec is None:
            return self._refusal(RejectReason.UNKNOWN_SYMBOL, config)
        side_text = str(params.get("side") or "")
        if side_text not in ("BUY", "SELL"):
            return self._invalid_argument(f"invalid side {side_text!r}")
        side = Side.BUY if side_text == "BUY" else Side.SELL
        parsed = self._parse_config(config)
        if parsed is None:
            body = error_response(
                "UNSUPPORTED_ORDER_CONFIGURATION",
                "Unsupported order configuration",
                "PREVIEW_UNSUPPORTED_ORDER_CONFIGURATION",
            )
            return web.json_response(body)
        order_type, tif, fields = parsed
        try:
            price = Decimal(str(fields["limit_price"])) if order_type == "limit" else None
            if "base_size" in fields:
                qty = Decimal(str(fields["base_size"]))
            elif order_type == "market" and side is Side.BUY and "quote_size" in fields:
                quote_size = Decimal(str(fields["quote_size"]))
                if quote_size > self.available(spec.quote):
                    return self._refusal(RejectReason.INSUFFICIENT_BALANCE, config)
                qty = self._base_for_quote(product_id, quote_size)
            else:
                return self._invalid_argument("base_size is required")
        except (KeyError, InvalidOperation):
            return self._invalid_argument("invalid size or price")
        if qty < spec.min_qty or qty % spec.qty_step:
            return self._refusal(RejectReason.INVALID_QUANTITY, config)
        if price is not None and (price <= 0 or price % spec.tick_size):
            return self._refusal(RejectReason.INVALID_PRICE, config)
        if tif is TimeInForce.POST_ONLY:
            bid, ask = self.engine.best(product_id)
            opposite = ask if side is Side.BUY else bid
            if (
                opposite is not None
                and price is not None
                and (price >= opposite if side is Side.BUY else price <= opposite)
            ):
                return self._refusal(RejectReason.POST_ONLY_WOULD_TAKE, config)
        if side is Side.BUY:
            enough = self._cost_of_buy(product_id, qty, price) <= self.available(spec.quote)
        else:
            enough = qty <= self.available(spec.base)
        if not enough:
            return self._refusal(RejectReason.INSUFFICIENT_BALANCE, config)
        try:
            order = self.engine.submit(
                USER,
                product_id,
                side,
                order_type,
                qty,
                price=price,
                tif=tif,
                client_id=client_id,
                # an unfillable FOK order is accepted and then cancelled, not refused
                soft_reject=True,
            )
        except EngineReject as e:
            return self._refusal(e.reason if e.reason in _REFUSALS else RejectReason.INJECTED, config)
        if tif is TimeInForce.POST_ONLY:
            self._post_only.add(order.order_id)
        return self._success(order)

    async def batch_cancel(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        """POST /api/v3/brokerage/orders/batch_cancel."""
        ids = params.get("order_ids")
        if not isinstance(ids, list) or not ids:
            return self._invalid_argument("order_ids is required")
        results = []
        for order_id in ids:
            try:
                self.engine.cancel(USER, order_id=str(order_id))
            except EngineReject:
                results.append(
                    {"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": str(order_id)}
                )
                continue
            results.append(
                {
                    "success": True,
                    "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                    "order_id": str(order_id),
                }
            )
        return web.json_response({"results": results})

    async def edit_order(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        """POST /api/v3/brokerage/orders/edit (GTC limit orders: new price and/or size)."""
        order_id = str(params.get("order_id") or "")
        order = self.engine.find_order(USER, order_id=order_id)

        def failed(reason: str, preview: str) -> web.Response:
            return web.json_response(
                {
                    "success": False,
                    "errors": [{"edit_failure_reason": reason, "preview_failure_reason": preview}],
                }
            )

        if order is None or not order.is_open:
            return failed("ORDER_NOT_FOUND", "UNKNOWN_PREVIEW_FAILURE_REASON")
        if order.order_type != "limit" or order.tif not in (TimeInForce.GTC, TimeInForce.POST_ONLY):
            return failed("INVALID_ORDER_CONFIG", "UNKNOWN_PREVIEW_FAILURE_REASON")
        try:
            price = Decimal(str(params["price"])) if params.get("price") else None
            size = Decimal(str(params["size"])) if params.get("size") else None
        except InvalidOperation:
            return self._invalid_argument("invalid size or price")
        try:
            self.engine.amend(USER, order_id=order_id, qty=size, price=price)
        except EngineReject as e:
            if e.reason is RejectReason.INVALID_QUANTITY:
                return failed("CANNOT_EDIT_TO_BELOW_FILLED_SIZE", "PREVIEW_INVALID_SIZE_PRECISION")
            return failed("UNKNOWN_EDIT_ORDER_FAILURE_REASON", "PREVIEW_INVALID_PRICE_PRECISION")
        self._edits.setdefault(order_id, []).append(
            {
                "price": dec_str(price or order.price),
                "size": dec_str(size or order.qty),
                "replace_accept_timestamp": rfc3339(self.exchange.now_ms()),
            }
        )
        return web.json_response({"success": True, "errors": []})

    # -- private REST: history --------------------------------------------------------------

    def _order_row(self, order: EngineOrder) -> dict[str, Any]:
        return order_dict(
            order, post_only=order.order_id in self._post_only, edits=self._edits.get(order.order_id, [])
        )

    async def list_orders(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/orders/historical/batch (newest first)."""
        statuses = set(params.getall("order_status", []))
        product_id = params.get("product_id")
        limit = int(params.get("limit", "100") or 100)
        rows = [
            self._order_row(o)
            for o in reversed(list(self.engine.orders.values()))
            if o.account == USER and (product_id is None or o.symbol == product_id)
        ]
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        return web.json_response({"orders": rows[:limit], "sequence": "0", "has_next": False, "cursor": ""})

    async def get_order(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/orders/historical/{order_id}."""
        order = self.engine.find_order(USER, order_id=request.match_info["order_id"])
        if order is None:
            message = "order with this orderID was not found"
            return web.json_response(
                {"error": "NOT_FOUND", "error_details": message, "message": message}, status=404
            )
        return web.json_response({"order": self._order_row(order)})

    async def list_fills(self, request: web.Request, params: Any) -> web.Response:
        """GET /api/v3/brokerage/orders/historical/fills (newest first)."""
        product_id = params.get("product_id")
        order_ids = set(params.getall("order_ids", [])) | set(params.getall("order_id", []))
        start = params.get("start_sequence_timestamp")
        limit = int(params.get("limit", "100") or 100)
        rows = [
            fill_dict(f)
            for f in reversed(self.engine.account_fills(USER, product_id))
            if f.exec_id not in self._withheld
            and (not order_ids or f.order_id in order_ids)
            and (start is None or rfc3339(f.ts_ms) >= start)
        ]
        return web.json_response({"fills": rows[:limit], "cursor": ""})

    # -- WebSocket --------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.StreamResponse:
        """The Advanced Trade WebSocket (``wss://advanced-trade-ws.coinbase.com``)."""
        return await self.exchange.serve_ws(request, self._on_ws)

    def _envelope(self, conn: WsConnection, channel: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        counter = self._sequences.setdefault(conn.conn_id, itertools.count(0))
        return {
            "channel": channel,
            "client_id": "",
            "timestamp": rfc3339(self.exchange.now_ms()),
            "sequence_num": next(counter),
            "events": events,
        }

    def _subscriptions(self, conn: WsConnection) -> dict[str, list[str]]:
        subs: dict[str, list[str]] = {}
        for topic in sorted(conn.topics):
            channel, _, product = topic.partition(":")
            subs.setdefault(channel, [])
            if product != "*":
                subs[channel].append(product)
        return subs

    async def _on_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        channel = str(msg.get("channel") or "")
        products = [str(p) for p in msg.get("product_ids") or []]
        if kind not in ("subscribe", "unsubscribe"):
            conn.send({"type": "error", "message": f"unknown message type {kind!r}"})
            return
        if channel not in PUBLIC_CHANNELS | PRIVATE_CHANNELS:
            conn.send({"type": "error", "message": "Failed to subscribe"})
            return
        token = msg.get("jwt")
        if token is not None or channel in PRIVATE_CHANNELS:
            try:
                if not isinstance(token, str):
                    raise TokenRejected("no jwt")
                verify_token(token, self.keys, self._now_secs())
            except TokenRejected as e:
                self.auth_failures.append(str(e))
                conn.send(WS_AUTH_FAILURE)
                return
            conn.authenticated = True
            conn.user = USER
        unknown = [p for p in products if p not in self.engine.markets]
        if unknown:
            conn.send({"type": "error", "message": f"Failed to subscribe: unknown product {unknown[0]}"})
            return
        topics = [f"{channel}:{p}" for p in products] or [f"{channel}:*"]
        if kind == "unsubscribe":
            conn.topics.difference_update(topics)
            conn.send(self._envelope(conn, "subscriptions", [{"subscriptions": self._subscriptions(conn)}]))
            return
        conn.topics.update(topics)
        conn.send(self._envelope(conn, "subscriptions", [{"subscriptions": self._subscriptions(conn)}]))
        for product in products:
            if channel == "level2":
                conn.send(self._l2_snapshot(conn, product))
            elif channel == "market_trades":
                # the recent tape, newest first (a product that never traded has none to send:
                # ccxt reads the product of a snapshot from its first trade)
                tape = self.engine.trades.get(product, [])[-_TRADE_SNAPSHOT:]
                if tape:
                    rows = [self._trade_row(t) for t in reversed(tape)]
                    conn.send(self._envelope(conn, "market_trades", [{"type": "snapshot", "trades": rows}]))
            elif channel in ("ticker", "ticker_batch"):
                conn.send(
                    self._envelope(conn, channel, [{"type": "snapshot", "tickers": [self._ticker(product)]}])
                )
        if channel == "user":
            orders = [
                ws_order_dict(o, post_only=o.order_id in self._post_only)
                for o in self.engine.open_orders(USER)
                if not products or o.symbol in products
            ]
            conn.send(self._envelope(conn, "user", [{"type": "snapshot", "orders": orders}]), private=True)

    def _l2_snapshot(self, conn: WsConnection, product: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(product, 1000)
        now = rfc3339(self.exchange.now_ms())
        updates = [
            {"side": side, "event_time": now, "price_level": dec_str(p), "new_quantity": dec_str(q)}
            for side, levels in (("bid", bids), ("offer", asks))
            for p, q in levels
        ]
        return self._envelope(
            conn, "l2_data", [{"type": "snapshot", "product_id": product, "updates": updates}]
        )

    def _ticker(self, product: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(product, 1)
        tape = self.engine.trades.get(product) or []
        last = tape[-1].price if tape else self.engine.mark_price(product)
        return {
            "type": "ticker",
            "product_id": product,
            "price": dec_str(last),
            "volume_24_h": dec_str(sum((t.qty for t in tape), Decimal(0))),
            "low_24_h": dec_str(min((t.price for t in tape), default=last)),
            "high_24_h": dec_str(max((t.price for t in tape), default=last)),
            "low_52_w": dec_str(min((t.price for t in tape), default=last)),
            "high_52_w": dec_str(max((t.price for t in tape), default=last)),
            "price_percent_chg_24_h": "0",
            "best_bid": dec_str(bids[0][0]) if bids else "",
            "best_bid_quantity": dec_str(bids[0][1]) if bids else "",
            "best_ask": dec_str(asks[0][0]) if asks else "",
            "best_ask_quantity": dec_str(asks[0][1]) if asks else "",
        }

    def _subscribers(self, topic: str, *, private: bool = False) -> list[WsConnection]:
        return [
            c
            for c in list(self.exchange.connections)
            if c.path == WS_PATH and topic in c.topics and (not private or c.authenticated)
        ]

    # -- pushes -----------------------------------------------------------------------------

    def _on_fill(self, fill: EngineFill) -> None:
        if fill.account != USER:
            return
        if self.exchange.faults.take("withhold_fills_next"):
            self._withheld.add(fill.exec_id)
        self._filled.add(fill.order_id)

    def _push_order(self, order: EngineOrder) -> None:
        if order.account != USER:
            return
        carries_fill = order.order_id in self._filled
        self._filled.discard(order.order_id)
        if carries_fill and self.exchange.faults.take("drop_private_fills"):
            return
        row = ws_order_dict(order, post_only=order.order_id in self._post_only)
        for topic in ("user:*", f"user:{order.symbol}"):
            for conn in self._subscribers(topic, private=True):
                message = self._envelope(conn, "user", [{"type": "update", "orders": [row]}])
                conn.send(message, private=True)
                if self.exchange.faults.duplicate_fills and carries_fill:
                    conn.send(message, private=True)

    def _push_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        if self.exchange.faults.silence_market_data:
            return
        now = rfc3339(self.exchange.now_ms())
        updates = [
            {
                "side": "bid" if side is Side.BUY else "offer",
                "event_time": now,
                "price_level": dec_str(price),
                "new_quantity": dec_str(size),
            }
            for side, price, size in changes
        ]
        for conn in self._subscribers(f"level2:{symbol}"):
            conn.send(
                self._envelope(
                    conn, "l2_data", [{"type": "update", "product_id": symbol, "updates": updates}]
                )
            )
        for channel in ("ticker", "ticker_batch"):
            for conn in self._subscribers(f"{channel}:{symbol}"):
                conn.send(
                    self._envelope(conn, channel, [{"type": "update", "tickers": [self._ticker(symbol)]}])
                )

    def _push_trade(self, trade: PublicTrade) -> None:
        if self.exchange.faults.silence_market_data:
            return
        for conn in self._subscribers(f"market_trades:{trade.symbol}"):
            conn.send(
                self._envelope(
                    conn, "market_trades", [{"type": "update", "trades": [self._trade_row(trade)]}]
                )
            )
