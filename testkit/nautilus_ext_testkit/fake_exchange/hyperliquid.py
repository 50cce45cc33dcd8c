"""
The Hyperliquid part of the fake exchange: ``POST /info``, ``POST /exchange`` and ``/ws``.

Shapes follow https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api and the recorded
payloads in NautilusTrader's ``crates/adapters/hyperliquid/test_data``. Prices and sizes are
strings, order ids are integers, client ids (``cloid``) are 128-bit hex strings, sides are
``B``/``A``. Every ``/exchange`` request's EIP-712 signer is recovered as the venue does
(:mod:`.hyperliquid_signing`) and must be the configured wallet or an agent it approved; nonces
follow the venue's rules (unique per signer, above the lowest of the signer's 100 highest, within
two days before and one day after the exchange clock).
"""

from __future__ import annotations

import bisect
import time
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web
from eth_account import Account

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import SignatureError
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import recover_signer

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

WS_PATH: Final = "/ws"
# A throwaway key (never funded anywhere) and its address: the fake's default trading wallet
TEST_PRIVATE_KEY: Final = "0x" + "11" * 32
TEST_WALLET: Final = str(Account.from_key(TEST_PRIVATE_KEY).address).lower()
# Hyperliquid keeps the 100 highest nonces per signer; a nonce must be within (T - 2d, T + 1d)
_NONCES_KEPT: Final = 100
_NONCE_PAST_MS: Final = 2 * 86_400_000
_NONCE_FUTURE_MS: Final = 86_400_000

# Hyperliquid's error strings for rejected order statuses
_ERRORS: Final[dict[RejectReason, str]] = {
    RejectReason.UNKNOWN_SYMBOL: "Invalid asset.",
    RejectReason.INVALID_QUANTITY: "Order has invalid size.",
    RejectReason.INVALID_PRICE: "Order has invalid price.",
    RejectReason.INSUFFICIENT_BALANCE: "Insufficient margin to place order. asset={asset}",
    RejectReason.POST_ONLY_WOULD_TAKE: (
        "Post only order would have immediately matched, bbo was {bbo}. asset={asset}"
    ),
    RejectReason.FOK_NOT_FILLABLE: "Order could not immediately match. asset={asset}",
    RejectReason.REDUCE_ONLY_INCREASES: "Reduce only order would increase position. asset={asset}",
    RejectReason.DUPLICATE_CLIENT_ID: "Duplicate cloid. asset={asset}",
    RejectReason.ORDER_NOT_FOUND: ("Order was never placed, already canceled, or filled. asset={asset}"),
    RejectReason.INJECTED: "Order rejected by fake exchange fault injection. asset={asset}",
}
_TIF_IN: Final = {"Gtc": TimeInForce.GTC, "Ioc": TimeInForce.IOC, "Alo": TimeInForce.POST_ONLY}
_TIF_OUT: Final = {v: k for k, v in _TIF_IN.items()}
_STATUS: Final = {
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.REJECTED: "rejected",
}


def default_hyperliquid_markets() -> list[MarketSpec]:
    """Return BTC and ETH perpetuals (USDC margined) with Hyperliquid-like increments."""
    return [
        MarketSpec(
            "BTC",
            "BTC",
            "USDC",
            Decimal(1),
            Decimal("0.00001"),
            Decimal("0.00001"),
            maker_fee=Decimal("0.00015"),
            taker_fee=Decimal("0.00045"),
            max_leverage=40,
        ),
        MarketSpec(
            "ETH",
            "ETH",
            "USDC",
            Decimal("0.1"),
            Decimal("0.0001"),
            Decimal("0.0001"),
            maker_fee=Decimal("0.00015"),
            taker_fee=Decimal("0.00045"),
            max_leverage=25,
        ),
    ]


def _s(value: Decimal | None) -> str:
    return "0.0" if value is None else format(value.normalize(), "f")


def _oid(order_id: str) -> int:
    return int(order_id.split("-", 1)[0])


def _side(side: Side) -> str:
    return "B" if side is Side.BUY else "A"


