"""Compaction of a closed day to Parquet: same records, hashes re-checkable, queryable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nautilus_ext.audit import AuditIntegrityError
from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.compaction import compact_day
from nautilus_ext.audit.compaction import verify_compacted
from nautilus_ext.errors import InvalidConfig

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def two_days(open_store: Callable[..., Any], events: Any, root: str, clock: Any) -> str:
    store = open_store()
    day0 = clock.now_ns
    store.append(events.intent(id="I-1", ts_event=day0))
    store.append(events.fill(id="F-1", ts_event=day0 + 1))
    store.append(events.intent(id="I-2", ts_event=day0 + DAY_NS))
    store.append(events.fill(id="F-0", ts_event=day0 + 2))  # late event for the first day
    store.close()
    return root


def test_compacted_day_holds_exactly_that_days_records(two_days: str) -> None:
    result = compact_day(two_days, date(2024, 1, 2))
    assert (result.rows, result.first_seq, result.last_seq) == (3, 0, 3)
    table = pq.read_table(result.path)
    assert table.column("id").to_pylist() == ["I-1", "F-1", "F-0"]
    expected = [(r.seq, r.hash) for r in iter_records(two_days) if r.event["id"] != "I-2"]
    assert (
        list(zip(table.column("seq").to_pylist(), table.column("hash").to_pylist(), strict=True)) == expected
    )
    assert verify_compacted(result.path) == 3
    assert verify_log(two_days).ok  # the log itself is untouched and still verifies
    count = duckdb.sql(f"SELECT count(*) FROM '{result.path}' WHERE event_type = 'FILL'").fetchone()
    assert count == (2,)


def test_tampered_compacted_file_is_found(two_days: str) -> None:
    result = compact_day(two_days, date(2024, 1, 2))
    table = pq.read_table(result.path)
    events = table.column("event_json").to_pylist()
    events[1] = events[1].replace('"qty":"1.5"', '"qty":"9"')
    index = table.schema.get_field_index("event_json")
    pq.write_table(table.set_column(index, table.schema.field(index), pa.array(events)), result.path)
    with pytest.raises(AuditIntegrityError, match="seq 1 does not match its hash"):
        verify_compacted(result.path)


def test_denormalized_column_must_match_the_event(two_days: str) -> None:
    result = compact_day(two_days, date(2024, 1, 2))
    table = pq.read_table(result.path)
    index = table.schema.get_field_index("id")
    ids = pa.array(["I-1", "F-X", "F-0"])
    pq.write_table(table.set_column(index, table.schema.field(index), ids), result.path)
    with pytest.raises(AuditIntegrityError, match="column id disagrees"):
        verify_compacted(result.path)


def test_day_without_segments_is_invalid(two_days: str) -> None:
    with pytest.raises(InvalidConfig, match="no audit records for 2024-02-01"):
        compact_day(two_days, date(2024, 2, 1))


def test_compacted_file_is_ignored_by_log_readers(two_days: str) -> None:
    compact_day(two_days, date(2024, 1, 2))
    assert Path(two_days, "audit", "date=2024-01-02", "compacted.parquet").exists()
    assert verify_log(two_days).records == 4
