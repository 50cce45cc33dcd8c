"""
The Aster part of the fake exchange: Aster's v3 perpetuals REST (``/fapi/v3``), the spot
listing (``/api/v3/exchangeInfo``) and the ``fstream`` WebSockets, all under the path prefix
``/aster`` (Aster's own hosts, ``fapi``/``sapi``/``fstream.asterdex.com``, cannot be told
apart from Binance's ``/fapi`` on one local port otherwise).

Aster's futures engine is Binance USD-M's: market data, order, trade, position and balance
payloads and the error envelope are the same, so this protocol is :class:`BinanceProtocol`
with Aster's authentication (:mod:`.aster_wire`: EIP-712 signature by the API wallet, nonce in
microseconds, per-signer replay protection) instead of Binance's HMAC, signed listenKey
requests, and the partial-depth streams (``<symbol>@depth5/10/20``) ccxt's Aster subscribes.
References: https://github.com/asterdex/api-docs ``aster-finance-futures-api-v3.md`` and ccxt
4.5.90 ``aster.py`` / ``pro/aster.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import aster_wire
from nautilus_ext_testkit.fake_exchange import binance_wire as wire
from nautilus_ext_testkit.fake_exchange.binance import BinanceProtocol
from nautilus_ext_testkit.fake_exchange.binance_streams import BinanceStreams
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

PREFIX: Final = "/aster"
USER: Final = wire.USER
# <symbol>@depth5/10/20 with an optional update speed: a top-N snapshot in every message
_PARTIAL_DEPTH: Final = re.compile(r"^depth(5|10|20)(@\d+ms)?$")
INVALID_BUILDER: Final = wire.BinanceError(400, -2031, "Invalid builder parameter.")
# -4015 INVALID_CL_ORD_ID_LEN: "Client order id length should not be more than 36 chars"
# (the character set is Binance's, whose engine Aster runs)
INVALID_CLIENT_ID: Final = wire.BinanceError(400, -4015, "Client order id is not valid.")
_CLIENT_ID: Final = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


class AsterStreams(BinanceStreams):
    """Binance's market and user streams plus the partial book depth ccxt's Aster watches."""

    def __init__(self, protocol: BinanceProtocol) -> None:
        super().__init__(protocol)
        self._partial_u: dict[str, int] = {}

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/aster/fstream/stream`` (combined, public) and ``/aster/fstream/ws/<listenKey>``."""
        key = request.match_info.get("rest", "")
        if "/ws/" in request.path and key not in self.p.listen_keys:
            raise web.HTTPBadRequest(text='{"code":-1125,"msg":"This listenKey does not exist."}')
        return await super().ws(request)

    def partial_depth(self, symbol: str, levels: int) -> dict[str, Any]:
        """Return a partial-depth ``depthUpdate`` (the top ``levels`` of each side)."""
        bids, asks = self.p.engine.levels(symbol, levels)
        now = self.p.exchange.now_ms()
        seq = self.p.engine.book_seq[symbol]
        previous = self._partial_u.get(symbol, seq)
        self._partial_u[symbol] = seq
        return {
            "e": "depthUpdate",
            "E": now,
            "T": now,
            "s": symbol,
            "U": seq,
            "u": seq,
            "pu": previous,
            "b": [[self.p.px(symbol, p), self.p.qty(symbol, q)] for p, q in bids],
            "a": [[self.p.px(symbol, p), self.p.qty(symbol, q)] for p, q in asks],
        }

    def _subscribe(self, conn: WsConnection, stream: str) -> None:
        super()._subscribe(conn, stream)
        symbol, _, channel = stream.partition("@")
        match = _PARTIAL_DEPTH.match(channel)
        if match and symbol.upper() in self.p.engine.markets:
            self._send(conn, stream, self.partial_depth(symbol.upper(), int(match.group(1))))

    def _on_book(self, symbol: str, changes: list[Any]) -> None:
        super()._on_book(symbol, changes)
        lower = symbol.lower()
        for conn, topic in self._streams(lambda t: t.startswith(lower + "@")):
            match = _PARTIAL_DEPTH.match(topic.partition("@")[2])
            if match:
                self._send(conn, topic, self.partial_depth(symbol, int(match.group(1))))


