"""Back-dated events do not scatter segment files (issue 13, item 9)."""

from __future__ import annotations

import itertools
import random
from datetime import date
from datetime import timedelta
from pathlib import Path
from typing import Any

from nautilus_ext.audit import iter_records
from nautilus_ext.audit import verify_log
from nautilus_ext.audit.compaction import compact_day
from nautilus_ext.audit.comparator import compare_events
from nautilus_ext.audit.reports import load_events

from .conftest import DAY0_NS

DAY_NS = 86_400 * 1_000_000_000
DAYS = 20
PER_DAY = 80
BACK_DATED_SHARE = 0.05


def _timestamps(seed: int = 7) -> list[int]:
    # Events in write order: time moves forward day by day, but 5% of them are back-dated by
    # one to three days (late fills, corrections), the pattern of the issue.
    rng = random.Random(seed)
    out = []
    for day in range(DAYS):
        for i in range(PER_DAY):
            ts = DAY0_NS + day * DAY_NS + i * 1_000_000
            if day and rng.random() < BACK_DATED_SHARE:
                ts -= rng.randint(1, min(day, 3)) * DAY_NS
            out.append(ts)
    return out


def _segment_count(root: str) -> int:
    return len(list(Path(root, "audit").glob("date=*/*.jsonl")))


def test_back_dated_events_keep_the_segment_count_near_the_number_of_days(
    open_store: Any, events: Any, root: str
) -> None:
    stamps = _timestamps()
    written = []
    # Small commits and a restart half-way, as a long-running writer would see them.
    for part in (stamps[: len(stamps) // 2], stamps[len(stamps) // 2 :]):
        store = open_store(batch_max_records=32, fsync=False)
        for ts in part:
            event = events.fill(id=f"F-{len(written)}", ts_event=ts)
            store.append(event)
            written.append(event)
        store.close()
    back_dated = sum(1 for a, b in itertools.pairwise(stamps) if b < a)
    assert back_dated > 40  # the pattern really is there

    assert _segment_count(root) <= DAYS + 1  # one per day, plus one for the restart at most

    report = verify_log(root)
    assert report.ok
    assert report.records == len(written)
    records = list(iter_records(root))
    assert [r.seq for r in records] == list(range(len(written)))
    assert [r.event["id"] for r in records] == [e.id for e in written]
    assert compare_events(written, [r.event for r in records]).identical  # what replay compares


def test_a_days_records_are_found_wherever_they_were_filed(open_store: Any, events: Any, root: str) -> None:
    stamps = _timestamps()
    store = open_store(batch_max_records=32, fsync=False)
    for index, ts in enumerate(stamps):
        store.append(events.fill(id=f"F-{index}", ts_event=ts))
    store.close()
    day = date(2024, 1, 2) + timedelta(days=5)
    day_start = DAY0_NS + 5 * DAY_NS
    on_day = [i for i, ts in enumerate(stamps) if day_start <= ts < day_start + DAY_NS]
    assert max(on_day) >= 6 * PER_DAY  # some arrived back-dated, filed in later folders

    until = [e.id for e in load_events(root, until_day=day)]
    assert until == [f"F-{i}" for i, ts in enumerate(stamps) if ts < day_start + DAY_NS]

    result = compact_day(root, day)
    assert result.rows == len(on_day)
