"""
The one retry policy of the ccxt adapter: order requests, private streams and market data feeds.

Every decision is one of the pure functions of :mod:`nautilus_ext.adapters.ccxt.errors`
(:func:`should_retry`, :func:`backoff_delay`); :class:`RetryPolicy` only runs them in the two
shapes the adapter needs:

* :meth:`RetryPolicy.call`: a request retried until it succeeds or the policy gives up
  (``max_retries`` retries of a retryable failure), with a ``recover`` hook between attempts
  (an order request that may have reached the venue is looked up by its client id first);
* :meth:`RetryPolicy.repeat`: a stream run forever, backing off after consecutive failures
  (the count resets on success).

NautilusTrader's ``RetryManager`` is not used: it returns ``None`` on cancellation instead of
raising (a cancelled task must stop), retries by exception type rather than by the taxonomy's
``retryable`` flag, and has no hook between attempts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import NoReturn

from nautilus_ext.adapters.ccxt.errors import backoff_delay
from nautilus_ext.adapters.ccxt.errors import should_retry
from nautilus_ext.errors import NautilusExtError


@dataclass(frozen=True)
class RetryPolicy:
    """
    When to try again after a venue failure, and how long to wait.

    Parameters
    ----------
    initial_ms, max_ms : int
        Exponential backoff bounds (milliseconds), full jitter (:func:`backoff_delay`).
    max_retries : int, optional
        Retries of a retryable failure (:func:`should_retry`); ``None`` retries every failure
        forever (a stream reconnects until it is cancelled).
    random_fn : callable
        Jitter source in ``[0, 1)`` (injectable for tests).
    sleep : callable
        The wait (injectable for tests).
    """

    initial_ms: int
    max_ms: int
    max_retries: int | None = None
    random_fn: Callable[[], float] = field(default=random.random, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delay(self, error: NautilusExtError, attempt: int) -> float | None:
        """Return the wait (seconds) before a retry after failed ``attempt`` (1-based); ``None``: give up."""
        if self.max_retries is not None and not should_retry(error, attempt, self.max_retries):
            return None
        return backoff_delay(attempt, self.initial_ms, self.max_ms, self.random_fn)

    async def call[T](
        self,
        request: Callable[[], Awaitable[T]],
        *,
        recover: Callable[[NautilusExtError, int, bool], Awaitable[T | None]] | None = None,
        on_retry: Callable[[NautilusExtError, int, float], None] | None = None,
    ) -> T:
        """
        Return ``request()``'s result, retrying per the policy.

        Parameters
        ----------
        request : callable
            The request; raises :class:`NautilusExtError` on failure.
        recover : callable, optional
            Awaited after each failure with ``(error, attempt, final)``; a non-``None`` result
            is returned instead of retrying (``final`` is true when the policy gives up).
        on_retry : callable, optional
            Called with ``(error, attempt, delay_secs)`` before each wait.

        Raises
        ------
        NautilusExtError
            The last failure, once the policy gives up and ``recover`` found nothing.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await request()
            except NautilusExtError as e:
                error = e
            wait = self.delay(error, attempt)
            if recover is not None:
                recovered = await recover(error, attempt, wait is None)
                if recovered is not None:
                    return recovered
            if wait is None:
                raise error
            if on_retry is not None:
                on_retry(error, attempt, wait)
            await self.sleep(wait)

    async def repeat(
        self,
        step: Callable[[], Awaitable[None]],
        *,
        on_failure: Callable[[NautilusExtError, int], Awaitable[None] | None] | None = None,
    ) -> NoReturn:
        """
        Run ``step()`` forever, backing off after consecutive failures (until cancelled).

        ``on_failure(error, failures)`` runs before each wait (it may be a coroutine function).
        """
        failures = 0
        while True:
            try:
                await step()
            except NautilusExtError as e:
                failures += 1
                if on_failure is not None:
                    result = on_failure(e, failures)
                    if result is not None:
                        await result
                wait = self.delay(e, failures)
                if wait is None:
                    raise
                await self.sleep(wait)
                continue
            failures = 0


__all__ = ["RetryPolicy"]
