"""
Configuration of the unified execution strategy, and the data clock that can time its decisions.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.config import StrategyConfig

from nautilus_ext.mode import Mode


class UnifiedExecutionConfig(StrategyConfig, frozen=True):
    """
    Configuration of the unified execution strategy.

    Parameters
    ----------
    registry_dir : str, optional
        Instrument registry directory (default: the shipped ``configs/``).
    instrument_ids : list[str]
        Nautilus instrument ids to subscribe to (books, quotes, trades) for routing and
        arrival prices.
    book_data : bool, default True
        Whether L2 book deltas are available (else quotes/trades decide the fill model).
    trade_data : bool, default True
        Subscribe to trade ticks of ``instrument_ids``.
    quote_data : bool, default False
        Subscribe to quote ticks of ``instrument_ids``.
    mode : Mode, default BACKTEST
        The mode label written to the audit log.
    audit_root : str, optional
        Directory of the append-only audit log (None: no audit log).
    audit_fsync : bool, default True
        Whether every audit event is fsynced.
    decision_clock : {"node", "data"}, default "node"
        What times decisions (audit ``ts_event`` of intents and orders) and tags client order
        ids: the node's clock, or the ``ts_init`` of the market data being handled. In a backtest
        both read the same; in a live node only ``"data"`` is reproducible, so a recorded
        DRY_RUN session uses it (:mod:`nautilus_ext.replay.recorder`).
    bet_delays : dict[str, list[int]], optional
        Simulated modes (BACKTEST, REPLAY): Betfair market id -> ``[in-play since (UNIX ns),
        delay (s)]``. A bet on a market in play reaches the simulated venue only after
        Betfair's in-play delay, as on the exchange (the backtest runner fills it from the
        catalog's market definitions).
    """

    registry_dir: str | None = None
    instrument_ids: tuple[str, ...] = ()
    book_data: bool = True
    trade_data: bool = True
    quote_data: bool = False
    mode: Mode = Mode.BACKTEST
    audit_root: str | None = None
    audit_fsync: bool = True
    decision_clock: str = "node"
    bet_delays: dict[str, list[int]] | None = None


DECISION_CLOCKS = frozenset({"node", "data"})


class DataClock:
    """
    The time of the market data being handled: the ``ts_init`` of the newest data item delivered.

    A backtest's clock reads exactly this while a data handler runs; a live node's clock reads
    the wall time instead. Before any data arrives it falls back to ``fallback`` (the node clock).
    """

    def __init__(self, fallback: Any) -> None:
        self._fallback = fallback
        self.ts_data: int | None = None

    def observe(self, ts_init: int) -> None:
        """Record the ``ts_init`` of a data item about to be handled (never moves backwards)."""
        if self.ts_data is None or ts_init > self.ts_data:
            self.ts_data = ts_init

    def timestamp_ns(self) -> int:
        """Return the data time (nanoseconds), or the fallback clock's before any data."""
        return int(self._fallback.timestamp_ns()) if self.ts_data is None else self.ts_data
