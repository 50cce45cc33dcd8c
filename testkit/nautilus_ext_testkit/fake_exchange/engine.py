"""
A small matching engine for the fake exchange: price-time priority, partial fills, positions.

The engine is venue-neutral: the venue protocol modules (:mod:`.bybit`, :mod:`.hyperliquid`)
translate their wire messages into :meth:`MatchingEngine.submit` calls and the engine's events
back into each venue's wire shapes. It is not thread-safe: it is driven only from the server's
event loop (tests reach it through :meth:`FakeExchange.call`).

Resting liquidity seeded with :meth:`MatchingEngine.seed_book` belongs to the market-maker
account ``MM``; :meth:`MatchingEngine.external_trade` lets a test play another trader hitting
the book, which is how resting user orders get (partially) filled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

MM_ACCOUNT: Final = "MM"
EXTERNAL_ACCOUNT: Final = "EXT"
ZERO: Final = Decimal(0)


@unique
class Side(StrEnum):
    """Order side."""

    BUY = "buy"  # bid
    SELL = "sell"  # ask


@unique
class OrderStatus(StrEnum):
    """Order lifecycle state."""

    NEW = "new"  # resting, nothing filled
    PARTIALLY_FILLED = "partially_filled"  # resting with some quantity filled
    FILLED = "filled"  # fully filled
    CANCELED = "canceled"  # canceled by the user or by IOC/market leftovers
    REJECTED = "rejected"  # refused at entry


@unique
class TimeInForce(StrEnum):
    """Time in force understood by the engine."""

    GTC = "GTC"  # rest until canceled
    IOC = "IOC"  # fill what is possible now, cancel the rest
    FOK = "FOK"  # fill everything now or nothing
    POST_ONLY = "POST_ONLY"  # rest only; reject if it would take liquidity


@unique
class RejectReason(StrEnum):
    """Why the engine refused an order (mapped to each venue's codes by the protocol modules)."""

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"  # no such market
    INVALID_QUANTITY = "INVALID_QUANTITY"  # below minimum or not a multiple of the step
    INVALID_PRICE = "INVALID_PRICE"  # not a multiple of the tick or missing for a limit
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"  # margin check failed
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"  # a post-only order would cross
    FOK_NOT_FILLABLE = "FOK_NOT_FILLABLE"  # a FOK order cannot be filled in full
    REDUCE_ONLY_INCREASES = "REDUCE_ONLY_INCREASES"  # a reduce-only order would increase
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"  # the client order id was already used
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"  # cancel/amend target missing or closed
    INJECTED = "INJECTED"  # rejected by fault injection


class EngineReject(Exception):
    """The engine refused a request; ``reason`` is a :class:`RejectReason`."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class MarketSpec:
    """
    One tradable market.

    Parameters
    ----------
    symbol : str
        The venue symbol (``BTCUSDT`` on Bybit, ``BTC`` on Hyperliquid).
    base : str
        Base asset.
    quote : str
        Quote (and settlement) asset.
    tick_size : Decimal
        Price increment.
    qty_step : Decimal
        Quantity increment.
    min_qty : Decimal
        Minimum order quantity.
    maker_fee : Decimal
        Maker fee rate (fraction of notional).
    taker_fee : Decimal
        Taker fee rate (fraction of notional).
    max_leverage : int
        Maximum leverage (the engine's margin check uses ``leverage``).
    kind : str
        ``linear`` perpetual (quantity in base or contracts, margin and PnL in quote), ``inverse``
        perpetual (quantity in quote units such as USD, margin, fees and PnL in the base coin) or
        ``spot``.
    settle : str
        Settlement (margin) asset; empty means the quote asset (the base for ``inverse``).
    contract_size : Decimal
        Base units per unit of quantity for linear markets (OKX swaps trade contracts of ``ctVal``
        base; 1 elsewhere): margin, fees and PnL use ``qty * contract_size``. Ignored by inverse
        markets, whose quantity is already quote value.
    listed_contract_size : Decimal, optional
        The contract size the venue advertises when quantities are not counted in contracts
        (Deribit: 10 USD inverse, 0.0001 BTC linear); informational only.
    """

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.00055")
    max_leverage: int = 100
    kind: str = "linear"
    settle: str = ""
    contract_size: Decimal = Decimal(1)
    listed_contract_size: Decimal | None = None

    @property
    def listed_size(self) -> Decimal:
        """Return the contract size the venue advertises."""
        return self.contract_size if self.listed_contract_size is None else self.listed_contract_size

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """Return the value of ``qty`` at ``price`` in the settlement asset."""
        if self.kind == "inverse":
            return qty / price if price else ZERO
        return qty * self.contract_size * price


@dataclass
class EngineOrder:
    """An order as the engine tracks it (quantities and prices are exact decimals)."""

    order_id: str
    client_id: str
    account: str
    symbol: str
    side: Side
    order_type: str  # "limit" or "market"
    price: Decimal | None
    qty: Decimal
    tif: TimeInForce
    reduce_only: bool
    created_ms: int
    updated_ms: int
    seq: int
    filled: Decimal = ZERO
    notional_filled: Decimal = ZERO
    fee_paid: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    cancel_reason: str = ""
    reject_reason: str = ""

    @property
    def leaves(self) -> Decimal:
        """Return the open quantity (zero once the order is closed)."""
        if self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            return self.qty - self.filled
        return ZERO

    @property
    def avg_price(self) -> Decimal | None:
        """Return the volume-weighted fill price, or ``None`` before any fill."""
        return self.notional_filled / self.filled if self.filled else None

    @property
    def is_open(self) -> bool:
        """Return whether the order rests on the book."""
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True)
class EngineFill:
    """One execution of one order (each match produces one per side)."""

    exec_id: str
    order_id: str
    client_id: str
    account: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    ts_ms: int
    order_qty: Decimal
    order_price: Decimal | None
    order_type: str
    leaves_qty: Decimal
    closed_size: Decimal
    seq: int


@dataclass
class EnginePosition:
    """A net position (signed quantity) with its average entry price."""

    account: str
    symbol: str
    qty: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    updated_ms: int = 0
    seq: int = 0


@dataclass(frozen=True)
class PublicTrade:
    """A trade as seen on the public tape (aggressor side)."""

    trade_id: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    ts_ms: int


@dataclass
class EngineListeners:
    """Callbacks the venue protocol modules register to turn events into wire messages."""

    on_order: list[Callable[[EngineOrder], None]] = field(default_factory=list)
    on_fill: list[Callable[[EngineFill], None]] = field(default_factory=list)
    on_position: list[Callable[[EnginePosition], None]] = field(default_factory=list)
    on_book: list[Callable[[str, list[tuple[Side, Decimal, Decimal]]], None]] = field(
        default_factory=list,
    )
    on_trade: list[Callable[[PublicTrade], None]] = field(default_factory=list)


class MatchingEngine:
    """
    A price-time priority limit order book per market, with positions and a margin check.

    Parameters
    ----------
    markets : list[MarketSpec]
        The markets to list.
    clock_ms : Callable[[], int]
        The exchange clock in Unix milliseconds (already including any injected skew).
    balances : dict[str, Decimal], optional
        Starting quote balances per account; the user account defaults to 100,000.
    leverage : int, default 10
        The leverage the margin check applies to linear markets.
    """

    def __init__(
        self,
        markets: list[MarketSpec],
        clock_ms: Callable[[], int],
        balances: dict[str, Decimal] | None = None,
        leverage: int = 10,
    ) -> None:
        self.markets: dict[str, MarketSpec] = {m.symbol: m for m in markets}
        self.clock_ms = clock_ms
        self.balances: dict[str, Decimal] = dict(balances or {})
        self.leverage = Decimal(leverage)
        self.listeners = EngineListeners()
        self.orders: dict[str, EngineOrder] = {}
        self.fills: list[EngineFill] = []
        self.positions: dict[tuple[str, str], EnginePosition] = {}
        self.trades: dict[str, list[PublicTrade]] = {s: [] for s in self.markets}
        self._bids: dict[str, list[EngineOrder]] = {s: [] for s in self.markets}
        self._asks: dict[str, list[EngineOrder]] = {s: [] for s in self.markets}
        self._client_ids: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        # start high: ccxt's Bybit book handler treats update id 1 as a snapshot
        self.book_seq: dict[str, int] = dict.fromkeys(self.markets, 100)
        # funding rates, schedule and settlement of the perpetuals (venues configure theirs)
        from nautilus_ext_testkit.fake_exchange.funding import FundingSchedule

        self.funding = FundingSchedule(self)

    # -- book views -------------------------------------------------------------------------

    def levels(self, symbol: str, depth: int = 50) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        """Return aggregated ``(bids, asks)`` levels, best first."""
        return (
            _aggregate(self._book(symbol, Side.BUY), depth),
            _aggregate(self._book(symbol, Side.SELL), depth),
        )

    def best(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        """Return the best bid and ask prices (``None`` for an empty side)."""
        bids, asks = self._book(symbol, Side.BUY), self._book(symbol, Side.SELL)
        return (bids[0].price if bids else None, asks[0].price if asks else None)

    def mark_price(self, symbol: str) -> Decimal:
        """Return the mid price, or the last trade price, or zero."""
        bid, ask = self.best(symbol)
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        tape = self.trades.get(symbol) or []
        return tape[-1].price if tape else ZERO

    def open_orders(self, account: str, symbol: str | None = None) -> list[EngineOrder]:
        """Return the account's resting orders, oldest first."""
        return [
            o
            for o in self.orders.values()
            if o.account == account and o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def account_fills(self, account: str, symbol: str | None = None) -> list[EngineFill]:
        """Return the account's fills, oldest first."""
        return [f for f in self.fills if f.account == account and (symbol is None or f.symbol == symbol)]

    def position(self, account: str, symbol: str) -> EnginePosition:
        """Return (creating if needed) the account's position in ``symbol``."""
        key = (account, symbol)
        if key not in self.positions:
            self.positions[key] = EnginePosition(account=account, symbol=symbol)
        return self.positions[key]

    def find_order(
        self,
        account: str,
        order_id: str | None = None,
        client_id: str | None = None,
    ) -> EngineOrder | None:
        """Return the account's order by venue id or client id."""
        if order_id is None and client_id:
            order_id = self._client_ids.get((account, client_id))
        order = self.orders.get(order_id) if order_id else None
        return order if order is not None and order.account == account else None

    def available_balance(self, account: str) -> Decimal:
        """Return the quote balance not used as margin by positions and resting orders."""
        used = ZERO
        for (acct, symbol), pos in self.positions.items():
            if acct == account and pos.qty:
                spec = self.markets[symbol]
                used += spec.notional(abs(pos.qty), self.mark_price(symbol)) / self.leverage
        for order in self.open_orders(account):
            spec = self.markets[order.symbol]
            used += spec.notional(order.leaves, order.price or ZERO) / self.leverage
        return self.balances.get(account, ZERO) - used

    @property
    def maintenance_rate(self) -> Decimal:
        """Return the maintenance margin rate of a position: half its initial margin rate."""
        return 1 / (2 * self.leverage)

    def _held(self, account: str, symbol: str | None) -> list[EnginePosition]:
        return [
            p
            for (acct, sym), p in self.positions.items()
            if acct == account and p.qty and (symbol is None or sym == symbol)
        ]

    def unrealised_pnl(self, account: str, symbol: str | None = None) -> Decimal:
        """Return the unrealised PnL of ``account``'s linear positions at the mark."""
        total = ZERO
        for pos in self._held(account, symbol):
            spec = self.markets[pos.symbol]
            if spec.kind == "linear":
                total += pos.qty * spec.contract_size * (self.mark_price(pos.symbol) - pos.avg_price)
        return total

    def maintenance_margin(self, account: str, symbol: str | None = None) -> Decimal:
        """Return the maintenance margin of ``account``'s linear positions at the mark."""
        return sum(
            (
                self.markets[p.symbol].notional(abs(p.qty), self.mark_price(p.symbol)) * self.maintenance_rate
                for p in self._held(account, symbol)
                if self.markets[p.symbol].kind == "linear"
            ),
            ZERO,
        )

    def liquidation_price(self, account: str, symbol: str) -> Decimal | None:
        """
        Return the mark at which ``account``'s equity meets its maintenance margin, holding the
        other positions at their marks (cross margin), or ``None`` for no position or none
        reachable at a positive price.
        """
        pos = self.position(account, symbol)
        spec = self.markets.get(symbol)
        if spec is None or spec.kind != "linear" or not pos.qty:
            return None
        size = pos.qty * spec.contract_size
        others = self.unrealised_pnl(account) - self.unrealised_pnl(account, symbol)
        other_mm = self.maintenance_margin(account) - self.maintenance_margin(account, symbol)
        wallet = self.balances.get(account, ZERO) + others - other_mm
        # wallet + size * (P - entry) = |size| * P * rate
        #   =>  P = (size * entry - wallet) / (size - |size| * rate)
        denominator = size - abs(size) * self.maintenance_rate
        if denominator == 0:
            return None
        price = ((size * pos.avg_price - wallet) / denominator).quantize(spec.tick_size)
        return price if price > 0 else None

    # -- commands ---------------------------------------------------------------------------

    def seed_book(
        self,
        symbol: str,
        bids: list[tuple[Decimal | str, Decimal | str]],
        asks: list[tuple[Decimal | str, Decimal | str]],
    ) -> None:
        """Add market-maker liquidity at the given ``(price, qty)`` levels."""
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            for price, qty in levels:
                self.submit(
                    MM_ACCOUNT,
                    symbol,
                    side,
                    "limit",
                    Decimal(qty),
                    price=Decimal(price),
                    check_margin=False,
                )

    def submit(
        self,
        account: str,
        symbol: str,
        side: Side,
        order_type: str,
        qty: Decimal,
        *,
        price: Decimal | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        client_id: str = "",
        check_margin: bool = True,
        soft_reject: bool = False,
    ) -> EngineOrder:
        """
        Validate, match and (if it remains open) rest an order.

        Returns
        -------
        EngineOrder
            The order after matching (its fills were emitted to the listeners).

        Raises
        ------
        EngineReject
            If the order is refused before entering the book. With ``soft_reject`` a
            post-only order that would take and a FOK order that cannot fill are instead
            accepted and canceled at once (what Bybit does), and returned canceled.
        """
        try:
            return self._submit(
                account,
                symbol,
                side,
                order_type,
                qty,
                price,
                tif,
                reduce_only,
                client_id,
                check_margin,
            )
        except EngineReject as e:
            soft = (RejectReason.POST_ONLY_WOULD_TAKE, RejectReason.FOK_NOT_FILLABLE)
            if not soft_reject or e.reason not in soft:
                raise
            now = self.clock_ms()
            order = EngineOrder(
                order_id=f"{next(self._ids):08d}-fake",
                client_id=client_id,
                account=account,
                symbol=symbol,
                side=side,
                order_type=order_type,
                price=price,
                qty=qty,
                tif=tif,
                reduce_only=reduce_only,
                created_ms=now,
                updated_ms=now,
                seq=next(self._seq),
                status=OrderStatus.CANCELED,
                cancel_reason=str(e.reason),
            )
            self.orders[order.order_id] = order
            if client_id:
                self._client_ids[(account, client_id)] = order.order_id
            self._emit_order(order)
            return order

    def _submit(
        self,
        account: str,
        symbol: str,
        side: Side,
        order_type: str,
        qty: Decimal,
        price: Decimal | None,
        tif: TimeInForce,
        reduce_only: bool,
        client_id: str,
        check_margin: bool,
    ) -> EngineOrder:
        spec = self.markets.get(symbol)
        if spec is None:
            raise EngineReject(RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {symbol}")
        if client_id and (account, client_id) in self._client_ids:
            raise EngineReject(RejectReason.DUPLICATE_CLIENT_ID, f"duplicate {client_id}")
        if qty < spec.min_qty or qty % spec.qty_step != 0:
            raise EngineReject(RejectReason.INVALID_QUANTITY, f"invalid quantity {qty}")
        if order_type == "limit" and (price is None or price <= 0 or price % spec.tick_size):
            raise EngineReject(RejectReason.INVALID_PRICE, f"invalid price {price}")
        if order_type == "market":
            price = None
        opposite = self._book(symbol, Side.SELL if side is Side.BUY else Side.BUY)
        if tif is TimeInForce.POST_ONLY and opposite and _crosses(side, price, opposite[0]):
            raise EngineReject(RejectReason.POST_ONLY_WOULD_TAKE, "post-only order would take")
        if tif is TimeInForce.FOK and _fillable(side, price, opposite) < qty:
            raise EngineReject(RejectReason.FOK_NOT_FILLABLE, "FOK order cannot fill in full")
        if reduce_only:
            pos = self.position(account, symbol).qty
            closing = -pos if side is Side.BUY else pos
            if closing <= 0 or qty > closing:
                raise EngineReject(RejectReason.REDUCE_ONLY_INCREASES, "reduce-only order would increase")
        if check_margin and spec.kind in ("linear", "inverse") and not reduce_only:
            ref_price = price if price is not None else self._sweep_price(side, opposite)
            required = spec.notional(qty, ref_price or ZERO) / self.leverage
            if required > self.available_balance(account):
                raise EngineReject(RejectReason.INSUFFICIENT_BALANCE, "insufficient balance")
        now = self.clock_ms()
        order = EngineOrder(
            order_id=f"{next(self._ids):08d}-fake",
            client_id=client_id,
            account=account,
            symbol=symbol,
            side=side,
            order_type=order_type,
            price=price,
            qty=qty,
            tif=tif,
            reduce_only=reduce_only,
            created_ms=now,
            updated_ms=now,
            seq=next(self._seq),
        )
        self.orders[order.order_id] = order
        if client_id:
            self._client_ids[(account, client_id)] = order.order_id
        self._emit_order(order)
        self._match(order, spec)
        if order.is_open and (order.order_type == "market" or order.tif is TimeInForce.IOC):
            order.status = OrderStatus.CANCELED
            order.cancel_reason = "EXPIRED_IOC"
            order.updated_ms = self.clock_ms()
            self._emit_order(order)
        elif order.is_open:
            book = self._book(symbol, side)
            book.append(order)
            book.sort(key=_priority)
            self._emit_book(symbol, [(side, order.price or ZERO)])
        return order

    def cancel(
        self,
        account: str,
        order_id: str | None = None,
        client_id: str | None = None,
    ) -> EngineOrder:
        """Cancel one resting order (by venue id or client id)."""
        order = self.find_order(account, order_id, client_id)
        if order is None or not order.is_open:
            raise EngineReject(RejectReason.ORDER_NOT_FOUND, "order not found or closed")
        self._book(order.symbol, order.side).remove(order)
        order.status = OrderStatus.CANCELED
        order.cancel_reason = "CANCEL_BY_USER"
        order.updated_ms = self.clock_ms()
        self._emit_order(order)
        self._emit_book(order.symbol, [(order.side, order.price or ZERO)])
        return order

    def cancel_all(self, account: str, symbol: str | None = None) -> list[EngineOrder]:
        """Cancel every resting order of the account (optionally in one market)."""
        return [self.cancel(account, o.order_id) for o in self.open_orders(account, symbol)]

    def amend(
        self,
        account: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> EngineOrder:
        """Change a resting order's quantity and/or price (a price change loses priority)."""
        order = self.find_order(account, order_id, client_id)
        if order is None or not order.is_open:
            raise EngineReject(RejectReason.ORDER_NOT_FOUND, "order not found or closed")
        spec = self.markets[order.symbol]
        if qty is not None and (qty <= order.filled or qty % spec.qty_step):
            raise EngineReject(RejectReason.INVALID_QUANTITY, f"invalid quantity {qty}")
        if price is not None and (price <= 0 or price % spec.tick_size):
            raise EngineReject(RejectReason.INVALID_PRICE, f"invalid price {price}")
        book = self._book(order.symbol, order.side)
        old_price = order.price or ZERO
        book.remove(order)
        if qty is not None:
            order.qty = qty
        if price is not None and price != order.price:
            order.price = price
            order.seq = next(self._seq)
        order.updated_ms = self.clock_ms()
        self._emit_order(order)
        self._match(order, spec)
        if order.is_open:
            book.append(order)
            book.sort(key=_priority)
        self._emit_book(order.symbol, [(order.side, old_price), (order.side, order.price or ZERO)])
        return order

    def external_trade(
        self,
        symbol: str,
        side: Side,
        qty: Decimal | str,
        price: Decimal | str | None = None,
    ) -> EngineOrder:
        """Play another trader: send an IOC order from the external account into the book."""
        return self.submit(
            EXTERNAL_ACCOUNT,
            symbol,
            side,
            "market" if price is None else "limit",
            Decimal(qty),
            price=None if price is None else Decimal(price),
            tif=TimeInForce.IOC,
            check_margin=False,
        )

    def force_close(
        self,
        account: str,
        symbol: str,
        kind: str,
        qty: Decimal | str | None = None,
        price: Decimal | str | None = None,
        client_id: str = "",
    ) -> EngineOrder:
        """
        Close (part of) ``account``'s position by the venue's own hand: ``kind`` ``"adl"`` (auto-
        deleveraging against a bankrupt counterparty) or ``"liquidation"`` (the account itself).

        The closing order never touches the book: it fills at once at ``price`` (default the
        mark) against the external account, with no fee, and is emitted to the listeners like
        any order and fill, with ``order_type`` set to ``kind`` so each venue module renders
        its own wire shape (Bybit ``execType`` ``AdlTrade``/``BustTrade``, Binance
        ``autoclose-``/``adl_autoclose`` client ids). ``qty`` defaults to the whole position.

        Raises
        ------
        EngineReject
            If ``kind`` is unknown or the account holds no position to close.
        """
        if kind not in ("adl", "liquidation"):
            raise EngineReject(RejectReason.INVALID_QUANTITY, f"unknown forced close {kind!r}")
        spec = self.markets.get(symbol)
        if spec is None:
            raise EngineReject(RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {symbol}")
        held = self.position(account, symbol).qty
        amount = abs(held) if qty is None else Decimal(qty)
        if held == 0 or amount <= 0 or amount > abs(held):
            raise EngineReject(RejectReason.REDUCE_ONLY_INCREASES, f"no position of {amount} to close")
        fill_price = self.mark_price(symbol) if price is None else Decimal(price)
        side = Side.SELL if held > 0 else Side.BUY
        now = self.clock_ms()
        order = EngineOrder(
            order_id=f"{next(self._ids):08d}-fake",
            client_id=client_id,
            account=account,
            symbol=symbol,
            side=side,
            order_type=kind,
            price=fill_price,
            qty=amount,
            tif=TimeInForce.IOC,
            reduce_only=True,
            created_ms=now,
            updated_ms=now,
            seq=next(self._seq),
        )
        self.orders[order.order_id] = order
        if client_id:
            self._client_ids[(account, client_id)] = order.order_id
        self._emit_order(order)
        taker = EngineOrder(
            order_id=f"{next(self._ids):08d}-fake",
            client_id="",
            account=EXTERNAL_ACCOUNT,
            symbol=symbol,
            side=Side.BUY if side is Side.SELL else Side.SELL,
            order_type=kind,
            price=fill_price,
            qty=amount,
            tif=TimeInForce.IOC,
            reduce_only=False,
            created_ms=now,
            updated_ms=now,
            seq=next(self._seq),
        )
        self.orders[taker.order_id] = taker
        free = replace(spec, maker_fee=ZERO, taker_fee=ZERO)
        trade_id = f"T{next(self._ids):08d}"
        for each, is_maker in ((order, False), (taker, True)):
            self._apply_fill(each, free, fill_price, amount, is_maker, now, trade_id)
        return order

    # -- matching ---------------------------------------------------------------------------

    def _book(self, symbol: str, side: Side) -> list[EngineOrder]:
        return (self._bids if side is Side.BUY else self._asks)[symbol]

    def _sweep_price(self, side: Side, opposite: list[EngineOrder]) -> Decimal | None:
        return opposite[-1].price if opposite else None

    def _match(self, taker: EngineOrder, spec: MarketSpec) -> None:
        opposite = self._book(taker.symbol, Side.SELL if taker.side is Side.BUY else Side.BUY)
        touched: list[tuple[Side, Decimal]] = []
        while taker.leaves > 0 and opposite and _crosses(taker.side, taker.price, opposite[0]):
            maker = opposite[0]
            qty = min(taker.leaves, maker.leaves)
            price = maker.price or ZERO
            now = self.clock_ms()
            trade_id = f"T{next(self._ids):08d}"
            for order, is_maker in ((maker, True), (taker, False)):
                self._apply_fill(order, spec, price, qty, is_maker, now, trade_id)
            touched.append((maker.side, price))
            if not maker.is_open:
                opposite.pop(0)
            trade = PublicTrade(trade_id, taker.symbol, taker.side, price, qty, now)
            self.trades[taker.symbol].append(trade)
            for cb in self.listeners.on_trade:
                cb(trade)
        if touched:
            self._emit_book(taker.symbol, touched)

    def _apply_fill(
        self,
        order: EngineOrder,
        spec: MarketSpec,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        now: int,
        trade_id: str,
    ) -> None:
        fee_rate = spec.maker_fee if is_maker else spec.taker_fee
        fee = spec.notional(qty, price) * fee_rate
        order.filled += qty
        order.notional_filled += price * qty
        order.fee_paid += fee
        order.status = OrderStatus.FILLED if order.filled == order.qty else (OrderStatus.PARTIALLY_FILLED)
        order.updated_ms = now
        closed = self._update_position(order.account, spec, order.side, price, qty, now)
        self.balances[order.account] = self.balances.get(order.account, ZERO) - fee
        fill = EngineFill(
            exec_id=f"{trade_id}-{'M' if is_maker else 'T'}",
            order_id=order.order_id,
            client_id=order.client_id,
            account=order.account,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_rate=fee_rate,
            is_maker=is_maker,
            ts_ms=now,
            order_qty=order.qty,
            order_price=order.price,
            order_type=order.order_type,
            leaves_qty=order.qty - order.filled,
            closed_size=closed,
            seq=next(self._seq),
        )
        self.fills.append(fill)
        for cb in self.listeners.on_fill:
            cb(fill)
        self._emit_order(order)
        pos = self.position(order.account, order.symbol)
        for pcb in self.listeners.on_position:
            pcb(pos)

    def _update_position(
        self,
        account: str,
        spec: MarketSpec,
        side: Side,
        price: Decimal,
        qty: Decimal,
        now: int,
    ) -> Decimal:
        pos = self.position(account, spec.symbol)
        signed = qty if side is Side.BUY else -qty
        closed = ZERO
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            new_qty = pos.qty + signed
            if spec.kind == "inverse":
                # inverse entry price is the harmonic mean: USD size over coin value
                coins = (abs(pos.qty) / pos.avg_price if pos.avg_price else ZERO) + qty / price
                pos.avg_price = abs(new_qty) / coins
            else:
                pos.avg_price = (abs(pos.qty) * pos.avg_price + qty * price) / abs(new_qty)
            pos.qty = new_qty
        else:
            closed = min(abs(pos.qty), qty)
            direction = Decimal(1) if pos.qty > 0 else Decimal(-1)
            if spec.kind == "inverse":
                pnl = closed * (1 / pos.avg_price - 1 / price) * direction
            else:
                pnl = closed * spec.contract_size * (price - pos.avg_price) * direction
            pos.realized_pnl += pnl
            self.balances[account] = self.balances.get(account, ZERO) + pnl
            pos.qty += signed
            if pos.qty == 0:
                pos.avg_price = ZERO
            elif (pos.qty > 0) == (signed > 0):  # flipped through zero
                pos.avg_price = price
        pos.updated_ms = now
        pos.seq = next(self._seq)
        return closed

    def _emit_order(self, order: EngineOrder) -> None:
        for cb in self.listeners.on_order:
            cb(order)

    def _emit_book(self, symbol: str, touched: list[tuple[Side, Decimal]]) -> None:
        self.book_seq[symbol] += 1
        changes: list[tuple[Side, Decimal, Decimal]] = []
        seen: set[tuple[Side, Decimal]] = set()
        for side, price in touched:
            if (side, price) in seen:
                continue
            seen.add((side, price))
            size = sum((o.leaves for o in self._book(symbol, side) if o.price == price), ZERO)
            changes.append((side, price, size))
        for cb in self.listeners.on_book:
            cb(symbol, changes)


def _priority(order: EngineOrder) -> tuple[Decimal, int]:
    price = order.price or ZERO
    return (-price if order.side is Side.BUY else price, order.seq)


def _crosses(side: Side, price: Decimal | None, resting: EngineOrder) -> bool:
    if price is None:
        return True
    resting_price = resting.price or ZERO
    return price >= resting_price if side is Side.BUY else price <= resting_price


def _fillable(side: Side, price: Decimal | None, opposite: list[EngineOrder]) -> Decimal:
    total = ZERO
    for resting in opposite:
        if not _crosses(side, price, resting):
            break
        total += resting.leaves
    return total


def _aggregate(book: list[EngineOrder], depth: int) -> list[tuple[Decimal, Decimal]]:
    levels: list[tuple[Decimal, Decimal]] = []
    for order in book:
        price = order.price or ZERO
        if levels and levels[-1][0] == price:
            levels[-1] = (price, levels[-1][1] + order.leaves)
        elif len(levels) < depth:
            levels.append((price, order.leaves))
        else:
            break
    return levels
