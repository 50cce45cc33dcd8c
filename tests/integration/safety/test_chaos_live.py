"""
Chaos tests of the safety layer inside a real LIVE ``TradingNode`` on the fake exchange (issue #6).

Each test builds the node from YAML (ccxt adapter, safety chokepoint, control endpoint over
HTTP), arms it with an auto-confirm policy, places one baseline order that fills and is
confirmed by the venue's position snapshot, then injects one fault and records what the gate
did: the block or SAFE cause, the time from injection to it on the node clock (asserted against
the configured bound plus one safety tick plus one position poll), and that nothing reached the
venue while unsafe (the fake's received orders unchanged, both a unified order and a direct
``submit_order`` refused with the taxonomy code).

The bounds, from the safety config below:

* market data silent: MARKET_DATA_STALE after ``market_data_max_age_ms`` (500 ms);
* position endpoint timing out after a fill: SAFE (DIRTY_POSITION) after ``dirty_max_age_ms``
  (1500 ms) from the fill;
* a fill the venue lost: SAFE (FILL_SEQ_GAP) after one re-read of the fill history (the adapter's
  0.3 s recheck plus one REST round trip, ``timeout_ms`` 1000 ms);
* positions lagging fills, or changed behind the system's back: SAFE (POSITION_MISMATCH) after
  ``reconcile_grace_ms`` (300 ms, from the last own fill) plus ``mismatch_persist_ms`` (500 ms);
* a loss beyond ``portfolio_loss_limit``: SAFE (PORTFOLIO_LOSS_LIMIT) on the next PnL tick.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity

from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.node import LiveNode
from nautilus_ext.orders import Order
from nautilus_ext.safety.cli import send
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.halts import Halt
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.bybit import USER
from nautilus_ext_testkit.fake_exchange.engine import MM_ACCOUNT
from nautilus_ext_testkit.fake_exchange.engine import EngineReject
from nautilus_ext_testkit.fake_exchange.engine import Side
from nautilus_ext_testkit.node_harness import NodeHarness
from nautilus_ext_testkit.node_harness import start_live_node
from tests.integration.adapters.ccxt.conftest import Recorder

pytestmark = pytest.mark.slow
IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
KEY = "BYBIT:PERPETUAL:BTC-USDT@LIN"
SYMBOL = "BTCUSDT"
TOKEN = "t" * 40
STRATEGY = "S-CHAOS"
MS = 1_000_000

TICK_MS = 100  # safety actor tick
POSITION_POLL_MS = 200  # ccxt position poll
REST_TIMEOUT_MS = 1000
MD_MAX_AGE_MS = 500
DIRTY_MAX_AGE_MS = 1500
GRACE_MS = 300
PERSIST_MS = 500
FILL_GAP_RECHECK_MS = 300  # nautilus_ext.adapters.ccxt.execution._FILL_GAP_RECHECK_SECS
LOSS_LIMIT = Decimal(30)

SAFETY: dict[str, Any] = {
    "arming": {
        "max_ttl_secs": 600,
        "intent_ttl_secs": 60,
        "max_failed_confirmations": 3,
        "auto_confirm": [{"name": "chaos", "strategies": [STRATEGY], "max_amount": "0.05"}],
    },
    "risk": {
        "max_position": "1",
        "max_position_by_asset": {},
        "strategy_loss_limit": "1000",
        "portfolio_loss_limit": str(LOSS_LIMIT),
        "max_daily_loss": "2000",
        "drawdown_throttle": "1000",
        "drawdown_size_factor": "0.5",
        "cooldown_secs": 60,
        "max_trade_size": "0.5",
        "max_trade_size_by_asset": {},
        "max_slippage": "0.01",
        "max_latency_ms": 5000,
        "max_latency_ms_by_venue": {},
    },
    "oms": {
        "dirty_max_age_ms": DIRTY_MAX_AGE_MS,
        "reconcile_interval_ms": 1000,
        "reconcile_grace_ms": GRACE_MS,
        "mismatch_rel_threshold": "0.001",
        "mismatch_abs_tolerance": "0.0000001",
        "mismatch_persist_ms": PERSIST_MS,
        "market_data_max_age_ms": MD_MAX_AGE_MS,
        "ws_max_age_ms": 1000,
        "order_rate_limit": 10,
        "order_rate_window_ms": 1000,
        "flipflop_max_cycles": 5,
        "flipflop_window_ms": 60000,
    },
}


class MarketMaker:
    """Keep the fake book moving (a small bid placed and pulled every 100 ms) so data stays fresh."""

    def __init__(self, ex: FakeExchange) -> None:
        self._ex = ex
        self._stop = threading.Event()
        self._order_id: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _step(self) -> None:
        engine = self._ex.bybit.engine
        if self._order_id is not None:
            with contextlib.suppress(EngineReject):
                engine.cancel(MM_ACCOUNT, self._order_id)
            self._order_id = None
            return
        bid, _ = engine.best(SYMBOL)
        if bid is not None:
            order = engine.submit(
                MM_ACCOUNT, SYMBOL, Side.BUY, "limit", Decimal("0.001"), price=bid - 10, check_margin=False
            )
            self._order_id = order.order_id

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._ex.call(self._step)


class Chaos:
    """A running LIVE node on the fake exchange, armed, with one confirmed baseline fill."""

    def __init__(self, ex: FakeExchange, h: NodeHarness, live: LiveNode) -> None:
        self.ex = ex
        self.h = h
        assert live.safety is not None
        assert live.safety.control is not None
        self.safety = live.safety
        self.url = live.safety.control.url
        self.unified = h.strategy(UnifiedExecutionStrategy)
        self.direct = h.strategy(Recorder)
        self._ops = 0

    @property
    def gate(self) -> SafetyGate:
        return self.safety.gate

    def now_ns(self) -> int:
        return self.h.call(lambda: self.gate.clock.timestamp_ns())

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        status, reply = send(self.url, TOKEN, {"actor": "alice", **body})
        assert status == (200 if reply["ok"] else 409), (status, reply)
        return reply

    def arm(self) -> None:
        reply = self.command({"command": "arm", "ttl_secs": 300, "auto_confirm": ["chaos"]})
        assert reply["ok"], reply

    def order(self, amount: str, side: str = "BUY") -> Any:
        self._ops += 1
        order = Order(
            operation_id=f"op-{self._ops}",
            operation="trade",
            instrument_key=KEY,
            venue="BYBIT",
            side=side,
            amount=Decimal(amount),
            strategy_id=STRATEGY,
        )
        return self.h.call(lambda: self.unified.submit_unified(order))

    def place(self, amount: str, side: str = "BUY") -> Any:
        """Place an order that must go out and fill."""
        sent = len(self.ex.received_orders)
        result = self.order(amount, side)
        assert result.status is not ExecutionStatus.REJECTED, result.reason
        eventually(lambda: len(self.ex.received_orders) == sent + 1, 5, message="order never sent")
        eventually(lambda: result.filled_quantity == Decimal(amount), 5, message="order never filled")
        return result

    def refused(self, code: str) -> None:
        """Assert a unified and a direct order are both refused with ``code`` and nothing is sent."""
        sent = len(self.ex.received_orders)
        fills = len(self.ex.bybit.engine.account_fills(USER))
        result = self.order("0.001")
        assert result.status is ExecutionStatus.REJECTED, result.reason
        assert result.reason.startswith(code), result.reason

        def submit_direct() -> Any:
            order = self.direct.order_factory.market(IID, OrderSide.BUY, Quantity.from_str("0.001"))
            self.direct.submit_order(order)
            return order.client_order_id

        coid = self.h.call(submit_direct)
        node = self.h.node
        assert node is not None
        eventually(lambda: node.cache.order(coid).status is OrderStatus.DENIED, 5)
        reason = node.cache.order(coid).events[-1].reason
        by_gate = dict(self.safety.chokepoint.denied)
        if coid.value in by_gate:
            assert code in by_gate[coid.value], by_gate[coid.value]
        else:
            # the RiskEngine mirrors the gate (SAFE is REDUCING, unarmed is HALTED) and denied first
            assert "TradingState" in reason or "REDUCING" in reason or "HALTED" in reason, reason
        time.sleep(0.2)  # anything sent would have reached the fake by now
        assert len(self.ex.received_orders) == sent
        assert len(self.ex.bybit.engine.account_fills(USER)) == fills

    def wait_safe(self, timeout: float = 10) -> Halt:
        eventually(lambda: self.h.call(lambda: self.gate.safe) is not None, timeout, message="never SAFE")
        halt = self.h.call(lambda: self.gate.safe)
        assert halt is not None
        return halt

    def wait_clean(self) -> None:
        eventually(lambda: self.h.call(lambda: self.gate.oms.dirty_since(KEY)) is None, 5, message="dirty")

    def fault(self, fn: Callable[[], object]) -> int:
        """Apply a fault on the fake's loop; return the node time just before it."""
        t0 = self.now_ns()
        self.ex.call(fn)
        return t0


