"""
The IB Gateway stand-in speaks the TWS API: driven here by ``ib_async`` (its own decoder, not
the ``ibapi`` one NautilusTrader uses, so both readings of the wire format are exercised).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal

import ib_async
import pytest

from nautilus_ext_testkit.fake_ib import SERVER_VERSION
from nautilus_ext_testkit.fake_ib import FakeIBGateway
from nautilus_ext_testkit.fake_ib import wire


@pytest.fixture
def ib(fake_ib: FakeIBGateway) -> Iterator[ib_async.IB]:
    client = ib_async.IB()
    errors: list[tuple[int, int, str]] = []
    client.errorEvent += lambda req_id, code, text, *_: errors.append((req_id, code, text))
    client.errors = errors  # type: ignore[attr-defined]
    loop = ib_async.util.getLoop()
    if loop.is_closed():
        ib_async.util.getLoop.cache_clear()
    client.connect("127.0.0.1", fake_ib.port, clientId=21, timeout=5)
    yield client
    client.disconnect()


def eventually(condition: Callable[[], object], timeout_secs: float = 5.0) -> None:
    """Wait for ``condition`` while running ib_async's event loop (its messages arrive there)."""
    deadline = time.monotonic() + timeout_secs
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_secs}s")
        with contextlib.suppress(ConnectionError):  # ib_async re-raises a socket disconnect
            ib_async.IB().sleep(0.02)


def _handshake(port: int, versions: str) -> tuple[socket.socket, list[str]]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"API\0" + struct.pack("!I", len(versions)) + versions.encode())
    size = struct.unpack("!I", sock.recv(4))[0]
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return sock, wire.split_fields(data)


def test_handshake_negotiates_the_version_and_reports_the_connection_time(fake_ib: FakeIBGateway) -> None:
    sock, fields = _handshake(fake_ib.port, "v100..223")
    sock.close()
    assert fields[0] == str(SERVER_VERSION)
    assert fields[1].endswith(" UTC")
    sock, fields = _handshake(fake_ib.port, "v157..170")
    sock.close()
    assert fields[0] == "170"  # the client's maximum when it is lower


def test_session_start_and_a_client_id_in_use(ib: ib_async.IB, fake_ib: FakeIBGateway) -> None:
    assert ib.managedAccounts() == [fake_ib.account]
    assert (-1, 2104, "Market data farm connection is OK:usfuture") in ib.errors  # type: ignore[attr-defined]
    assert fake_ib.connected_client_ids == [21]
    other = ib_async.IB()
    with pytest.raises((ConnectionError, TimeoutError)):
        other.connect("127.0.0.1", fake_ib.port, clientId=21, timeout=2, raiseSyncErrors=True)
    other.disconnect()


def test_contract_details_of_futures_and_options(ib: ib_async.IB) -> None:
    # CL August 2024 stops trading 3 business days before 25 July (real CLQ4: 2024-07-22)
    (cl,) = ib.reqContractDetails(ib_async.Future("CL", "202408", exchange="NYMEX"))
    assert (cl.contract.localSymbol, cl.contract.lastTradeDateOrContractMonth) == ("CLQ4", "20240722")
    assert (cl.contract.multiplier, cl.minTick, cl.contractMonth) == ("1000", 0.01, "202408")
    puts = ib.reqContractDetails(ib_async.FuturesOption("ES", "20241220", right="P", exchange="CME"))
    assert [(d.contract.strike, d.underSymbol) for d in puts] == [
        (4500, "ESZ4"),
        (5000, "ESZ4"),
        (5500, "ESZ4"),
    ]
    assert ib.reqContractDetails(ib_async.Future("ES", "203012", exchange="CME")) == []
    assert any(code == 200 for _, code, _ in ib.errors)  # type: ignore[attr-defined]


def test_market_data_tick_by_tick_depth_and_bars(ib: ib_async.IB, fake_ib: FakeIBGateway) -> None:
    (es,) = ib.qualifyContracts(ib_async.Future(localSymbol="ESZ4", exchange="CME"))
    ticker = ib.reqMktData(es)
    bidask = ib.reqTickByTickData(es, "BidAsk")
    depth = ib.reqMktDepth(es, numRows=5)
    ib.sleep(0.3)
    assert (ticker.bid, ticker.ask, ticker.last) == (5000.0, 5000.25, 5000.0)
    fake_ib.set_quote("ESZ4", 5001.0, 5001.25)
    ib.sleep(0.3)
    assert (ticker.bid, ticker.ask) == (5001.0, 5001.25)
    assert (bidask.tickByTicks[-1].bidPrice, bidask.tickByTicks[-1].askPrice) == (5001.0, 5001.25)
    assert [level.price for level in depth.domBids] == [5001.0, 5000.75, 5000.5, 5000.25, 5000.0]
    assert [level.price for level in depth.domAsks][:2] == [5001.25, 5001.5]
    bars = ib.reqHistoricalData(es, "20240603 15:00:00 UTC", "3600 S", "1 min", "TRADES", False)
    assert len(bars) == 60
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert str(bars[-1].date).startswith("2024-06-03 14:59")