class HyperliquidProtocol:
    """
    Serve Hyperliquid's info, exchange and WebSocket APIs on top of a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server.
    engine : MatchingEngine
        The engine holding Hyperliquid's books (accounts are lower-case user addresses).
    wallet : str
        The trading account's address (lower case).
    mainnet : bool, default True
        Which chain signatures must name (phantom agent source ``a``/``b``, ``Mainnet``/``Testnet``).
    """

    def __init__(
        self, exchange: FakeExchange, engine: MatchingEngine, *, wallet: str, mainnet: bool = True
    ) -> None:
        self.exchange = exchange
        self.engine = engine
        self.wallet = wallet.lower()
        self.mainnet = mainnet
        # agent (API wallet) address -> the account it trades for
        self.agents: dict[str, str] = {}
        # signer -> its highest nonces, ascending (at most _NONCES_KEPT)
        self.nonces: dict[str, list[int]] = {}
        self.assets = list(engine.markets)
        engine.funding.configure(rate=Decimal("0.0000125"), interval_hours=1)  # hourly funding
        from nautilus_ext_testkit.fake_exchange.funding_venues import HyperliquidFunding

        self.funding = HyperliquidFunding(self)
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)

    @property
    def funding_rate(self) -> Decimal:
        """The current funding rate of the first listed market (see ``engine.funding``)."""
        return self.engine.funding.state(next(iter(self.engine.markets))).rate

    def register(self, app: web.Application) -> None:
        """Add Hyperliquid's routes to ``app``."""
        app.router.add_post("/info", self.info)
        app.router.add_post("/exchange", self.exchange_action)
        app.router.add_get(WS_PATH, self.ws)

    # -- info -------------------------------------------------------------------------------

    def _universe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": spec.symbol,
                "szDecimals": -int(spec.qty_step.normalize().as_tuple().exponent),
                "maxLeverage": spec.max_leverage,
                "marginTableId": spec.max_leverage,
            }
            for spec in self.engine.markets.values()
        ]

    def _asset_ctx(self, coin: str) -> dict[str, Any]:
        mark = self.engine.mark_price(coin)
        bid, ask = self.engine.best(coin)
        return {
            "funding": _s(self.funding_rate),
            "openInterest": "0.0",
            "prevDayPx": _s(mark),
            "dayNtlVlm": "0.0",
            "premium": "0.0",
            "oraclePx": _s(mark),
            "markPx": _s(mark),
            "midPx": _s(mark),
            "impactPxs": [_s(bid or mark), _s(ask or mark)],
            "dayBaseVlm": "0.0",
            **self.funding.asset_ctx_fields(coin),
        }

    def _book(self, coin: str) -> dict[str, Any]:
        bids, asks = self.engine.levels(coin, 20)
        return {
            "coin": coin,
            "time": self.exchange.now_ms(),
            "levels": [
                [{"px": _s(p), "sz": _s(q), "n": 1} for p, q in bids],
                [{"px": _s(p), "sz": _s(q), "n": 1} for p, q in asks],
            ],
        }

    def order_dict(self, order: EngineOrder) -> dict[str, Any]:
        """Return an order in Hyperliquid's ``frontendOpenOrders`` shape."""
        return {
            "coin": order.symbol,
            "side": _side(order.side),
            "limitPx": _s(order.price),
            "sz": _s(order.leaves if order.is_open else order.qty - order.filled),
            "oid": _oid(order.order_id),
            "timestamp": order.created_ms,
            "origSz": _s(order.qty),
            "cloid": order.client_id or None,
            "reduceOnly": order.reduce_only,
            "orderType": "Limit" if order.order_type == "limit" else "Market",
            "tif": _TIF_OUT.get(order.tif, "Ioc"),
            "isTrigger": False,
            "triggerPx": "0.0",
            "triggerCondition": "N/A",
            "isPositionTpsl": False,
            "children": [],
        }

    def fill_dict(self, fill: EngineFill) -> dict[str, Any]:
        """Return a fill in Hyperliquid's ``userFills`` shape."""
        pos = self.engine.position(fill.account, fill.symbol).qty
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        start = pos - signed
        opening = start == 0 or (start > 0) == (signed > 0)
        long_short = "Long" if (signed > 0) == opening else "Short"
        return {
            "coin": fill.symbol,
            "px": _s(fill.price),
            "sz": _s(fill.qty),
            "side": _side(fill.side),
            "time": fill.ts_ms,
            "startPosition": _s(start),
            "dir": f"{'Open' if opening else 'Close'} {long_short}",
            "closedPnl": "0.0",
            "hash": "0x" + f"{fill.seq:064x}",
            "oid": _oid(fill.order_id),
            "crossed": not fill.is_maker,
            "fee": _s(fill.fee),
            "tid": fill.seq,
            "cloid": fill.client_id or None,
            "feeToken": "USDC",
            "twapId": None,
        }

    def _clearinghouse(self, user: str) -> dict[str, Any]:
        positions = []
        total_ntl = Decimal(0)
        for coin in self.engine.markets:
            pos = self.engine.position(user, coin)
            if not pos.qty:
                continue
            mark = self.engine.mark_price(coin)
            ntl = abs(pos.qty) * mark
            total_ntl += ntl
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": _s(pos.qty),
                        "leverage": {"type": "cross", "value": int(self.engine.leverage)},
                        "entryPx": _s(pos.avg_price),
                        "positionValue": _s(ntl),
                        "unrealizedPnl": _s(pos.qty * (mark - pos.avg_price)),
                        "returnOnEquity": "0.0",
                        "liquidationPx": None,
                        "marginUsed": _s(ntl / self.engine.leverage),
                        "maxLeverage": self.engine.markets[coin].max_leverage,
                        # Hyperliquid counts funding paid as positive
                        "cumFunding": {
                            "allTime": _s(-self.engine.funding.cumulative.get((user, coin), Decimal(0))),
                            "sinceOpen": _s(-self.engine.funding.cumulative.get((user, coin), Decimal(0))),
                            "sinceChange": "0.0",
                        },
                    },
                }
            )
        value = self.engine.balances.get(user, Decimal(0))
        summary = {
            "accountValue": _s(value),
            "totalNtlPos": _s(total_ntl),
            "totalRawUsd": _s(value),
            "totalMarginUsed": _s(total_ntl / self.engine.leverage),
        }
        return {
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": _s(self.engine.available_balance(user)),
            "assetPositions": positions,
            "time": self.exchange.now_ms(),
        }

    async def info(self, request: web.Request) -> web.Response:
        """POST /info: dispatch on the request's ``type``."""
        body: dict[str, Any] = await request.json()
        kind = body.get("type")
        user = str(body.get("user", "")).lower()
        result: Any
        if kind == "meta":
            result = {"universe": self._universe(), "marginTables": []}
        elif kind == "metaAndAssetCtxs":
            result = [
                {"universe": self._universe(), "marginTables": []},
                [self._asset_ctx(c) for c in self.assets],
            ]
        elif kind == "spotMetaAndAssetCtxs":
            result = [{"universe": [], "tokens": []}, []]
        elif kind == "spotMeta":
            result = {"universe": [], "tokens": []}
        elif kind == "perpDexs":
            result = [None]
        elif kind == "allMids":
            result = {c: _s(self.engine.mark_price(c)) for c in self.assets}
        elif kind == "l2Book":
            coin = str(body.get("coin", ""))
            if coin not in self.engine.markets:
                return web.json_response(None)
            result = self._book(coin)
        elif kind == "clearinghouseState":
            result = self._clearinghouse(user)
        elif kind in ("openOrders", "frontendOpenOrders"):
            result = [self.order_dict(o) for o in reversed(self.engine.open_orders(user))]
        elif kind in ("userFills", "userFillsByTime"):
            start = int(body.get("startTime", 0) or 0)
            fills = [f for f in self.engine.account_fills(user) if f.ts_ms >= start]
            result = [self.fill_dict(f) for f in reversed(fills)]
        elif kind == "orderStatus":
            result = self._order_status(user, body.get("oid"))
        elif kind in ("historicalOrders", "userHistoricalOrders"):
            orders = [o for o in self.engine.orders.values() if o.account == user]
            result = [self._status_entry(o) for o in reversed(orders)]
        elif kind == "userFees":
            result = {"userCrossRate": "0.00045", "userAddRate": "0.00015", "feeSchedule": {}}
        else:
            known, result = self.funding.info(str(kind), body)
            if not known:
                return web.json_response({"error": f"unsupported info type {kind}"}, status=422)
        return web.json_response(result)

    def _status_entry(self, order: EngineOrder) -> dict[str, Any]:
        return {
            "order": self.order_dict(order),
            "status": _STATUS[order.status],
            "statusTimestamp": order.updated_ms,
        }

    def _order_status(self, user: str, ref: Any) -> dict[str, Any]:
        order: EngineOrder | None = None
        if isinstance(ref, str) and ref.startswith("0x"):
            order = self.engine.find_order(user, client_id=ref)
        elif ref is not None:
            order = next((o for o in self.engine.orders.values() if _oid(o.order_id) == int(ref)), None)
        if order is None or order.account != user:
            return {"status": "unknownOid"}
        return {"status": "order", "order": self._status_entry(order)}

    # -- exchange ---------------------------------------------------------------------------

    def _error(self, reason: RejectReason, asset: int, coin: str = "") -> dict[str, str]:
        bid, ask = self.engine.best(coin) if coin in self.engine.markets else (None, None)
        return {"error": _ERRORS[reason].format(asset=asset, bbo=f"{_s(bid)}@{_s(ask)}")}

    def _place(self, wire: dict[str, Any]) -> dict[str, Any]:
        asset = int(wire.get("a", -1))
        if not 0 <= asset < len(self.assets):
            return self._error(RejectReason.UNKNOWN_SYMBOL, asset)
        coin = self.assets[asset]
        cloid = str(wire.get("c") or "")
        self.exchange.record_order("hyperliquid", cloid)
        if self.exchange.faults.take("reject_next_orders"):
            return self._error(RejectReason.INJECTED, asset, coin)
        limit = (wire.get("t") or {}).get("limit") or {}
        tif = _TIF_IN.get(str(limit.get("tif", "Gtc")))
        if tif is None:
            return {"error": f"Invalid TIF {limit.get('tif')!r}. asset={asset}"}
        try:
            order = self.engine.submit(
                self.wallet,
                coin,
                Side.BUY if wire.get("b") else Side.SELL,
                "limit",
                Decimal(str(wire.get("s", "0"))),
                price=Decimal(str(wire.get("p", "0"))),
                tif=tif,
                reduce_only=bool(wire.get("r", False)),
                client_id=cloid,
            )
        except EngineReject as e:
            return self._error(e.reason, asset, coin)
        oid = _oid(order.order_id)
        if order.status is OrderStatus.FILLED:
            return {"filled": {"totalSz": _s(order.filled), "avgPx": _s(order.avg_price), "oid": oid}}
        if order.is_open:
            resting: dict[str, Any] = {"oid": oid}
            if cloid:
                resting["cloid"] = cloid
            return {"resting": resting}
        if order.filled:
            return {"filled": {"totalSz": _s(order.filled), "avgPx": _s(order.avg_price), "oid": oid}}
        return {"error": f"Order could not immediately match against any resting orders. asset={asset}"}

    def _cancel(self, asset: int, oid: Any = None, cloid: Any = None) -> Any:
        order: EngineOrder | None = None
        if cloid:
            order = self.engine.find_order(self.wallet, client_id=str(cloid))
        elif oid is not None:
            order = next(
                (
                    o
                    for o in self.engine.orders.values()
                    if _oid(o.order_id) == int(oid) and o.account == self.wallet
                ),
                None,
            )
        try:
            if order is None:
                raise EngineReject(RejectReason.ORDER_NOT_FOUND, "not found")
            self.engine.cancel(self.wallet, order.order_id)
        except EngineReject as e:
            return self._error(e.reason, asset)
        return "success"

    async def exchange_action(self, request: web.Request) -> web.Response:
        """POST /exchange: order, cancel, cancelByCloid, batchModify, scheduleCancel."""
        body: dict[str, Any] = await request.json()
        action = body.get("action") or {}
        kind = action.get("type")
        refusal = self._authenticate(body)
        if refusal is not None:
            return web.json_response({"status": "err", "response": refusal})
        if kind == "approveAgent":
            self.agents[str(action.get("agentAddress", "")).lower()] = self.wallet
            return web.json_response({"status": "ok", "response": {"type": "default"}})
        if kind == "order":
            statuses = [self._place(w) for w in action.get("orders") or []]
            return self._ok("order", statuses)
        if kind == "cancel":
            statuses = [
                self._cancel(int(c.get("a", -1)), oid=c.get("o")) for c in action.get("cancels") or []
            ]
            return self._ok("cancel", statuses)
        if kind == "cancelByCloid":
            statuses = [
                self._cancel(int(c.get("asset", -1)), cloid=c.get("cloid"))
                for c in action.get("cancels") or []
            ]
            return self._ok("cancel", statuses)
        if kind in ("modify", "batchModify"):
            modifies = action.get("modifies") or [action]
            statuses = [self._modify(m) for m in modifies]
            return self._ok("batchModify", statuses)
        if kind in ("withdraw3", "usdSend"):
            return self._send_out(action)
        if kind in ("approveBuilderFee", "setReferrer", "scheduleCancel", "updateLeverage"):
            return web.json_response({"status": "ok", "response": {"type": "default"}})
        return web.json_response({"status": "err", "response": f"Unknown action {kind}"})

    def _send_out(self, action: dict[str, Any]) -> web.Response:
        # a withdrawal or transfer leaves the fake: debit the account's free balance
        try:
            amount = Decimal(str(action.get("amount")))
        except ArithmeticError:
            return web.json_response({"status": "err", "response": "Invalid amount"})
        if not amount > 0 or amount > self.engine.available_balance(self.wallet):
            return web.json_response({"status": "err", "response": "Insufficient balance for withdrawal"})
        self.engine.balances[self.wallet] = self.engine.balances.get(self.wallet, Decimal(0)) - amount
        return web.json_response({"status": "ok", "response": {"type": "default"}})

    def _authenticate(self, body: dict[str, Any]) -> str | None:
        """Return the venue's refusal text, or ``None`` if the signer may act for the wallet."""
        try:
            signed = recover_signer(body, mainnet=self.mainnet)
        except SignatureError as e:
            return str(e)
        account = signed.signer if signed.signer == self.wallet else self.agents.get(signed.signer)
        # user-signed actions (transfers, agent approvals) must come from the account itself
        if account != self.wallet or (signed.user_signed and signed.signer != self.wallet):
            # the venue's text: the recovered address is neither an account nor an API wallet
            return f"User or API Wallet {signed.signer} does not exist."
        return self._use_nonce(signed.signer, signed.nonce)

    def _use_nonce(self, signer: str, nonce: int) -> str | None:
        now = self.exchange.now_ms()
        used = self.nonces.setdefault(signer, [])
        # only the duplicate text is confirmed from the venue; the other two keep its prefix
        if nonce in used:
            return f"Invalid nonce: duplicate nonce {nonce}"
        if not now - _NONCE_PAST_MS < nonce < now + _NONCE_FUTURE_MS:
            return f"Invalid nonce: nonce {nonce} is outside the allowed window around {now}"
        if len(used) >= _NONCES_KEPT and nonce < used[0]:
            return f"Invalid nonce: nonce {nonce} is lower than all of the 100 highest nonces"
        bisect.insort(used, nonce)
        if len(used) > _NONCES_KEPT:
            used.pop(0)
        return None

    def _modify(self, modify: dict[str, Any]) -> dict[str, Any]:
        wire = modify.get("order") or {}
        asset = int(wire.get("a", -1))
        ref = modify.get("oid")
        order = None
        if isinstance(ref, str) and ref.startswith("0x"):
            order = self.engine.find_order(self.wallet, client_id=ref)
        elif ref is not None:
            order = next(
                (
                    o
                    for o in self.engine.orders.values()
                    if _oid(o.order_id) == int(ref) and o.account == self.wallet
                ),
                None,
            )
        try:
            if order is None:
                raise EngineReject(RejectReason.ORDER_NOT_FOUND, "not found")
            amended = self.engine.amend(
                self.wallet,
                order_id=order.order_id,
                qty=Decimal(str(wire["s"])) + order.filled if wire.get("s") else None,
                price=Decimal(str(wire["p"])) if wire.get("p") else None,
            )
        except EngineReject as e:
            return self._error(e.reason, asset)
        return {"resting": {"oid": _oid(amended.order_id)}}

    def _ok(self, kind: str, statuses: list[Any]) -> web.Response:
        return web.json_response({"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}})

    # -- WebSocket --------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/ws``."""
        return await self.exchange.serve_ws(request, self._on_ws)

    @staticmethod
    def _topic(sub: dict[str, Any]) -> str:
        return f"{sub.get('type')}:{str(sub.get('coin') or sub.get('user') or '').lower()}"

    async def _on_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "ping":
            conn.send({"channel": "pong"})
            return
        sub = msg.get("subscription") or {}
        if method == "unsubscribe":
            conn.topics.discard(self._topic(sub))
            conn.send({"channel": "subscriptionResponse", "data": msg})
            return
        if method != "subscribe":
            return
        topic = self._topic(sub)
        conn.topics.add(topic)
        conn.send({"channel": "subscriptionResponse", "data": msg})
        kind = sub.get("type")
        if kind in ("orderUpdates", "userFills", "userEvents", "userFundings"):
            conn.authenticated = True
            conn.user = str(sub.get("user", "")).lower()
            if kind == "userFills":
                fills = [self.fill_dict(f) for f in self.engine.account_fills(conn.user)]
                conn.send(
                    {"channel": "userFills", "data": {"isSnapshot": True, "user": conn.user, "fills": fills}},
                    private=True,
                )
        elif kind == "l2Book" and sub.get("coin") in self.engine.markets:
            conn.send({"channel": "l2Book", "data": self._book(str(sub["coin"]))})
        elif kind == "activeAssetCtx" and sub.get("coin") in self.engine.markets:
            coin = str(sub["coin"])
            conn.send({"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": self._asset_ctx(coin)}})

    def _push_order(self, order: EngineOrder) -> None:
        if order.account != self.wallet:
            return
        topic = f"orderUpdates:{self.wallet}"
        self.exchange.broadcast(
            WS_PATH,
            topic,
            {"channel": "orderUpdates", "data": [self._status_entry(order)]},
            private=True,
            user=self.wallet,
        )

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != self.wallet or self.exchange.faults.take("drop_private_fills"):
            return
        message = {"channel": "userFills", "data": {"user": self.wallet, "fills": [self.fill_dict(fill)]}}
        topic = f"userFills:{self.wallet}"
        copies = 2 if self.exchange.faults.duplicate_fills else 1
        for _ in range(copies):
            self.exchange.broadcast(WS_PATH, topic, message, private=True, user=self.wallet)

    def _push_book(self, coin: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        self.exchange.broadcast(
            WS_PATH, f"l2Book:{coin.lower()}", {"channel": "l2Book", "data": self._book(coin)}
        )
        self.exchange.broadcast(
            WS_PATH,
            f"activeAssetCtx:{coin.lower()}",
            {"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": self._asset_ctx(coin)}},
        )

    def _push_trade(self, trade: PublicTrade) -> None:
        self.exchange.broadcast(
            WS_PATH,
            f"trades:{trade.symbol.lower()}",
            {
                "channel": "trades",
                "data": [
                    {
                        "coin": trade.symbol,
                        "side": _side(trade.side),
                        "px": _s(trade.price),
                        "sz": _s(trade.qty),
                        "hash": "0x" + "0" * 64,
                        "time": trade.ts_ms,
                        "tid": int(time.perf_counter_ns() % 10**15),
                        "users": ["0x0", "0x0"],
                    }
                ],
            },
        )
