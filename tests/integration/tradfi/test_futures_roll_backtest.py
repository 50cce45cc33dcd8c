"""
A held ES position rolled from ESU4 into ESZ4 on its roll date, in a real BacktestEngine behind
the safety gate: as one atomic calendar spread, and as two legs; the roll cost is reported.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from nautilus_ext.errors import read_yaml_file
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.safety.config import SafetyConfig
from nautilus_ext.strategies.futures_roll import FuturesRollConfig
from nautilus_ext.strategies.futures_roll import FuturesRollStrategy
from nautilus_ext.tradfi.rolls import RollMethod

ESU4 = "CME:FUTURE:SP500-USD-240920@LIN"
ESZ4 = "CME:FUTURE:SP500-USD-241220@LIN"
MINUTE = 60_000_000_000


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


# ESU4's roll date is Thursday 12 Sep 2024: its trade date starts at 17:00 CDT on the 11th (22:00 UTC)
BEFORE = _ns("2024-09-11T20:50:00")  # the last hour of the 11 Sep session
AFTER = _ns("2024-09-11T22:00:00")  # the session of the roll date opens


def _quotes(inst: Any, start: int, mid: str, minutes: int) -> list[Any]:
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    half = Decimal("0.25")
    out = []
    for i in range(minutes):
        ts = start + i * MINUTE
        m = Decimal(mid)
        out.append(
            QuoteTick(
                inst.id,
                Price(m - half, inst.price_precision),
                Price(m + half, inst.price_precision),
                Quantity(50, 0),
                Quantity(50, 0),
                ts,
                ts,
            )
        )
    return out


def _run(
    method: RollMethod, position_limits: dict[str, str] | None = None
) -> tuple[FuturesRollStrategy, list[Any], Any]:
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithm
    from nautilus_ext.safety.actor import attach_safety

    registry = InstrumentRegistry.default()
    esu4, esz4 = (build_instrument(registry.get(k), registry) for k in (ESU4, ESZ4))
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
    for inst in (esu4, esz4):
        engine.add_instrument(inst)
    data = (
        _quotes(esu4, BEFORE, "5600.00", 10)
        + _quotes(esz4, BEFORE + 1, "5650.00", 10)
        + _quotes(esu4, AFTER, "5610.00", 10)
        + _quotes(esz4, AFTER + 1, "5662.50", 10)
    )
    engine.add_data(sorted(data, key=lambda d: d.ts_init))
    strategy = FuturesRollStrategy(
        FuturesRollConfig(
            instrument_ids=(str(esu4.id), str(esz4.id)),
            book_data=False,
            trade_data=False,
            quote_data=True,
            front_key="CME:FUTURE:SP500-USD-FRONT@LIN",
            target_quantity="3",
            enter_at_ns=BEFORE + MINUTE,
            roll_method=str(method),
        )
    )
    engine.add_strategy(strategy)
    engine.add_exec_algorithm(AtomicLegsExecAlgorithm())
    raw = read_yaml_file(registry_config_dir() / "safety" / "backtest_default.yaml")
    raw["risk"]["max_position_by_asset"] = position_limits or {}
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
    return strategy, events, engine


def registry_config_dir() -> Any:
    from nautilus_ext.instruments.registry import default_config_dir

    return default_config_dir()


@pytest.mark.parametrize("method", [RollMethod.CALENDAR_SPREAD, RollMethod.TWO_LEGS])
def test_held_position_is_rolled_on_its_roll_date(method: RollMethod) -> None:
    from nautilus_trader.model.identifiers import InstrumentId

    strategy, events, _ = _run(method)
    assert strategy.errors == []
    enter = strategy.results["enter-ESU4"]
    assert enter.filled_quantity == 3
    assert enter.ts_decision_ns == BEFORE + MINUTE  # entered in ESU4, the front on 11 Sep
    (report,) = strategy.roll_reports()
    assert report.roll_date == date(2024, 9, 12)
    assert (report.from_key, report.to_key, report.method) == (ESU4, ESZ4, method)
    assert report.complete
    assert report.quantity == 3
    # sold ESU4 at the bid (5609.75), bought ESZ4 at the ask (5662.75) on the roll date's open
    close, open_ = strategy.results["roll-ESU4-ESZ4-close"], strategy.results["roll-ESU4-ESZ4-open"]
    assert (close.avg_fill_price, open_.avg_fill_price) == (Decimal("5609.75"), Decimal("5662.75"))
    assert close.fills[0].ts_ns >= AFTER
    assert report.spread_paid == Decimal("53.00")
    # half the spread on each leg, 3 contracts x 50 USD a point, plus the fees the venue charged
    fees = close.fees + open_.fees
    assert report.cost == Decimal("0.25") * 3 * 50 * 2 + fees
    # the position is now in ESZ4 only
    net = {
        i: Decimal(str(strategy.portfolio.net_position(InstrumentId.from_str(i))))
        for i in ("ESU4.XCME", "ESZ4.XCME")
    }
    assert net == {"ESU4.XCME": Decimal(0), "ESZ4.XCME": Decimal(3)}
    # every leg passed the safety gate (allowed decisions name the roll's operations)
    allowed = {
        e.details.get("operation_id") for e in events if str(e.risk_action) == "ALLOW" and e.rule == "gate"
    }
    assert {"enter-ESU4", "roll-ESU4-ESZ4-close", "roll-ESU4-ESZ4-open"} <= allowed
    if method is RollMethod.CALENDAR_SPREAD:
        group = strategy.groups["roll-ESU4-ESZ4-spread"]
        assert str(group.status) == "HEDGED"
        assert group.imbalance == 0


def _net(strategy: FuturesRollStrategy) -> dict[str, Decimal]:
    from nautilus_trader.model.identifiers import InstrumentId

    return {
        i: Decimal(str(strategy.portfolio.net_position(InstrumentId.from_str(i))))
        for i in ("ESU4.XCME", "ESZ4.XCME")
    }


def test_a_refused_calendar_spread_keeps_the_position() -> None:
    # the gate refuses the new contract (position limit 1 < 3): the group is refused whole
    strategy, events, _ = _run(RollMethod.CALENDAR_SPREAD, {ESZ4: "1"})
    assert _net(strategy) == {"ESU4.XCME": Decimal(3), "ESZ4.XCME": Decimal(0)}
    assert strategy.held is not None
    assert strategy.held.symbol == "ESU4"  # tried again on the next trade date
    assert len(strategy.errors) == 1
    assert strategy.errors[0].startswith("calendar spread roll-ESU4-ESZ4-spread: RISK_BLOCKED")
    assert "beyond the limit 1" in strategy.errors[0]
    (report,) = strategy.roll_reports()
    assert not report.complete
    assert report.cost is None
    blocked = [e for e in events if str(e.risk_action) == "BLOCK"]
    assert {e.rule for e in blocked} == {"max_position"}


def test_two_legs_open_only_after_the_close_and_retry_a_refused_open() -> None:
    strategy, _, _ = _run(RollMethod.TWO_LEGS, {ESZ4: "1"})
    # the close filled; the open leg was refused three times (sent, then two retries)
    assert strategy.results["roll-ESU4-ESZ4-close"].filled_quantity == 3
    refused = ["roll-ESU4-ESZ4-open", "roll-ESU4-ESZ4-retry2-open", "roll-ESU4-ESZ4-retry3-open"]
    assert [str(strategy.results[op].status) for op in refused] == ["REJECTED"] * 3
    assert len([e for e in strategy.errors if e.startswith("open leg")]) == 2
    assert _net(strategy) == {"ESU4.XCME": Decimal(0), "ESZ4.XCME": Decimal(0)}
    (report,) = strategy.roll_reports()
    assert not report.complete
    assert report.quantity == 0


def test_a_front_month_order_trades_the_contract_of_the_moment() -> None:
    import json

    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money

    from nautilus_ext.adapters.symbology import build_instrument
    from tests.integration.execution_algos.conftest import SubmitAtStrategy
    from tests.integration.execution_algos.conftest import SubmitAtStrategyConfig

    registry = InstrumentRegistry.default()
    esu4, esz4 = (build_instrument(registry.get(k), registry) for k in (ESU4, ESZ4))
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
    for inst in (esu4, esz4):
        engine.add_instrument(inst)
    data = _quotes(esu4, BEFORE, "5600.00", 10) + _quotes(esz4, BEFORE + 1, "5650.00", 10)
    data += _quotes(esu4, AFTER, "5610.00", 10) + _quotes(esz4, AFTER + 1, "5662.50", 10)
    engine.add_data(sorted(data, key=lambda d: d.ts_init))
    front = "CME:FUTURE:SP500-USD-FRONT@LIN"

    def order(op: str) -> str:
        return json.dumps(
            {
                "operation_id": op,
                "operation": "trade",
                "instrument_key": front,
                "venue": "CME",
                "side": "BUY",
                "amount": "1",
                "expected_deltas": {front: "1"},
            }
        )

    strategy = SubmitAtStrategy(
        SubmitAtStrategyConfig(
            instrument_ids=(str(esu4.id), str(esz4.id)),
            book_data=False,
            trade_data=False,
            quote_data=True,
            orders_json=(order("before-roll"),),
            submit_at_ns=BEFORE + 2 * MINUTE,
            later_json=(
                (AFTER + 2 * MINUTE, order("after-roll")),
                (_ns("2025-01-02T15:00:00"), order("too-late")),
            ),
        )
    )
    engine.add_strategy(strategy)
    engine.add_data(_quotes(esz4, _ns("2025-01-02T14:59:00"), "5700.00", 2))
    engine.run()
    before, after = strategy.results["before-roll"], strategy.results["after-roll"]
    assert (before.instrument_key, before.nautilus_instrument_id) == (ESU4, "ESU4.XCME")
    assert (after.instrument_key, after.nautilus_instrument_id) == (ESZ4, "ESZ4.XCME")
    assert before.expected_deltas == {ESU4: Decimal(1)}
    assert before.filled_quantity == after.filled_quantity == 1
    # after ESZ4's roll date no loaded contract is the front: refused with the reason
    late = strategy.results["too-late"]
    assert str(late.status) == "REJECTED"
    assert "INVALID_INSTRUMENT" in late.reason
    assert "no listed ES contract" in late.reason
