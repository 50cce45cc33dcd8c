"""The same catalog and cluster code against GCS (the local gcp-storage-emulator)."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.catalogs.target import mirror_to_local
from nautilus_ext.catalogs.target import parse_target
from nautilus_ext.errors import VenueUnavailable

pytestmark = pytest.mark.slow


def test_catalog_on_gcs_matches_local(gcs_emulator: Any, tmp_path: Path, tardis_files: list[Path]) -> None:
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import TradeTick

    gcs_emulator.create_bucket("catalogs")
    remote = build_catalog("tardis", tardis_files, "gs://catalogs/tardis", progress=False)
    local = build_catalog("tardis", tardis_files, tmp_path / "local", progress=False)
    assert remote.rows == local.rows
    assert remote.days == local.days
    info = catalog_info("gs://catalogs/tardis")
    assert info.rows == catalog_info(tmp_path / "local").rows
    assert info.keys["BTCUSDT-PERP.BINANCE"] == "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
    # read back through the catalog over fsspec/gcsfs (the PyArrow backend)
    catalog = parse_target("gs://catalogs/tardis").catalog()
    trades = catalog.query(TradeTick, files=catalog.get_file_list_from_data_cls(TradeTick))
    assert len(trades) == local.rows["trade_tick"]
    assert {i.id.value for i in catalog.instruments()} == set(local.instruments)
    # the Rust object store (BacktestNode's path) needs real GCS: mirror, then read natively
    mirrored = parse_target(mirror_to_local("gs://catalogs/tardis", tmp_path / "mirror")).catalog()
    assert len(mirrored.query(OrderBookDelta)) == local.rows["order_book_deltas"]
    # rebuilding on GCS replaces days, never duplicates
    again = build_catalog("tardis", tardis_files, "gs://catalogs/tardis", progress=False)
    assert catalog_info("gs://catalogs/tardis").rows == info.rows
    assert again.rows == remote.rows


def test_cluster_store_on_gcs(gcs_emulator: Any) -> None:
    from nautilus_ext.storage import ClusterStore
    from nautilus_ext.storage import ExecutionResult
    from nautilus_ext.storage.schemas import ResultKind

    gcs_emulator.create_bucket("results")
    store = ClusterStore("gs://results/run-1")
    fills = [
        ExecutionResult(
            result_id=f"f{i}",
            operation_id="op-1",
            kind=ResultKind.FILL,
            instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
            venue="BYBIT",
            side="SELL",
            ts_event=datetime(2024, 1, 1 + i, 9, tzinfo=UTC),
            fill_price=Decimal("60000.5"),
            fill_quantity=Decimal("0.010"),
            fee=Decimal("0.33"),
            fee_currency="USDT",
            position_deltas={"BYBIT:PERPETUAL:BTC-USDT@LIN": Decimal("-0.010")},
        )
        for i in range(3)
    ]
    store.write_results(fills)
    store.write_results(fills)
    assert store.days("execution_results") == [date(2024, 1, d) for d in (1, 2, 3)]
    assert store.read_results(date(2024, 1, 2), date(2024, 1, 3)) == fills[1:]


def test_missing_bucket_is_venue_unavailable(gcs_emulator: Any) -> None:
    from nautilus_ext.storage import ClusterStore
    from nautilus_ext.storage import Signal
    from nautilus_ext.storage.schemas import SignalKind

    store = ClusterStore("gs://no-such-bucket/x")
    signal = Signal(
        signal_id="s",
        kind=SignalKind.MOVE,
        strategy_id="m",
        instrument_key="BYBIT:PERPETUAL:BTC-USDT@LIN",
        ts=datetime(2024, 1, 1, tzinfo=UTC),
        direction=1,
    )
    with pytest.raises(VenueUnavailable) as err:
        store.write_signals([signal])
    assert err.value.retryable
