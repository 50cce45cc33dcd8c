"""A bare Nautilus strategy that subscribes to the same data and does nothing: the benchmark baseline."""

from __future__ import annotations

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.mode import Mode


class SubscribeOnlyConfig(StrategyConfig, frozen=True):
    """Instruments and data kinds to subscribe to (the keys match ``UnifiedExecutionConfig``)."""

    registry_dir: str | None = None
    instrument_ids: tuple[str, ...] = ()
    book_data: bool = True
    trade_data: bool = True
    quote_data: bool = False
    audit_root: str | None = None
    mode: Mode = Mode.BACKTEST


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


class ExampleTwapParentsConfig(SubscribeOnlyConfig, frozen=True):
    """The parents to hand to NautilusTrader's example TWAP (same JSON-lines orders file)."""

    orders_path: str = ""
    horizon_secs: str = "60"
    interval_secs: str = "10"


class ExampleTwapParentsStrategy(SubscribeOnlyStrategy):
    """
    Submit each unified order's quantity as a market parent to NautilusTrader's example TWAP.

    Only for the benchmark that compares the example TWAP path with this project's layer: no
    routing, no results, no checks beyond what Nautilus does itself.
    """

    def __init__(self, config: ExampleTwapParentsConfig) -> None:
        super().__init__(config)
        from nautilus_ext.backtest.replayer import load_orders_jsonl

        self._orders = load_orders_jsonl(config.orders_path) if config.orders_path else []
        # the example TWAP divides these as numbers
        self._params = {
            "horizon_secs": float(config.horizon_secs),
            "interval_secs": float(config.interval_secs),
        }
        self._pending: dict[str, object] = {}

    def on_start(self) -> None:
        super().on_start()
        now = self.clock.timestamp_ns()
        for order in self._orders:
            if order.created_at is None:
                continue
            name = f"parent:{order.operation_id}"
            self._pending[name] = order
            ts = max(int(order.created_at.timestamp()) * 1_000_000_000, now + 1)
            self.clock.set_time_alert_ns(name, ts, self._on_due)

    def _on_due(self, event: object) -> None:
        from nautilus_trader.model.enums import OrderSide
        from nautilus_trader.model.enums import TimeInForce
        from nautilus_trader.model.identifiers import ExecAlgorithmId

        from nautilus_ext.orders import Order

        order = self._pending.pop(getattr(event, "name", ""), None)
        if not isinstance(order, Order):
            return
        from nautilus_ext.adapters.symbology import to_instrument_id
        from nautilus_ext.instruments.registry import InstrumentRegistry

        iid = to_instrument_id(order.instrument_key, InstrumentRegistry.default())
        inst = self.cache.instrument(iid)
        if inst is None:
            return
        parent = self.order_factory.market(
            iid,
            OrderSide.BUY if str(order.side) == "BUY" else OrderSide.SELL,
            inst.make_qty(order.amount),
            time_in_force=TimeInForce.GTC,
            exec_algorithm_id=ExecAlgorithmId("TWAP"),
            exec_algorithm_params=dict(self._params),
        )
        self.submit_order(parent)