class AsterProtocol(BinanceProtocol):
    """
    Serve Aster v3 on top of a :class:`MatchingEngine` (engine account ``USER`` is ``wallet``).

    Parameters
    ----------
    exchange : FakeExchange
        The owning server.
    engine : MatchingEngine
        The engine holding Aster's perpetual books.
    wallet : str
        The account (``user``) address; requests must be signed by it or one of ``agents``.
    agents : frozenset[str]
        API wallets (``signer``) the account approved.
    spot_markets : list[MarketSpec]
        Spot pairs listed by ``/api/v3/exchangeInfo`` (listed only, not traded).
    """

    streams_class = AsterStreams
    venue_name = "aster"

    def __init__(
        self,
        exchange: FakeExchange,
        engine: MatchingEngine,
        *,
        wallet: str,
        agents: frozenset[str] = frozenset(),
        spot_markets: list[MarketSpec],
    ) -> None:
        # Binance's HMAC credentials are not used: every private route goes through _signed
        super().__init__(exchange, engine, api_key="", api_secret="")
        self.account_address = wallet.lower()
        self.agents = frozenset(a.lower() for a in agents)
        self.spot_markets = spot_markets
        self.nonces = aster_wire.NonceBook()
        self.approved_builders: set[str] = set()
        self.signed_requests: list[dict[str, str]] = []  # verified parameters, oldest first

    def register(self, app: web.Application) -> None:
        """Add Aster's routes (under ``/aster``) to ``app``."""
        r = app.router
        v3 = PREFIX + "/fapi/v3"
        public = {
            "/ping": self.ping,
            "/time": self.time,
            "/exchangeInfo": self.exchange_info,
            "/depth": self.depth_snapshot,
            "/trades": self.trades,
            "/aggTrades": self.agg_trades,
            "/ticker/24hr": self.ticker_24hr,
            "/ticker/bookTicker": self.book_ticker,
            "/ticker/price": self.ticker_price,
            "/premiumIndex": self.premium_index,
        }
        public["/fundingInfo"] = self.funding.funding_info
        public["/fundingRate"] = self.funding.funding_rate_history
        for path, handler in public.items():
            r.add_get(v3 + path, handler)
        r.add_get(PREFIX + "/api/v3/exchangeInfo", self.spot_exchange_info)
        r.add_get(PREFIX + "/api/v3/time", self.time)
        signed: dict[tuple[str, str], Any] = {
            ("POST", "/order"): self.new_order,
            ("DELETE", "/order"): self.cancel_order,
            ("GET", "/order"): self.query_order,
            ("DELETE", "/allOpenOrders"): self.cancel_all,
            ("GET", "/openOrders"): self.open_orders,
            ("GET", "/openOrder"): self.open_order,
            ("GET", "/allOrders"): self.all_orders,
            ("GET", "/userTrades"): self.user_trades,
            ("GET", "/balance"): self.balance,
            ("GET", "/account"): self.account,
            ("GET", "/positionRisk"): self.position_risk,
            ("GET", "/positionSide/dual"): self.position_mode,
            ("GET", "/multiAssetsMargin"): self.multi_assets_margin,
            ("GET", "/leverageBracket"): self.leverage_bracket,
            ("GET", "/commissionRate"): self.commission_rate,
            ("POST", "/leverage"): self.set_leverage,
            ("GET", "/builder"): self.builders,
            ("POST", "/listenKey"): self.listen_key_new,
            ("PUT", "/listenKey"): self.listen_key_keepalive,
            ("DELETE", "/listenKey"): self.listen_key_close,
        }
        for (method, path), signed_handler in signed.items():
            r.add_route(method, v3 + path, self._signed(signed_handler))
        for suffix in ("/stream", "/ws/{rest}"):
            r.add_get(PREFIX + "/fstream" + suffix, self.streams.ws)

    # -- auth -------------------------------------------------------------------------------

    def _signed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            # GET parameters travel in the query, the others in the form body (or the query,
            # as Aster's own demo sends them); the signature covers the raw encoded text
            text = request.rel_url.raw_query_string
            if request.method != "GET":
                text = (await request.text()) or text
            signed, err = aster_wire.check_signed_request(
                text=text,
                wallet=self.account_address,
                agents=self.agents,
                nonces=self.nonces,
                now_us=self.exchange.now_ms() * 1000,
            )
            if err is not None or signed is None:
                return self.error(err or wire.BAD_SIGNATURE)
            self.signed_requests.append(signed.params)
            try:
                result: Any = await handler(signed.params)
            except EngineReject as e:
                return self.error(wire.ENGINE_REJECTS.get(e.reason, wire.INJECTED_REJECT))
            if isinstance(result, wire.BinanceError):
                return self.error(result)
            return web.json_response(result)

        return wrapped

    # -- Aster-only endpoints ---------------------------------------------------------------

    async def spot_exchange_info(self, request: web.Request) -> web.Response:
        """GET /api/v3/exchangeInfo (the spot listing; ccxt loads it with the perpetuals)."""
        now = self.exchange.now_ms()
        assets = sorted({c for s in self.spot_markets for c in (s.base, s.quote)})
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": now,
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                ],
                "exchangeFilters": [],
                "assets": [{"asset": a} for a in assets],
                "symbols": [aster_wire.spot_symbol_info(s, 1_756_289_680_210) for s in self.spot_markets],
            }
        )

    async def builders(self, params: dict[str, str]) -> Any:
        """GET /fapi/v3/builder (builders the user approved to charge a fee on its orders)."""
        return [
            {
                "userAddress": self.account_address,
                "builderAddress": b,
                "maxFeeRate": "0.001",
                "builderName": "",
            }
            for b in sorted(self.approved_builders)
        ]

    async def listen_key_new(self, params: dict[str, str]) -> Any:
        """POST /fapi/v3/listenKey (the active key, extended, while one is valid)."""
        key = next(iter(self.listen_keys), None) or f"asterListenKey{len(self.listen_keys) + 1:050d}"
        self.listen_keys.add(key)
        return {"listenKey": key}

    async def listen_key_keepalive(self, params: dict[str, str]) -> Any:
        """PUT /fapi/v3/listenKey."""
        if not self.listen_keys:
            return wire.INVALID_LISTEN_KEY
        return {"listenKey": next(iter(self.listen_keys))}

    async def listen_key_close(self, params: dict[str, str]) -> Any:
        """DELETE /fapi/v3/listenKey."""
        self.listen_keys.clear()
        return {}

    async def new_order(self, params: dict[str, str]) -> Any:
        """POST /fapi/v3/order (Binance's rules, plus Aster's builder and client-id checks)."""
        builder = params.get("builder")
        if builder is not None and builder.lower() not in self.approved_builders:
            return INVALID_BUILDER
        client_id = params.get("newClientOrderId")
        if client_id is not None and not _CLIENT_ID.match(client_id):
            return INVALID_CLIENT_ID
        return await super().new_order(params)
