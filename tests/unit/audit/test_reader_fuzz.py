"""Fuzz: hostile logs give the audit reader and verifier only typed errors (issue 13, item 12)."""

from __future__ import annotations

import contextlib
import random
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.audit.compaction import compact_day
from nautilus_ext.audit.compaction import verify_compacted
from nautilus_ext.errors import NautilusExtError

from .fuzz_inputs import DAY_DIR
from .fuzz_inputs import hostile_log
from .fuzz_inputs import untyped_failures
from .fuzz_inputs import valid_lines
from .fuzz_inputs import write_log


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_hostile_logs_give_only_typed_errors(rng: random.Random) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        write_log(root, hostile_log(rng))
        failures = untyped_failures(str(root))
    assert failures == [], [(name, type(e).__name__, str(e)[:200]) for name, e in failures]


def test_fixed_sample_gives_only_typed_errors() -> None:
    # A fixed, seeded slice of the measurement run, so every kind of input runs on every CI run.
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(40):
            root = Path(tmp) / str(index)
            write_log(root, hostile_log(random.Random(index)))
            assert untyped_failures(str(root)) == [], index


@pytest.fixture(scope="module")
def compacted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Return the bytes of a valid compacted day."""
    root = tmp_path_factory.mktemp("compacted")
    write_log(root, {f"audit/{DAY_DIR}/{0:020d}.jsonl": b"".join(valid_lines(6))})
    return Path(compact_day(str(root), date(2024, 1, 2)).path).read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_mutated_compacted_files_give_only_typed_errors(compacted: bytes, rng: random.Random) -> None:
    data = bytearray(compacted)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(data))
        if rng.random() < 0.7:
            data[position] = rng.randrange(256)
        else:
            del data[position : position + rng.randint(1, 50)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "compacted.parquet"
        path.write_bytes(bytes(data))
        with contextlib.suppress(NautilusExtError):  # anything else fails the test
            verify_compacted(str(path))
