"""The safety gate inside a real Nautilus BacktestEngine: blocked orders become REJECTED
results carrying the taxonomy code, and nothing blocked reaches the simulated venue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.audit.schemas import Mode
from nautilus_ext.backtest.replayer import OrderReplayConfig
from nautilus_ext.backtest.replayer import OrderReplayStrategy
from nautilus_ext.execution.results import ExecutionStatus
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders import Order
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyEvent
from nautilus_ext.safety import SafetyGate
from nautilus_ext.safety.chokepoint import install_chokepoint

KEY = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
START_NS = 1_709_251_200 * 1_000_000_000
SEC = 1_000_000_000


def _config(mode: Mode) -> SafetyConfig:
    return SafetyConfig.parse(
        {
            "mode": mode,
            "arming": {"max_ttl_secs": 600, "intent_ttl_secs": 600, "max_failed_confirmations": 0},
            "risk": {
                "max_position": "1",
                "strategy_loss_limit": "1000",
                "portfolio_loss_limit": "3000",
                "max_daily_loss": "2000",
                "drawdown_throttle": "500",
                "drawdown_size_factor": "0.5",
                "cooldown_secs": 30,
                "max_trade_size": "0.5",
                "max_slippage": "0.01",
                "max_latency_ms": 500,
            },
            "oms": {
                "dirty_max_age_ms": 600_000,
                "reconcile_interval_ms": 5000,
                "reconcile_grace_ms": 1000,
                "mismatch_rel_threshold": "0.001",
                "mismatch_abs_tolerance": "0.0001",
                "mismatch_persist_ms": 3000,
                "market_data_max_age_ms": 2000,
                "ws_max_age_ms": 1000,
                "order_rate_limit": 5,
                "order_rate_window_ms": 1000,
                "flipflop_max_cycles": 3,
                "flipflop_window_ms": 60000,
            },
        }
    )


def _order(op: str, amount: str, secs: int) -> Order:
    from datetime import UTC
    from datetime import datetime

    return Order(
        operation_id=op,
        operation="trade",
        instrument_key=KEY,
        venue="BINANCE-FUTURES",
        side="BUY",
        amount=amount,
        strategy_id="S-1",
        created_at=datetime.fromtimestamp((START_NS + secs * SEC) / SEC, tz=UTC),
    )


def quote_engine() -> tuple[BacktestEngine, Instrument]:
    """Return a BacktestEngine with BINANCE, the BTC perpetual and 120 s of one-second quotes."""
    registry = InstrumentRegistry.default()
    inst = build_instrument(registry.get(KEY), registry)
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=None,
        starting_balances=[Money(1_000_000, USDT)],
        book_type=BookType.L1_MBP,
    )
    engine.add_instrument(inst)
    engine.add_data(
        [
            QuoteTick(
                inst.id,
                Price(Decimal("60000.0"), 1),
                Price(Decimal("60000.5"), 1),
                Quantity(Decimal("5.000"), 3),
                Quantity(Decimal("5.000"), 3),
                START_NS + s * SEC,
                START_NS + s * SEC,
            )
            for s in range(120)
        ]
    )
    return engine, inst


def _run(
    tmp_path: Path,
    mode: Mode,
    orders: list[Order],
    events: list[SafetyEvent],
    strategy_class: type[OrderReplayStrategy] = OrderReplayStrategy,
    *,
    chokepoint: bool = False,
) -> tuple[OrderReplayStrategy, BacktestEngine, SafetyGate]:
    engine, inst = quote_engine()
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(o.to_json() for o in orders) + "\n", encoding="utf-8")
    strategy = strategy_class(
        OrderReplayConfig(
            orders_path=str(path),
            instrument_ids=(str(inst.id),),
            book_data=False,
            trade_data=False,
            quote_data=True,
        )
    )
    engine.add_strategy(strategy)
    # the gate reads the strategy's own (simulated) Nautilus clock
    gate = SafetyGate(_config(mode), strategy.clock, sink=events.append)
    strategy.safety_gate = gate
    if chokepoint:
        # the path every node takes: fills and positions reach the gate at the ExecEngine endpoint
        kernel = engine.kernel
        install_chokepoint(
            gate,
            msgbus=kernel.msgbus,
            cache=kernel.cache,
            exec_engine=kernel.exec_engine,
            risk_engine=kernel.risk_engine,
        )
    engine.run()
    return strategy, engine, gate


def _sent(engine: BacktestEngine) -> set[str]:
    return {o.tags[0].removeprefix("op:") for o in engine.cache.orders()}


@pytest.mark.slow
def test_backtest_gate_rejects_blocked_orders_with_code(tmp_path: Path) -> None:
    events: list[SafetyEvent] = []
    orders = [_order("ok", "0.1", 10), _order("too-big", "0.6", 20), _order("ok-2", "0.2", 30)]
    strategy, engine, _ = _run(tmp_path, Mode.BACKTEST, orders, events)
    results = strategy.results
    assert results["ok"].status is ExecutionStatus.FILLED
    assert results["too-big"].status is ExecutionStatus.REJECTED
    assert results["too-big"].reason.startswith("RISK_BLOCKED: ")
    assert "max trade size" in results["too-big"].reason
    assert results["ok-2"].status is ExecutionStatus.FILLED
    assert _sent(engine) == {"ok", "ok-2"}  # nothing blocked reached the venue
    assert [e.rule for e in events if e.risk_action is not None] == ["gate", "max_trade_size", "gate"]


@pytest.mark.slow
def test_live_gate_without_arm_sends_nothing(tmp_path: Path) -> None:
    events: list[SafetyEvent] = []
    orders = [_order("a", "0.1", 10), _order("b", "0.1", 20)]
    strategy, engine, gate = _run(tmp_path, Mode.LIVE, orders, events)
    assert gate.mode is Mode.LIVE
    for op in ("a", "b"):
        assert strategy.results[op].status is ExecutionStatus.REJECTED
    # the WebSocket of a LIVE venue was never heard from: fail closed before arming is even asked
    assert {r.reason.split(":")[0] for r in strategy.results.values()} == {"WS_STALE"}
    assert _sent(engine) == set()
