"""A bare Nautilus strategy that subscribes to the same data and does nothing: the benchmark baseline."""

from __future__ import annotations

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy


class SubscribeOnlyConfig(StrategyConfig, frozen=True):
    """Instruments and data kinds to subscribe to (the keys match ``UnifiedExecutionConfig``)."""

    registry_dir: str | None = None
    instrument_ids: tuple[str, ...] = ()
    book_data: bool = True
    trade_data: bool = True
    quote_data: bool = False
    audit_root: str | None = None
    mode: str = "BACKTEST"


class SubscribeOnlyStrategy(Strategy):  # type: ignore[misc]
    """Subscribe like the unified execution strategy, then ignore everything."""

    def __init__(self, config: SubscribeOnlyConfig) -> None:
        super().__init__(config)
        self._ids = [InstrumentId.from_str(i) for i in config.instrument_ids]
        self._book, self._trades, self._quotes = config.book_data, config.trade_data, config.quote_data

    def on_start(self) -> None:
        for iid in self._ids:
            if self._book:
                self.subscribe_order_book_deltas(iid)
            if self._trades:
                self.subscribe_trade_ticks(iid)
            if self._quotes:
                self.subscribe_quote_ticks(iid)
