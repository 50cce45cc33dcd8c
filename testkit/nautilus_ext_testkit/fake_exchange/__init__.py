"""
A local fake exchange speaking Bybit v5, Binance USD-M futures, OKX v5, Deribit v2, Hyperliquid
and Backpack REST and WebSocket, backed by a small matching engine, with latency and fault injection.

Typical use in a test::

    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(lambda: ex.bybit.engine.seed_book("BTCUSDT", bids=[...], asks=[...]))
    ...
    ex.stop_thread()
"""

from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import MarketSpec
from nautilus_ext_testkit.fake_exchange.engine import MatchingEngine
from nautilus_ext_testkit.fake_exchange.engine import OrderStatus
from nautilus_ext_testkit.fake_exchange.engine import RejectReason
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.fake_exchange.engine import TimeInForce
from nautilus_ext_testkit.fake_exchange.faults import FaultPlan
from nautilus_ext_testkit.fake_exchange.server import FakeExchange
from nautilus_ext_testkit.fake_exchange.server import ReceivedOrder

__all__ = [
    "EngineReject",
    "FakeExchange",
    "FaultPlan",
    "MarketSpec",
    "MatchingEngine",
    "OrderStatus",
    "ReceivedOrder",
    "RejectReason",
    "Side",
    "TimeInForce",
]
