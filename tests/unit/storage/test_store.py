"""Day-chunked clusters on a local path: schemas, round trips, idempotence, atomicity."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.serialization import ORDER_ARROW_SCHEMA
from nautilus_ext.storage import ClusterStore
from nautilus_ext.storage import ExecutionResult
from nautilus_ext.storage import Signal
from nautilus_ext.storage.schemas import EXECUTION_RESULT_ARROW_SCHEMA
from nautilus_ext.storage.schemas import ResultKind
from nautilus_ext.storage.schemas import SignalKind
from nautilus_ext.storage.schemas import results_to_table

KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"


def _order(i: int, created: datetime | None) -> Order:
    return Order(
        operation_id=f"op-{i}",
        operation="trade",
        instrument_key=KEY,
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=Decimal("0.001") * (i + 1),
        price=Decimal("60000.1"),
        created_at=created,
    )


def _fill(i: int, ts: datetime) -> ExecutionResult:
    return ExecutionResult(
        result_id=f"fill-{i}",
        operation_id=f"op-{i}",
        kind=ResultKind.FILL,
        instrument_key=KEY,
        venue="BINANCE-FUTURES",
        side="BUY",
        ts_event=ts,
        fill_price=Decimal("60000.123456789012345678"),
        fill_quantity=Decimal("0.001"),
        fee=Decimal("0.0300000617"),
        fee_currency="USDT",
        liquidity="TAKER",
        position_deltas={KEY: Decimal("0.001")},
        metadata={"algo": "TWAP", "slice": i},
    )


def _day(d: int, hour: int = 12) -> datetime:
    return datetime(2024, 1, d, hour, 30, 15, 123456, tzinfo=UTC)


def test_orders_round_trip_by_day(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    orders = [_order(0, _day(1)), _order(1, _day(2)), _order(2, _day(2, 23))]
    paths = store.write_orders(orders)
    assert [Path(p).parent.name for p in paths] == ["date=2024-01-01", "date=2024-01-02"]
    assert store.read_orders(date(2024, 1, 2), date(2024, 1, 2)) == orders[1:]
    assert store.read_orders(date(2024, 1, 1), date(2024, 1, 31)) == orders
    assert store.read_orders(date(2024, 1, 3), date(2024, 1, 9)) == []
    assert store.days("orders") == [date(2024, 1, 1), date(2024, 1, 2)]


def test_order_without_created_at_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig, match="op-0 has no created_at"):
        ClusterStore(tmp_path).write_orders([_order(0, None)])


def test_results_keep_exact_decimals_and_deltas(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    fills = [_fill(0, _day(5)), _fill(1, _day(5, 13))]
    store.write_results(fills)
    back = store.read_results(date(2024, 1, 5), date(2024, 1, 5))
    assert back == fills
    assert back[0].fill_price == Decimal("60000.123456789012345678")
    table = store.read_range("execution_results", date(2024, 1, 5), date(2024, 1, 5))
    assert table.schema.field("ts_event").type == pa.timestamp("ns", tz="UTC")
    assert table.column("fill_price").to_pylist()[0] == "60000.123456789012345678"


def test_signals_round_trip(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    signals = [
        Signal(
            signal_id="s1",
            kind=SignalKind.MOVE,
            strategy_id="ml-1",
            instrument_key=KEY,
            ts=_day(3),
            direction=1,
            strength=Decimal("0.0012"),
            horizon_secs=300,
        ),
        Signal(
            signal_id="s2",
            kind=SignalKind.REAL,
            strategy_id="ml-1",
            instrument_key=KEY,
            ts=_day(3, 14),
            direction=-1,
            reference_price=Decimal("60001.5"),
            operation_id="op-7",
        ),
    ]
    store.write_signals(signals)
    assert store.read_signals(date(2024, 1, 3), date(2024, 1, 3)) == signals


def test_rewriting_a_part_replaces_it(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    store.write_results([_fill(0, _day(5)), _fill(1, _day(5))])
    store.write_results([_fill(2, _day(5))])  # same day, same part: replaces
    assert [r.result_id for r in store.read_results(date(2024, 1, 5), date(2024, 1, 5))] == ["fill-2"]
    store.write_results([_fill(3, _day(5))], part="run-b")  # another part: adds
    ids = [r.result_id for r in store.read_results(date(2024, 1, 5), date(2024, 1, 5))]
    assert sorted(ids) == ["fill-2", "fill-3"]
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".parquet")]
    assert leftovers == []


def test_failed_write_keeps_previous_version(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    store.write_results([_fill(0, _day(5))])
    before = Path(store.path("execution_results", date(2024, 1, 5), "part-0")).read_bytes()
    wrong_day = results_to_table([_fill(1, _day(6))])
    with pytest.raises(InvalidConfig, match="does not belong to 2024-01-05"):
        store.write_day("execution_results", date(2024, 1, 5), wrong_day)
    after = Path(store.path("execution_results", date(2024, 1, 5), "part-0")).read_bytes()
    assert after == before


@pytest.mark.parametrize("part", ["", "../x", "a/b", "x.tmp", ".hidden"])
def test_bad_part_names(tmp_path: Path, part: str) -> None:
    with pytest.raises(InvalidConfig, match="bad part name"):
        ClusterStore(tmp_path).path("orders", date(2024, 1, 1), part)


def test_unknown_cluster_and_schema_mismatch(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    with pytest.raises(InvalidConfig, match="unknown cluster"):
        store.read_range("fills", date(2024, 1, 1), date(2024, 1, 2))
    with pytest.raises(InvalidConfig, match="does not match"):
        store.write_day("orders", date(2024, 1, 1), EXECUTION_RESULT_ARROW_SCHEMA.empty_table())
    with pytest.raises(InvalidConfig, match="before start"):
        store.read_range("orders", date(2024, 1, 2), date(2024, 1, 1))
    assert store.read_range("orders", date(2024, 1, 1), date(2024, 1, 2)).schema.equals(ORDER_ARROW_SCHEMA)


def test_models_validate() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _fill(0, datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        Signal(
            signal_id="x",
            kind=SignalKind.MOVE,
            strategy_id="s",
            instrument_key=KEY,
            ts=_day(1),
            direction=2,
        )
    with pytest.raises(ValueError, match="extra"):
        ExecutionResult.model_validate({**_fill(0, _day(1)).model_dump(), "unknown": 1})


def test_schema_versions_are_in_metadata() -> None:
    from nautilus_ext.storage.schemas import SIGNAL_ARROW_SCHEMA

    assert EXECUTION_RESULT_ARROW_SCHEMA.metadata[b"nautilus_ext.version"] == b"1"
    assert SIGNAL_ARROW_SCHEMA.metadata[b"nautilus_ext.schema"] == b"signal"


def test_public_api() -> None:
    import nautilus_ext.storage as storage

    assert sorted(storage.__all__) == sorted(
        [
            "EXECUTION_RESULT_ARROW_SCHEMA",
            "SIGNAL_ARROW_SCHEMA",
            "ClusterStore",
            "ExecutionResult",
            "Signal",
        ]
    )


def test_a_bad_day_folder_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "orders" / "date=2024-13-45").mkdir(parents=True)
    with pytest.raises(InvalidConfig, match=r"date=2024-13-45 is not a valid day"):
        ClusterStore(tmp_path).read_orders(date(2024, 1, 1), date(2024, 12, 31))


def test_a_corrupt_day_file_is_a_typed_error(tmp_path: Path) -> None:
    store = ClusterStore(tmp_path)
    created = datetime(2024, 3, 1, tzinfo=UTC)
    (path,) = store.write_orders([_order(1, created)])
    Path(path).write_bytes(Path(path).read_bytes()[:50])
    with pytest.raises(InvalidConfig, match="is corrupt"):
        store.read_orders(date(2024, 3, 1), date(2024, 3, 1))
