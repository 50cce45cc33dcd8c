"""
Execution-algorithm children at the execution-engine door (issue 13, item 2).

A child rides on its parent's release only when the cache and the bus say it is one: the parent
is a primary order in the cache with the child's algorithm, the algorithm is registered, and
the gate released the parent. Its children together never exceed the parent's size, and a
disarm, a kill or SAFE mode stop their new risk (a child that reduces the position may pass).
A ``exec_spawn_id`` set on a plain order proves nothing: it is judged as a direct order.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderUpdated
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
from nautilus_ext.safety.chokepoint import GateChokepoint
from nautilus_ext.safety.chokepoint import install_chokepoint
from nautilus_ext.safety.gate import GateContext

from .conftest import ASSET
from .conftest import T0
from .conftest import VENUE
from .conftest import Recorder
from .conftest import config_dict
from .conftest import make_order

TRADER = TraderId("TESTER-001")
STRATEGY = StrategyId("S-1")
TWAP = ExecAlgorithmId("TWAP")


class Door:
    """A real MessageBus, Cache and gate with the chokepoint in front of a recording engine."""

    def __init__(self, mode: str = "LIVE") -> None:
        self.clock = TestClock()
        self.clock.set_time(T0)
        self.msgbus = MessageBus(TRADER, self.clock)
        self.cache = Cache()
        registry = InstrumentRegistry.default()
        self.instrument = build_instrument(registry.get(ASSET), registry)
        self.cache.add_instrument(self.instrument)
        self.forwarded: list[Any] = []
        self.processed: list[Any] = []
        self.algorithm: list[Any] = []
        self.msgbus.register("ExecEngine.execute", self.forwarded.append)
        self.msgbus.register("ExecEngine.process", self.processed.append)
        # the algorithm's own endpoint, as NautilusTrader registers an ExecAlgorithm
        self.msgbus.register(f"{TWAP}.execute", self.algorithm.append)
        self.events = Recorder()
        self.gate = SafetyGate(SafetyConfig.parse(config_dict(mode)), self.clock, sink=self.events)
        self.chokepoint: GateChokepoint = install_chokepoint(
            self.gate, msgbus=self.msgbus, cache=self.cache, exec_engine=_Engine(self.forwarded)
        )
        self.ids = itertools.count(1)
        self.gate.on_market_data(ASSET)
        self.gate.on_ws_message(VENUE)

    def order(
        self,
        qty: str,
        *,
        side: OrderSide = OrderSide.BUY,
        algorithm: ExecAlgorithmId | None = None,
        spawn: str | None = None,
        strategy: StrategyId = STRATEGY,
        cid: str | None = None,
    ) -> MarketOrder:
        client_order_id = ClientOrderId(cid or f"O-{next(self.ids)}")
        if algorithm is not None and spawn is None:
            spawn = client_order_id.value  # NautilusTrader marks a primary as its own spawn
        return MarketOrder(
            trader_id=TRADER,
            strategy_id=strategy,
            instrument_id=self.instrument.id,
            client_order_id=client_order_id,
            order_side=side,
            quantity=Quantity.from_str(qty),
            init_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            exec_algorithm_id=algorithm,
            exec_spawn_id=None if spawn is None else ClientOrderId(spawn),
        )

    def release_parent(self, qty: str, *, confirm: bool = True) -> MarketOrder:
        """Release a TWAP primary as ``submit_unified`` does: gate check, then the cache."""
        parent = self.order(qty, algorithm=TWAP, cid=f"P-{next(self.ids)}")
        assert parent.exec_spawn_id == parent.client_order_id  # NautilusTrader's primary mark
        unified = make_order(parent.client_order_id.value, "BUY", qty, "S-1")
        if confirm and self.gate.mode.value == "LIVE":
            self.gate.confirm(self.gate.stage(unified).intent_hash, "alice")
        decision = self.gate.check(unified, GateContext(client_order_id=parent.client_order_id.value))
        assert decision.allowed, decision.reason
        self.cache.add_order(parent)
        return parent

    def child(self, parent: MarketOrder, qty: str, **kw: Any) -> MarketOrder:
        n = next(self.ids)
        return self.order(
            qty,
            algorithm=TWAP,
            spawn=parent.client_order_id.value,
            cid=f"{parent.client_order_id}-E{n}",
            **kw,
        )

    def submit(self, order: MarketOrder) -> bool:
        """Send ``order`` to the engine's door; return whether it went through."""
        if not self.cache.order_exists(order.client_order_id):
            self.cache.add_order(order)
        before = len(self.forwarded)
        self.msgbus.send(
            "ExecEngine.execute",
            SubmitOrder(
                trader_id=TRADER,
                strategy_id=order.strategy_id,
                order=order,
                command_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
            ),
        )
        return len(self.forwarded) > before

    def update_quantity(self, primary: MarketOrder, qty: str) -> None:
        """Apply a new quantity (an algorithm shrinking its primary, a venue confirming an amend)."""
        primary.apply(
            OrderUpdated(
                trader_id=TRADER,
                strategy_id=primary.strategy_id,
                instrument_id=primary.instrument_id,
                client_order_id=primary.client_order_id,
                venue_order_id=None,
                account_id=None,
                quantity=Quantity.from_str(qty),
                price=None,
                trigger_price=None,
                event_id=UUID4(),
                ts_event=T0,
                ts_init=T0,
            )
        )
        self.cache.update_order(primary)

    def amend(self, order: Any, qty: str) -> bool:
        """Send an amend of ``order`` to ``qty``; return whether it went through."""
        before = len(self.forwarded)
        self.msgbus.send(
            "ExecEngine.execute",
            ModifyOrder(
                trader_id=TRADER,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id=None,
                quantity=Quantity.from_str(qty),
                price=None,
                trigger_price=None,
                command_id=UUID4(),
                ts_init=self.clock.timestamp_ns(),
            ),
        )
        return len(self.forwarded) > before

    def reason(self, order: MarketOrder) -> str:
        return dict(self.chokepoint.denied)[order.client_order_id.value]


