"""Pure parsing: ccxt markets -> instruments/keys, book diffs, order status mapping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair

from nautilus_ext.adapters.ccxt.parsing.instruments import DECIMAL_PLACES
from nautilus_ext.adapters.ccxt.parsing.instruments import TICK_SIZE
from nautilus_ext.adapters.ccxt.parsing.instruments import canonical_key
from nautilus_ext.adapters.ccxt.parsing.instruments import parse_market
from nautilus_ext.adapters.ccxt.parsing.market_data import diff_deltas
from nautilus_ext.adapters.ccxt.parsing.market_data import snapshot_deltas
from nautilus_ext.adapters.ccxt.parsing.orders import order_status
from nautilus_ext.adapters.ccxt.parsing.orders import venue_client_id
from nautilus_ext.instruments.registry import InstrumentRegistry


def _market(**overrides: Any) -> dict[str, Any]:
    market: dict[str, Any] = {
        "id": "BTCUSDT",
        "symbol": "BTC/USDT:USDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "type": "swap",
        "linear": True,
        "inverse": False,
        "active": True,
        "contractSize": 1,
        "maker": 0.0002,
        "taker": 0.00055,
        "precision": {"price": 0.1, "amount": 0.001},
        "limits": {
            "amount": {"min": 0.001, "max": 100},
            "cost": {"min": 5},
            "price": {"min": 0.1, "max": 1999999.8},
        },
    }
    market.update(overrides)
    return market


def test_linear_perpetual_with_registry_symbology() -> None:
    instrument = parse_market(
        _market(),
        venue="BYBIT",
        venue_code="BYBIT",
        precision_mode=TICK_SIZE,
        ts_init=1,
        registry=InstrumentRegistry.default(),
    )
    assert isinstance(instrument, CryptoPerpetual)
    assert str(instrument.id) == "BTCUSDT-LINEAR.BYBIT"
    assert instrument.info["canonical_key"] == "BYBIT:PERPETUAL:BTC-USDT@LIN"
    assert instrument.price_increment.as_decimal() == Decimal("0.1")
    assert instrument.size_increment.as_decimal() == Decimal("0.001")
    assert instrument.min_quantity.as_decimal() == Decimal("0.001")
    assert instrument.taker_fee == Decimal("0.00055")
    assert not instrument.is_inverse


def test_inverse_spot_and_unmodelled() -> None:
    inverse = _market(
        symbol="BTC/USD:BTC", quote="USD", settle="BTC", linear=False, inverse=True, contractSize=100
    )
    inst = parse_market(inverse, venue="X", venue_code="X", precision_mode=TICK_SIZE, ts_init=1)
    assert inst is not None
    assert inst.is_inverse
    assert inst.multiplier.as_decimal() == 100
    assert str(canonical_key(inverse, "X")) == "X:PERPETUAL:BTC-USD@INV"
    spot = _market(symbol="BTC/USDT", type="spot", settle=None, precision={"price": 2, "amount": 5})
    pair = parse_market(spot, venue="X", venue_code="X", precision_mode=DECIMAL_PLACES, ts_init=1)
    assert isinstance(pair, CurrencyPair)
    assert pair.price_precision == 2
    assert pair.size_precision == 5
    assert str(pair.id) == "BTC/USDT.X"
    assert (
        parse_market(_market(type="option"), venue="X", venue_code="X", precision_mode=TICK_SIZE, ts_init=1)
        is None
    )
    assert (
        parse_market(_market(active=False), venue="X", venue_code="X", precision_mode=TICK_SIZE, ts_init=1)
        is None
    )


def test_order_status_mapping() -> None:
    assert order_status({"status": "open", "filled": 0}) is OrderStatus.ACCEPTED
    assert order_status({"status": "open", "filled": 1}) is OrderStatus.PARTIALLY_FILLED
    assert order_status({"status": "closed", "filled": 1}) is OrderStatus.FILLED
    assert order_status({"status": "canceled", "filled": 1, "amount": 2}) is (OrderStatus.CANCELED)
    assert order_status({"status": "rejected"}) is OrderStatus.REJECTED


def test_hyperliquid_client_ids_are_deterministic_hex() -> None:
    cloid = venue_client_id("hyperliquid", "O-20260101-000000-001-000-1")
    assert cloid == venue_client_id("hyperliquid", "O-20260101-000000-001-000-1")
    assert cloid.startswith("0x")
    assert len(cloid) == 34
    int(cloid, 16)
    assert venue_client_id("bybit", "O-1") == "O-1"


levels = st.dictionaries(
    st.integers(1, 50).map(lambda i: Decimal(i)),
    st.integers(1, 9).map(lambda i: Decimal(i)),
    max_size=8,
)


@given(levels, levels, levels, levels)
def test_diffs_reconstruct_the_new_book(b0: Any, a0: Any, b1: Any, a1: Any) -> None:
    inst = parse_market(
        _market(precision={"price": 1, "amount": 1}),
        venue="X",
        venue_code="X",
        precision_mode=TICK_SIZE,
        ts_init=1,
    )
    assert inst is not None
    book = ({**b0}, {**a0})
    deltas = diff_deltas(inst, (b0, a0), (b1, a1), 1, 1, 1)
    if deltas is None:
        assert (b0, a0) == (b1, a1)
        return
    for delta in deltas.deltas:
        side = book[0] if delta.order.side.name == "BUY" else book[1]
        price = delta.order.price.as_decimal()
        if delta.action is BookAction.DELETE:
            del side[price]
        else:
            side[price] = delta.order.size.as_decimal()
    assert book == (b1, a1)


def test_snapshot_starts_with_clear() -> None:
    inst = parse_market(_market(), venue="X", venue_code="X", precision_mode=TICK_SIZE, ts_init=1)
    assert inst is not None
    snap = snapshot_deltas(inst, {Decimal("1.0"): Decimal(1)}, {Decimal("2.0"): Decimal(1)}, 1, 1, 1)
    assert [d.action for d in snap.deltas] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD]


@pytest.mark.parametrize("exchange_id", ["bybit", "hyperliquid"])
def test_point_urls_keeps_ws_paths(exchange_id: str) -> None:
    import ccxt.pro as ccxtpro

    from nautilus_ext.adapters.ccxt.client import point_urls

    urls = point_urls(getattr(ccxtpro, exchange_id)().urls["api"], "http://h:1", "ws://h:1")
    flat: list[str] = []

    def walk(d: dict[str, Any]) -> None:
        for v in d.values():
            walk(v) if isinstance(v, dict) else flat.append(v)

    walk(urls)
    assert all(u == "http://h:1" or u.startswith("ws://h:1/") for u in flat)


def test_point_urls_keeps_rest_paths_and_binance_error_table() -> None:
    import ccxt.pro as ccxtpro
    from ccxt.base import errors as ccxt_errors

    from nautilus_ext.adapters.ccxt.client import keep_error_table
    from nautilus_ext.adapters.ccxt.client import point_urls

    exchange = ccxtpro.binanceusdm()
    urls = point_urls(exchange.urls["api"], "http://h:1", "ws://h:1")
    assert urls["fapiPublic"] == "http://h:1/fapi/v1"
    assert urls["fapiPrivateV2"] == "http://h:1/fapi/v2"
    assert urls["ws"]["linear"] == "ws://h:1/ws"
    # ccxt picks the linear table by host name; a local URL must not lose it
    assert "-2019" not in exchange.exceptions["exact"]
    keep_error_table(exchange, "binanceusdm")
    assert exchange.exceptions["exact"]["-2019"] is ccxt_errors.InsufficientFunds
    assert exchange.exceptions["exact"]["-5022"] is ccxt_errors.OrderNotFillable
    assert exchange.exceptions["exact"]["-1021"] is ccxt_errors.InvalidNonce


def test_latency_recorder_percentiles() -> None:
    from nautilus_ext.adapters.ccxt.latency import LatencyRecorder
    from nautilus_ext.adapters.ccxt.latency import percentile

    recorder = LatencyRecorder()
    for i in range(1, 101):
        recorder.request(f"O-{i}", 0)
        recorder.ack(f"O-{i}", i * 1_000_000)
        recorder.ack(f"O-{i}", 10**12)  # the first ack wins
    recorder.request("O-unacked", 0)
    summary = recorder.summary()
    assert summary["orders"] == 101
    assert summary["ack_p50_ms"] == pytest.approx(50, abs=1)
    assert summary["ack_p99_ms"] == pytest.approx(99, abs=1)
    assert summary["fill_p50_ms"] != summary["fill_p50_ms"]  # NaN: no fills recorded
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0


def test_public_api_is_pinned() -> None:
    import nautilus_ext.adapters.ccxt
    import nautilus_ext.live
    import nautilus_ext_testkit.fake_exchange

    assert nautilus_ext.adapters.ccxt.__all__ == [
        "CcxtDataClient",
        "CcxtDataClientConfig",
        "CcxtExecClientConfig",
        "CcxtExecutionClient",
        "CcxtInstrumentProvider",
        "CcxtLiveDataClientFactory",
        "CcxtLiveExecClientFactory",
        "FeedStatus",
        "StreamKind",
    ]
    assert nautilus_ext.live.__all__ == ["LiveNodeConfig", "load_live_config"]
    assert nautilus_ext_testkit.fake_exchange.__all__ == [
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
