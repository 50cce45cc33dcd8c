"""Poll a condition until it holds or a timeout passes (instead of sleeping in tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def eventually(
    condition: Callable[[], object],
    timeout_secs: float = 10.0,
    interval_secs: float = 0.02,
    message: str | Callable[[], str] = "",
) -> None:
    """
    Block until ``condition()`` is truthy (``message`` may be a callable, evaluated on failure
    to describe the state).

    Raises
    ------
    AssertionError
        If the condition is still false after ``timeout_secs``.
    """
    deadline = time.monotonic() + timeout_secs
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(text or f"condition not met within {timeout_secs}s")
        time.sleep(interval_secs)


async def eventually_async(
    condition: Callable[[], object],
    timeout_secs: float = 10.0,
    interval_secs: float = 0.02,
    message: str = "",
) -> None:
    """
    Await until ``condition()`` is truthy (yielding to the event loop between polls).

    Raises
    ------
    AssertionError
        If the condition is still false after ``timeout_secs``.
    """
    deadline = time.monotonic() + timeout_secs
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout_secs}s")
        await asyncio.sleep(interval_secs)