class _Engine:
    def __init__(self, sink: list[Any]) -> None:
        self.execute = sink.append


def test_after_a_disarm_children_of_a_released_parent_are_refused_unless_they_reduce() -> None:
    door = Door("LIVE")
    door.gate.arm(120, "alice")
    parent = door.release_parent("0.5")
    first = door.child(parent, "0.1")
    assert door.submit(first)
    # the first child filled and the venue confirmed it: long 0.1
    door.gate.on_fill(Fill(fill_id="F-1", venue=VENUE, asset=ASSET, quantity=Decimal("0.1")))
    door.gate.on_position_update(ASSET, Decimal("0.1"))
    door.gate.disarm("alice")
    more = door.child(parent, "0.1")
    assert not door.submit(more)
    assert door.reason(more).startswith("RISK_BLOCKED: the arm that released parent order"), door.reason(more)
    # a child that only reduces the position is no new risk
    assert door.submit(door.child(parent, "0.05", side=OrderSide.SELL))
    # re-arming does not revive the parent: its confirmation was under the withdrawn arm
    door.gate.arm(120, "alice")
    again = door.child(parent, "0.1")
    assert not door.submit(again)
    assert "withdrawn or expired" in door.reason(again)
    # nor may the algorithm submit the primary's remainder itself (shrunk as it spawned)
    door.update_quantity(parent, "0.4")
    assert not door.submit(parent)
    assert "withdrawn or expired" in door.reason(parent)


def test_kill_and_safe_mode_stop_new_risk_from_children() -> None:
    door = Door("LIVE")
    door.gate.arm(120, "alice")
    parent = door.release_parent("0.5")
    assert door.submit(door.child(parent, "0.1"))
    door.gate.kill("ops", "S-1", "drill")
    killed = door.child(parent, "0.1")
    assert not door.submit(killed)
    assert "killed" in door.reason(killed)
    door.gate.release_strategy("ops", "S-1")
    report = door.gate.kill_and_cancel("ops", None, "drill")
    # the primary its algorithm works is no venue order: reported as not cancelled
    assert report.not_cancelled == (
        f"algorithm parent {parent.client_order_id} {parent.instrument_id} (TWAP): not a venue "
        "order; its children's new risk is refused",
    )
    safe = door.child(parent, "0.1")
    assert not door.submit(safe)
    assert door.reason(safe).startswith("SAFE_MODE"), door.reason(safe)


