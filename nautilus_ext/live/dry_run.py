"""
DRY_RUN execution: NautilusTrader's sandbox execution client, made safe for a live start.

Why the sandbox: it is NautilusTrader's own ``SimulatedExchange`` (the backtest matching
engine) fed by the live data bus, so strategies and execution algorithms run unchanged and no
order can leave the process. Two gaps are closed here:

* the sandbox only knows instruments already cached when it connects, while the ccxt data
  client loads them during its own connect: :class:`DryRunExecutionClient` waits (bounded) for
  the venue's instruments before connecting;
* the sandbox hard-codes a default ``FillModel`` and zero latency: the backtest's configurable
  ``FillModel`` and ``LatencyModel`` are installed instead, from the YAML ``dry_run`` section.
"""

from __future__ import annotations

import asyncio

from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
from nautilus_trader.adapters.sandbox.execution import SandboxExecutionClient
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.portfolio import PortfolioFacade


class DryRunExecClientConfig(SandboxExecutionClientConfig, frozen=True, kw_only=True):
    """
    Sandbox settings plus the fill/latency model and the instrument wait.

    Parameters
    ----------
    prob_fill_on_limit, prob_slippage : float
        Backtest ``FillModel`` probabilities.
    random_seed : int, optional
        Seed of the fill model (reproducible runs).
    latency_ms : int
        Simulated venue latency (milliseconds).
    instruments_timeout_secs : float
        How long to wait for the venue's instruments before connecting anyway.
    """

    prob_fill_on_limit: float = 1.0
    prob_slippage: float = 0.0
    random_seed: int | None = 42
    latency_ms: int = 0
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
        self.exchange.set_latency_model(LatencyModel(config.latency_ms * 1_000_000))
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
