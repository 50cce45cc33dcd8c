"""
A local IB Gateway: a TCP server on 127.0.0.1 speaking the TWS API (see the package docstring
for what it implements), over one in-memory account and order book per contract.

Each client connection runs on its own thread (blocking sockets); every piece of shared state is
behind one lock, so tests call :class:`FakeIBGateway`'s control methods from any thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Final

from nautilus_ext_testkit.fake_ib import wire
from nautilus_ext_testkit.fake_ib.contracts import ListedContract
from nautilus_ext_testkit.fake_ib.contracts import default_listing

ACCOUNT: Final = "DU1234567"
COMMISSION_PER_CONTRACT: Final = 2.25


@dataclass
class FakeOrder:
    """One order the stand-in holds (IB's order id is per client id)."""

    order_id: int
    client_id: int
    perm_id: int
    contract: ListedContract
    action: str  # BUY / SELL
    quantity: Decimal
    order_type: str  # MKT / LMT
    lmt_price: float | None
    tif: str
    order_ref: str
    account: str
    filled: Decimal = Decimal(0)
    avg_price: float = 0.0
    status: str = "Submitted"

    @property
    def remaining(self) -> Decimal:
        """Quantity still working."""
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        """Whether the order is still working."""
        return self.status in ("PreSubmitted", "Submitted")


@dataclass(frozen=True)
class Fill:
    """One execution (``execDetails`` + its ``commissionReport``)."""

    exec_id: str
    order: FakeOrder
    shares: Decimal
    price: float
    cum_qty: Decimal
    avg_price: float
    time: str
    commission: float


@dataclass
class Quote:
    """Top of book and last trade of one contract."""

    bid: float
    ask: float
    bid_size: Decimal = Decimal(10)
    ask_size: Decimal = Decimal(12)
    last: float | None = None


@dataclass
class _Session:
    sock: socket.socket
    client_id: int = -1
    version: int = wire.SERVER_VERSION
    lock: threading.Lock = field(default_factory=threading.Lock)
    mkt_data: dict[int, int] = field(default_factory=dict)  # reqId -> conId
    tick_by_tick: dict[int, tuple[int, str]] = field(default_factory=dict)  # reqId -> (conId, type)
    depth: dict[int, int] = field(default_factory=dict)
    account_updates: bool = False
    alive: bool = True

    def send(self, fields: list[wire.Field]) -> None:
        data = wire.frame(fields)
        with self.lock:
            if not self.alive:
                return
            try:
                self.sock.sendall(data)
            except OSError:
                self.alive = False


class FakeIBGateway:
    """
    The stand-in gateway.

    Parameters
    ----------
    listing : Iterable[ListedContract], optional
        The contracts it lists (default :func:`default_listing`).
    today : date, optional
        What ``includeExpired=0`` compares last trade dates with (default: the real date).
    account : str
        The managed account.
    max_order_quantity : Decimal
        Larger orders are rejected with error 201 (IB's "Order rejected").
    partial_fill_quantity : Decimal, optional
        When set, a marketable order first fills only this much; the rest rests until
        :meth:`trade` or :meth:`fill_resting`.
    """

    def __init__(
        self,
        listing: Iterable[ListedContract] | None = None,
        *,
        today: dt.date | None = None,
        account: str = ACCOUNT,
        max_order_quantity: Decimal = Decimal(100),
        partial_fill_quantity: Decimal | None = None,
        cash: Decimal = Decimal(1_000_000),
    ) -> None:
        self.contracts = {c.con_id: c for c in (listing if listing is not None else default_listing())}
        self.today = today or dt.date.today()
        self.account = account
        self.max_order_quantity = max_order_quantity
        self.partial_fill_quantity = partial_fill_quantity
        self.cash = cash
        self.quotes: dict[int, Quote] = {}
        self.orders: dict[int, FakeOrder] = {}  # permId -> order
        self.fills: list[Fill] = []
        self.positions: dict[int, tuple[Decimal, float]] = {}  # conId -> (qty, avg cost per contract)
        self.requests: list[tuple[int, list[str]]] = []  # (client id, fields) of every request
        self.connectivity_ok = True
        self._held: list[tuple[_Session | None, list[wire.Field]]] = []  # held while 1100
        self._lock = threading.RLock()
        self._sessions: list[_Session] = []
        self._perm_ids = itertools.count(1_000_001)
        self._exec_ids = itertools.count(1)
        self._next_order_id = 1
        self._server: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeIBGateway:
        """Listen on 127.0.0.1 (``port`` 0 picks a free one, then in :attr:`port`)."""
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(16)
        self._server = srv
        self.port = srv.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fake-ib-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        srv, self._server = self._server, None
        if srv is not None:
            with contextlib.suppress(OSError):
                srv.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
            with contextlib.suppress(OSError):
                srv.close()
            if self._accept_thread is not None:
                self._accept_thread.join(5)
        self.drop_connections()

    def __enter__(self) -> FakeIBGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ------------------------------------------------------------------------
    def contract(self, local_symbol: str) -> ListedContract:
        """Return the listed contract with IB local symbol ``local_symbol`` (``ESZ4``, ``ESZ4 C5000``)."""
        for c in self.contracts.values():
            if c.local_symbol == local_symbol:
                return c
        raise KeyError(local_symbol)

    def set_quote(self, local_symbol: str, bid: float, ask: float, last: float | None = None) -> None:
        """Set a contract's top of book and push it to its market data, tick-by-tick and depth subscribers."""
        c = self.contract(local_symbol)
        with self._lock:
            q = self.quotes.setdefault(c.con_id, Quote(bid, ask))
            q.bid, q.ask, q.last = bid, ask, last if last is not None else q.last
            sessions = list(self._sessions)
        for s in sessions:
            self._push_quote(s, c.con_id)

    def stream_quotes(self, interval_secs: float = 0.5) -> None:
        """Re-publish every quote each ``interval_secs`` (a live feed), until :meth:`stop`."""

        def run() -> None:
            while self._server is not None:
                with self._lock:
                    con_ids = list(self.quotes)
                    sessions = list(self._sessions)
                for con_id in con_ids:
                    for s in sessions:
                        self._push_quote(s, con_id)
                time.sleep(interval_secs)

        threading.Thread(target=run, name="fake-ib-quotes", daemon=True).start()

    def trade(self, local_symbol: str, price: float) -> None:
        """Print a trade at ``price``: resting limit orders it crosses fill completely."""
        c = self.contract(local_symbol)
        with self._lock:
            q = self.quotes.setdefault(c.con_id, Quote(price, price))
            q.last = price
            for o in list(self.orders.values()):
                if o.contract.con_id != c.con_id or not o.is_open or o.lmt_price is None:
                    continue
                if (o.action == "BUY" and price <= o.lmt_price) or (
                    o.action == "SELL" and price >= o.lmt_price
                ):
                    self._fill(o, o.remaining, o.lmt_price)

    def fill_resting(self, perm_id: int, price: float | None = None) -> None:
        """Fill what is left of order ``perm_id`` at ``price`` (default its limit, or the touch)."""
        with self._lock:
            o = self.orders[perm_id]
            px = price if price is not None else o.lmt_price or self._touch(o)
            self._fill(o, o.remaining, px)

    def connectivity_lost(self) -> None:
        """IB's 1100: the gateway lost its connection to IB; order events are held until restored."""
        with self._lock:
            self.connectivity_ok = False
            sessions = list(self._sessions)
        for s in sessions:
            s.send(wire.error_msg(-1, 1100, "Connectivity between IB and Trader Workstation has been lost."))

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """IB's 1102 (1101 with ``data_lost``): held order events are delivered, then farm status."""
        with self._lock:
            self.connectivity_ok = True
            held, self._held = self._held, []
            sessions = list(self._sessions)
        code = 1101 if data_lost else 1102
        text = (
            "Connectivity between IB and Trader Workstation has been restored - data lost."
            if data_lost
            else "Connectivity between IB and Trader Workstation has been restored - data maintained."
        )
        for s in sessions:
            s.send(wire.error_msg(-1, code, text))
        for target, msg in held:
            self._deliver(target, msg)

    def drop_connections(self) -> None:
        """Close every client socket (a dropped connection: clients see EOF and reconnect)."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for s in sessions:
            with s.lock:
                s.alive = False
                with contextlib.suppress(OSError):
                    s.sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.sock.close()

    @property
    def connected_client_ids(self) -> list[int]:
        """Client ids of the live API sessions."""
        with self._lock:
            return [s.client_id for s in self._sessions if s.alive and s.client_id >= 0]

    def requests_of(self, msg_id: int) -> list[list[str]]:
        """The field lists of every request with message id ``msg_id`` received so far."""
        with self._lock:
            return [f for _, f in self.requests if f and f[0] == str(msg_id)]

    # -- connection handling ------------------------------------------------------------------
    def _accept_loop(self) -> None:
        srv = self._server
        while srv is not None:
            try:
                sock, _ = srv.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(sock,), name="fake-ib-conn", daemon=True).start()
            srv = self._server

    def _serve(self, sock: socket.socket) -> None:
        session = _Session(sock)
        reader = _Reader(sock)
        try:
            if reader.exact(4) != b"API\0":
                return
            low, high = wire.parse_version_range(reader.frame().decode("ascii"))
            if (high < wire.SERVER_VERSION and high < 157) or low > wire.SERVER_VERSION:
                return  # no common version: a real gateway closes too
            session.version = min(wire.SERVER_VERSION, high)
            now = dt.datetime.now(dt.UTC)
            session.send([session.version, f"{now:%Y%m%d %H:%M:%S} UTC"])
            with self._lock:
                self._sessions.append(session)
            while session.alive:
                fields = wire.split_fields(reader.frame())
                if not fields:
                    continue
                with self._lock:
                    self.requests.append((session.client_id, fields))
                self._handle(session, fields)
        except (ConnectionError, OSError, EOFError):
            pass
        finally:
            session.alive = False
            with self._lock:
                if session in self._sessions:
                    self._sessions.remove(session)
            with contextlib.suppress(OSError):
                sock.close()

    def _handle(self, s: _Session, f: list[str]) -> None:
        msg = int(f[0])
        if msg == wire.START_API:
            self._start_api(s, int(f[2]))
        elif msg == wire.REQ_IDS:
            with self._lock:
                s.send([wire.NEXT_VALID_ID, 1, self._next_order_id])
        elif msg == wire.REQ_MANAGED_ACCTS:
            s.send([wire.MANAGED_ACCTS, 1, self.account])
        elif msg == wire.REQ_CURRENT_TIME:
            s.send([wire.CURRENT_TIME, 1, int(dt.datetime.now(dt.UTC).timestamp())])
        elif msg == wire.REQ_CONTRACT_DATA:
            self._contract_details(s, f)
        elif msg == wire.REQ_MKT_DATA:
            self._mkt_data(s, f)
        elif msg == wire.CANCEL_MKT_DATA:
            s.mkt_data.pop(int(f[2]), None)
        elif msg == wire.REQ_TICK_BY_TICK_DATA:
            con = self._resolve(f[2:14])
            if con is None:
                s.send(
                    wire.error_msg(int(f[1]), 200, "No security definition has been found for the request")
                )
                return
            s.tick_by_tick[int(f[1])] = (con.con_id, f[14])
            self._push_quote(s, con.con_id)
        elif msg == wire.CANCEL_TICK_BY_TICK_DATA:
            s.tick_by_tick.pop(int(f[1]), None)
        elif msg == wire.REQ_MKT_DEPTH:
            con = self._resolve(f[3:15])
            if con is None:
                s.send(
                    wire.error_msg(int(f[2]), 200, "No security definition has been found for the request")
                )
                return
            s.depth[int(f[2])] = con.con_id
            self._push_quote(s, con.con_id)
        elif msg == wire.CANCEL_MKT_DEPTH:
            s.depth.pop(int(f[2]), None)
        elif msg == wire.REQ_HISTORICAL_DATA:
            self._historical(s, f)
        elif msg == wire.PLACE_ORDER:
            self._place(s, f)
        elif msg == wire.CANCEL_ORDER:
            self._cancel(s, int(f[2]))  # version, orderId, manualOrderCancelTime (below 192)
        elif msg in (wire.REQ_OPEN_ORDERS, wire.REQ_ALL_OPEN_ORDERS, wire.REQ_AUTO_OPEN_ORDERS):
            self._open_orders(s, all_clients=msg != wire.REQ_OPEN_ORDERS)
        elif msg == wire.REQ_COMPLETED_ORDERS:
            s.send([wire.COMPLETED_ORDERS_END])
        elif msg == wire.REQ_EXECUTIONS:
            self._executions(s, int(f[2]))
        elif msg == wire.REQ_POSITIONS:
            self._positions(s)
        elif msg == wire.REQ_ACCT_DATA:
            s.account_updates = f[2] == "1"
            if s.account_updates:
                self._account_updates(s)
        elif msg == wire.REQ_ACCOUNT_SUMMARY:
            self._account_summary(s, int(f[2]))
        elif msg == wire.REQ_ACCOUNT_UPDATES_MULTI:
            req_id = int(f[2])
            for key, value in self.account_values().items():
                s.send([wire.ACCOUNT_UPDATE_MULTI, 1, req_id, self.account, "", key, value, "USD"])
            s.send([wire.ACCOUNT_UPDATE_MULTI_END, 1, req_id])
        elif msg == wire.REQ_PNL:
            self._pnl(s, int(f[1]))
        # everything else (market data type, cancels of snapshots, news ...) is accepted silently

    def _start_api(self, s: _Session, client_id: int) -> None:
        with self._lock:
            # a client that closed its socket has left, even if its reader has not seen EOF yet
            for other in self._sessions:
                if other is not s and other.client_id == client_id and _peer_closed(other.sock):
                    other.alive = False
            if client_id in self.connected_client_ids:
                s.send(
                    wire.error_msg(
                        -1, 326, f"Unable to connect as the client id is already in use: {client_id}"
                    )
                )
                s.alive = False
                with contextlib.suppress(OSError):
                    s.sock.shutdown(socket.SHUT_RDWR)  # the gateway drops the refused session
                return
            s.client_id = client_id
            next_id = self._next_order_id
        s.send([wire.NEXT_VALID_ID, 1, next_id])
        s.send([wire.MANAGED_ACCTS, 1, self.account])
        if not self.connectivity_ok:
            s.send(wire.error_msg(-1, 1100, "Connectivity between IB and Trader Workstation has been lost."))
            return
        for code, farm in ((2104, "usfuture"), (2104, "cashfarm"), (2106, "ushmds")):
            kind = "Market data" if code == 2104 else "HMDS data"
            s.send(wire.error_msg(-1, code, f"{kind} farm connection is OK:{farm}"))

    # -- contracts ----------------------------------------------------------------------------
    def _resolve(self, c: list[str]) -> ListedContract | None:
        """Find a listed contract from a request's contract fields (conId ... tradingClass)."""
        con_id, symbol, sec_type, ltd, strike, right = c[0], c[1], c[2], c[3], c[4], c[5]
        exchange, local_symbol, trading_class = c[7], c[10], c[11]
        if con_id not in ("", "0"):
            return self.contracts.get(int(con_id))
        matches = self._match(
            symbol, sec_type, ltd, strike, right, exchange, local_symbol, trading_class, True
        )
        return matches[0] if len(matches) == 1 else None

    def _match(
        self,
        symbol: str,
        sec_type: str,
        ltd: str,
        strike: str,
        right: str,
        exchange: str,
        local_symbol: str,
        trading_class: str,
        include_expired: bool,
    ) -> list[ListedContract]:
        out = []
        for c in self.contracts.values():
            if local_symbol and c.local_symbol != local_symbol:
                continue
            if symbol and c.symbol != symbol and c.trading_class != symbol:
                continue
            if sec_type and c.sec_type != sec_type:
                continue
            if trading_class and c.trading_class != trading_class:
                continue
            if exchange and exchange not in ("SMART", c.exchange):
                continue
            # IB reads six digits as the contract month, eight as the last trade date
            if ltd and ltd.split(" ")[0] != (c.contract_month if len(ltd) == 6 else c.last_trade_date):
                continue
            if strike and float(strike) != 0.0 and float(strike) != c.strike:
                continue
            if right and right[0] != c.right:
                continue
            if not include_expired and c.expiry < self.today:
                continue
            out.append(c)
        return sorted(out, key=lambda c: (c.last_trade_date, c.strike, c.right))

    def _contract_details(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        c = f[3:]
        if c[0] not in ("", "0"):
            found = [self.contracts[int(c[0])]] if int(c[0]) in self.contracts else []
        else:
            found = self._match(c[1], c[2], c[3], c[4], c[5], c[7], c[10], c[11], c[12] == "1")
        if not found:
            s.send(wire.error_msg(req_id, 200, "No security definition has been found for the request"))
            return
        for con in found:
            s.send(con.details_msg(req_id))
        s.send([wire.CONTRACT_DATA_END, 1, req_id])

    # -- market data --------------------------------------------------------------------------
    def _mkt_data(self, s: _Session, f: list[str]) -> None:
        req_id = int(f[2])
        con = self._resolve(f[3:15])
        if con is None:
            s.send(wire.error_msg(req_id, 200, "No security definition has been found for the request"))
            return
        s.mkt_data[req_id] = con.con_id
        self._push_quote(s, con.con_id)

    def _push_quote(self, s: _Session, con_id: int) -> None:
        with self._lock:
            q = self.quotes.get(con_id)
            if q is None:
                return
            bid, ask, bsz, asz, last = q.bid, q.ask, q.bid_size, q.ask_size, q.last
        now = int(dt.datetime.now(dt.UTC).timestamp())
        for req_id, cid in list(s.mkt_data.items()):
            if cid != con_id:
                continue
            s.send([wire.TICK_PRICE, 6, req_id, 1, bid, bsz, 1])
            s.send([wire.TICK_PRICE, 6, req_id, 2, ask, asz, 1])
            if last is not None:
                s.send([wire.TICK_PRICE, 6, req_id, 4, last, Decimal(1), 0])
        for req_id, (cid, kind) in list(s.tick_by_tick.items()):
            if cid != con_id:
                continue
            if kind == "BidAsk":
                s.send([wire.TICK_BY_TICK, req_id, 3, now, bid, ask, bsz, asz, 0])
            elif kind in ("Last", "AllLast") and last is not None:
                s.send(
                    [
                        wire.TICK_BY_TICK,
                        req_id,
                        1 if kind == "Last" else 2,
                        now,
                        last,
                        Decimal(1),
                        0,
                        "CME",
                        "",
                    ]
                )
            elif kind == "MidPoint":
                s.send([wire.TICK_BY_TICK, req_id, 4, now, (bid + ask) / 2])
        tick = self.contracts[con_id].min_tick
        for req_id, cid in list(s.depth.items()):
            if cid != con_id:
                continue
            for level in range(5):
                # operation 1 = update (insert on first use is 0); side 0 = ask, 1 = bid
                s.send(
                    [wire.MARKET_DEPTH, 1, req_id, level, 0, 0, round(ask + level * tick, 10), asz + level]
                )
                s.send(
                    [wire.MARKET_DEPTH, 1, req_id, level, 0, 1, round(bid - level * tick, 10), bsz + level]
                )

    def _historical(self, s: _Session, f: list[str]) -> None:
        # reqId, contract (conId .. tradingClass), includeExpired, endDateTime, barSize, duration,
        # useRTH, whatToShow, formatDate, keepUpToDate, chartOptions
        req_id = int(f[1])
        con = self._resolve(f[2:14])
        if con is None:
            s.send(wire.error_msg(req_id, 162, "Historical Market Data Service error message:No data"))
            return
        end_text, bar_size, duration, fmt = f[15], f[16], f[17], f[20]
        step = _bar_seconds(bar_size)
        count = max(1, min(_duration_seconds(duration) // step, 500))
        end = _parse_end(end_text)
        end_ts = int(end.timestamp()) // step * step
        q = self.quotes.get(con.con_id)
        base = q.bid if q is not None else 100.0
        tick = con.min_tick
        bars: list[wire.Field] = []
        for i in range(count):
            t = end_ts - (count - i) * step
            o = round(base + (i % 7 - 3) * tick, 10)
            c = round(base + ((i + 1) % 7 - 3) * tick, 10)
            date = str(t) if fmt == "2" else f"{dt.datetime.fromtimestamp(t, dt.UTC):%Y%m%d %H:%M:%S} UTC"
            bars += [date, o, max(o, c) + tick, min(o, c) - tick, c, Decimal(100 + i), Decimal(str(c)), 10]
        start = dt.datetime.fromtimestamp(end_ts - count * step, dt.UTC)
        s.send(
            [
                wire.HISTORICAL_DATA,
                req_id,
                f"{start:%Y%m%d %H:%M:%S}",
                f"{dt.datetime.fromtimestamp(end_ts, dt.UTC):%Y%m%d %H:%M:%S}",
                count,
                *bars,
            ]
        )

    # -- orders -------------------------------------------------------------------------------
    def _place(self, s: _Session, f: list[str]) -> None:
        # orderId, contract (conId .. tradingClass), secIdType, secId, action, totalQuantity,
        # orderType, lmtPrice, auxPrice, tif, ocaGroup, account, openClose, origin, orderRef ...
        order_id = int(f[1])
        con = self._resolve(f[2:14])
        action, qty, order_type = f[16], Decimal(f[17]), f[18]
        lmt = float(f[19]) if f[19] else None
        tif, account, order_ref = f[21], f[23] or self.account, f[26]
        if con is None:
            s.send(wire.error_msg(order_id, 200, "No security definition has been found for the request"))
            return
        with self._lock:
            self._next_order_id = max(self._next_order_id, order_id + 1)
            existing = next(
                (o for o in self.orders.values() if o.order_id == order_id and o.client_id == s.client_id),
                None,
            )
            if existing is not None:  # a modify: new quantity / limit on the working order
                if not existing.is_open:
                    self._emit(
                        s,
                        wire.error_msg(
                            order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                        ),
                    )
                    return
                existing.quantity, existing.lmt_price = qty, lmt
                self._emit_order(existing)
                self._match_order(existing)
                return
            reject = self._reject_reason(con, action, qty, order_type, lmt)
            if reject is not None:
                self._emit(s, wire.error_msg(order_id, 201, f"Order rejected - reason:{reject}"))
                return
            o = FakeOrder(
                order_id=order_id,
                client_id=s.client_id,
                perm_id=next(self._perm_ids),
                contract=con,
                action=action,
                quantity=qty,
                order_type=order_type,
                lmt_price=lmt,
                tif=tif,
                order_ref=order_ref,
                account=account,
            )
            self.orders[o.perm_id] = o
            self._emit_order(o)
            self._match_order(o)

    def _reject_reason(
        self, con: ListedContract, action: str, qty: Decimal, order_type: str, lmt: float | None
    ) -> str | None:
        if action not in ("BUY", "SELL"):
            return f"Invalid action {action}"
        if order_type not in ("MKT", "LMT"):
            return f"The order type {order_type} is not supported by this stand-in"
        if qty <= 0 or qty > self.max_order_quantity:
            return f"The order size {qty} exceeds the maximum of {self.max_order_quantity}"
        if con.expiry < self.today:
            return "The contract has expired"
        if order_type == "MKT" and con.con_id not in self.quotes:
            return "No market for the contract"
        if lmt is not None:
            ticks = round(lmt / con.min_tick, 6)
            if ticks != round(ticks):
                return f"The price does not conform to the minimum price variation {con.min_tick}"
        return None

    def _touch(self, o: FakeOrder) -> float:
        q = self.quotes[o.contract.con_id]
        return q.ask if o.action == "BUY" else q.bid

    def _match_order(self, o: FakeOrder) -> None:
        q = self.quotes.get(o.contract.con_id)
        if q is None or not o.is_open:
            return
        touch = self._touch(o)
        marketable = o.order_type == "MKT" or (
            o.lmt_price is not None
            and (
                (o.action == "BUY" and o.lmt_price >= touch) or (o.action == "SELL" and o.lmt_price <= touch)
            )
        )
        if not marketable:
            return
        qty = o.remaining
        if self.partial_fill_quantity is not None and o.filled == 0:
            qty = min(qty, self.partial_fill_quantity)
        self._fill(o, qty, touch)

    def _fill(self, o: FakeOrder, qty: Decimal, price: float) -> None:
        notional = Decimal(str(o.avg_price)) * o.filled + Decimal(str(price)) * qty
        o.filled += qty
        o.avg_price = float(notional / o.filled)
        o.status = "Filled" if o.remaining == 0 else "Submitted"
        exec_id = f"0000e0d5.{next(self._exec_ids):08x}.01.01"
        now = dt.datetime.now(dt.UTC)
        fill = Fill(
            exec_id=exec_id,
            order=o,
            shares=qty,
            price=price,
            cum_qty=o.filled,
            avg_price=o.avg_price,
            time=f"{now:%Y%m%d %H:%M:%S} UTC",
            commission=COMMISSION_PER_CONTRACT * float(qty),
        )
        self.fills.append(fill)
        signed = qty if o.action == "BUY" else -qty
        pos, cost = self.positions.get(o.contract.con_id, (Decimal(0), 0.0))
        mult = float(o.contract.multiplier)
        new = pos + signed
        if new == 0:
            self.positions.pop(o.contract.con_id, None)
        elif pos == 0 or (pos > 0) == (signed > 0):
            self.positions[o.contract.con_id] = (
                new,
                (cost * float(abs(pos)) + price * mult * float(qty)) / float(abs(new)),
            )
        else:
            self.positions[o.contract.con_id] = (new, cost if (new > 0) == (pos > 0) else price * mult)
        self.cash -= Decimal(str(fill.commission))
        # execDetails first, then the status and commission: IB's usual order
        self._emit(None, self._exec_msg(-1, fill), client_id=o.client_id)
        self._emit_order(o, last_fill=price)
        self._emit(None, wire.commission_msg(exec_id, fill.commission, None), client_id=o.client_id)

    def _exec_msg(self, req_id: int, fill: Fill) -> list[wire.Field]:
        o = fill.order
        return wire.execution_msg(
            req_id,
            o.order_id,
            o.contract,
            exec_id=fill.exec_id,
            time=fill.time,
            account=o.account,
            side="BOT" if o.action == "BUY" else "SLD",
            shares=fill.shares,
            price=fill.price,
            perm_id=o.perm_id,
            client_id=o.client_id,
            cum_qty=fill.cum_qty,
            avg_price=fill.avg_price,
            order_ref=o.order_ref,
        )

    def _open_order_msg(self, o: FakeOrder) -> list[wire.Field]:
        return wire.open_order_msg(
            o.order_id,
            o.contract,
            action=o.action,
            total_quantity=o.quantity,
            order_type=o.order_type,
            lmt_price=o.lmt_price,
            aux_price=None,
            tif=o.tif,
            account=o.account,
            order_ref=o.order_ref,
            client_id=o.client_id,
            perm_id=o.perm_id,
            status=o.status,
            commission=None,
        )

    def _status_msg(self, o: FakeOrder, last_fill: float = 0.0) -> list[wire.Field]:
        return wire.order_status_msg(
            o.order_id, o.status, o.filled, o.remaining, o.avg_price, o.perm_id, last_fill, o.client_id
        )

    def _emit_order(self, o: FakeOrder, last_fill: float = 0.0) -> None:
        self._emit(None, self._open_order_msg(o), client_id=o.client_id)
        self._emit(None, self._status_msg(o, last_fill), client_id=o.client_id)

    def _emit(self, target: _Session | None, msg: list[wire.Field], client_id: int | None = None) -> None:
        """
        Send an order event to ``target``, or to every session of ``client_id``. While
        connectivity is lost (1100) events are held and delivered on restore; a session that is
        not connected misses them (its client recovers them with reqExecutions/reqOpenOrders).
        """
        if not self.connectivity_ok:
            self._held.append((target, msg) if target is not None else (None, [client_id, *msg]))
            return
        self._deliver(target, msg) if target is not None else self._broadcast(client_id, msg)

    def _broadcast(self, client_id: int | None, msg: list[wire.Field]) -> None:
        for s in list(self._sessions):
            if s.client_id == client_id:
                s.send(msg)

    def _deliver(self, target: _Session | None, msg: list[wire.Field]) -> None:
        if target is None:  # held broadcast: its client id was stored first
            client_id, *rest = msg
            self._broadcast(int(client_id) if client_id is not None else None, rest)
        elif target.alive:
            target.send(msg)

    def _cancel(self, s: _Session, order_id: int) -> None:
        with self._lock:
            o = next(
                (
                    o
                    for o in self.orders.values()
                    if o.order_id == order_id and o.client_id == s.client_id and o.is_open
                ),
                None,
            )
            if o is None:
                self._emit(
                    s,
                    wire.error_msg(
                        order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
                    ),
                )
                return
            o.status = "Cancelled"
            self._emit(None, self._status_msg(o), client_id=o.client_id)
            self._emit(s, wire.error_msg(order_id, 202, "Order Canceled - reason:"))

    def _open_orders(self, s: _Session, all_clients: bool) -> None:
        with self._lock:
            for o in self.orders.values():
                if o.is_open and (all_clients or o.client_id == s.client_id):
                    s.send(self._open_order_msg(o))
                    s.send(self._status_msg(o))
        s.send([wire.OPEN_ORDER_END, 1])

    def _executions(self, s: _Session, req_id: int) -> None:
        with self._lock:
            fills = list(self.fills)
        for fill in fills:
            s.send(self._exec_msg(req_id, fill))
            s.send(wire.commission_msg(fill.exec_id, fill.commission, None))
        s.send([wire.EXECUTION_DATA_END, 1, req_id])

    # -- account ------------------------------------------------------------------------------
    def _positions(self, s: _Session) -> None:
        with self._lock:
            positions = dict(self.positions)
        for con_id, (qty, cost) in positions.items():
            s.send(
                [wire.POSITION_DATA, 3, self.account, *wire.contract_block(self.contracts[con_id]), qty, cost]
            )
        s.send([wire.POSITION_END, 1])

    def account_values(self) -> dict[str, Decimal]:
        """The account's values (USD): cash, margin (a fixed 5% initial margin on notional), equity."""
        with self._lock:
            margin = Decimal(0)
            for con_id, (qty, _cost) in self.positions.items():
                c = self.contracts[con_id]
                q = self.quotes.get(con_id)
                px = Decimal(str(q.bid if q else 0))
                margin += abs(qty) * px * Decimal(c.multiplier) * Decimal("0.05")
            cash = self.cash
        maint = (margin * Decimal("0.9")).quantize(Decimal("0.01"))
        margin = margin.quantize(Decimal("0.01"))
        return {
            "NetLiquidation": cash,
            "TotalCashValue": cash,
            "EquityWithLoanValue": cash,
            "InitMarginReq": margin,
            "MaintMarginReq": maint,
            "FullInitMarginReq": margin,
            "FullMaintMarginReq": maint,
            "AvailableFunds": cash - margin,
            "FullAvailableFunds": cash - margin,
            "ExcessLiquidity": cash - maint,
            "FullExcessLiquidity": cash - maint,
            "BuyingPower": (cash - margin) * 4,
        }

    def _account_updates(self, s: _Session) -> None:
        for key, value in self.account_values().items():
            s.send([wire.ACCT_VALUE, 2, key, value, "USD", self.account])
        s.send([wire.ACCT_VALUE, 2, "Currency", "USD", "USD", self.account])
        s.send([wire.ACCT_UPDATE_TIME, 1, f"{dt.datetime.now(dt.UTC):%H:%M}"])
        s.send([wire.ACCT_DOWNLOAD_END, 1, self.account])

    def _account_summary(self, s: _Session, req_id: int) -> None:
        for key, value in self.account_values().items():
            s.send([wire.ACCOUNT_SUMMARY, 1, req_id, self.account, key, value, "USD"])
        s.send([wire.ACCOUNT_SUMMARY_END, 1, req_id])

    def _pnl(self, s: _Session, req_id: int) -> None:
        realized = -sum(f.commission for f in self.fills)
        s.send([wire.PNL, req_id, realized, 0.0, realized])


def _peer_closed(sock: socket.socket) -> bool:
    """Return whether the peer has closed ``sock`` (EOF waiting to be read)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class _Reader:
    """Read exact byte counts and length-prefixed frames from a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def frame(self) -> bytes:
        (size,) = struct.unpack("!I", self.exact(4))
        return self.exact(size)


def _bar_seconds(bar_size: str) -> int:
    n, unit = bar_size.split(" ", 1)
    unit = unit.rstrip("s")
    return int(n) * {"sec": 1, "min": 60, "hour": 3600, "day": 86400}[unit]


def _duration_seconds(duration: str) -> int:
    n, unit = duration.split(" ", 1)
    return int(n) * {"S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400}[unit]


def _parse_end(text: str) -> dt.datetime:
    # "20240601 12:00:00 UTC", "20240601-12:00:00" or empty (now)
    if not text.strip():
        return dt.datetime.now(dt.UTC)
    day, clock = text.strip().replace("-", " ").split(" ")[:2]
    return dt.datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S").replace(tzinfo=dt.UTC)
