"""
The Paradex part of the fake exchange: REST under ``/v1`` and the JSON-RPC WebSocket at ``/v1``.

Authentication is checked as Paradex does it: ``POST /v1/auth`` carries a StarkNet typed-data
signature (``Request{method, path, body, timestamp, expiration}``) by the account's STARK key in
the ``PARADEX-*`` headers and returns a JWT; every private call carries that JWT as a Bearer
token (HMAC and expiry checked); every order carries its own StarkNet signature over
``Order{timestamp, market, side, orderType, size, price}`` (sizes and prices scaled by 1e8),
verified against the account's public key (:mod:`.paradex_signing`). Accounts are known by
onboarding (``POST /v1/onboarding``, whose address must derive from the public key) or by
:meth:`ParadexProtocol.onboard`.

Orders follow Paradex's asynchronous model: ``POST /v1/orders`` answers ``status: NEW`` after
basic validation; risk checks and matching happen just after, and the order becomes ``OPEN``
or ``CLOSED`` with a ``cancel_reason`` (``NOT_ENOUGH_MARGIN`` for a failed margin check).
``DELETE`` answers 204 and queues the cancellation. The WebSocket pushes JSON-RPC frames, or
SBE binary frames (:mod:`.paradex_sbe`) to connections opened with ``?sbeSchemaId=1``;
acknowledgements and errors are JSON either way.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import paradex_sbe as sbe
from nautilus_ext_testkit.fake_exchange import paradex_signing as stark
from nautilus_ext_testkit.fake_exchange import paradex_wire as wire
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce
from nautilus_ext_testkit.fake_exchange.paradex_wire import ParadexError
from nautilus_ext_testkit.fake_exchange.paradex_wire import Ticket

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

PREFIX: Final = "/v1"
WS_PATH: Final = "/v1"
# A throwaway Ethereum key (never funded anywhere): ccxt derives the default STARK account from it
TEST_ETH_PRIVATE_KEY: Final = "0x" + "22" * 32
_TIF: Final = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "POST_ONLY": TimeInForce.POST_ONLY}
_BOOK_DEPTH: Final = 15
_MAX_CLIENT_ID: Final = 64  # docs: client_id <= 64 characters


def system_config() -> dict[str, Any]:
    """Return ``GET /v1/system/config`` (the fields ccxt and the Paradex SDKs read)."""
    return {
        "starknet_gateway_url": "http://127.0.0.1/unused",
        "starknet_chain_id": wire.STARKNET_CHAIN_ID,
        "block_explorer_url": "http://127.0.0.1/unused",
        "paraclear_address": "0x" + "c1ea2" * 12 + "c",
        "paraclear_decimals": 8,
        "paraclear_account_proxy_hash": wire.ACCOUNT_PROXY_CLASS_HASH,
        "paraclear_account_hash": wire.ACCOUNT_CLASS_HASH,
        "bridged_tokens": [{"name": "USDC", "symbol": "USDC", "decimals": 6}],
        "l1_core_contract_address": "0x" + "00" * 20,
        "l1_operator_address": "0x" + "00" * 20,
        "l1_chain_id": wire.L1_CHAIN_ID,
        "liquidation_fee": "0.2",
    }


def derive_account(eth_private_key: str) -> dict[str, str]:
    """
    Return the STARK account (``privateKey``, ``publicKey``, ``address``) Paradex derives
    from an Ethereum key under the fake's system config, exactly as ccxt and Paradex's
    front end do (a signature of the ``STARK Key`` typed message seeds the key).
    """
    import ccxt

    ex = ccxt.paradex({"privateKey": eth_private_key, "walletAddress": "0x" + "00" * 20})
    ex.options["systemConfig"] = system_config()
    account: dict[str, Any] = ex.retrieve_account()
    return {
        "privateKey": hex(int(account["privateKey"])),
        "publicKey": str(account["publicKey"]),
        "address": str(account["address"]),
    }


def _lower_hex(value: str) -> str:
    return hex(int(value, 16))


def _dec(value: Any) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise ValueError(f"not a decimal: {value!r}") from e
    if not result.is_finite():
        raise ValueError(f"not a decimal: {value!r}")
    return result


class ParadexProtocol:
    """
    Serve Paradex's REST and WebSocket APIs on top of a :class:`MatchingEngine`.

    Parameters
    ----------
    exchange : FakeExchange
        The owning server.
    engine : MatchingEngine
        The engine (accounts are lower-case STARK account addresses).
    accounts : dict[str, str]
        Onboarded accounts: address -> STARK public key (hex).
    """

    def __init__(self, exchange: FakeExchange, engine: MatchingEngine, accounts: dict[str, str]) -> None:
        self.exchange = exchange
        self.engine = engine
        self.accounts: dict[str, int] = {_lower_hex(a): int(k, 16) for a, k in accounts.items()}
        self.funding_rate = Decimal("0.0000125")
        self.jwt_secret = secrets.token_bytes(32)
        self.tickets: dict[str, Ticket] = {}
        self._by_engine: dict[str, Ticket] = {}
        self._client_ids: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._sbe_conns: set[str] = set()
        engine.listeners.on_order.append(self._on_engine_order)
        engine.listeners.on_fill.append(self._on_engine_fill)
        engine.listeners.on_book.append(self._push_book)
        engine.listeners.on_trade.append(self._push_trade)
        engine.listeners.on_position.append(self._push_position)

    def onboard(self, address: str, public_key: str) -> None:
        """Register an account as onboarded (what a successful ``POST /onboarding`` does)."""
        self.accounts[_lower_hex(address)] = int(public_key, 16)

    def register(self, app: web.Application) -> None:
        """Add Paradex's routes to ``app``."""
        r = app.router
        r.add_get(WS_PATH, self.ws)
        r.add_get(PREFIX + "/system/config", self._static(system_config))
        r.add_get(PREFIX + "/system/time", self._system_time)
        r.add_get(PREFIX + "/system/state", self._static(lambda: {"status": "ok"}))
        r.add_get(PREFIX + "/markets", self._markets)
        r.add_get(PREFIX + "/markets/summary", self._summary)
        r.add_get(PREFIX + "/orderbook/{market}", self._orderbook)
        r.add_get(PREFIX + "/trades", self._trades)
        r.add_post(PREFIX + "/onboarding", self._onboarding)
        r.add_post(PREFIX + "/auth", self._auth)
        r.add_get(PREFIX + "/balance", self._private(self._balance))
        r.add_get(PREFIX + "/account", self._private(self._account))
        r.add_get(PREFIX + "/positions", self._private(self._positions))
        r.add_get(PREFIX + "/fills", self._private(self._fills))
        r.add_get(PREFIX + "/orders", self._private(self._open_orders))
        r.add_get(PREFIX + "/orders-history", self._private(self._orders_history))
        r.add_get(PREFIX + "/orders/by_client_id/{client_id}", self._private(self._get_order))
        r.add_get(PREFIX + "/orders/{order_id}", self._private(self._get_order))
        r.add_post(PREFIX + "/orders", self._private(self._create_order))
        r.add_put(PREFIX + "/orders/{order_id}", self._private(self._modify_order))
        r.add_delete(PREFIX + "/orders", self._private(self._cancel_all))
        r.add_delete(PREFIX + "/orders/by_client_id/{client_id}", self._private(self._cancel_order))
        r.add_delete(PREFIX + "/orders/{order_id}", self._private(self._cancel_order))

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _error(err: ParadexError) -> web.Response:
        return web.json_response(err.body(), status=err.status)

    @staticmethod
    def _static(build: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(build())

        return handler

    def _private(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or header.count(".") != 2:
                return self._error(wire.MISSING_JWT)
            account = wire.check_jwt(self.jwt_secret, header[7:], self.exchange.now_ms())
            if account is None:
                return self._error(wire.INVALID_JWT)
            if account not in self.accounts:
                return self._error(wire.NOT_ONBOARDED)
            result: web.StreamResponse = await handler(request, account)
            return result

        return wrapped

    def _next_seq(self) -> int:
        return self.exchange.now_ms() * 1_000_000 + next(self._seq)

    # -- public -----------------------------------------------------------------------------

    async def _system_time(self, request: web.Request) -> web.Response:
        return web.json_response({"server_time": str(self.exchange.now_ms())})

    async def _markets(self, request: web.Request) -> web.Response:
        wanted = request.query.get("market")
        specs = [m for m in self.engine.markets.values() if wanted in (None, m.symbol)]
        return web.json_response({"results": [wire.market_dict(m) for m in specs]})

    def summary_dict(self, market: str) -> dict[str, Any]:
        """Return one ``GET /markets/summary`` result (also the ``markets_summary`` push)."""
        mark = self.engine.mark_price(market)
        bid, ask = self.engine.best(market)
        tape = self.engine.trades.get(market) or []
        return {
            "symbol": market,
            "oracle_price": wire.s(mark),
            "mark_price": wire.s(mark),
            "last_traded_price": wire.s(tape[-1].price if tape else mark),
            "bid": wire.s(bid),
            "ask": wire.s(ask),
            "volume_24h": "0",
            "total_volume": "0",
            "created_at": self.exchange.now_ms(),
            "underlying_price": wire.s(mark),
            "open_interest": "0",
            "funding_rate": wire.s(self.funding_rate),
            "price_change_rate_24h": "0",
            "future_funding_rate": wire.s(self.funding_rate),
        }

    async def _summary(self, request: web.Request) -> web.Response:
        market = request.query.get("market", "ALL")
        if market != "ALL" and market not in self.engine.markets:
            return self._error(ParadexError("MARKET_NOT_FOUND", f"market {market} not found"))
        markets = list(self.engine.markets) if market == "ALL" else [market]
        return web.json_response({"results": [self.summary_dict(m) for m in markets]})

    def book_dict(self, market: str, depth: int) -> dict[str, Any]:
        """Return ``GET /orderbook/{market}``."""
        bids, asks = self.engine.levels(market, depth)
        return {
            "market": market,
            "seq_no": self.engine.book_seq[market],
            "last_updated_at": self.exchange.now_ms(),
            "bids": [[wire.s(p), wire.s(q)] for p, q in bids],
            "asks": [[wire.s(p), wire.s(q)] for p, q in asks],
        }

    async def _orderbook(self, request: web.Request) -> web.Response:
        market = request.match_info["market"]
        if market not in self.engine.markets:
            return self._error(ParadexError("MARKET_NOT_FOUND", f"market {market} not found"))
        depth = int(request.query.get("depth", "20") or 20)
        return web.json_response(self.book_dict(market, depth))

    @staticmethod
    def trade_dict(trade: PublicTrade) -> dict[str, Any]:
        """Return a public trade (``GET /trades`` result and ``trades.<market>`` push)."""
        return {
            "id": trade.trade_id,
            "market": trade.symbol,
            "side": "BUY" if trade.side is Side.BUY else "SELL",
            "size": wire.s(trade.qty),
            "price": wire.s(trade.price),
            "created_at": trade.ts_ms,
            "trade_type": "FILL",
        }

    async def _trades(self, request: web.Request) -> web.Response:
        market = request.query.get("market", "")
        if market not in self.engine.markets:
            return self._error(ParadexError("MARKET_NOT_FOUND", f"market {market} not found"))
        start = int(request.query.get("start_at", "0") or 0)
        limit = int(request.query.get("page_size", "100") or 100)
        tape = [t for t in self.engine.trades[market] if t.ts_ms >= start]
        page = [self.trade_dict(t) for t in reversed(tape)][:limit]
        return web.json_response({"next": None, "prev": None, "results": page})

    # -- onboarding and auth ----------------------------------------------------------------

    def _verify(self, account: str, msg_hash: int, raw_signature: str) -> bool:
        try:
            r, s_ = stark.parse_signature(raw_signature)
        except stark.SignatureError:
            return False
        return stark.verify(msg_hash, r, s_, self.accounts[account])

    async def _onboarding(self, request: web.Request) -> web.Response:
        h = request.headers
        try:
            account = _lower_hex(h["PARADEX-STARKNET-ACCOUNT"])
            body = await request.json()
            public_key = int(str(body["public_key"]), 16)
            r, s_ = stark.parse_signature(h["PARADEX-STARKNET-SIGNATURE"])
        except (KeyError, ValueError, stark.SignatureError):
            return self._error(ParadexError("INVALID_REQUEST_PARAMETER", "invalid onboarding request"))
        derived = stark.account_address(public_key, wire.ACCOUNT_CLASS_HASH, wire.ACCOUNT_PROXY_CLASS_HASH)
        if derived != int(account, 16):
            return self._error(ParadexError("PUBLIC_KEY_INVALID", "public key does not match the account"))
        msg = stark.message_hash(wire.STARKNET_CHAIN_ID, "Constant", [("action", "Onboarding")], account)
        if not stark.verify(msg, r, s_, public_key):
            return self._error(
                ParadexError("STARKNET_SIGNATURE_VERIFICATION_FAILED", "signature verification failed", 401)
            )
        self.accounts[account] = public_key
        return web.json_response({})

    async def _auth(self, request: web.Request) -> web.Response:
        h = request.headers
        try:
            account = _lower_hex(h["PARADEX-STARKNET-ACCOUNT"])
            timestamp = int(h["PARADEX-TIMESTAMP"])
            expiration = int(h["PARADEX-SIGNATURE-EXPIRATION"])
            signature = h["PARADEX-STARKNET-SIGNATURE"]
        except (KeyError, ValueError):
            return self._error(ParadexError("INVALID_REQUEST_PARAMETER", "missing PARADEX-* auth headers"))
        if account not in self.accounts:
            return self._error(wire.NOT_ONBOARDED)
        now_s = self.exchange.now_ms() // 1000
        if abs(timestamp - now_s) > wire.AUTH_CLOCK_TOLERANCE_S:
            return self._error(
                ParadexError("INVALID_TIMESTAMP", f"timestamp {timestamp} is too far from {now_s}")
            )
        if expiration <= now_s or expiration - timestamp > wire.AUTH_MAX_VALIDITY_S:
            return self._error(
                ParadexError(
                    "INVALID_SIGNATURE_EXPIRATION", f"invalid signature expiration {expiration}", 401
                )
            )
        fields: list[tuple[str, int | str]] = [
            ("method", "POST"),
            ("path", "/v1/auth"),
            ("body", ""),
            ("timestamp", timestamp),
            ("expiration", expiration),
        ]
        msg = stark.message_hash(wire.STARKNET_CHAIN_ID, "Request", fields, account)
        if not self._verify(account, msg, signature):
            return self._error(
                ParadexError("STARKNET_SIGNATURE_VERIFICATION_FAILED", "signature verification failed", 401)
            )
        return web.json_response(
            {"jwt_token": wire.issue_jwt(self.jwt_secret, account, self.exchange.now_ms())}
        )

    # -- account ----------------------------------------------------------------------------

    async def _balance(self, request: web.Request, account: str) -> web.Response:
        total = self.engine.balances.get(account, Decimal(0))
        item = {"token": "USDC", "size": wire.s(total), "last_updated_at": self.exchange.now_ms()}
        return web.json_response({"results": [item]})

    async def _account(self, request: web.Request, account: str) -> web.Response:
        return web.json_response(self.account_dict(account))

    def account_dict(self, account: str) -> dict[str, Any]:
        """Return ``GET /account`` (also the ``account`` push)."""
        total = self.engine.balances.get(account, Decimal(0))
        free = self.engine.available_balance(account)
        return {
            "account": account,
            "account_value": wire.s(total),
            "free_collateral": wire.s(free),
            "initial_margin_requirement": wire.s(total - free),
            "maintenance_margin_requirement": wire.s((total - free) / 2),
            "margin_cushion": wire.s(free),
            "seq_no": self._next_seq(),
            "settlement_asset": "USDC",
            "status": "ACTIVE",
            "total_collateral": wire.s(total),
            "updated_at": self.exchange.now_ms(),
        }

    def _position_dict(self, account: str, market: str) -> dict[str, Any]:
        pos = self.engine.position(account, market)
        return wire.position_dict(pos, self.engine.mark_price(market), self.engine.leverage)

    async def _positions(self, request: web.Request, account: str) -> web.Response:
        results = [
            self._position_dict(account, market)
            for (acct, market), pos in self.engine.positions.items()
            if acct == account and (pos.qty or pos.updated_ms)
        ]
        return web.json_response({"results": results})

    def _fill_wire(self, fill: EngineFill) -> dict[str, Any]:
        ticket = self._by_engine.get(fill.order_id)
        order_id = ticket.order_id if ticket is not None else fill.order_id
        client_id = ticket.client_id if ticket is not None else ""
        return wire.fill_dict(fill, order_id, client_id)

    async def _fills(self, request: web.Request, account: str) -> web.Response:
        market = request.query.get("market")
        start = int(request.query.get("start_at", "0") or 0)
        limit = int(request.query.get("page_size", "100") or 100)
        fills = [f for f in self.engine.account_fills(account, market) if f.ts_ms >= start]
        page = [self._fill_wire(f) for f in reversed(fills)][:limit]
        return web.json_response({"next": None, "prev": None, "results": page})

    # -- orders -----------------------------------------------------------------------------

    def _ticket_of(self, request: web.Request, account: str) -> Ticket | None:
        if "client_id" in request.match_info:
            order_id = self._client_ids.get((account, request.match_info["client_id"]))
        else:
            order_id = request.match_info.get("order_id")
        ticket = self.tickets.get(order_id or "")
        return ticket if ticket is not None and ticket.account == account else None

    async def _get_order(self, request: web.Request, account: str) -> web.Response:
        ticket = self._ticket_of(request, account)
        if ticket is None:
            code = "CLIENT_ORDER_ID_NOT_FOUND" if "client_id" in request.match_info else "ORDER_ID_NOT_FOUND"
            return self._error(ParadexError(code, "order not found", 404))
        return web.json_response(wire.order_dict(ticket, self.exchange.now_ms()))

    def _list(self, account: str, market: str | None, open_only: bool) -> list[dict[str, Any]]:
        now = self.exchange.now_ms()
        return [
            wire.order_dict(t, now)
            for t in reversed(list(self.tickets.values()))
            if t.account == account and market in (None, t.market) and (t.is_open or not open_only)
        ]

    async def _open_orders(self, request: web.Request, account: str) -> web.Response:
        return web.json_response({"results": self._list(account, request.query.get("market"), True)})

    async def _orders_history(self, request: web.Request, account: str) -> web.Response:
        limit = int(request.query.get("page_size", "100") or 100)
        results = self._list(account, request.query.get("market"), False)[:limit]
        return web.json_response({"next": None, "prev": None, "results": results})

    def _order_hash(self, account: str, body: dict[str, Any], primary: str, order_id: str | None) -> int:
        is_market = "MARKET" in str(body["type"])
        fields: list[tuple[str, Any]] = [
            ("timestamp", int(body["signature_timestamp"])),
            ("market", stark.short_string_felt(str(body["market"]))),
            ("side", 1 if body["side"] == "BUY" else 2),
            ("orderType", stark.short_string_felt(str(body["type"]))),
            ("size", int(_dec(body["size"]) * stark.ORDER_SCALE)),
            ("price", 0 if is_market else int(_dec(body["price"]) * stark.ORDER_SCALE)),
        ]
        if order_id is not None:
            fields.append(("id", int(order_id)))
        return stark.message_hash(wire.STARKNET_CHAIN_ID, primary, fields, account)

    def _validate(self, account: str, body: dict[str, Any], modify_id: str | None) -> ParadexError | None:
        market = body.get("market")
        spec = self.engine.markets.get(str(market))
        if spec is None:
            return ParadexError("MARKET_NOT_FOUND", f"market {market} not found")
        if body.get("side") not in ("BUY", "SELL") or body.get("type") not in ("LIMIT", "MARKET"):
            return ParadexError("INVALID_REQUEST_PARAMETER", "unsupported side or order type")
        if body.get("instruction", "GTC") not in _TIF:
            return ParadexError("INVALID_REQUEST_PARAMETER", f"invalid instruction {body.get('instruction')}")
        try:
            size = _dec(body.get("size"))
            price = _dec(body.get("price", "0") or "0")
            msg = self._order_hash(account, body, "ModifyOrder" if modify_id else "Order", modify_id)
        except (KeyError, ValueError, TypeError):
            return ParadexError("INVALID_REQUEST_PARAMETER", "malformed order fields")
        if len(str(body.get("client_id") or "")) > _MAX_CLIENT_ID:
            return ParadexError(
                "INVALID_REQUEST_PARAMETER", f"client_id longer than {_MAX_CLIENT_ID} characters"
            )
        if not self._verify(account, msg, str(body.get("signature", ""))):
            return ParadexError("INVALID_ORDER_SIGNATURE", "order signature verification failed")
        if size <= 0 or size % spec.qty_step:
            return ParadexError("INVALID_ORDER_SIZE", f"size {size} is not a multiple of {spec.qty_step}")
        if body["type"] == "LIMIT" and (price <= 0 or price % spec.tick_size):
            return ParadexError(
                "INVALID_PRICE_PRECISION", f"price {price} is not a multiple of {spec.tick_size}"
            )
        return None

    async def _create_order(self, request: web.Request, account: str) -> web.Response:
        try:
            body: dict[str, Any] = await request.json()
        except ValueError:
            return self._error(ParadexError("BINDING_ERROR", "request body is not JSON"))
        refusal = self._validate(account, body, None)
        if refusal is not None:
            return self._error(refusal)
        client_id = str(body.get("client_id") or "")
        self.exchange.record_order("paradex", client_id)
        if client_id and (account, client_id) in self._client_ids:
            return self._error(ParadexError("DUPLICATED_CLIENT_ID", f"duplicated client id {client_id}"))
        now = self.exchange.now_ms()
        ticket = Ticket(
            order_id=f"{now}{next(self._ids):010d}",
            account=account,
            market=str(body["market"]),
            side=str(body["side"]),
            order_type=str(body["type"]),
            instruction=str(body.get("instruction") or "GTC"),
            size=_dec(body["size"]),
            price=_dec(body["price"]) if body["type"] == "LIMIT" else None,
            client_id=client_id,
            flags=[str(f) for f in body.get("flags") or []],
            received_ms=now,
            seq=self._next_seq(),
        )
        self.tickets[ticket.order_id] = ticket
        if client_id:
            self._client_ids[(account, client_id)] = ticket.order_id
        response = wire.order_dict(ticket, now)
        # risk checks and matching run after the answer, as on the venue
        asyncio.get_running_loop().call_soon(self._process, ticket)
        return web.json_response(response, status=201)

    def _process(self, ticket: Ticket) -> None:
        reason: RejectReason | None = None
        if self.exchange.faults.take("reject_next_orders"):
            reason = RejectReason.INJECTED
        else:
            tif = _TIF[ticket.instruction]
            try:
                self.engine.submit(
                    ticket.account,
                    ticket.market,
                    Side.BUY if ticket.side == "BUY" else Side.SELL,
                    "market" if ticket.order_type == "MARKET" else "limit",
                    ticket.size,
                    price=ticket.price,
                    tif=TimeInForce.IOC if ticket.order_type == "MARKET" else tif,
                    reduce_only="REDUCE_ONLY" in ticket.flags,
                    client_id=ticket.order_id,  # the engine keys orders by our id
                    soft_reject=True,
                )
            except EngineReject as e:
                reason = e.reason
        if reason is not None:
            ticket.cancel_reason = wire.CANCEL_REASONS.get(str(reason), str(reason))
            ticket.closed_ms = self.exchange.now_ms()
            ticket.seq = self._next_seq()
            self._push_ticket(ticket)

    async def _modify_order(self, request: web.Request, account: str) -> web.Response:
        ticket = self._ticket_of(request, account)
        try:
            body: dict[str, Any] = await request.json()
        except ValueError:
            return self._error(ParadexError("BINDING_ERROR", "request body is not JSON"))
        if ticket is None:
            return self._error(ParadexError("ORDER_ID_NOT_FOUND", "order not found", 404))
        refusal = self._validate(account, body, ticket.order_id)
        if refusal is not None:
            return self._error(refusal)
        if ticket.engine_order is None or not ticket.engine_order.is_open:
            return self._error(ParadexError("ORDER_IS_CLOSED", "order is closed"))
        try:
            self.engine.amend(
                account,
                order_id=ticket.engine_order.order_id,
                qty=_dec(body["size"]),
                price=_dec(body["price"]) if body.get("price") else None,
            )
        except EngineReject as e:
            return self._error(ParadexError("INVALID_REQUEST_PARAMETER", e.message))
        return web.json_response(wire.order_dict(ticket, self.exchange.now_ms()))

    async def _cancel_order(self, request: web.Request, account: str) -> web.Response:
        ticket = self._ticket_of(request, account)
        if ticket is None:
            code = "CLIENT_ORDER_ID_NOT_FOUND" if "client_id" in request.match_info else "ORDER_ID_NOT_FOUND"
            return self._error(ParadexError(code, "order not found", 404))
        if not ticket.is_open:
            return self._error(ParadexError("ORDER_IS_CLOSED", "order is closed"))
        # 204: the cancellation is queued; confirmation comes over the orders channel
        asyncio.get_running_loop().call_soon(self._cancel_now, ticket)
        return web.Response(status=204)

    def _cancel_now(self, ticket: Ticket) -> None:
        order = ticket.engine_order
        if order is not None and order.is_open:
            self.engine.cancel(ticket.account, order.order_id)

    async def _cancel_all(self, request: web.Request, account: str) -> web.Response:
        market = request.query.get("market")
        for ticket in list(self.tickets.values()):
            if ticket.account == account and market in (None, ticket.market) and ticket.is_open:
                self._cancel_now(ticket)
        return web.Response(status=204)

    # -- engine events -> pushes ------------------------------------------------------------

    def _on_engine_order(self, order: EngineOrder) -> None:
        ticket = self.tickets.get(order.client_id)
        if ticket is None or ticket.account != order.account:
            return
        if ticket.engine_order is None:
            ticket.engine_order = order
            self._by_engine[order.order_id] = ticket
        ticket.seq = self._next_seq()
        self._push_ticket(ticket)

    def _push_ticket(self, ticket: Ticket) -> None:
        data = wire.order_dict(ticket, self.exchange.now_ms())
        for channel in ("orders.ALL", f"orders.{ticket.market}"):
            self._publish(channel, data, user=ticket.account)

    def _on_engine_fill(self, fill: EngineFill) -> None:
        if fill.account not in self.accounts or self.exchange.faults.take("drop_private_fills"):
            return
        data = self._fill_wire(fill)
        copies = 2 if self.exchange.faults.duplicate_fills else 1
        for _ in range(copies):
            for channel in ("fills.ALL", f"fills.{fill.symbol}"):
                self._publish(channel, data, user=fill.account)

    def _push_position(self, pos: Any) -> None:
        if pos.account not in self.accounts:
            return
        self._publish("positions", self._position_dict(pos.account, pos.symbol), user=pos.account)
        self._publish("account", self.account_dict(pos.account), user=pos.account)

    def _push_book(self, market: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        bids, asks = self.engine.levels(market, _BOOK_DEPTH)
        data = {
            "seq_no": self.engine.book_seq[market],
            "market": market,
            "last_updated_at": self.exchange.now_ms(),
            "update_type": "s",
            "deletes": [],
            "updates": [],
            "inserts": [{"side": "BUY", "price": wire.s(p), "size": wire.s(q)} for p, q in bids]
            + [{"side": "SELL", "price": wire.s(p), "size": wire.s(q)} for p, q in asks],
        }
        self._publish(f"order_book.{market}.snapshot@15@100ms", data)
        summary = self.summary_dict(market)
        self._publish(f"markets_summary.{market}", summary)
        self._publish("markets_summary", summary)

    def _push_trade(self, trade: PublicTrade) -> None:
        data = self.trade_dict(trade)
        self._publish(f"trades.{trade.symbol}", data)
        self._publish("trades.ALL", data)

    def _publish(self, channel: str, data: dict[str, Any], user: str | None = None) -> None:
        # JSON-RPC frames, or SBE binary frames on connections that asked for them
        message = {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
        frame: bytes | None = None
        private = user is not None
        if not private and self.exchange.faults.silence_market_data:
            return  # market data silenced: public pushes dropped, sockets stay open
        for conn in list(self.exchange.connections):
            if conn.path != WS_PATH or channel not in conn.topics:
                continue
            if private and (not conn.authenticated or conn.user != user):
                continue
            if conn.conn_id in self._sbe_conns:
                if frame is None:
                    frame = sbe.encode(channel, data, self._next_seq())
                if frame is not None:
                    conn.send_bytes(frame, private=private)
                    continue
            conn.send(message, private=private)

    # -- WebSocket --------------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.StreamResponse:
        """Serve the JSON-RPC WebSocket at ``/v1``."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return self._error(ParadexError("NOT_FOUND", "not found", 404))
        # ?sbeSchemaId=1&sbeSchemaVersion=3 (ccxt's default) selects binary SBE pushes
        wants_sbe = request.query.get("sbeSchemaId") == str(sbe.SCHEMA_ID)
        if wants_sbe and request.query.get("sbeSchemaVersion") != str(sbe.SCHEMA_VERSION):
            return self._error(ParadexError("INVALID_REQUEST_PARAMETER", "unsupported SBE schema version"))

        def on_open(conn: WsConnection) -> None:
            if wants_sbe:
                self._sbe_conns.add(conn.conn_id)

        return await self.exchange.serve_ws(request, self._on_ws, on_open)

    @staticmethod
    def _ack(conn: WsConnection, msg: dict[str, Any], result: dict[str, Any]) -> None:
        us = int(time.time() * 1_000_000)
        conn.send({"jsonrpc": "2.0", "result": result, "usIn": us, "usDiff": 1, "id": msg.get("id")})

    @staticmethod
    def _ws_error(conn: WsConnection, msg: dict[str, Any], code: int, message: str) -> None:
        conn.send({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": msg.get("id")})

    async def _on_ws(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        params = msg.get("params") or {}
        if method == "auth":
            account = wire.check_jwt(self.jwt_secret, str(params.get("bearer", "")), self.exchange.now_ms())
            if account is None or account not in self.accounts:
                self._ws_error(conn, msg, 40111, "Invalid Bearer Token")
                return
            conn.authenticated = True
            conn.user = account
            self._ack(conn, msg, {})
            return
        if method not in ("subscribe", "unsubscribe"):
            self._ws_error(conn, msg, -32601, "Method not found")
            return
        channel = str(params.get("channel", ""))
        if method == "unsubscribe":
            conn.topics.discard(channel)
            self._ack(conn, msg, {"channel": channel})
            return
        private = channel.split(".")[0] in ("orders", "fills", "positions", "account")
        if private and not conn.authenticated:
            self._ws_error(conn, msg, 40110, "Malformed Bearer Token")
            return
        conn.topics.add(channel)
        self._ack(conn, msg, {"channel": channel})
        parts = channel.split(".")
        if parts[0] == "order_book" and len(parts) > 1 and parts[1] in self.engine.markets:
            self._push_book(parts[1], [])
        elif parts[0] == "markets_summary" and len(parts) > 1 and parts[1] in self.engine.markets:
            self._publish(channel, self.summary_dict(parts[1]))


_DEFAULT_ACCOUNT: dict[str, str] = {}


def default_paradex_accounts() -> dict[str, str]:
    """Return the default onboarded account (derived once from :data:`TEST_ETH_PRIVATE_KEY`)."""
    if not _DEFAULT_ACCOUNT:
        account = derive_account(TEST_ETH_PRIVATE_KEY)
        _DEFAULT_ACCOUNT[account["address"]] = account["publicKey"]
    return dict(_DEFAULT_ACCOUNT)