def test_orders_fill_cancel_and_reject_with_ib_codes(ib: ib_async.IB, fake_ib: FakeIBGateway) -> None:
    (es,) = ib.qualifyContracts(ib_async.Future(localSymbol="ESZ4", exchange="CME"))
    fake_ib.max_order_quantity = Decimal(5)
    mkt = ib.placeOrder(es, ib_async.MarketOrder("SELL", 2))
    eventually(lambda: mkt.orderStatus.status == "Filled", 5)
    (fill,) = mkt.fills
    assert (fill.execution.side, fill.execution.shares, fill.execution.price) == ("SLD", 2, 5000.0)
    assert fill.commissionReport.commission == 4.5
    lmt = ib.placeOrder(es, ib_async.LimitOrder("BUY", 1, 4990))
    eventually(lambda: lmt.orderStatus.status == "Submitted", 5)
    ib.cancelOrder(lmt.order)
    eventually(lambda: lmt.orderStatus.status == "Cancelled", 5)
    ib.cancelOrder(lmt.order)  # again: IB no longer knows it
    eventually(lambda: any(c == 10147 for _, c, _ in ib.errors), 5)  # type: ignore[attr-defined]
    big = ib.placeOrder(es, ib_async.MarketOrder("BUY", 8))
    eventually(lambda: any(c == 201 for _, c, _ in ib.errors), 5)  # type: ignore[attr-defined]
    assert big.orderStatus.status != "Filled"
    off_tick = ib.placeOrder(es, ib_async.LimitOrder("BUY", 1, 4990.1))
    eventually(lambda: sum(c == 201 for _, c, _ in ib.errors) == 2, 5)  # type: ignore[attr-defined]
    assert off_tick.orderStatus.status != "Submitted"
    (pos,) = ib.reqPositions()
    assert (pos.contract.localSymbol, pos.position, pos.avgCost) == ("ESZ4", -2, 250_000.0)
    assert [f.execution.execId for f in ib.reqExecutions()] == [fill.execution.execId]


def test_connectivity_lost_holds_fills_until_restored(ib: ib_async.IB, fake_ib: FakeIBGateway) -> None:
    (es,) = ib.qualifyContracts(ib_async.Future(localSymbol="ESZ4", exchange="CME"))
    lmt = ib.placeOrder(es, ib_async.LimitOrder("BUY", 1, 4995))
    eventually(lambda: lmt.orderStatus.status == "Submitted", 5)
    fake_ib.connectivity_lost()
    fake_ib.trade("ESZ4", 4995.0)
    ib.sleep(0.3)
    assert lmt.fills == []
    assert any(c == 1100 for _, c, _ in ib.errors)  # type: ignore[attr-defined]
    fake_ib.connectivity_restored()
    eventually(lambda: len(lmt.fills) == 1)
    assert any(c == 1102 for _, c, _ in ib.errors)  # type: ignore[attr-defined]
    ib.sleep(0.3)
    assert len(lmt.fills) == 1


def test_a_dropped_connection_and_recovery_by_executions(ib: ib_async.IB, fake_ib: FakeIBGateway) -> None:
    (es,) = ib.qualifyContracts(ib_async.Future(localSymbol="ESZ4", exchange="CME"))
    lmt = ib.placeOrder(es, ib_async.LimitOrder("BUY", 1, 4995))
    eventually(lambda: lmt.orderStatus.status == "Submitted", 5)
    fake_ib.drop_connections()
    eventually(lambda: not ib.isConnected())
    fake_ib.trade("ESZ4", 4995.0)  # fills while nobody is connected
    time.sleep(0.1)
    again = ib_async.IB()
    again.connect("127.0.0.1", fake_ib.port, clientId=21, timeout=5)
    try:
        assert [(f.execution.orderId, f.execution.shares) for f in again.reqExecutions()] == [
            (lmt.order.orderId, 1)
        ]
        assert [(p.contract.localSymbol, p.position) for p in again.reqPositions()] == [("ESZ4", 1)]
    finally:
        again.disconnect()
