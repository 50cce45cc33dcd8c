"""A small real ParquetDataCatalog (two venues, L2 books and trades) for backtest tests."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

START = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
START_NS = int(START.timestamp() * 1_000_000_000)
SECOND = 1_000_000_000

# (canonical key, mid, half spread, level step, level sizes)
BOOKS = {
    "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN": ("60000.0", "0.5", "0.5", ["0.500", "1.000", "2.000"]),
    "BYBIT:PERPETUAL:BTC-USDT@LIN": ("60001.0", "0.5", "1.0", ["0.300", "0.600", "1.200"]),
}


def write_catalog(
    path: Path, minutes: int = 10, books: dict[str, tuple[str, str, str, list[str]]] | None = None
) -> list[str]:
    """Write instruments, an L2 book re-snapshotted every second, and one trade a second."""
    from decimal import Decimal

    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.enums import RecordFlag
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    catalog = ParquetDataCatalog(str(path))
    ids = []
    for key, (mid_text, half_text, step_text, sizes) in (books or BOOKS).items():
        inst = build_instrument(registry.get(key), registry)
        catalog.write_data([inst])
        ids.append(str(inst.id))
        deltas: list[OrderBookDelta] = []
        trades: list[TradeTick] = []
        mid, half, step = Decimal(mid_text), Decimal(half_text), Decimal(step_text)
        for s in range(minutes * 60):
            ts = START_NS + s * SECOND
            # one snapshot, then in-place size updates on a fixed price grid (no empty-book gaps)
            action = BookAction.ADD if s == 0 else BookAction.UPDATE
            if s == 0:
                deltas.append(OrderBookDelta.clear(inst.id, 0, ts, ts))
            wiggle = Decimal((s * 7919) % 41) / Decimal(100)  # deterministic size changes
            m = mid
            for i, size in enumerate(sizes):
                for side, px in ((OrderSide.BUY, m - half - step * i), (OrderSide.SELL, m + half + step * i)):
                    last = i == len(sizes) - 1 and side == OrderSide.SELL
                    qty = Decimal(size) + (wiggle if side == OrderSide.SELL else Decimal(0))
                    deltas.append(
                        OrderBookDelta(
                            inst.id,
                            action,
                            BookOrder(
                                side, Price(px, inst.price_precision), Quantity(qty, inst.size_precision), 0
                            ),
                            RecordFlag.F_LAST if last else 0,
                            0,
                            ts,
                            ts,
                        )
                    )
            prints_at = m + Decimal((s * 7919) % 41 - 20) / Decimal(10)  # deterministic +-2.0 wiggle
            trades.append(
                TradeTick(
                    inst.id,
                    Price(prints_at, inst.price_precision),
                    Quantity(Decimal("0.010"), inst.size_precision),
                    AggressorSide.BUYER if s % 2 else AggressorSide.SELLER,
                    TradeId(f"{inst.id.venue}-{s}"),
                    ts + 1,
                    ts + 1,
                )
            )
        catalog.write_data(deltas)
        catalog.write_data(trades)
    return ids


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog")
    write_catalog(path)
    return path
