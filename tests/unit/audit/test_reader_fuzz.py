"""Fuzz: hostile logs give the audit reader and verifier only typed errors (issue 13, item 12)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from .fuzz_inputs import hostile_log
from .fuzz_inputs import untyped_failures
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
