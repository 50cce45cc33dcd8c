"""
The GRVT part of the fake exchange, served under ``/grvt``: the edge (sign-in), market-data and
trades REST hosts and the market-data and trades WebSockets.

GRVT's three hosts all serve from ``/`` (``https://edge.grvt.io/auth/...``,
``https://trades.grvt.io/full/v1/...``) and both WebSockets from ``/ws/full``, so the fake keeps
each host's first label as a path segment: ``/grvt/edge/``, ``/grvt/trades/``,
``/grvt/market-data/`` (the ccxt adapter points its URLs there, see ``adapters/ccxt/client.py``).

Auth, as the venue does it (https://api-docs.grvt.io "Authentication"; ccxt 4.5.90 ``grvt.py``):

* ``auth/wallet/login`` (an EIP-712 ``WalletLogin`` signed by the wallet; what ccxt uses) or
  ``auth/api_key/login`` (an API key) answers ``{"status": "success"}`` with a ``gravity=...``
  session cookie and the ``X-Grvt-Account-Id`` header. Every trades request and the trades
  WebSocket must carry both, or GRVT answers 401 ``{"code": 1000, ...}``.
* Every order is EIP-712 signed; the signer is recovered from the order as sent (sizes in base
  units, prices in 1e-9, the instrument hash) and must be a trading key registered for the
  order's sub-account, which must belong to the session (errors 2000-2008, 1012).
* ``create_order`` answers the order as received, ``order_id`` ``0x00`` and state ``PENDING``
  (GRVT assigns the id when the order reaches the matching engine); the id is then on every
  order update, ``full/v1/order`` and ``open_orders``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import grvt_wire as wire
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce
from nautilus_ext_testkit.fake_exchange.grvt_wire import GrvtError

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

PREFIX: Final = "/grvt"
EDGE: Final = PREFIX + "/edge/"
MARKET: Final = PREFIX + "/market-data/"
TRADES: Final = PREFIX + "/trades/"
MARKET_WS: Final = MARKET + "ws/full"
TRADES_WS: Final = TRADES + "ws/full"
_UINT64_MAX: Final = 2**64 - 1
_BOOK_DEPTHS: Final = (10, 50, 100, 500)


@dataclass(frozen=True)
class Session:
    """A signed-in session: its main account and when it expires (exchange ms)."""

    account_id: str
    expires_ms: int


class GrvtProtocol:
    """
    Serve GRVT's REST and WebSocket APIs on top of a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server.
    engine : MatchingEngine
        GRVT's books; the account of a sub-account's orders is its id.
    wallet : str
        The main account's wallet address (signs in; by default also the trading key).
    sub_account : str
        The main account's only sub-account id.
    trading_keys : frozenset[str], optional
        Addresses allowed to sign orders for ``sub_account`` (default: ``wallet``).
    api_key : str
        The API key ``auth/api_key/login`` accepts.
    chain_id : int, default 325
        GRVT's signing chain id (325 mainnet, 326 testnet).
    """

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        wallet: str = wire.TEST_WALLET,
        sub_account: str = wire.TEST_SUB_ACCOUNT,
        trading_keys: frozenset[str] | None = None,
        api_key: str = wire.TEST_API_KEY,
        chain_id: int = wire.MAINNET_CHAIN_ID,
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.wallet = wallet.lower()
        self.sub_account = sub_account
        self.trading_keys = {k.lower() for k in (trading_keys or {self.wallet})}
        self.api_key = api_key
        self.chain_id = chain_id
        self.funding_rate = Decimal("0.0001")
        self.sessions: dict[str, Session] = {}
        self.instrument_hash = {sym: f"0x{0x030501 + 0x100 * i:06x}" for i, sym in enumerate(engine.markets)}
        self.created_ns = 1_768_040_726_362_828_205
        self._order_ids: dict[str, str] = {}  # engine id -> GRVT 128-bit id
        self._echo: dict[str, wire.OrderEcho] = {}
        # client id -> the wire order being submitted (its echo is kept once the engine names it)
        self._incoming: dict[str, dict[str, Any]] = {}
        self._seq: dict[tuple[str, str], int] = {}
        self._trade_ids = itertools.count(74_150_425)
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)

    def register(self, app: web.Application) -> None:
        """Add GRVT's routes to ``app``."""
        r = app.router
        r.add_post(EDGE + "auth/wallet/login", self.wallet_login)
        r.add_post(EDGE + "auth/api_key/login", self.api_key_login)
        public = {
            "all_instruments": self.all_instruments,
            "instruments": self.all_instruments,
            "instrument": self.instrument,
            "currency": self.currency,
            "book": self.book,
            "trade_history": self.trade_history,
            "trade": self.trade_history,
            "ticker": self.ticker,
            "mini": self.ticker,
        }
        for name, handler in public.items():
            r.add_post(MARKET + "full/v1/" + name, self._public(handler))
        private = {
            "create_order": self.create_order,
            "cancel_order": self.cancel_order,
            "cancel_all_orders": self.cancel_all_orders,
            "order": self.order,
            "open_orders": self.open_orders,
            "order_history": self.order_history,
            "fill_history": self.fill_history,
            "positions": self.positions,
            "account_summary": self.account_summary,
            "aggregated_account_summary": self.aggregated_account_summary,
            "get_sub_accounts": self.get_sub_accounts,
            "get_authorized_builders": self.get_authorized_builders,
        }
        for name, handler in private.items():
            r.add_post(TRADES + "full/v1/" + name, self._private(handler))
        r.add_get(MARKET_WS, self.market_ws)
        r.add_get(TRADES_WS, self.trades_ws)

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def error(err: GrvtError) -> web.Response:
        """Return GRVT's error payload."""
        return web.json_response(err.body(), status=err.status)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _public(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            body = await self._body(request)
            if body is None:
                return self.error(wire.MALFORMED)
            result = handler(body)
            return self.error(result) if isinstance(result, GrvtError) else web.json_response(result)

        return wrapped

    def session_of(self, headers: Any) -> Session | None:
        """Return the live session named by a request's cookie and account header, if any."""
        cookie = str(headers.get("Cookie", ""))
        token = None
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == wire.SESSION_COOKIE:
                token = value
        session = self.sessions.get(token or "")
        if session is None or session.expires_ms <= self.exchange.now_ms():
            return None
        if headers.get("X-Grvt-Account-Id") != session.account_id:
            return None
        return session

    def _private(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            if self.session_of(request.headers) is None:
                return self.error(wire.NOT_AUTHENTICATED)
            body = await self._body(request)
            if body is None:
                return self.error(wire.MALFORMED)
            if "sub_account_id" in body and str(body["sub_account_id"]) != self.sub_account:
                return self.error(wire.NOT_AUTHORIZED)
            result = handler(body)
            return self.error(result) if isinstance(result, GrvtError) else web.json_response(result)

        return wrapped

    def _signed_in(self, account_id: str) -> web.Response:
        token = wire.new_session_token()
        expires_ms = self.exchange.now_ms() + wire.SESSION_SECS * 1000
        self.sessions[token] = Session(account_id, expires_ms)
        response = web.json_response({"location": "", "status": "success"})
        response.headers["Set-Cookie"] = (
            f"{wire.SESSION_COOKIE}={token}; Path=/; Max-Age={wire.SESSION_SECS}; HttpOnly; Secure"
        )
        response.headers["X-Grvt-Account-Id"] = account_id
        return response

    # -- edge -------------------------------------------------------------------------------

    async def wallet_login(self, request: web.Request) -> web.Response:
        """POST auth/wallet/login: a ``WalletLogin`` signed by the wallet."""
        body = await self._body(request)
        if body is None:
            return self.error(wire.MALFORMED)
        sig = body.get("signature")
        address = str(body.get("address", "")).lower()
        if not isinstance(sig, dict) or not address:
            return self.error(wire.MALFORMED)
        shape = wire.signature_shape_error(sig)
        if shape is not None:
            return self.error(shape)
        try:
            expiration = int(sig["expiration"])
            typed = wire.login_typed_data(address, int(sig["nonce"]), expiration, self.chain_id)
        except (KeyError, TypeError, ValueError):
            return self.error(wire.MALFORMED)
        if expiration <= self.exchange.now_ms() * 1_000_000:
            return self.error(wire.SIGNATURE_EXPIRED)
        if wire.recover(typed, sig) != address:
            return self.error(wire.SIGNATURE_MISMATCH)
        if address != self.wallet:
            return self.error(wire.UNAUTHORIZED_SIGNER)
        return self._signed_in(self.wallet)

    async def api_key_login(self, request: web.Request) -> web.Response:
        """POST auth/api_key/login: ``{"api_key": ...}``."""
        body = await self._body(request)
        if body is None:
            return self.error(wire.MALFORMED)
        if body.get("api_key") != self.api_key:
            return self.error(wire.NOT_AUTHENTICATED)
        return self._signed_in(self.wallet)

    # -- market data ------------------------------------------------------------------------

    def all_instruments(self, body: dict[str, Any]) -> Any:
        """full/v1/all_instruments (and ``instruments``)."""
        return {
            "result": [
                wire.instrument_dict(spec, self.instrument_hash[sym], self.created_ns)
                for sym, spec in self.engine.markets.items()
            ]
        }

    def instrument(self, body: dict[str, Any]) -> Any:
        """full/v1/instrument."""
        sym = str(body.get("instrument", ""))
        if sym not in self.engine.markets:
            return wire.NOT_FOUND
        return {
            "result": wire.instrument_dict(
                self.engine.markets[sym], self.instrument_hash[sym], self.created_ns
            )
        }

    def currency(self, body: dict[str, Any]) -> Any:
        """full/v1/currency."""
        rows = [("2", "USDC", 6), ("3", "USDT", 6), ("4", "ETH", 9), ("5", "BTC", 9)]
        return {
            "result": [
                {"id": i, "symbol": c, "balance_decimals": d, "quantity_multiplier": str(10**d)}
                for i, c, d in rows
            ]
        }

    def _book(self, sym: str, depth: int) -> dict[str, Any]:
        bids, asks = self.engine.levels(sym, depth)
        return {
            "event_time": wire.ns(self.exchange.now_ms()),
            "instrument": sym,
            "bids": [{"price": wire.s(p), "size": wire.s(q), "num_orders": 1} for p, q in bids],
            "asks": [{"price": wire.s(p), "size": wire.s(q), "num_orders": 1} for p, q in asks],
        }

    def book(self, body: dict[str, Any]) -> Any:
        """full/v1/book (depth 10, 50, 100 or 500)."""
        sym = str(body.get("instrument", ""))
        if sym not in self.engine.markets:
            return wire.GrvtError(400, 3000, "Instrument is invalid")
        try:
            depth = int(body.get("depth", 10))
        except (TypeError, ValueError):
            return wire.GrvtError(400, 3031, "Depth is invalid")
        if depth not in _BOOK_DEPTHS:
            return wire.GrvtError(400, 3031, "Depth is invalid")
        return {"result": self._book(sym, depth)}

    def _public_trades(self, sym: str) -> list[dict[str, Any]]:
        mark = self.engine.mark_price(sym)
        return [
            wire.public_trade_dict(sym, t.trade_id, t.side is Side.BUY, t.qty, t.price, t.ts_ms, mark)
            for t in reversed(self.engine.trades.get(sym, []))
        ]

    def trade_history(self, body: dict[str, Any]) -> Any:
        """full/v1/trade_history: newest first, ``start_time``/``end_time`` in ns."""
        sym = str(body.get("instrument", ""))
        if sym not in self.engine.markets:
            return wire.GrvtError(400, 3000, "Instrument is invalid")
        start = int(body.get("start_time", 0) or 0)
        rows = [t for t in self._public_trades(sym) if int(t["event_time"]) >= start]
        return {"result": rows[: int(body.get("limit", 500) or 500)], "next": ""}

    def _ticker(self, sym: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(sym, 1)
        tape = self.engine.trades.get(sym) or []
        return wire.ticker_dict(
            sym,
            self.exchange.now_ms(),
            bids[0] if bids else None,
            asks[0] if asks else None,
            self.engine.mark_price(sym),
            (tape[-1].price, tape[-1].qty) if tape else None,
            self.funding_rate,
        )

    def ticker(self, body: dict[str, Any]) -> Any:
        """full/v1/ticker (and ``mini``)."""
        sym = str(body.get("instrument", ""))
        if sym not in self.engine.markets:
            return wire.GrvtError(400, 3000, "Instrument is invalid")
        return {"result": self._ticker(sym)}

    # -- orders -----------------------------------------------------------------------------

    def grvt_id(self, order: EngineOrder) -> str:
        """Return GRVT's 128-bit order id of an engine order."""
        if order.order_id not in self._order_ids:
            number = int(order.order_id.split("-", 1)[0])
            self._order_ids[order.order_id] = f"0x010101050{number:023x}"
        return self._order_ids[order.order_id]

    def _find(self, body: dict[str, Any]) -> EngineOrder | GrvtError:
        order_id = body.get("order_id")
        client_id = body.get("client_order_id")
        if not order_id and not client_id:
            return wire.ORDER_ID_REQUIRED
        if client_id:
            # a client id names the active order that carries it (or the latest one)
            order = self.engine.find_order(self.sub_account, client_id=str(client_id))
        else:
            engine_id = next((k for k, v in self._order_ids.items() if v == order_id), None)
            order = self.engine.find_order(self.sub_account, order_id=engine_id) if engine_id else None
        return order if order is not None and order.order_id in self._echo else wire.NOT_FOUND

    def _order_dict(self, order: EngineOrder) -> dict[str, Any]:
        return wire.order_dict(order, self.grvt_id(order), self._echo[order.order_id])

    def _check_signature(self, order: dict[str, Any]) -> GrvtError | None:
        sig = order.get("signature")
        if not isinstance(sig, dict):
            return wire.MALFORMED
        shape = wire.signature_shape_error(sig)
        if shape is not None:
            return shape
        try:
            chain_id = int(sig.get("chain_id", 0))
            expiration = int(sig["expiration"])
            builder = order.get("builder") not in (None, "", "0x00")
            message = wire.order_message(order, self.instrument_hash, builder=builder)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            return wire.MALFORMED
        if chain_id != self.chain_id:
            return wire.BAD_CHAIN_ID
        now_ns = self.exchange.now_ms() * 1_000_000
        if expiration <= now_ns:
            return wire.SIGNATURE_EXPIRED
        if expiration > now_ns + wire.MAX_SIGNATURE_NS:
            return wire.TOO_LONG
        typed = wire.order_typed_data(message, builder=builder, chain_id=self.chain_id)
        signer = wire.recover(typed, sig)
        if signer is None or signer != str(sig.get("signer", "")).lower():
            return wire.SIGNATURE_MISMATCH
        if signer not in self.trading_keys:
            return wire.UNAUTHORIZED_SIGNER
        return None

    def create_order(self, body: dict[str, Any]) -> Any:
        """full/v1/create_order: verify the signed order, then hand it to the engine."""
        order = body.get("order")
        if not isinstance(order, dict) or not isinstance(order.get("legs"), list):
            return wire.MALFORMED
        if str(order.get("sub_account_id")) != self.sub_account:
            return wire.WRONG_SUB_ACCOUNT
        legs = order["legs"]
        if len(legs) != 1:
            return wire.ONE_LEG
        leg = legs[0]
        if not isinstance(leg, dict) or leg.get("instrument") not in self.engine.markets:
            return wire.UNSUPPORTED_INSTRUMENT
        refusal = self._check_signature(order)
        if refusal is not None:
            return refusal
        client_id = str((order.get("metadata") or {}).get("client_order_id") or "")
        if not client_id:
            return wire.NO_CLIENT_ID
        if not client_id.isdigit() or int(client_id) > _UINT64_MAX:
            return wire.MALFORMED  # a uint64 field: anything else does not parse
        self.exchange.record_order("grvt", client_id)
        return self._place(order, leg, client_id)

    def _place(self, order: dict[str, Any], leg: dict[str, Any], client_id: str) -> Any:
        spec = self.engine.markets[str(leg["instrument"])]
        is_market = bool(order.get("is_market", False))
        raw_price = leg.get("limit_price")
        has_price = raw_price not in (None, "", "0", "0.0")
        if is_market and has_price:
            return wire.MARKET_WITH_PRICE
        if not is_market and not has_price:
            return wire.LIMIT_WITHOUT_PRICE
        tif_name = str(order.get("time_in_force"))
        tif = wire.TIF_IN.get(tif_name)
        if tif is None:
            return wire.BAD_TIF
        post_only = bool(order.get("post_only", False))
        if post_only and tif_name != "GOOD_TILL_TIME":
            return wire.POST_ONLY_TIF
        qty = Decimal(str(leg["size"]))
        if qty < spec.min_qty:
            return wire.BELOW_MIN_SIZE
        if qty % spec.qty_step:
            return wire.TOO_GRANULAR
        if self.exchange.faults.take("reject_next_orders"):
            return wire.PRE_ORDER_CHECK
        reduce_only = bool(order.get("reduce_only", False))
        if post_only:
            tif = TimeInForce.POST_ONLY
        self._incoming[client_id] = order
        try:
            placed = self.engine.submit(
                self.sub_account,
                spec.symbol,
                Side.BUY if leg.get("is_buying_asset") else Side.SELL,
                "market" if is_market else "limit",
                qty,
                price=Decimal(str(raw_price)) if has_price else None,
                tif=tif,
                reduce_only=reduce_only,
                client_id=client_id,
                soft_reject=True,
            )
        except EngineReject as e:
            if e.reason is RejectReason.REDUCE_ONLY_INCREASES:
                position = self.engine.position(self.sub_account, spec.symbol).qty
                return wire.REDUCE_ONLY_NO_POSITION if not position else wire.REDUCE_ONLY_INCREASES
            return wire.ENGINE_REJECTS.get(e.reason, wire.PRE_ORDER_CHECK)
        finally:
            self._incoming.pop(client_id, None)
        self._adopt(placed, order)
        echo = self._echo[placed.order_id]
        return {"result": wire.order_dict(placed, self.grvt_id(placed), echo, pending=True)}

    def _adopt(self, order: EngineOrder, wire_order: dict[str, Any] | None = None) -> None:
        # keep the signed fields of the wire order for every later payload of ``order``
        if order.order_id in self._echo or order.account != self.sub_account:
            return
        wire_order = wire_order or self._incoming.get(order.client_id)
        if wire_order is None:
            return
        self._echo[order.order_id] = wire.OrderEcho(
            sub_account_id=self.sub_account,
            time_in_force=str(wire_order.get("time_in_force")),
            post_only=bool(wire_order.get("post_only", False)),
            is_market=bool(wire_order.get("is_market", False)),
            signature=dict(wire_order.get("signature") or {}),
            builder=str(wire_order.get("builder") or "0x00"),
            builder_fee=str(wire_order.get("builder_fee") or "0.0"),
        )

    def cancel_order(self, body: dict[str, Any]) -> Any:
        """full/v1/cancel_order by ``order_id`` or ``client_order_id``."""
        found = self._find(body)
        if isinstance(found, GrvtError):
            return found
        try:
            self.engine.cancel(self.sub_account, found.order_id)
        except EngineReject:
            return wire.NOT_FOUND
        return {"result": {"ack": True}}

    def cancel_all_orders(self, body: dict[str, Any]) -> Any:
        """full/v1/cancel_all_orders (optionally one ``base``/``quote``)."""
        for sym in self._symbols(body):
            self.engine.cancel_all(self.sub_account, sym)
        return {"result": {"ack": True}}

    def _symbols(self, body: dict[str, Any]) -> list[str]:
        bases = set(body.get("base") or [])
        quotes = set(body.get("quote") or [])
        return [
            sym
            for sym, spec in self.engine.markets.items()
            if (not bases or spec.base in bases) and (not quotes or spec.quote in quotes)
        ]

    def _mine(self) -> list[EngineOrder]:
        return [o for o in self.engine.orders.values() if o.order_id in self._echo]

    def order(self, body: dict[str, Any]) -> Any:
        """full/v1/order."""
        found = self._find(body)
        return found if isinstance(found, GrvtError) else {"result": self._order_dict(found)}

    def open_orders(self, body: dict[str, Any]) -> Any:
        """full/v1/open_orders."""
        symbols = set(self._symbols(body))
        rows = [self._order_dict(o) for o in self._mine() if o.is_open and o.symbol in symbols]
        return {"result": rows}

    def order_history(self, body: dict[str, Any]) -> Any:
        """full/v1/order_history: closed orders, newest first."""
        symbols = set(self._symbols(body))
        rows = [self._order_dict(o) for o in reversed(self._mine()) if not o.is_open and o.symbol in symbols]
        return {"result": rows[: int(body.get("limit", 500) or 500)], "next": ""}

    def _fill_dict(self, fill: EngineFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        signer = str(self._echo[order.order_id].signature.get("signer", self.wallet))
        return wire.fill_dict(
            fill, self.grvt_id(order), self.sub_account, signer, self.engine.mark_price(fill.symbol)
        )

    def fill_history(self, body: dict[str, Any]) -> Any:
        """full/v1/fill_history: newest first, ``start_time``/``end_time`` in ns."""
        symbols = set(self._symbols(body))
        start = int(body.get("start_time", 0) or 0)
        end = int(body.get("end_time", 0) or 0)
        rows = [
            self._fill_dict(f)
            for f in reversed(self.engine.account_fills(self.sub_account))
            if f.symbol in symbols
            and f.ts_ms * 1_000_000 >= start
            and (not end or f.ts_ms * 1_000_000 <= end)
        ]
        return {"result": rows[: int(body.get("limit", 500) or 500)], "next": ""}

    def _position_dict(self, sym: str, *, flat: bool = False) -> dict[str, Any] | None:
        # ``flat``: also a closed position (the stream reports it at size 0)
        pos = self.engine.position(self.sub_account, sym)
        if not pos.qty and not flat:
            return None
        return wire.position_dict(
            self.sub_account,
            pos,
            self.engine.mark_price(sym),
            self.engine.leverage,
            self.exchange.now_ms(),
        )

    def positions(self, body: dict[str, Any]) -> Any:
        """full/v1/positions."""
        rows = [self._position_dict(sym) for sym in self._symbols(body)]
        return {"result": [r for r in rows if r is not None]}

    def account_summary(self, body: dict[str, Any]) -> Any:
        """full/v1/account_summary (the sub-account)."""
        balance = self.engine.balances.get(self.sub_account, Decimal(0))
        positions = [p for p in (self._position_dict(sym) for sym in self.engine.markets) if p]
        upnl = sum((Decimal(p["unrealized_pnl"]) for p in positions), Decimal(0))
        return {
            "result": {
                "event_time": wire.ns(self.exchange.now_ms()),
                "sub_account_id": self.sub_account,
                "margin_type": "SIMPLE_CROSS_MARGIN",
                "settle_currency": "USDT",
                "unrealized_pnl": wire.s(upnl),
                "total_equity": wire.s(balance + upnl),
                "initial_margin": "0.0",
                "maintenance_margin": "0.0",
                "available_balance": wire.s(self.engine.available_balance(self.sub_account)),
                "spot_balances": [{"currency": "USDT", "balance": wire.s(balance), "index_price": "1.0"}],
                "positions": positions,
                "settle_index_price": "1.0",
            }
        }

    def aggregated_account_summary(self, body: dict[str, Any]) -> Any:
        """full/v1/aggregated_account_summary (the main account)."""
        balance = wire.s(self.engine.balances.get(self.sub_account, Decimal(0)))
        return {
            "result": {
                "main_account_id": self.wallet,
                "total_equity": balance,
                "spot_balances": [],
                "vault_investments": [],
                "total_sub_account_balance": balance,
                "total_sub_account_equity": balance,
                "total_vault_investments_balance": "0.0",
                "total_sub_account_available_balance": balance,
                "total_usd_notional_invested": "0.0",
            }
        }

    def get_sub_accounts(self, body: dict[str, Any]) -> Any:
        """full/v1/get_sub_accounts."""
        return {"sub_account_ids": [self.sub_account]}

    def get_authorized_builders(self, body: dict[str, Any]) -> Any:
        """full/v1/get_authorized_builders (none)."""
        return {"results": []}

    # -- WebSockets -------------------------------------------------------------------------

    async def market_ws(self, request: web.Request) -> web.StreamResponse:
        """The market-data WebSocket (public)."""
        return await self.exchange.serve_ws(request, self._on_market_ws)

    async def trades_ws(self, request: web.Request) -> web.StreamResponse:
        """The trades WebSocket: the upgrade needs the session cookie and account header."""
        if self.session_of(request.headers) is None:
            return self.error(wire.NOT_AUTHENTICATED)

        def opened(conn: WsConnection) -> None:
            conn.authenticated = True
            conn.user = self.sub_account

        return await self.exchange.serve_ws(request, self._on_trades_ws, opened)

    def _next_seq(self, conn: WsConnection, topic: str) -> str:
        key = (conn.conn_id, topic)
        self._seq[key] = self._seq.get(key, -1) + 1
        return str(self._seq[key])

    def _feed(
        self, conn: WsConnection, stream: str, selector: str, feed: dict[str, Any], *, private: bool = False
    ) -> None:
        seq = self._next_seq(conn, f"{stream}:{selector}")
        conn.send(
            {
                "stream": stream,
                "selector": selector,
                "sequence_number": seq,
                "feed": feed,
                "prev_sequence_number": str(max(int(seq) - 1, 0)),
            },
            private=private,
        )

    @staticmethod
    def _confirm(conn: WsConnection, msg: dict[str, Any], subs: list[str]) -> None:
        stream = str((msg.get("params") or {}).get("stream"))
        conn.send_text(json.dumps(wire.subscribed(msg.get("id"), stream, subs)))

    @staticmethod
    def _ws_error(conn: WsConnection, msg: dict[str, Any], code: int, message: str) -> None:
        conn.send_text(json.dumps(wire.ws_error(msg.get("id"), str(msg.get("method")), code, message)))

    async def _on_market_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        if msg.get("method") != "subscribe":
            return
        params = msg.get("params") or {}
        stream = str(params.get("stream", ""))
        selectors = [str(x) for x in params.get("selectors") or []]
        if stream not in (
            "v1.book.s",
            "v1.book.d",
            "v1.trade",
            "v1.ticker.s",
            "v1.ticker.d",
            "v1.mini.s",
            "v1.mini.d",
        ):
            self._ws_error(conn, msg, 1003, "Request could not be processed due to malformed syntax")
            return
        if any(sel.partition("@")[0] not in self.engine.markets for sel in selectors):
            self._ws_error(conn, msg, 3000, "Instrument is invalid")
            return
        for sel in selectors:
            conn.topics.add(f"{stream}:{sel}")
        self._confirm(conn, msg, selectors)
        for sel in selectors:
            self._snapshot(conn, stream, sel)

    def _snapshot(self, conn: WsConnection, stream: str, selector: str) -> None:
        sym, _, rest = selector.partition("@")
        if stream.startswith("v1.book"):
            depth = int(rest.split("-")[1]) if stream == "v1.book.s" and "-" in rest else 500
            self._feed(conn, stream, selector, self._book(sym, depth))
        elif stream.startswith(("v1.ticker", "v1.mini")):
            self._feed(conn, stream, selector, self._ticker(sym))

    def _market_conns(self, stream_prefix: str, sym: str) -> list[tuple[WsConnection, str, str]]:
        out = []
        for conn in list(self.exchange.connections):
            if not conn.path.startswith(MARKET_WS):
                continue
            for topic in conn.topics:
                stream, _, selector = topic.partition(":")
                if stream.startswith(stream_prefix) and selector.partition("@")[0] == sym:
                    out.append((conn, stream, selector))
        return out

    def _push_book(self, sym: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        if self.exchange.faults.silence_market_data:
            return
        for conn, stream, selector in self._market_conns("v1.book", sym):
            if stream == "v1.book.d":
                feed = {
                    "event_time": wire.ns(self.exchange.now_ms()),
                    "instrument": sym,
                    "bids": [
                        {"price": wire.s(p), "size": wire.s(q), "num_orders": 1 if q else 0}
                        for sd, p, q in changes
                        if sd is Side.BUY
                    ],
                    "asks": [
                        {"price": wire.s(p), "size": wire.s(q), "num_orders": 1 if q else 0}
                        for sd, p, q in changes
                        if sd is Side.SELL
                    ],
                }
                self._feed(conn, stream, selector, feed)
            else:
                self._snapshot(conn, stream, selector)
        for conn, stream, selector in self._market_conns("v1.ticker", sym) + self._market_conns(
            "v1.mini", sym
        ):
            self._snapshot(conn, stream, selector)

    def _push_trade(self, trade: PublicTrade) -> None:
        if self.exchange.faults.silence_market_data:
            return
        mark = self.engine.mark_price(trade.symbol)
        feed = wire.public_trade_dict(
            trade.symbol, trade.trade_id, trade.side is Side.BUY, trade.qty, trade.price, trade.ts_ms, mark
        )
        for conn, stream, selector in self._market_conns("v1.trade", trade.symbol):
            self._feed(conn, stream, selector, feed)

    async def _on_trades_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        if msg.get("method") != "subscribe":
            return
        params = msg.get("params") or {}
        stream = str(params.get("stream", ""))
        selectors = [str(x) for x in params.get("selectors") or []]
        if stream not in ("v1.order", "v1.fill", "v1.position", "v1.state"):
            self._ws_error(conn, msg, 1003, "Request could not be processed due to malformed syntax")
            return
        if any(sel.partition("-")[0] != self.sub_account for sel in selectors):
            self._ws_error(conn, msg, wire.NOT_AUTHORIZED.code, wire.NOT_AUTHORIZED.message)
            return
        for sel in selectors:
            conn.topics.add(f"{stream}:{sel}")
        self._confirm(conn, msg, selectors)

    def _push_private(self, stream: str, sym: str, feed: dict[str, Any]) -> None:
        wanted = {f"{stream}:{self.sub_account}", f"{stream}:{self.sub_account}-{sym}"}
        for conn in list(self.exchange.connections):
            if not conn.path.startswith(TRADES_WS) or not conn.authenticated:
                continue
            for topic in sorted(conn.topics & wanted):
                self._feed(conn, stream, topic.partition(":")[2], feed, private=True)

    def _push_order(self, order: EngineOrder) -> None:
        self._adopt(order)
        if order.account != self.sub_account or order.order_id not in self._echo:
            return
        self._push_private("v1.order", order.symbol, self._order_dict(order))

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != self.sub_account:
            return
        self._adopt(self.engine.orders[fill.order_id])
        position = self._position_dict(fill.symbol, flat=True)
        if position is not None:
            self._push_private("v1.position", fill.symbol, position)
        if self.exchange.faults.take("drop_private_fills"):
            return
        copies = 2 if self.exchange.faults.duplicate_fills else 1
        for _ in range(copies):
            self._push_private("v1.fill", fill.symbol, self._fill_dict(fill))