def test_children_never_exceed_their_parent() -> None:
    door = Door("BACKTEST")
    parent = door.release_parent("0.5")
    asked = [door.child(parent, q) for q in ("0.3", "0.3", "0.2")]
    passed = [door.submit(c) for c in asked]
    assert passed == [True, False, True]  # 0.8 asked for a 0.5 parent: the excess is refused
    assert door.reason(asked[1]).startswith("RISK_BLOCKED: order"), door.reason(asked[1])
    assert "exceeds what is left of its parent" in door.reason(asked[1])
    assert not door.submit(door.child(parent, "0.001"))
    # the primary's own remainder counts too: nothing is left of 0.5
    assert not door.submit(parent)
    # a cancelled child gives its unfilled rest back (here all of it: 0.2)
    cancelled = asked[2]
    door.cache.update_order(cancelled)
    door.msgbus.publish(
        f"events.order.{STRATEGY}",
        OrderCanceled(
            trader_id=TRADER,
            strategy_id=STRATEGY,
            instrument_id=cancelled.instrument_id,
            client_order_id=cancelled.client_order_id,
            venue_order_id=None,
            account_id=None,
            event_id=UUID4(),
            ts_event=T0,
            ts_init=T0,
        ),
    )
    assert door.submit(door.child(parent, "0.2"))
    assert not door.submit(door.child(parent, "0.001"))
    refusals = [e for e in door.events.events if e.rule == "child_exceeds_parent"]
    assert len(refusals) == 4
    assert all(e.code == "RISK_BLOCKED" for e in refusals)


def test_a_forged_exec_spawn_id_is_judged_as_a_direct_order() -> None:
    door = Door("LIVE")
    door.gate.arm(120, "alice")
    parent = door.release_parent("0.5")
    # a plain order naming the released parent, no algorithm: a direct order, unconfirmed
    plain = door.order("0.1", spawn=parent.client_order_id.value)
    assert not door.submit(plain)
    assert "no confirmation" in door.reason(plain), door.reason(plain)
    # claiming the algorithm too, but from another strategy
    other = door.child(parent, "0.1", strategy=StrategyId("S-2"))
    assert not door.submit(other)
    assert "no confirmation" in door.reason(other)
    # naming an algorithm the node does not run
    ghost = door.order("0.1", algorithm=ExecAlgorithmId("GHOST"), spawn=parent.client_order_id.value)
    assert not door.submit(ghost)
    # a child of a child (only primaries spawn)
    child = door.child(parent, "0.1")
    assert door.submit(child)
    grandchild = door.order("0.1", algorithm=TWAP, spawn=child.client_order_id.value)
    assert not door.submit(grandchild)
    assert "no confirmation" in door.reason(grandchild)
    # a parent the gate never released
    unreleased = door.order("0.5", algorithm=TWAP, cid="P-never")
    door.cache.add_order(unreleased)
    orphan = door.child(unreleased, "0.1")
    assert not door.submit(orphan)
    assert "no confirmation" in door.reason(orphan)
    assert len(door.forwarded) == 1  # only the genuine child


def test_an_amend_of_a_child_is_judged_as_a_child() -> None:
    door = Door("LIVE")
    door.gate.arm(120, "alice")
    parent = door.release_parent("0.5")
    child = door.child(parent, "0.1")
    assert door.submit(child)
    # the algorithm reprices or resizes its child: covered by the parent's release...
    assert door.amend(child, "0.3")
    door.update_quantity(child, "0.3")  # the venue confirms the amend
    # ...within the parent's size (0.3 of 0.5 taken: 0.6 would be 0.8)
    assert not door.amend(child, "0.6")
    assert "exceeds what is left of its parent" in door.chokepoint.denied[-1][1]
    # ...and only under the arm that released the parent
    door.gate.disarm("alice")
    assert not door.amend(child, "0.4")
    assert "withdrawn or expired" in door.chokepoint.denied[-1][1]
    assert door.amend(child, "0.2")  # smaller: no new risk, passes without an arm
    door.update_quantity(child, "0.2")
    # the smaller child gives the rest back to its parent's size
    assert door.chokepoint.children_taken(parent.client_order_id.value) == Decimal("0.2")
    assert [type(c).__name__ for c in door.processed] == ["OrderModifyRejected"] * 2


def test_a_release_lets_one_order_of_its_size_through_once() -> None:
    door = Door("LIVE")
    door.gate.arm(120, "alice")
    unified = make_order("U-1", "BUY", "0.1", "S-1")
    door.gate.confirm(door.gate.stage(unified).intent_hash, "alice")
    assert door.gate.check(unified, GateContext(client_order_id="U-1")).allowed
    bigger = door.order("0.5", cid="U-1")  # the released id on a bigger order
    assert not door.submit(bigger)
    assert "no confirmation" in door.reason(bigger)
    # (the cache keeps the first order under the id; the door judges the command's own order)
    released = door.order("0.1", cid="U-1")
    assert door.submit(released)
    again = door.order("0.1", cid="U-1")
    assert not door.submit(again)  # the release was used
    assert len(door.forwarded) == 1
