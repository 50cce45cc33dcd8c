"""
DRY_RUN execution: NautilusTrader's sandbox execution client, made safe for a live start.

Why the sandbox: it is NautilusTrader's own ``SimulatedExchange`` (the backtest matching
engine) fed by the live data bus, so strategies and execution algorithms run unchanged and no
order can leave the process. Two gaps are closed here:

* the sandbox only knows instruments already cached when it connects, while the ccxt data
  client loads them during its own connect: :class:`DryRunExecutionClient` waits (bounded) for
  the venue's instruments before connecting;
* the sandbox hard-codes a default ``FillModel``: the backtest's configurable ``FillModel`` is
  installed instead, from the YAML ``dry_run`` section;
* the sandbox's clock only moves with its own venue's data, while a backtest moves every
  venue's clock to each data item's ``ts_init``: with two venues, an order sent on venue B
  while handling venue A's data was filled at B's last data time in DRY_RUN and at A's in a
  backtest (fill ``ts_event`` and trade ids differed in REPLAY). The client also advances its
  venue's clock on other venues' data (:meth:`DryRunExecutionClient._advance_clock`).

There is no latency setting: in NautilusTrader 1.231 the sandbox builds its venue with
``use_message_queue=False``, so commands execute on arrival and a ``LatencyModel`` is never
consulted (a field that did nothing was removed rather than kept as a false promise).
"""

from __future__ import annotations

import asyncio
from typing import Any

from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
from nautilus_trader.adapters.sandbox.execution import SandboxExecutionClient
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.portfolio import PortfolioFacade


class DryRunExecClientConfig(SandboxExecutionClientConfig, frozen=True, kw_only=True):
    """
    Sandbox settings plus the fill model and the instrument wait.

    Parameters
    ----------
    prob_fill_on_limit, prob_slippage : float
        Backtest ``FillModel`` probabilities.
    random_seed : int, optional
        Seed of the fill model (reproducible runs).
    instruments_timeout_secs : float
        How long to wait for the venue's instruments before connecting anyway.
    """

    prob_fill_on_limit: float = 1.0
    prob_slippage: float = 0.0
    random_seed: int | None = 42
    instruments_timeout_secs: float = 30.0


class DryRunExecutionClient(SandboxExecutionClient):
    """The sandbox client with configurable models and a wait for instruments."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        portfolio: PortfolioFacade,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: DryRunExecClientConfig,
    ) -> None:
        super().__init__(
            loop=loop, portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock, config=config
        )
        self._dry_config = config
        self.exchange.set_fill_model(
            FillModel(
                prob_fill_on_limit=config.prob_fill_on_limit,
                prob_slippage=config.prob_slippage,
                random_seed=config.random_seed,
            )
        )
        self._connect_task: asyncio.Task[None] | None = None

    def connect(self) -> None:
        """Connect once the venue's instruments are cached (or the wait times out)."""
        self._connect_task = self.create_task(self._connect_when_ready(), log_msg="dry_run_connect")

    async def _connect_when_ready(self) -> None:
        deadline = self._clock.timestamp_ns() + int(self._dry_config.instruments_timeout_secs * 1e9)
        while not self._cache.instruments(venue=self.venue):
            if self._clock.timestamp_ns() > deadline:
                self._log.error(f"No {self.venue} instruments cached: connecting without them")
                break
            await asyncio.sleep(0.05)
        SandboxExecutionClient.connect(self)
        # after the sandbox's own subscription: its venue's data is processed there, every
        # other item only moves this venue's clock (before the strategies see it, as they
        # subscribe later)
        self._msgbus.subscribe("data.*", handler=self._advance_clock)

    def _advance_clock(self, data: Any) -> None:
        """Move the simulated venue's clock to another venue's data time, as a backtest does."""
        ts = getattr(data, "ts_init", None)
        if isinstance(ts, int) and ts > self.test_clock.timestamp_ns():
            self.test_clock.set_time(ts)


class SandboxLiveExecClientFactory(LiveExecClientFactory):
    """
    Build :class:`DryRunExecutionClient` instances.

    The class keeps NautilusTrader's sandbox factory name on purpose: ``TradingNodeBuilder``
    passes the portfolio only to a factory whose ``__name__`` is
    ``SandboxLiveExecClientFactory`` (nautilus_trader/live/node_builder.py, 1.231).
    """

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: DryRunExecClientConfig,
        portfolio: PortfolioFacade,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> DryRunExecutionClient:
        """Validate ``config`` and return the client."""
        config.validate()
        return DryRunExecutionClient(
            loop=loop,
            portfolio=portfolio,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )


DryRunExecClientFactory = SandboxLiveExecClientFactory
"""The project's name for the DRY_RUN execution client factory."""


SYNC_ENDPOINTS: tuple[tuple[str, str, str, str], ...] = (
    # (endpoint, engine, queued handler, the handler its queue task calls)
    ("RiskEngine.execute", "risk_engine", "execute", "_execute_command"),
    ("RiskEngine.process", "risk_engine", "process", "_handle_event"),
    ("ExecEngine.execute", "exec_engine", "execute", "_execute_command"),
    ("ExecEngine.process", "exec_engine", "process", "_handle_event_with_tracking"),
)
"""The live engines' queued endpoints and what their queue tasks call (NautilusTrader 1.231)."""


def make_execution_synchronous(node: Any) -> None:
    """
    Run a DRY_RUN node's risk and execution engines synchronously, as a backtest does.

    Why: the live engines are queues consumed by their own tasks, while the data engine drains
    its queue without yielding. An order decided on data item X then reaches the sandbox venue
    after every item already queued behind X, and its fill reaches the strategy later still:
    which book it fills against, and what the strategy knows when it handles X+1, depend on
    scheduling. Pointing each endpoint at the handler its queue task calls (the same code,
    minus the queue) executes the order against the venue state right after X, and delivers
    its events before X+1, exactly like a backtest venue without a message queue.

    Only for the simulated venue: a real venue's client must never run inside a data handler.
    """
    msgbus = node.kernel.msgbus
    for endpoint, engine_name, queued, direct in SYNC_ENDPOINTS:
        engine = getattr(node.kernel, engine_name)
        msgbus.deregister(endpoint, getattr(engine, queued))
        msgbus.register(endpoint, getattr(engine, direct))
