"""
Deribit's wire shapes and WebSocket pushes for the fake exchange (split from :mod:`.deribit`).

:class:`DeribitShapes` renders engine state in the venue's field names (instruments, tickers,
orders, user trades, positions, account summaries); :class:`DeribitStreams` turns engine events
into ``subscription`` notifications. Both are mixins of :class:`.deribit.DeribitProtocol`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_ext_testkit.fake_exchange.engine import EngineFill
from nautilus_ext_testkit.fake_exchange.engine import EngineOrder
from nautilus_ext_testkit.fake_exchange.engine import EnginePosition
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import PublicTrade
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce

if TYPE_CHECKING:
    from nautilus_ext_testkit.fake_exchange.server import FakeExchange
    from nautilus_ext_testkit.fake_exchange.server import WsConnection

WS_PATH: Final = "/ws/api/v2"
USER: Final = "USER"
USER_ID: Final = 10  # the fake account's numeric id (get_account_summaries ``id``)
_TIF_IN: Final = {
    "good_til_cancelled": TimeInForce.GTC,
    "immediate_or_cancel": TimeInForce.IOC,
    "fill_or_kill": TimeInForce.FOK,
}
_TIF_OUT: Final = {v: k for k, v in _TIF_IN.items()}
_STATE: Final = {
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.REJECTED: "rejected",
}
_CANCEL_REASON: Final = {
    "CANCEL_BY_USER": "user_request",
    "EXPIRED_IOC": "user_request",
    "FOK_NOT_FILLABLE": "user_request",
}


def settle_of(spec: MarketSpec) -> str:
    """Return the settlement (margin) currency of a market."""
    return spec.settle or (spec.base if spec.kind == "inverse" else spec.quote)


def account_of(currency: str) -> str:
    """Return the engine account holding the user's ``currency`` margin."""
    return f"{USER}:{currency.upper()}"


def _n(value: Decimal | None) -> float | int:
    # Deribit sends JSON numbers; integral values as integers where the venue does
    if value is None:
        return 0
    normalized = value.normalize()
    return int(normalized) if normalized == normalized.to_integral_value() else float(normalized)


def _quote(ticker: dict[str, Any]) -> dict[str, Any]:
    return {
        key: ticker[key]
        for key in (
            "timestamp",
            "instrument_name",
            "best_bid_price",
            "best_bid_amount",
            "best_ask_price",
            "best_ask_amount",
        )
    }


