"""
A TWAP on ES spanning the CME Globex daily maintenance halt (16:00-17:00 CT), in a real
BacktestEngine behind the safety gate: the schedule pauses at the halt and resumes at the
reopen; without trading hours its children run into the gate's market-closed rule.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_ext.errors import read_yaml_file
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithm
from nautilus_ext.execution_algos.limit_then_market import LimitThenMarketExecAlgorithmConfig
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithm
from nautilus_ext.execution_algos.twap import TWAPExecAlgorithmConfig
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.instruments.registry import default_config_dir
from nautilus_ext.mode import Mode
from nautilus_ext.safety.config import SafetyConfig
from tests.integration.execution_algos.conftest import SubmitAtStrategy
from tests.integration.execution_algos.conftest import SubmitAtStrategyConfig

ESU4 = "CME:FUTURE:SP500-USD-240920@LIN"
SEC = 1_000_000_000
MINUTE = 60 * SEC


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * SEC


HALT, REOPEN = _ns("2024-09-11T21:00:00"), _ns("2024-09-11T22:00:00")  # 16:00 and 17:00 CDT


def _run(
    trading_hours: bool, order_metadata: dict[str, Any] | None = None, submit_at: str = "2024-09-11T20:40:00"
) -> tuple[Any, Any, list[Any]]:
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.safety.actor import attach_safety

    registry = InstrumentRegistry.default()
    inst = build_instrument(registry.get(ESU4), registry)
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
    )
    engine.add_venue(
        Venue("XCME"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(10_000_000, USD)],
        book_type=BookType.L1_MBP,
    )
    engine.add_instrument(inst)
    # quotes every 10 s in the session; none during the halt (as on Globex)
    ticks = [
        t
        for start, end in ((_ns("2024-09-11T20:39:00"), HALT), (REOPEN, _ns("2024-09-11T22:30:00")))
        for t in range(start, end, 10 * SEC)
    ]
    engine.add_data(
        [
            QuoteTick(inst.id, Price(5600.00, 2), Price(5600.25, 2), Quantity(50, 0), Quantity(50, 0), t, t)
            for t in ticks
        ]
    )
    order = {
        "operation_id": "twap-es",
        "operation": "trade",
        "instrument_key": ESU4,
        "venue": "CME",
        "side": "BUY",
        "amount": "4",
        "smart_execution_enabled": True,
        "metadata": order_metadata
        or {"algorithm": "TWAP", "algo_params": {"horizon_secs": "2400", "interval_secs": "600"}},
    }
    strategy = SubmitAtStrategy(
        SubmitAtStrategyConfig(
            instrument_ids=(str(inst.id),),
            book_data=False,
            trade_data=False,
            quote_data=True,
            orders_json=(json.dumps(order),),
            submit_at_ns=_ns(submit_at),  # default 15:40 CDT: 20 minutes before the halt
        )
    )
    engine.add_strategy(strategy)
    engine.add_exec_algorithm(TWAPExecAlgorithm(TWAPExecAlgorithmConfig(trading_hours=trading_hours)))
    engine.add_exec_algorithm(
        LimitThenMarketExecAlgorithm(LimitThenMarketExecAlgorithmConfig(trading_hours=trading_hours))
    )
    raw = read_yaml_file(default_config_dir() / "safety" / "backtest_default.yaml")
    events: list[Any] = []
    attach_safety(
        engine,
        SafetyConfig.parse({**raw, "mode": Mode.BACKTEST}),
        control_port=None,
        control_token_env="NAUTILUS_EXT_CONTROL_TOKEN",
        tick_interval_ms=1000,
        observer=events.append,
    )
    engine.run()
    return strategy, engine, events


def _children(engine: Any, strategy: Any) -> list[Any]:
    primary = strategy.results["twap-es"].client_order_id
    kids = [
        o
        for o in engine.cache.orders()
        if o.exec_spawn_id is not None
        and o.exec_spawn_id.value == primary
        and o.client_order_id.value != primary
    ]
    return sorted(kids, key=lambda o: o.ts_init)


def test_twap_pauses_across_the_halt_and_resumes() -> None:
    strategy, engine, events = _run(trading_hours=True)
    result = strategy.results["twap-es"]
    assert result.algorithm_used == "TWAP"
    assert result.filled_quantity == 4
    times = [c.ts_init for c in _children(engine, strategy)]
    # 20 minutes of the 40-minute schedule before the halt, the other 20 after the reopen
    assert times == [
        _ns("2024-09-11T20:40:00"),
        _ns("2024-09-11T20:50:00"),
        REOPEN,
        _ns("2024-09-11T22:10:00"),
    ]
    assert not any(HALT <= t < REOPEN for t in times)
    assert [c.filled_qty.as_decimal() for c in _children(engine, strategy)] == [Decimal(1)] * 4
    assert not [e for e in events if e.rule == "market_closed"]


def test_without_trading_hours_the_gate_refuses_children_in_the_halt() -> None:
    strategy, _, events = _run(trading_hours=False)
    blocked = [e for e in events if e.rule == "market_closed"]
    assert blocked  # children sent into the halt were denied by the gate
    assert all("CME_Equity is closed" in e.message for e in blocked)
    assert strategy.results["twap-es"].filled_quantity < 4


def test_a_parent_arriving_in_the_halt_is_refused_by_the_gate() -> None:
    # the gate judges the unified order itself: a new order while the market is closed is
    # refused with the reason and the next open (the strategy submits again after it)
    strategy, engine, events = _run(trading_hours=True, submit_at="2024-09-11T21:30:00")
    result = strategy.results["twap-es"]
    assert str(result.status) == "REJECTED"
    assert result.reason.startswith("RISK_BLOCKED: CME:FUTURE:SP500-USD-240920@LIN: market closed")
    assert "next open 2024-09-11T22:00:00Z" in result.reason
    assert [e.rule for e in events if str(e.risk_action) == "BLOCK"] == ["market_closed"]
    assert _children(engine, strategy) == []


def test_an_algorithm_without_a_schedule_sends_nothing_into_the_halt() -> None:
    # limit-then-market 30 s before the halt: its maker rests, its timeout falls in the halt;
    # the cross is not sent (the parent ends with the reason) instead of a child the gate refuses
    meta = {"algorithm": "LIMIT_THEN_MARKET", "algo_params": {"timeout_secs": "60"}}
    strategy, engine, events = _run(trading_hours=True, order_metadata=meta, submit_at="2024-09-11T20:59:30")
    result = strategy.results["twap-es"]
    assert result.algorithm_used == "LIMIT_THEN_MARKET"
    (maker,) = _children(engine, strategy)  # the resting limit, cancelled at the timeout
    assert maker.ts_init < HALT
    assert maker.order_type.name == "LIMIT"
    outcome = strategy.algo_outcome(result.client_order_id)
    assert outcome is not None
    assert str(outcome.stop_reason) == "SWEEP_INCOMPLETE"
    assert "paused: CME_Equity is closed" in outcome.detail
    assert not [e for e in events if e.rule == "market_closed"]
