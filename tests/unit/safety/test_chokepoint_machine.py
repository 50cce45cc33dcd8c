"""
Property test at the execution-engine door: random sequences of arming, expiry, released
unified orders (confirmed or not), direct ``submit_order`` calls, execution-algorithm children
of released and unreleased parents, fills, kills and feed faults. Whatever reaches
``ExecEngine.execute`` (the stand-in records it: it is the real endpoint the chokepoint
guards) in LIVE had a valid arm and a confirmation, directly or through its released parent;
nothing passes while SAFE (children here only add risk) or dirty; a direct order never does.
A child passes only under the arm that released its parent, and a parent's children never
exceed its size.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import rule
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import MarketOrder

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.safety import Fill
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.gate import GateContext

from .conftest import ASSET
from .conftest import SEC
from .conftest import T0
from .conftest import VENUE
from .conftest import Recorder
from .conftest import config_dict
from .conftest import make_order

TRADER = TraderId("TESTER-001")
STRATEGY = StrategyId("S-1")


class ChokepointMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clock = TestClock()
        self.clock.set_time(T0)
        self.msgbus = MessageBus(TRADER, self.clock)
        self.cache = Cache()
        registry = InstrumentRegistry.default()
        self.instrument = build_instrument(registry.get(ASSET), registry)
        self.cache.add_instrument(self.instrument)
        self.forwarded: list[Any] = []
        self.denied: list[OrderDenied] = []
        self.msgbus.register("ExecEngine.execute", self.forwarded.append)
        self.msgbus.register("ExecEngine.process", self.denied.append)
        self.msgbus.register("TWAP.execute", lambda command: None)  # the algorithm, registered
        self.gate = SafetyGate(SafetyConfig.parse(config_dict()), self.clock, sink=Recorder())
        self.chokepoint = install_chokepoint(
            self.gate,
            msgbus=self.msgbus,
            cache=self.cache,
            exec_engine=SimpleNamespace(execute=self.forwarded.append),
        )
        self.ids = itertools.count(1)
        self.armed_until: int | None = None
        # parent client order id -> (arm it was released under, its size, what children took)
        self.released: dict[str, tuple[int, Decimal, Decimal]] = {}
        self.arm_id = 0
        self.parents: list[str] = []  # every parent id, released or not
        self.safe = False
        self.dirty = False
        self.position = Decimal(0)

    # -- helpers ------------------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.timestamp_ns()

    def armed(self) -> bool:
        return self.armed_until is not None and self.now() < self.armed_until

    def order(
        self, qty: str, spawn: str | None = None, *, primary: bool = False, algorithm: bool = True
    ) -> MarketOrder:
        cid = ClientOrderId(f"O-{next(self.ids)}")
        if primary:
            spawn = cid.value  # NautilusTrader marks a primary as its own spawn
        return MarketOrder(
            trader_id=TRADER,
            strategy_id=STRATEGY,
            instrument_id=self.instrument.id,
            client_order_id=cid,
            order_side=OrderSide.BUY,
            quantity=Quantity.from_str(qty),
            init_id=UUID4(),
            ts_init=self.now(),
            exec_algorithm_id=None if spawn is None or not algorithm else ExecAlgorithmId("TWAP"),
            exec_spawn_id=None if spawn is None else ClientOrderId(spawn),
        )

    def submit(self, order: MarketOrder) -> bool:
        self.cache.add_order(order)
        before = len(self.forwarded)
        self.msgbus.send(
            "ExecEngine.execute",
            SubmitOrder(
                trader_id=TRADER, strategy_id=STRATEGY, order=order, command_id=UUID4(), ts_init=self.now()
            ),
        )
        return len(self.forwarded) > before

    # -- rules --------------------------------------------------------------------------------

    @rule(secs=st.integers(min_value=0, max_value=90))
    def advance(self, secs: int) -> None:
        self.clock.set_time(self.now() + secs * SEC)

    @rule()
    def feeds(self) -> None:
        self.gate.on_market_data(ASSET)
        self.gate.on_ws_message(VENUE)

    @rule(ttl=st.integers(min_value=1, max_value=120))
    def arm(self, ttl: int) -> None:
        if self.safe or self.gate.safe is not None or self.gate.arming.is_armed():
            return  # refused in SAFE mode, and an arm is one-shot (both tested elsewhere)
        self.gate.arm(ttl, "alice")
        self.armed_until = self.now() + ttl * SEC
        self.arm_id += 1

    @rule()
    def disarm(self) -> None:
        self.gate.disarm("alice")
        self.armed_until = None

    @rule(confirm=st.booleans(), qty=st.sampled_from(["0.1", "0.5", "3"]))
    def release_parent(self, confirm: bool, qty: str) -> None:
        parent = self.order(qty, primary=True)
        unified = make_order(parent.client_order_id.value, "BUY", qty, "S-1")
        if confirm and self.armed():
            self.gate.confirm(self.gate.stage(unified).intent_hash, "alice")
        decision = self.gate.check(unified, GateContext(client_order_id=parent.client_order_id.value))
        self.cache.add_order(parent)  # handed to its algorithm, released or not
        self.parents.append(parent.client_order_id.value)
        if decision.allowed:
            assert self.armed(), "released without an arm"
            assert confirm, "released without a confirmation"
            self.released[parent.client_order_id.value] = (self.arm_id, Decimal(qty), Decimal(0))

    @rule(qty=st.sampled_from(["0.01", "0.1"]))
    def direct(self, qty: str) -> None:
        assert not self.submit(self.order(qty)), "a direct submit_order reached the engine in LIVE"

    @rule(data=st.data(), qty=st.sampled_from(["0.01", "0.1"]))
    def child(self, data: st.DataObject, qty: str) -> None:
        if not self.parents:
            return
        parent = data.draw(st.sampled_from(self.parents))
        passed = self.submit(self.order(qty, spawn=parent))
        if passed:
            assert parent in self.released, "child of an unreleased parent reached the engine"
            arm_id, size, taken = self.released[parent]
            assert self.armed(), "child passed without a valid arm"
            assert arm_id == self.arm_id, "child passed under another arm than its parent's"
            assert not self.safe, "child passed in SAFE mode"
            assert not self.dirty, "child passed on a dirty position"
            assert taken + Decimal(qty) <= size, "children exceeded their parent"
            self.released[parent] = (arm_id, size, taken + Decimal(qty))

    @rule(data=st.data())
    def forged_child(self, data: st.DataObject) -> None:
        if not self.parents:
            return
        parent = data.draw(st.sampled_from(self.parents))
        forged = self.order("0.01", spawn=parent, algorithm=False)  # names no algorithm
        assert not self.submit(forged), "an order with a forged exec_spawn_id reached the engine"

    @rule(qty=st.sampled_from(["0.01", "0.1"]))
    def fill(self, qty: str) -> None:
        self.gate.on_fill(
            Fill(fill_id=f"F-{next(self.ids)}", venue=VENUE, asset=ASSET, quantity=Decimal(qty))
        )
        self.position += Decimal(qty)
        self.dirty = True

    @rule()
    def position_update(self) -> None:
        self.gate.on_position_update(ASSET, self.position)
        self.dirty = False

    @rule()
    def kill(self) -> None:
        self.gate.kill("ops", None, "drill")
        self.safe = True
        self.armed_until = None

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def every_refusal_is_a_denial(self) -> None:
        if hasattr(self, "chokepoint"):
            assert len(self.chokepoint.denied) == len(self.denied)
            assert self.chokepoint.forwarded == len(self.forwarded)

    @invariant()
    def safe_mode_is_sticky(self) -> None:
        if hasattr(self, "gate") and self.safe:
            assert self.gate.safe is not None  # nothing in this machine may leave SAFE mode


TestChokepointMachine = ChokepointMachine.TestCase
TestChokepointMachine.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
