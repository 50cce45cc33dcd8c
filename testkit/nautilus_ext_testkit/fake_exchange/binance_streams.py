"""
The WebSocket side of the fake Binance USD-M futures (see :mod:`.binance`): market streams on
``/public`` and ``/market`` (raw ``/ws[/<n>]`` or combined ``/stream?streams=``), the user
stream on ``/private/ws?listenKey=``, and the engine events turned into pushes.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from aiohttp import web

from nautilus_ext_testkit.fake_exchange import binance_wire as wire
from nautilus_ext_testkit.fake_exchange.binance_wire import order_number
from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import Side

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.binance import BinanceProtocol
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

USER = wire.USER
_FORCED = frozenset({"adl", "liquidation"})  # MatchingEngine.force_close kinds


class BinanceStreams:
    """
    The WebSocket side of :class:`BinanceProtocol`: market streams (raw and combined), the
    listenKey user stream, and the engine events that feed them.

    Parameters
    ----------
    protocol : BinanceProtocol
        The REST side (engine, clock, price formatting, account views).
    """

    def __init__(self, protocol: BinanceProtocol) -> None:
        self.p = protocol
        engine = protocol.engine
        self.depth = {
            s: wire.DepthSequencer(
                s,
                engine.book_seq[s],
                price_places=wire.precision(spec.tick_size),
                qty_places=wire.precision(spec.qty_step),
            )
            for s, spec in engine.markets.items()
        }
        self.depth_events: list[dict[str, Any]] = []  # every event sent, for sequencing tests
        self._conns: dict[str, WsConnection] = {}
        self._combined: set[str] = set()
        self._after_fill: set[str] = set()
        self._booked_pnl: dict[str, Decimal] = {}
        self._announced: set[str] = set()
        self._flush_handles: dict[str, asyncio.TimerHandle] = {}
        self._last_bbo: dict[str, tuple[Any, ...]] = {}
        engine.listeners.on_order.append(self._push_order)
        engine.listeners.on_fill.append(self._push_fill)
        engine.listeners.on_position.append(self._push_position)
        engine.listeners.on_book.append(self._on_book)
        engine.listeners.on_trade.append(self._push_trade)

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """Serve ``/<route>/ws[/<n>|/<listenKey>]`` and ``/<route>/stream?streams=``."""
        route = request.path.split("/")[1]
        key = request.query.get("listenKey") or request.match_info.get("rest", "")
        private = route == "private" or key in self.p.listen_keys
        if private and key not in self.p.listen_keys:
            raise web.HTTPBadRequest(text='{"code":-1125,"msg":"This listenKey does not exist."}')
        streams = [s for s in request.query.get("streams", "").split("/") if s]

        async def handler(conn: WsConnection, msg: dict[str, Any]) -> None:
            await self._on_message(conn, msg)

        return await self.p.exchange.serve_ws(
            request,
            handler,
            on_open=lambda conn: self._on_open(conn, request.path, private, streams),
        )

    def _on_open(self, conn: WsConnection, path: str, private: bool, streams: list[str]) -> None:
        self._conns[conn.conn_id] = conn
        if path.endswith("/stream"):
            self._combined.add(conn.conn_id)
        if private:
            conn.authenticated = True
            conn.user = USER
            conn.topics.add("userData")
        for stream in streams:
            self._subscribe(conn, stream)

    def _send(self, conn: WsConnection, stream: str, data: dict[str, Any], *, private: bool = False) -> None:
        message = {"stream": stream, "data": data} if conn.conn_id in self._combined else data
        conn.send(message, private=private)

    def _live(self) -> list[WsConnection]:
        alive = {c.conn_id for c in self.p.exchange.connections}
        for conn_id in [c for c in self._conns if c not in alive]:
            self._conns.pop(conn_id, None)
            self._combined.discard(conn_id)
        return list(self._conns.values())

    async def _on_message(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        params = [str(p) for p in msg.get("params") or []]
        if method == "SUBSCRIBE":
            for stream in params:
                self._subscribe(conn, stream)
            conn.send({"result": None, "id": msg.get("id")})
        elif method == "UNSUBSCRIBE":
            conn.topics.difference_update(params)
            conn.send({"result": None, "id": msg.get("id")})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.topics - {"userData"}), "id": msg.get("id")})
        else:
            error = {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}
            conn.send({"error": error, "id": msg.get("id")})

    def _subscribe(self, conn: WsConnection, stream: str) -> None:
        conn.topics.add(stream)
        symbol, _, channel = stream.partition("@")
        symbol = symbol.upper()
        if symbol not in self.p.engine.markets:
            return
        # streams that carry state start with the current value, as Binance's do
        if channel.startswith("markPrice"):
            self._send(conn, stream, self._mark_event(symbol))
        elif channel == "ticker":
            self._send(conn, stream, self._ticker_event(symbol))
        elif channel == "bookTicker":
            self._send(conn, stream, self._book_ticker_event(symbol))

    def _streams(self, predicate: Any) -> list[tuple[WsConnection, str]]:
        return [(c, t) for c in self._live() for t in list(c.topics) if predicate(t)]

    def _publish(self, symbol: str, channel_prefix: str, data: dict[str, Any], exact: bool = False) -> None:
        lower = symbol.lower()

        def wanted(topic: str) -> bool:
            sym, _, channel = topic.partition("@")
            if sym != lower:
                return False
            return channel == channel_prefix if exact else channel.startswith(channel_prefix)

        for conn, topic in self._streams(wanted):
            self._send(conn, topic, data)

    def _mark_event(self, symbol: str) -> dict[str, Any]:
        mark = wire.fmt(self.p.engine.mark_price(symbol))
        return {
            "e": "markPriceUpdate",
            "E": self.p.exchange.now_ms(),
            "s": symbol,
            "p": mark,
            "i": mark,
            "P": mark,
            "r": wire.fmt(self.p.engine.funding.state(symbol).rate),
            "T": self.p.next_funding_ms(symbol),
        }

    def _ticker_event(self, symbol: str) -> dict[str, Any]:
        t = self.p.ticker(symbol)
        return {
            "e": "24hrTicker",
            "E": self.p.exchange.now_ms(),
            "s": symbol,
            "p": t["priceChange"],
            "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"],
            "c": t["lastPrice"],
            "Q": t["lastQty"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
            "O": t["openTime"],
            "C": t["closeTime"],
            "F": t["firstId"],
            "L": t["lastId"],
            "n": t["count"],
        }

    def _book_ticker_event(self, symbol: str) -> dict[str, Any]:
        bbo = self.p.bbo(symbol)
        now = self.p.exchange.now_ms()
        return {
            "e": "bookTicker",
            "u": bbo["lastUpdateId"],
            "s": symbol,
            "b": bbo["bidPrice"],
            "B": bbo["bidQty"],
            "a": bbo["askPrice"],
            "A": bbo["askQty"],
            "T": now,
            "E": now,
        }

    def agg_trade(self, trade: PublicTrade, *, event: bool = True) -> dict[str, Any]:
        number = wire.trade_number(trade.trade_id)
        body = {
            "a": number,
            "p": self.p.px(trade.symbol, trade.price),
            "q": self.p.qty(trade.symbol, trade.qty),
            "f": number,
            "l": number,
            "T": trade.ts_ms,
            "m": trade.side is Side.SELL,
        }
        if not event:
            return body
        return {"e": "aggTrade", "E": self.p.exchange.now_ms(), "s": trade.symbol, **body}

    # -- engine events -> pushes ------------------------------------------------------------

    def _on_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        self.depth[symbol].add(self.p.engine.book_seq[symbol], changes)
        if symbol not in self._flush_handles:
            loop = asyncio.get_running_loop()
            self._flush_handles[symbol] = loop.call_later(
                self.p.depth_interval_ms / 1000, self.flush_depth, symbol
            )
        bbo = self.p.bbo(symbol)
        fingerprint = (bbo["bidPrice"], bbo["bidQty"], bbo["askPrice"], bbo["askQty"])
        if self._last_bbo.get(symbol) != fingerprint:
            self._last_bbo[symbol] = fingerprint
            self._publish(symbol, "bookTicker", self._book_ticker_event(symbol), exact=True)
        self._publish(symbol, "markPrice", self._mark_event(symbol))

    def flush_depth(self, symbol: str) -> None:
        """Send the pending ``depthUpdate`` of ``symbol`` to its diff-depth subscribers."""
        self._flush_handles.pop(symbol, None)
        now = self.p.exchange.now_ms()
        event = self.depth[symbol].flush(now, now)
        if event is None:
            return
        self.depth_events.append(event)
        lower = symbol.lower()

        def diff_stream(topic: str) -> bool:
            # <symbol>@depth, @depth@100ms, @depth@500ms (not the partial @depth5/10/20 books)
            return topic == f"{lower}@depth" or topic.startswith(f"{lower}@depth@")

        for conn, topic in self._streams(diff_stream):
            self._send(conn, topic, event)

    def _push_trade(self, trade: PublicTrade) -> None:
        now = self.p.exchange.now_ms()
        self._publish(
            trade.symbol,
            "trade",
            {
                "e": "trade",
                "E": now,
                "T": trade.ts_ms,
                "s": trade.symbol,
                "t": wire.trade_number(trade.trade_id),
                "p": self.p.px(trade.symbol, trade.price),
                "q": self.p.qty(trade.symbol, trade.qty),
                "X": "MARKET",
                "m": trade.side is Side.SELL,
            },
            exact=True,
        )
        self._publish(trade.symbol, "aggTrade", self.agg_trade(trade), exact=True)
        self._publish(trade.symbol, "ticker", self._ticker_event(trade.symbol), exact=True)

    def _user_push(self, data: dict[str, Any]) -> None:
        for conn in self._live():
            if "userData" in conn.topics:
                self._send(conn, "userData", data, private=True)

    def _order_update(self, order: EngineOrder, execution: str, fill: EngineFill | None) -> dict[str, Any]:
        now = self.p.exchange.now_ms()
        kind = wire.order_type_name(order)
        status = wire.order_status(order) if execution != "NEW" else "NEW"
        if order.order_type == "adl" and execution == "CALCULATED":
            status = "NEW_ADL"
        return {
            "e": "ORDER_TRADE_UPDATE",
            "T": now,
            "E": now,
            "o": {
                "s": order.symbol,
                "c": order.client_id,
                "S": wire.side_name(order.side),
                "o": kind,
                "f": wire.TIF_OUT[order.tif],
                "q": self.p.qty(order.symbol, order.qty),
                "p": self.p.px(order.symbol, order.price or Decimal(0)),
                "ap": wire.fmt(order.avg_price),
                "sp": "0",
                "x": execution,
                "X": status,
                "i": order_number(order.order_id),
                "l": self.p.qty(order.symbol, fill.qty if fill else Decimal(0)),
                "z": self.p.qty(order.symbol, order.filled),
                "L": self.p.px(order.symbol, fill.price if fill else Decimal(0)),
                "N": self.p.engine.markets[order.symbol].quote,
                "n": wire.fmt(fill.fee) if fill else "0",
                "T": fill.ts_ms if fill else order.updated_ms,
                "t": wire.trade_number(fill.exec_id) if fill else 0,
                "b": "0",
                "a": "0",
                "m": fill.is_maker if fill else False,
                "R": order.reduce_only,
                "wt": "CONTRACT_PRICE",
                "ot": kind,
                "ps": "BOTH",
                "cp": False,
                "rp": wire.fmt(self.p.realized(fill)) if fill else "0",
                "pP": False,
                "si": 0,
                "ss": 0,
                "V": "EXPIRE_MAKER",
                "pm": "NONE",
                "gtd": 0,
            },
        }

    def _push_order(self, order: EngineOrder) -> None:
        if order.account != USER:
            return
        if order.order_type in _FORCED:
            return  # a forced close is announced only by its CALCULATED trade update
        if order.order_id not in self._announced:
            self._announced.add(order.order_id)
            self._user_push(self._order_update(order, "NEW", None))
            if order.status is OrderStatus.NEW:
                return
        if order.order_id in self._after_fill:
            self._after_fill.discard(order.order_id)
            return  # the state after a fill: its TRADE update already carried it
        if order.status is OrderStatus.CANCELED:
            execution = "EXPIRED" if wire.order_status(order) == "EXPIRED" else "CANCELED"
        elif order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            execution = "AMENDMENT"
        else:
            return
        self._user_push(self._order_update(order, execution, None))

    def _push_fill(self, fill: EngineFill) -> None:
        if fill.account != USER:
            return
        order = self.p.engine.orders[fill.order_id]
        self._after_fill.add(order.order_id)
        pos = self.p.engine.position(fill.account, fill.symbol)
        self.p.fill_pnl[fill.exec_id] = pos.realized_pnl - self._booked_pnl.get(fill.symbol, Decimal(0))
        self._booked_pnl[fill.symbol] = pos.realized_pnl
        if self.p.exchange.faults.take("drop_private_fills"):
            return
        # Binance reports the venue's forced closes (liquidation, ADL) as CALCULATED executions
        update = self._order_update(order, "CALCULATED" if order.order_type in _FORCED else "TRADE", fill)
        self._user_push(update)
        if self.p.exchange.faults.duplicate_fills:
            self._user_push(update)

    def _push_position(self, pos: EnginePosition) -> None:
        if pos.account != USER:
            return
        wallet, _, _ = self.p.wallet()
        row = self.p.position_row(pos)
        now = self.p.exchange.now_ms()
        self._user_push(
            {
                "e": "ACCOUNT_UPDATE",
                "T": now,
                "E": now,
                "a": {
                    "m": "ORDER",
                    "B": [{"a": "USDT", "wb": wire.fmt(wallet), "cw": wire.fmt(wallet), "bc": "0"}],
                    "P": [
                        {
                            "s": pos.symbol,
                            "pa": row["positionAmt"],
                            "ep": row["entryPrice"],
                            "bep": row["breakEvenPrice"],
                            "cr": wire.fmt(pos.realized_pnl),
                            "up": row["unRealizedProfit"],
                            "mt": "cross",
                            "iw": "0",
                            "ps": "BOTH",
                        }
                    ],
                },
            }
        )