class DeribitShapes:
    """Render engine state in Deribit's shapes (mixin: needs ``engine``, ``exchange``, ``labels``)."""

    engine: MatchingEngine
    exchange: FakeExchange
    labels: dict[str, str]
    funding_rate: Decimal

    def instrument_dict(self, spec: MarketSpec) -> dict[str, Any]:
        """Return a market in Deribit's ``get_instruments`` shape."""
        inverse = spec.kind == "inverse"
        return {
            "price_index": f"{spec.base.lower()}_{'usd' if inverse else spec.quote.lower()}",
            "kind": "future",
            "instrument_name": spec.symbol,
            "max_leverage": spec.max_leverage,
            "maker_commission": _n(spec.maker_fee),
            "taker_commission": _n(spec.taker_fee),
            "instrument_type": "reversed" if inverse else "linear",
            "expiration_timestamp": 32503708800000,
            "creation_timestamp": 1534167754000,
            "is_active": True,
            "tick_size": _n(spec.tick_size),
            "contract_size": _n(spec.listed_size),
            "instrument_id": 124972 + list(self.engine.markets).index(spec.symbol),
            "min_trade_amount": _n(spec.min_qty),
            "future_type": "reversed" if inverse else "linear",
            "max_liquidation_commission": 0.0075,
            "max_non_default_leverage": 5,
            "block_trade_commission": 0.00025,
            "block_trade_min_trade_amount": 200000,
            "block_trade_tick_size": 0.01,
            "settlement_currency": settle_of(spec),
            "settlement_period": "perpetual",
            "base_currency": spec.base,
            "counter_currency": spec.quote,
            "quote_currency": spec.quote,
            "tick_size_steps": [],
        }

    def _ticker(self, spec: MarketSpec) -> dict[str, Any]:
        symbol = spec.symbol
        bids, asks = self.engine.levels(symbol, 1)
        mark = self.engine.mark_price(symbol)
        tape = self.engine.trades.get(symbol) or []
        last = tape[-1].price if tape else mark
        return {
            "timestamp": self.exchange.now_ms(),
            "state": "open",
            "stats": {"high": _n(last), "low": _n(last), "price_change": 0, "volume": 0, "volume_usd": 0},
            "index_price": _n(mark),
            "instrument_name": symbol,
            "last_price": _n(last),
            "settlement_price": _n(mark),
            "min_price": _n(mark * Decimal("0.97")),
            "max_price": _n(mark * Decimal("1.03")),
            "open_interest": 0,
            "mark_price": _n(mark),
            "interest_value": 0.0,
            "best_ask_price": _n(asks[0][0]) if asks else 0,
            "best_bid_price": _n(bids[0][0]) if bids else 0,
            "estimated_delivery_price": _n(mark),
            "best_ask_amount": _n(asks[0][1]) if asks else 0,
            "best_bid_amount": _n(bids[0][1]) if bids else 0,
            "current_funding": 0.0,
            "funding_8h": _n(self.funding_rate),
        }

    def _public_trade(self, trade: PublicTrade, seq: int) -> dict[str, Any]:
        spec = self.engine.markets[trade.symbol]
        mark = self.engine.mark_price(trade.symbol)
        return {
            "timestamp": trade.ts_ms,
            "price": _n(trade.price),
            "amount": _n(trade.qty),
            "direction": str(trade.side),
            "index_price": _n(mark),
            "instrument_name": trade.symbol,
            "trade_seq": seq,
            "mark_price": _n(mark),
            "tick_direction": 0,
            "contracts": _n(trade.qty / spec.listed_size),
            "trade_id": trade.trade_id,
        }

    def account_summary(self, currency: str) -> dict[str, Any]:
        """Return the ``get_account_summary`` shape of one currency account."""
        account = account_of(currency)
        balance = self.engine.balances.get(account, Decimal(0))
        upl = Decimal(0)
        margin = Decimal(0)
        for spec in self.engine.markets.values():
            if settle_of(spec) != currency.upper():
                continue
            pos = self.engine.position(account, spec.symbol)
            if pos.qty:
                mark = self.engine.mark_price(spec.symbol)
                upl += self._upl(spec, pos, mark)
                margin += spec.notional(abs(pos.qty), mark) / self.engine.leverage
        equity = balance + upl
        available = self.engine.available_balance(account) + upl
        return {
            "currency": currency.upper(),
            "balance": _n(balance),
            "equity": _n(equity),
            "margin_balance": _n(equity),
            "available_funds": _n(available),
            "available_withdrawal_funds": _n(available),
            "initial_margin": _n(margin),
            "maintenance_margin": _n(margin / 2),
            "projected_initial_margin": _n(margin),
            "projected_maintenance_margin": _n(margin / 2),
            "session_upl": _n(upl),
            "session_rpl": 0,
            "futures_pl": _n(upl),
            "total_pl": _n(upl),
            "delta_total": 0,
            "fee_balance": 0,
            "options_value": 0,
            "locked_balance": 0,
            "spot_reserve": 0,
            "additional_reserve": 0,
            "portfolio_margining_enabled": False,
            "cross_collateral_enabled": False,
            "margin_model": "segregated_sm",
        }

    def _upl(self, spec: MarketSpec, pos: EnginePosition, mark: Decimal) -> Decimal:
        if not pos.qty or not mark or not pos.avg_price:
            return Decimal(0)
        if spec.kind == "inverse":
            return pos.qty * (1 / pos.avg_price - 1 / mark)
        return pos.qty * (mark - pos.avg_price)

    def position_dict(self, spec: MarketSpec, pos: EnginePosition) -> dict[str, Any]:
        """Return a position in Deribit's shape (``size`` signed, in the venue's amount units)."""
        mark = self.engine.mark_price(spec.symbol)
        upl = self._upl(spec, pos, mark)
        notional = spec.notional(pos.qty, mark) if pos.qty else Decimal(0)
        margin = abs(notional) / self.engine.leverage
        return {
            "instrument_name": spec.symbol,
            "kind": "future",
            "size": _n(pos.qty),
            "size_currency": _n(notional),
            "direction": "buy" if pos.qty > 0 else ("sell" if pos.qty < 0 else "zero"),
            "average_price": _n(pos.avg_price),
            "mark_price": _n(mark),
            "index_price": _n(mark),
            "settlement_price": _n(mark),
            "floating_profit_loss": _n(upl),
            "realized_profit_loss": _n(pos.realized_pnl),
            "total_profit_loss": _n(upl + pos.realized_pnl),
            "leverage": int(self.engine.leverage),
            "initial_margin": _n(margin),
            "maintenance_margin": _n(margin / 2),
            "open_orders_margin": 0,
            "delta": _n(notional),
            "estimated_liquidation_price": None,
        }

    def order_dict(self, order: EngineOrder) -> dict[str, Any]:
        """Return an order in Deribit's shape."""
        spec = self.engine.markets[order.symbol]
        market = order.order_type == "market"
        data: dict[str, Any] = {
            "label": self.labels.get(order.order_id, ""),
            "price": "market_price" if market else _n(order.price),
            "user_id": USER_ID,
            "amount": _n(order.qty),
            "direction": str(order.side),
            "time_in_force": _TIF_OUT.get(order.tif, "good_til_cancelled"),
            "instrument_name": order.symbol,
            "web": False,
            "api": True,
            "order_id": order.order_id,
            "creation_timestamp": order.created_ms,
            "replaced": False,
            "filled_amount": _n(order.filled),
            "last_update_timestamp": order.updated_ms,
            "post_only": order.tif is TimeInForce.POST_ONLY,
            "reject_post_only": order.tif is TimeInForce.POST_ONLY,
            "reduce_only": order.reduce_only,
            "average_price": _n(order.avg_price),
            "commission": _n(order.fee_paid),
            "mmp": False,
            "contracts": _n(order.qty / spec.listed_size),
            "order_state": _STATE[order.status],
            "order_type": order.order_type,
            "is_liquidation": False,
            "risk_reducing": False,
        }
        if order.status is OrderStatus.CANCELED:
            data["cancel_reason"] = _CANCEL_REASON.get(order.cancel_reason, "user_request")
        return data

    def trade_dict(self, fill: EngineFill) -> dict[str, Any]:
        """Return a user trade in Deribit's shape."""
        spec = self.engine.markets[fill.symbol]
        mark = self.engine.mark_price(fill.symbol)
        order = self.engine.orders[fill.order_id]
        return {
            "trade_id": fill.exec_id,
            "trade_seq": fill.seq,
            "timestamp": fill.ts_ms,
            "tick_direction": 0,
            "state": _STATE[order.status],
            "reduce_only": order.reduce_only,
            "price": _n(fill.price),
            "post_only": order.tif is TimeInForce.POST_ONLY,
            "order_type": fill.order_type,
            "order_id": fill.order_id,
            "mmp": False,
            "matching_id": None,
            "mark_price": _n(mark),
            "liquidity": "M" if fill.is_maker else "T",
            "label": self.labels.get(fill.order_id, ""),
            "instrument_name": fill.symbol,
            "index_price": _n(mark),
            "fee": _n(fill.fee),
            "fee_currency": settle_of(spec),
            "direction": str(fill.side),
            "amount": _n(fill.qty),
            "contracts": _n(fill.qty / spec.listed_size),
            "profit_loss": 0,
            "api": True,
        }


