"""Atomic two-leg execution in a real BacktestEngine: every failure combination ends neutral."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.execution_algos import StopReason
from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithm
from nautilus_ext.execution_algos.atomic_legs import AtomicLegsExecAlgorithmConfig
from nautilus_ext.execution_algos.atomic_legs import LegTrade
from nautilus_ext.execution_algos.atomic_legs import NeutralisePolicy
from nautilus_ext.execution_algos.atomic_legs import neutralisation

RunMulti = Callable[..., Any]
START_NS = 1_709_251_200_000_000_000
SECOND = 1_000_000_000
SPOT = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
HEDGE = "BYBIT:SPOT_PAIR:BTC-USDT"
A_ID, B_ID = "BTCUSDT.BINANCE", "BTCUSDT-SPOT.BYBIT"


class PairConfig(StrategyConfig, frozen=True):
    quantity: str = "0.300"
    policy: str = "CLOSE_EXCESS"
    depth_check: str = "false"


class PairStrategy(Strategy):  # type: ignore[misc]
    """Buy leg A and sell leg B through ATOMIC_LEGS at 2 s."""

    def __init__(self, config: PairConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.primary: ClientOrderId | None = None

    def on_start(self) -> None:
        for iid in (A_ID, B_ID):
            self.subscribe_order_book_deltas(InstrumentId.from_str(iid))
        self.clock.set_time_alert_ns("go", START_NS + 2 * SECOND, self._go)

    def _go(self, event: TimeEvent) -> None:
        inst = self.cache.instrument(InstrumentId.from_str(A_ID))
        order = self.order_factory.market(
            inst.id,
            OrderSide.BUY,
            inst.make_qty(Decimal(self.cfg.quantity)),
            exec_algorithm_id=ExecAlgorithmId("ATOMIC_LEGS"),
            exec_algorithm_params={
                "hedge_instrument_id": B_ID,
                "neutralise_policy": self.cfg.policy,
                "depth_check": self.cfg.depth_check,
            },
        )
        self.primary = order.client_order_id
        self.submit_order(order)


def _net(run: Any, iid: str) -> Decimal:
    net = Decimal(0)
    for order in run.engine.cache.orders():
        if str(order.instrument_id) == iid:
            sign = 1 if order.side == OrderSide.BUY else -1
            net += sign * order.filled_qty.as_decimal()
    return net


def _capped(max_qty: str) -> Any:
    from nautilus_trader.model.instruments import CurrencyPair

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.instruments.registry import InstrumentRegistry

    registry = InstrumentRegistry.default()
    raw = CurrencyPair.to_dict(build_instrument(registry.get(HEDGE), registry))
    raw["max_quantity"] = max_qty
    return CurrencyPair.from_dict(raw)


def _run(
    run_multi_venue: RunMulti, market: Any, a: tuple[str, ...], b: tuple[str, ...], **kw: Any
) -> tuple[Any, Any]:
    books = {SPOT: market(seconds=30, level_sizes=a), HEDGE: market(seconds=30, mid="60001.0", level_sizes=b)}
    strategy = PairStrategy(PairConfig(**kw.pop("config", {})))
    run = run_multi_venue([], books, [AtomicLegsExecAlgorithm()], strategy=strategy, **kw)
    report = run.algorithms["ATOMIC_LEGS"].report(strategy.primary)
    return run, report


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "synchronous"])
def test_both_legs_fill_and_the_pair_is_neutral(run_multi_venue: RunMulti, market: Any, queued: bool) -> None:
    # synchronous: leg A fills inside its own submission, before leg B is sent (a recorded
    # DRY_RUN and its REPLAY); that is not an imbalance to neutralise
    config = {"depth_check": "true"}
    levels = ("0.500",)
    run, report = _run(run_multi_venue, market, levels, levels, config=config, use_message_queue=queued)
    assert _net(run, A_ID) == Decimal("0.300")
    assert _net(run, B_ID) == Decimal("-0.300")
    assert report.stop_reason is StopReason.COMPLETED
    assert "rollback cost 0.000000" in report.detail


@pytest.mark.parametrize(
    ("a_levels", "b_levels", "hedge_max", "policy", "kept"),
    [
        # hedge leg rejected (above the hedge's max quantity): leg A is sold back entirely
        (("0.500",), ("0.500",), "0.100", "CLOSE_EXCESS", "0"),
        # hedge leg partially filled (0.1 of 0.3): 0.2 of leg A is sold back
        (("0.500",), ("0.100",), None, "CLOSE_EXCESS", "0.1"),
        # primary leg partially filled: 0.2 of the hedge is bought back
        (("0.100",), ("0.500",), None, "CLOSE_EXCESS", "0.1"),
        # both legs partially filled (0.25 and 0.15): 0.1 of leg A is sold back
        (("0.100", "0.150"), ("0.100", "0.050"), None, "CLOSE_EXCESS", "0.15"),
        # complete the hedge: the first top-up finds the hedge level consumed, the retry one second
        # later gets 0.1, and the last round closes the rest of leg A
        (("0.500",), ("0.100",), None, "COMPLETE_HEDGE", "0.2"),
    ],
)
def test_every_failure_ends_with_zero_net_exposure_and_a_rollback_cost(
    run_multi_venue: RunMulti,
    market: Any,
    a_levels: tuple[str, ...],
    b_levels: tuple[str, ...],
    hedge_max: str | None,
    policy: str,
    kept: str,
) -> None:
    instruments = {HEDGE: _capped(hedge_max)} if hedge_max else None
    run, report = _run(
        run_multi_venue, market, a_levels, b_levels, instruments=instruments, config={"policy": policy}
    )
    net_a, net_b = _net(run, A_ID), _net(run, B_ID)
    assert net_a + net_b == 0
    assert net_a == Decimal(kept)
    assert report.stop_reason is StopReason.ROLLED_BACK
    cost = Decimal(report.detail.rsplit("rollback cost ", 1)[1])
    assert cost > 0


def test_a_leg_that_answers_after_the_timeout_still_ends_neutral(
    run_multi_venue: RunMulti, market: Any
) -> None:
    # Bybit takes 15 s to receive an order: the hedge is still in flight at the 10 s leg timeout.
    # The cancel cannot overtake it in the simulator (the venue does not know the order yet), so
    # the hedge fills late; the algorithm waits for it instead of neutralising leg A too early.
    books = {
        SPOT: market(seconds=40, level_sizes=("0.500",)),
        HEDGE: market(seconds=40, mid="60001.0", level_sizes=("0.500",)),
    }
    strategy = PairStrategy(PairConfig())
    run = run_multi_venue(
        [], books, [AtomicLegsExecAlgorithm()], strategy=strategy, insert_latency_secs={HEDGE: 15}
    )
    report = run.algorithms["ATOMIC_LEGS"].report(strategy.primary)
    assert _net(run, A_ID) + _net(run, B_ID) == 0
    hedge = next(o for o in run.engine.cache.orders() if str(o.instrument_id) == B_ID)
    assert any(type(e).__name__ == "OrderPendingCancel" for e in hedge.events)  # the timeout asked
    assert hedge.ts_last >= START_NS + 17 * SECOND  # and the leg answered afterwards
    assert report.stop_reason is StopReason.COMPLETED


def test_pre_flight_refuses_when_a_book_is_too_thin(run_multi_venue: RunMulti, market: Any) -> None:
    run, report = _run(run_multi_venue, market, ("0.500",), ("0.100",), config={"depth_check": "true"})
    assert report.stop_reason is StopReason.INSUFFICIENT_DEPTH
    assert _net(run, A_ID) == 0
    assert _net(run, B_ID) == 0


def test_neutralisation_rules() -> None:
    lot = Decimal("0.001")
    kw: dict[str, Any] = {"a_buys": True, "target": Decimal("1"), "lot_a": lot, "lot_b": lot}
    close = NeutralisePolicy.CLOSE_EXCESS
    complete = NeutralisePolicy.COMPLETE_HEDGE
    assert neutralisation(Decimal("1"), Decimal("1"), policy=close, **kw) is None
    assert neutralisation(Decimal("1"), Decimal("0.4"), policy=close, **kw) == LegTrade(
        "A", False, Decimal("0.6")
    )
    assert neutralisation(Decimal("0.4"), Decimal("1"), policy=close, **kw) == LegTrade(
        "B", True, Decimal("0.6")
    )
    assert neutralisation(Decimal("1"), Decimal("0.4"), policy=complete, **kw) == LegTrade(
        "B", False, Decimal("0.6")
    )
    assert neutralisation(Decimal("0.0004"), Decimal(0), policy=close, **kw) is None  # below a lot


def test_config_rules() -> None:
    with pytest.raises(ValueError, match="neutralise_policy"):
        AtomicLegsExecAlgorithmConfig(neutralise_policy="HOPE")
    with pytest.raises(ValueError, match="positive"):
        AtomicLegsExecAlgorithmConfig(neutralise_retry_secs=0)
    with pytest.raises(ValueError, match="dirty_retry_ms"):
        AtomicLegsExecAlgorithmConfig(dirty_retry_ms=0)
    config = AtomicLegsExecAlgorithmConfig(neutralise_policy="COMPLETE_HEDGE")
    assert AtomicLegsExecAlgorithmConfig.parse(config.json()) == config
