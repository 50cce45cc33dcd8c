"""
Feed a Nautilus strategy's execution events into its :class:`SafetyGate`.

:class:`SafetyGatedExecutionStrategy` is a :class:`UnifiedExecutionStrategy` whose fills,
cancels and (in simulated modes) position events reach the gate's OMS safeguards:

- every ``OrderFilled`` is a :class:`~nautilus_ext.safety.oms.Fill` (running sum, dirty flag);
- every ``OrderCanceled`` is recorded for the flip-flop detector;
- ``PositionOpened/Changed/Closed`` confirm the position only in BACKTEST, DRY_RUN and REPLAY,
  where the simulated venue *is* the truth. In LIVE, Nautilus computes those positions from the
  same fills, so they confirm nothing: the venue's own position feed (the adapter's WebSocket
  position events and REST snapshots, :meth:`SafetyGate.on_position_update` and
  :meth:`SafetyGate.on_snapshot`) must clear the dirty flag (seed 001, section 4.7.2).

The gate's asset for an instrument is the canonical key of the last unified order executed on
it (the same key :meth:`SafetyGate.check` used).
"""

from __future__ import annotations

from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import PositionChanged
from nautilus_trader.model.events import PositionClosed
from nautilus_trader.model.events import PositionOpened
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.mode import Mode
from nautilus_ext.safety.chokepoint import fill_of
from nautilus_ext.safety.chokepoint import is_betting
from nautilus_ext.safety.chokepoint import signed_position


class SafetyGatedExecutionStrategy(UnifiedExecutionStrategy):
    """A unified execution strategy that feeds its gate (see the module docstring)."""

    def _safety_asset(self, instrument_id: InstrumentId) -> str:
        text = str(instrument_id)
        for result in reversed(list(self.results.values())):
            if result.nautilus_instrument_id == text:
                return result.instrument_key
        return text

    def on_order_filled(self, event: OrderFilled) -> None:
        gate = self.safety_gate
        if gate is not None:
            betting = is_betting(self.cache, event.instrument_id)
            gate.on_fill(fill_of(event, self._safety_asset(event.instrument_id), betting=betting))
        super().on_order_filled(event)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        gate = self.safety_gate
        operation_id = self._by_client_id.get(event.client_order_id)
        if gate is not None and operation_id is not None:
            gate.check_cancel(self._safety_asset(event.instrument_id), operation_id)
        super().on_order_canceled(event)

    def _position(self, event: PositionOpened | PositionChanged | PositionClosed) -> None:
        gate = self.safety_gate
        if gate is not None and gate.mode is not Mode.LIVE:
            betting = is_betting(self.cache, event.instrument_id)
            gate.on_position_update(
                self._safety_asset(event.instrument_id), signed_position(event, betting=betting)
            )

    def on_position_opened(self, event: PositionOpened) -> None:
        self._position(event)

    def on_position_changed(self, event: PositionChanged) -> None:
        self._position(event)

    def on_position_closed(self, event: PositionClosed) -> None:
        self._position(event)


__all__ = ["SafetyGatedExecutionStrategy"]