class DeribitStreams(DeribitShapes):
    """Push engine events to subscribed WebSockets in Deribit's ``subscription`` shape."""

    _change_ids: dict[str, int]
    _levels: dict[str, dict[Side, set[Decimal]]]
    _pending_label: str | None

    def _notify(self, conn: WsConnection, channel: str, data: Any, *, private: bool = False) -> None:
        conn.send(
            {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}},
            private=private,
        )

    def _connections(self) -> list[WsConnection]:
        return [c for c in self.exchange.connections if c.path.startswith(WS_PATH)]

    def _send_snapshot(self, conn: WsConnection, channel: str) -> None:
        kind, symbol = channel.split(".")[:2]
        if kind != "book":
            ticker = self._ticker(self.engine.markets[symbol])
            self._notify(conn, channel, ticker if kind == "ticker" else _quote(ticker))
            return
        bids, asks = self.engine.levels(symbol, 1000)
        self._notify(
            conn,
            channel,
            {
                "type": "snapshot",
                "timestamp": self.exchange.now_ms(),
                "instrument_name": symbol,
                "change_id": self._change_ids.get(symbol, self.engine.book_seq[symbol]),
                "bids": [["new", _n(p), _n(q)] for p, q in bids],
                "asks": [["new", _n(p), _n(q)] for p, q in asks],
            },
        )

    def _push_book(self, symbol: str, changes: list[tuple[Side, Decimal, Decimal]]) -> None:
        prev = self._change_ids.get(symbol)
        change_id = self.engine.book_seq[symbol]
        self._change_ids[symbol] = change_id
        known = self._levels[symbol]
        sides: dict[Side, list[list[Any]]] = {Side.BUY: [], Side.SELL: []}
        for side, price, size in changes:
            if size == 0:
                action = "delete"
                known[side].discard(price)
            else:
                action = "change" if price in known[side] else "new"
                known[side].add(price)
            sides[side].append([action, _n(price), _n(size)])
        data = {
            "type": "change",
            "timestamp": self.exchange.now_ms(),
            "instrument_name": symbol,
            "change_id": change_id,
            "prev_change_id": prev if prev is not None else change_id - 1,
            "bids": sides[Side.BUY],
            "asks": sides[Side.SELL],
        }
        ticker = self._ticker(self.engine.markets[symbol])
        for conn in self._connections():
            for channel in list(conn.topics):
                parts = channel.split(".")
                if len(parts) < 2 or parts[1] != symbol:
                    continue
                if parts[0] == "book":
                    self._notify(conn, channel, data)
                elif parts[0] == "ticker":
                    self._notify(conn, channel, ticker)
                elif parts[0] == "quote":
                    self._notify(conn, channel, _quote(ticker))

    def _push_trade(self, trade: PublicTrade) -> None:
        seq = len(self.engine.trades.get(trade.symbol, []))
        rows = [self._public_trade(trade, seq)]
        for conn in self._connections():
            for channel in list(conn.topics):
                parts = channel.split(".")
                if parts[0] == "trades" and len(parts) >= 2 and parts[1] == trade.symbol:
                    self._notify(conn, channel, rows)

    def _user_channels(self, conn: WsConnection, kind: str, symbol: str) -> list[str]:
        spec = self.engine.markets[symbol]
        matched = []
        for channel in conn.topics:
            parts = channel.split(".")
            if len(parts) < 4 or parts[0] != "user" or parts[1] != kind:
                continue
            if len(parts) == 4 and parts[2] != symbol:
                continue
            if len(parts) == 5:
                kind_ok = parts[2] in ("any", "future")
                currency_ok = parts[3].upper() in ("ANY", spec.base, settle_of(spec))
                if not (kind_ok and currency_ok):
                    continue
            matched.append(channel)
        return matched

    def _push_order(self, order: EngineOrder) -> None:
        if not order.account.startswith(USER + ":"):
            return
        if order.order_id not in self.labels and self._pending_label is not None:
            # the engine announces a new order before matching it: label it now so its
            # fills carry the label too
            self.labels[order.order_id] = self._pending_label
        data = self.order_dict(order)
        for conn in self._connections():
            if not conn.authenticated:
                continue
            for channel in self._user_channels(conn, "orders", order.symbol):
                payload: Any = data if channel.endswith(".raw") else [data]
                self._notify(conn, channel, payload, private=True)

    def _push_fill(self, fill: EngineFill) -> None:
        if not fill.account.startswith(USER + ":"):
            return
        if self.exchange.faults.take("drop_private_fills"):
            return
        rows = [self.trade_dict(fill)]
        copies = 2 if self.exchange.faults.duplicate_fills else 1
        for conn in self._connections():
            if not conn.authenticated:
                continue
            for channel in self._user_channels(conn, "trades", fill.symbol):
                for _ in range(copies):
                    self._notify(conn, channel, rows, private=True)

    def _push_portfolio(self, pos: EnginePosition) -> None:
        if not pos.account.startswith(USER + ":"):
            return
        currency = pos.account.split(":", 1)[1]
        summary = self.account_summary(currency)
        for conn in self._connections():
            if not conn.authenticated:
                continue
            for channel in list(conn.topics):
                parts = channel.split(".")
                wanted = parts[:2] == ["user", "portfolio"] and len(parts) == 3
                if wanted and parts[2].upper() in ("ANY", currency):
                    self._notify(conn, channel, summary, private=True)
