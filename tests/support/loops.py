"""Make a node's event loop the thread's current loop while NautilusTrader components are built."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def current_loop(loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """
    Set ``loop`` as the current loop, then restore a pristine default policy on exit.

    Some NautilusTrader clients (Betfair's stream clients) look the loop up with
    ``get_event_loop()`` when constructed; a node built for another thread's loop would
    otherwise hand them a new, never-closed loop. ``set_event_loop(None)`` would leave the
    policy refusing to create loops for later tests, so the policy itself is reset.
    """
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop_policy(None)