@pytest.fixture
def chaos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chaos]:
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_KEY", "fake-key")
    monkeypatch.setenv("NAUTILUS_EXT_BYBIT_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    ex = FakeExchange()
    ex.start_in_thread()
    ex.call(
        lambda: ex.bybit.engine.seed_book(
            SYMBOL, bids=[(Decimal("49999.9"), Decimal(2))], asks=[(Decimal("50000.1"), Decimal(2))]
        )
    )
    mm = MarketMaker(ex)
    mm.start()
    data: dict[str, Any] = {
        "mode": "LIVE",
        "allow_live_orders": True,
        "trader_id": "CHAOS-001",
        "log_level": "ERROR",
        "venues": [
            {
                "venue": "BYBIT",
                "adapter": "ccxt",
                "exchange_id": "bybit",
                "market_types": ["linear"],
                "instrument_ids": [str(IID)],
                "rest_url_override": ex.base_url,
                "ws_url_override": ex.ws_url,
                "enable_rate_limit": False,
                "timeout_ms": REST_TIMEOUT_MS,
                "fill_poll_interval_ms": 300,
                "position_poll_interval_ms": POSITION_POLL_MS,
            }
        ],
        "strategies": [
            {
                "strategy_path": "nautilus_ext.execution.strategy:UnifiedExecutionStrategy",
                "config_path": "nautilus_ext.execution.strategy:UnifiedExecutionConfig",
                "config": {"instrument_ids": [str(IID)], "book_data": True, "quote_data": True},
            },
            {
                "strategy_path": "tests.integration.adapters.ccxt.conftest:Recorder",
                "config_path": "tests.integration.adapters.ccxt.conftest:RecorderConfig",
                "config": {"instrument_id": str(IID), "subscribe": False},
            },
        ],
        "safety": {"config": SAFETY, "control_port": 0, "tick_interval_ms": TICK_MS},
        "timeout_connection_secs": 20,
    }
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_live_config(path)
    h, live_node = start_live_node(config)
    try:
        c = Chaos(ex, h, live_node)
        node = h.node
        assert node is not None
        eventually(
            lambda: (
                node.is_running() and node.cache.account_for_venue(IID.venue) and node.cache.order_book(IID)
            ),
            20,
            message="live node did not start",
        )
        eventually(lambda: not h.call(c.gate.oms.feed_problems), 10, message="feeds never healthy")
        c.arm()
        c.place("0.001")  # the system does place orders when healthy: refusals below are not vacuous
        c.wait_clean()
        yield c
    finally:
        mm.stop()
        h.stop()
        ex.stop_thread()


def _elapsed_ms(halt: Halt, t0_ns: int) -> float:
    return (halt.since_ns - t0_ns) / MS


# -- the scenarios -------------------------------------------------------------------------------


def test_dropped_market_data_blocks_within_max_age(chaos: Chaos) -> None:
    t0 = chaos.fault(lambda: setattr(chaos.ex.faults, "silence_market_data", True))

    def blocked() -> bool:
        return chaos.h.call(lambda: chaos.gate.oms.feed_block(KEY, "BYBIT", None)) is not None

    eventually(blocked, 5, interval_secs=0.01, message="market data never stale")
    elapsed = (chaos.now_ns() - t0) / MS
    print(f"dropped market data: blocked after {elapsed:.0f} ms")
    # the block starts max age after the last message (which came at or before t0)
    assert elapsed <= MD_MAX_AGE_MS + TICK_MS, elapsed
    chaos.refused("MARKET_DATA_STALE")
    assert chaos.h.call(lambda: chaos.gate.safe) is None  # a block, not SAFE mode
    # data back: orders flow again without a human
    chaos.ex.call(lambda: setattr(chaos.ex.faults, "silence_market_data", False))
    eventually(lambda: not blocked(), 10, message="market data never fresh again")
    chaos.place("0.001")


def test_dropped_websocket_blocks_until_streams_return(chaos: Chaos) -> None:
    def drop() -> None:
        chaos.ex.faults.refuse_websockets = True

    t0 = chaos.fault(drop)
    chaos.ex.drop_websockets_threadsafe()

    def block() -> Any:
        return chaos.h.call(lambda: chaos.gate.oms.feed_block(KEY, "BYBIT", None))

    eventually(lambda: block() is not None, 10, interval_secs=0.01, message="never blocked")
    elapsed = (chaos.now_ns() - t0) / MS
    error = block()
    print(f"dropped websocket: {error.code} after {elapsed:.0f} ms: {error.message}")
    assert str(error.code) in {"WS_STALE", "MARKET_DATA_STALE"}
    assert elapsed <= MD_MAX_AGE_MS + TICK_MS, elapsed
    chaos.refused(str(error.code))
    # the streams stay down: market data polled over REST meanwhile must not count as a live socket
    time.sleep(2.0)
    assert block() is not None
    chaos.ex.call(lambda: setattr(chaos.ex.faults, "refuse_websockets", False))
    eventually(lambda: block() is None, 20, message="never healthy after the streams returned")
    chaos.place("0.001")


def test_venue_timeouts_leave_the_fill_dirty_then_safe(chaos: Chaos) -> None:
    def stall_positions() -> None:
        chaos.ex.faults.fault_path_prefix = "/v5/position"
        chaos.ex.faults.timeout_stall_secs = 2 * REST_TIMEOUT_MS / 1000
        chaos.ex.faults.rest_timeout_next = 10_000

    chaos.fault(stall_positions)
    time.sleep(POSITION_POLL_MS / 1000)
    chaos.place("0.002")
    since = chaos.h.call(lambda: chaos.gate.oms.dirty_since(KEY))
    assert since is not None
    if chaos.h.call(lambda: chaos.gate.safe) is None:
        chaos.refused("RISK_BLOCKED")  # dirty: cancels only
    halt = chaos.wait_safe()
    assert str(halt.rule) == "dirty_position", halt
    elapsed = _elapsed_ms(halt, since)
    print(f"venue timeouts: {halt.code}/{halt.rule} {elapsed:.0f} ms after the fill")
    assert DIRTY_MAX_AGE_MS <= elapsed <= DIRTY_MAX_AGE_MS + TICK_MS + POSITION_POLL_MS, elapsed
    # SAFE and still dirty: the gate names the dirty block first (it is checked before SAFE)
    chaos.refused("RISK_BLOCKED")


def test_duplicate_fills_are_counted_once(chaos: Chaos) -> None:
    chaos.fault(lambda: setattr(chaos.ex.faults, "duplicate_fills", True))
    result = chaos.place("0.002")
    chaos.wait_clean()
    time.sleep((GRACE_MS + PERSIST_MS + POSITION_POLL_MS) / 1000)  # long enough to trip a mismatch
    assert chaos.h.call(lambda: chaos.gate.oms.position(KEY)) == Decimal("0.003")
    assert chaos.ex.bybit.engine.position(USER, SYMBOL).qty == Decimal("0.003")
    assert result.filled_quantity == Decimal("0.002")
    assert chaos.h.call(lambda: chaos.gate.safe) is None
    chaos.place("0.001")  # still trading


def test_missing_fill_is_a_sequence_gap(chaos: Chaos) -> None:
    t0 = chaos.fault(lambda: setattr(chaos.ex.faults, "withhold_fills_next", 1))
    sent = len(chaos.ex.received_orders)
    result = chaos.order("0.002")
    assert result.status is not ExecutionStatus.REJECTED, result.reason
    halt = chaos.wait_safe()
    assert str(halt.code) == "FILL_SEQ_GAP", halt
    elapsed = _elapsed_ms(halt, t0)
    print(f"missing fill: {halt.code} after {elapsed:.0f} ms: {halt.message}")
    assert elapsed <= FILL_GAP_RECHECK_MS + REST_TIMEOUT_MS + TICK_MS + POSITION_POLL_MS, elapsed
    assert len(chaos.ex.received_orders) == sent + 1
    assert result.filled_quantity == 0  # the fill never arrived
    chaos.refused("SAFE_MODE")


def test_delayed_position_updates_enter_safe(chaos: Chaos) -> None:
    chaos.fault(lambda: setattr(chaos.ex.faults, "position_lag_ms", 5000.0))
    chaos.place("0.002")
    since = chaos.h.call(lambda: chaos.gate.oms.dirty_since(KEY))
    assert since is not None
    halt = chaos.wait_safe()
    assert str(halt.code) == "POSITION_MISMATCH", halt
    elapsed = _elapsed_ms(halt, since)
    print(f"delayed positions: {halt.code} {elapsed:.0f} ms after the fill")
    assert elapsed <= GRACE_MS + PERSIST_MS + TICK_MS + POSITION_POLL_MS, elapsed
    chaos.refused("RISK_BLOCKED")  # SAFE and still dirty: the dirty block is named first


def test_position_changed_behind_the_back_enters_safe(chaos: Chaos) -> None:
    time.sleep(GRACE_MS / 1000)  # the baseline fill's grace is over

    def human_trades_on_the_account() -> None:
        chaos.ex.bybit.engine.submit(USER, SYMBOL, Side.BUY, "market", Decimal("0.002"), check_margin=False)

    sent = len(chaos.ex.received_orders)
    t0 = chaos.fault(human_trades_on_the_account)
    halt = chaos.wait_safe()
    assert str(halt.code) == "POSITION_MISMATCH", halt
    elapsed = _elapsed_ms(halt, t0)
    print(f"behind the back: {halt.code} after {elapsed:.0f} ms: {halt.message}")
    assert elapsed <= PERSIST_MS + TICK_MS + POSITION_POLL_MS, elapsed
    assert len(chaos.ex.received_orders) == sent
    assert chaos.h.call(lambda: chaos.gate.oms.position(KEY)) == Decimal("0.001")  # never adopted silently
    chaos.refused("SAFE_MODE")


def test_disaster_drill_in_the_live_node(chaos: Chaos) -> None:
    chaos.place("0.009")  # long 0.01 BTC
    chaos.wait_clean()

    def stall_positions() -> None:
        chaos.ex.faults.fault_path_prefix = "/v5/position"
        chaos.ex.faults.timeout_stall_secs = 2 * REST_TIMEOUT_MS / 1000
        chaos.ex.faults.rest_timeout_next = 10_000

    chaos.ex.call(stall_positions)

    def crash() -> None:
        engine = chaos.ex.bybit.engine
        engine.cancel_all(MM_ACCOUNT, SYMBOL)
        engine.seed_book(
            SYMBOL, bids=[(Decimal("44999.9"), Decimal(2))], asks=[(Decimal("45000.1"), Decimal(2))]
        )

    t0 = chaos.fault(crash)  # 0.01 x -5000: about 50 USDT lost, limit 30
    halt = chaos.wait_safe()
    assert str(halt.rule) == "portfolio_loss_limit", halt
    elapsed = _elapsed_ms(halt, t0)
    print(f"disaster drill: {halt.code}/{halt.rule} after {elapsed:.0f} ms: {halt.message}")
    assert elapsed <= 2 * TICK_MS + MD_MAX_AGE_MS, elapsed
    status = chaos.command({"command": "status"})["status"]
    assert not status["armed"]  # SAFE ended the arm
    node = chaos.h.node
    assert node is not None
    eventually(lambda: node.kernel.risk_engine.trading_state.name == "REDUCING", 5)
    chaos.refused("SAFE_MODE")

    # the market data stops as well: every recovery check fails
    chaos.ex.call(lambda: setattr(chaos.ex.faults, "silence_market_data", True))
    eventually(lambda: chaos.h.call(chaos.gate.oms.feed_problems), 5)
    reply = chaos.command({"command": "resume", "incident_ref": ""})
    assert not reply["ok"]
    problems = reply["details"]["problems"]
    print("resume refused:", problems)
    assert f"{KEY} has no matching venue snapshot since SAFE mode began" in problems
    assert any("market data" in p for p in problems)
    assert "risk limits not confirmed by hash since SAFE mode began" in problems
    assert any("portfolio loss" in p for p in problems)
    assert "no incident report reference" in problems

    # the checks, one by one
    chaos.ex.call(lambda: setattr(chaos.ex.faults, "rest_timeout_next", 0))
    chaos.ex.call(lambda: setattr(chaos.ex.faults, "silence_market_data", False))
    eventually(lambda: not chaos.h.call(lambda: chaos.gate.oms.reconciliation_problems(halt.since_ns)), 10)
    eventually(lambda: not chaos.h.call(chaos.gate.oms.feed_problems), 10)
    assert not chaos.command({"command": "confirm_limits", "limits_hash": "0" * 64})["ok"]
    assert chaos.command({"command": "confirm_limits", "limits_hash": status["limits_hash"]})["ok"]
    reply = chaos.command({"command": "resume", "incident_ref": "INC-DRILL-1"})
    assert not reply["ok"]
    assert [p for p in reply["details"]["problems"] if "portfolio loss" in p], reply
    assert chaos.command({"command": "reset_risk_baselines"})["ok"]
    reply = chaos.command({"command": "resume", "incident_ref": "INC-DRILL-1"})
    assert reply["ok"], reply
    assert chaos.h.call(lambda: chaos.gate.safe) is None

    # out of SAFE mode, but nothing goes out without a fresh human arm
    chaos.refused("RISK_BLOCKED")
    assert "not armed" in chaos.order("0.001").reason
    eventually(lambda: node.kernel.risk_engine.trading_state.name == "HALTED", 5)
    chaos.arm()
    chaos.place("0.001")
