"""
The chokepoint serializes every entry into the gate: NautilusTrader's LiveClock runs timer
callbacks (algorithm children, the safety actor's tick) on its own thread while data and events
arrive on the node's loop, and the gate is not thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import yaml
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import ENDPOINT
from nautilus_ext.safety.chokepoint import GateChokepoint

REPO = Path(__file__).resolve().parents[3]


def _chokepoint() -> tuple[GateChokepoint, MessageBus, list[object]]:
    clock = TestClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    cache.add_instrument(TestInstrumentProvider.btcusdt_perp_binance())
    forwarded: list[object] = []
    msgbus.register(ENDPOINT, forwarded.append)
    limits = yaml.safe_load((REPO / "configs" / "safety" / "default.yaml").read_text())
    gate = SafetyGate(SafetyConfig.parse({**limits, "mode": "BACKTEST"}), clock)
    chokepoint = GateChokepoint(gate, msgbus=msgbus, cache=cache, forward=forwarded.append)
    chokepoint.install()
    return chokepoint, msgbus, forwarded


def _blocked_while_held(chokepoint: GateChokepoint, call: Callable[[], object]) -> bool:
    """Return whether ``call`` on another thread waited for the lock this thread holds."""
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    with chokepoint.lock:
        worker = threading.Thread(target=run)
        worker.start()
        waited = not done.wait(0.2)
    worker.join(5)
    return waited and done.is_set()


def test_every_entry_into_the_gate_waits_for_the_lock() -> None:
    chokepoint, msgbus, _ = _chokepoint()
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    factory = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), TestClock())
    order = factory.market(instrument.id, OrderSide.BUY, Quantity.from_str("0.010"))
    assert _blocked_while_held(chokepoint, chokepoint.tick)
    assert _blocked_while_held(chokepoint, lambda: chokepoint.judge(order))
    # a message-bus feed too (here a position event topic with an unrelated payload)
    assert _blocked_while_held(chokepoint, lambda: msgbus.publish("events.position.S-001", object()))


def test_the_lock_is_reentrant_on_the_owning_thread() -> None:
    chokepoint, _, _ = _chokepoint()
    with chokepoint.lock:
        # a denial's events come back on the same thread: taking the lock again must not wait
        # (a plain Lock would time out here, failing the test rather than hanging it)
        assert chokepoint.lock.acquire(timeout=1)
        chokepoint.lock.release()
        chokepoint.tick()
