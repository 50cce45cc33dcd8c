"""The ccxt adapter's one retry policy: request retries and stream reconnects."""

from __future__ import annotations

import asyncio

import pytest

from nautilus_ext.adapters.ccxt.retry import RetryPolicy
from nautilus_ext.errors import OrderRejected
from nautilus_ext.errors import VenueUnavailable


def _policy(max_retries: int | None, waits: list[float]) -> RetryPolicy:
    async def sleep(secs: float) -> None:
        waits.append(secs)

    return RetryPolicy(
        initial_ms=100, max_ms=1_000, max_retries=max_retries, random_fn=lambda: 1.0, sleep=sleep
    )


def test_call_retries_retryable_failures_then_raises_the_last() -> None:
    waits: list[float] = []
    calls = 0

    async def request() -> str:
        nonlocal calls
        calls += 1
        raise VenueUnavailable(f"down {calls}", venue="X", retryable=True)

    with pytest.raises(VenueUnavailable, match="down 3"):
        asyncio.run(_policy(2, waits).call(request))
    assert calls == 3
    assert waits == [0.1, 0.2]  # full jitter at random 1.0: the exponential ceiling


def test_call_never_retries_a_final_failure() -> None:
    waits: list[float] = []
    calls = 0

    async def request() -> str:
        nonlocal calls
        calls += 1
        raise OrderRejected("no margin", venue="X")

    with pytest.raises(OrderRejected):
        asyncio.run(_policy(5, waits).call(request))
    assert (calls, waits) == (1, [])


def test_call_returns_what_recover_finds_and_tells_it_when_it_gives_up() -> None:
    seen: list[tuple[int, bool]] = []

    async def request() -> str:
        raise VenueUnavailable("timeout", venue="X", retryable=True)

    async def recover(error: Exception, attempt: int, final: bool) -> str | None:
        seen.append((attempt, final))
        return "found" if final else None

    assert asyncio.run(_policy(1, []).call(request, recover=recover)) == "found"
    assert seen == [(1, False), (2, True)]


def test_call_succeeds_after_a_retry() -> None:
    outcomes: list[Exception | str] = [VenueUnavailable("429", venue="X", retryable=True), "ok"]

    async def request() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert asyncio.run(_policy(2, []).call(request)) == "ok"


def test_repeat_backs_off_on_consecutive_failures_and_resets_on_success() -> None:
    waits: list[float] = []
    failures_seen: list[int] = []
    script = ["fail", "fail", "ok", "fail", "stop"]

    async def step() -> None:
        item = script.pop(0)
        if item == "fail":
            raise VenueUnavailable("stream closed", venue="X", retryable=False)
        if item == "stop":
            raise asyncio.CancelledError

    def on_failure(error: Exception, failures: int) -> None:
        failures_seen.append(failures)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_policy(None, waits).repeat(step, on_failure=on_failure))
    # a stream reconnects after any failure (even a non-retryable one); the count restarts
    assert failures_seen == [1, 2, 1]
    assert waits == [0.1, 0.2, 0.1]
