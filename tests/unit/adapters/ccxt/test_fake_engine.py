"""The fake exchange's matching engine: price-time priority, partial fills, TIF rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext_testkit.fake_exchange import EngineReject
from nautilus_ext_testkit.fake_exchange import MarketSpec
from nautilus_ext_testkit.fake_exchange import MatchingEngine
from nautilus_ext_testkit.fake_exchange import OrderStatus
from nautilus_ext_testkit.fake_exchange import RejectReason
from nautilus_ext_testkit.fake_exchange import Side
from nautilus_ext_testkit.fake_exchange import TimeInForce

D = Decimal


@pytest.fixture
def engine() -> MatchingEngine:
    eng = MatchingEngine(
        [MarketSpec("BTCUSDT", "BTC", "USDT", D("0.1"), D("0.001"), D("0.001"))],
        clock_ms=lambda: 1_000,
        balances={"U": D(100_000), "V": D(100_000)},
    )
    eng.seed_book("BTCUSDT", bids=[("100", "1")], asks=[("101", "1"), ("102", "2")])
    return eng


def test_price_time_priority_and_partial_fills(engine: MatchingEngine) -> None:
    first = engine.submit("U", "BTCUSDT", Side.SELL, "limit", D("0.5"), price=D("103"))
    second = engine.submit("V", "BTCUSDT", Side.SELL, "limit", D("0.5"), price=D("103"))
    taker = engine.submit("T", "BTCUSDT", Side.BUY, "market", D("3.7"), check_margin=False)
    assert taker.filled == D("3.7")
    assert first.status is OrderStatus.FILLED  # same price, earlier: fills first
    assert second.status is OrderStatus.PARTIALLY_FILLED
    assert second.filled == D("0.2")
    fills = engine.account_fills("T")
    assert [f.price for f in fills] == [D(101), D(102), D(103), D(103)]
    assert all(not f.is_maker for f in fills)
    assert taker.avg_price == (D(101) + 2 * D(102) + D("0.7") * 103) / D("3.7")


def test_ioc_fok_post_only_reduce_only(engine: MatchingEngine) -> None:
    ioc = engine.submit("U", "BTCUSDT", Side.BUY, "limit", D(2), price=D(101), tif=TimeInForce.IOC)
    assert ioc.filled == D(1)
    assert ioc.status is OrderStatus.CANCELED
    with pytest.raises(EngineReject) as fok:
        engine.submit("U", "BTCUSDT", Side.BUY, "limit", D(5), price=D(102), tif=TimeInForce.FOK)
    assert fok.value.reason is RejectReason.FOK_NOT_FILLABLE
    with pytest.raises(EngineReject) as po:
        engine.submit("U", "BTCUSDT", Side.SELL, "limit", D(1), price=D(100), tif=TimeInForce.POST_ONLY)
    assert po.value.reason is RejectReason.POST_ONLY_WOULD_TAKE
    soft = engine.submit(
        "U",
        "BTCUSDT",
        Side.SELL,
        "limit",
        D(1),
        price=D(100),
        tif=TimeInForce.POST_ONLY,
        soft_reject=True,
        client_id="c",
    )
    assert soft.status is OrderStatus.CANCELED
    assert soft.filled == 0
    with pytest.raises(EngineReject) as ro:
        engine.submit("U", "BTCUSDT", Side.SELL, "market", D(2), reduce_only=True)
    assert ro.value.reason is RejectReason.REDUCE_ONLY_INCREASES
    closing = engine.submit("U", "BTCUSDT", Side.SELL, "market", D(1), reduce_only=True)
    assert closing.filled == D(1)
    pos = engine.position("U", "BTCUSDT")
    assert pos.qty == 0
    assert pos.realized_pnl == D(-1)


def test_rejections(engine: MatchingEngine) -> None:
    cases = [
        ({"qty": D("0.0005")}, RejectReason.INVALID_QUANTITY),
        ({"price": D("100.05")}, RejectReason.INVALID_PRICE),
        ({"qty": D(50_000)}, RejectReason.INSUFFICIENT_BALANCE),
        ({"symbol": "NOPE"}, RejectReason.UNKNOWN_SYMBOL),
    ]
    for change, reason in cases:
        args = {"symbol": "BTCUSDT", "qty": D(1), "price": D(90)} | change
        with pytest.raises(EngineReject) as info:
            engine.submit(
                "U", str(args["symbol"]), Side.BUY, "limit", D(str(args["qty"])), price=D(str(args["price"]))
            )
        assert info.value.reason is reason
    engine.submit("U", "BTCUSDT", Side.BUY, "limit", D(1), price=D(90), client_id="dup")
    with pytest.raises(EngineReject) as dup:
        engine.submit("U", "BTCUSDT", Side.BUY, "limit", D(1), price=D(90), client_id="dup")
    assert dup.value.reason is RejectReason.DUPLICATE_CLIENT_ID


def test_cancel_amend_and_book_events(engine: MatchingEngine) -> None:
    changes: list[object] = []
    engine.listeners.on_book.append(lambda s, c: changes.append(c))
    order = engine.submit("U", "BTCUSDT", Side.BUY, "limit", D(1), price=D(99), client_id="a")
    assert engine.levels("BTCUSDT")[0] == [(D(100), D(1)), (D(99), D(1))]
    engine.amend("U", client_id="a", price=D("99.5"), qty=D(2))
    assert engine.levels("BTCUSDT")[0][1] == (D("99.5"), D(2))
    engine.cancel("U", order_id=order.order_id)
    assert order.status is OrderStatus.CANCELED
    with pytest.raises(EngineReject):
        engine.cancel("U", order_id=order.order_id)
    assert engine.levels("BTCUSDT")[0] == [(D(100), D(1))]
    assert len(changes) == 3
