"""The risk policy matrix (seed 001, section 12): each row blocks, halts, reduces or delays."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.safety import Halt
from nautilus_ext.safety import HaltState
from nautilus_ext.safety import RiskPolicies
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig

from .conftest import ASSET
from .conftest import SEC
from .conftest import VENUE
from .conftest import Recorder
from .conftest import advance
from .conftest import config_dict
from .conftest import make_order

D = Decimal


class Alerts:
    def __init__(self) -> None:
        self.calls: list[tuple[Halt, str | None]] = []

    def __call__(self, halt: Halt, strategy_id: str | None) -> None:
        self.calls.append((halt, strategy_id))


@pytest.fixture
def alerts() -> Alerts:
    return Alerts()


@pytest.fixture
def halts(clock: TestClock, recorder: Recorder, alerts: Alerts) -> HaltState:
    return HaltState(clock, recorder, alerts)


@pytest.fixture
def risk(clock: TestClock, recorder: Recorder, halts: HaltState) -> RiskPolicies:
    return RiskPolicies(SafetyConfig.parse(config_dict()).risk, clock, halts, recorder)


def check(risk: RiskPolicies, order_kw: dict[str, str] | None = None, **kw: object) -> str | None:
    order = make_order(**(order_kw or {}))
    args: dict[str, object] = {"asset": ASSET, "position": D(0), "venue": VENUE, "estimated_slippage": None}
    args.update(kw)
    error = risk.check(order, **args)  # type: ignore[arg-type]
    if error is None:
        return None
    assert error.code is ErrorCode.RISK_BLOCKED
    return str(error.details["rule"])


def test_clean_order_passes(risk: RiskPolicies) -> None:
    assert check(risk) is None


def test_max_trade_size(risk: RiskPolicies) -> None:
    assert check(risk, {"amount": "2"}) is None
    assert check(risk, {"amount": "2.0001"}) == Rule.MAX_TRADE_SIZE


def test_max_position_blocks_growth_not_reduction(risk: RiskPolicies) -> None:
    assert check(risk, {"amount": "1"}, position=D(4)) is None
    assert check(risk, {"amount": "1.5"}, position=D(4)) == Rule.MAX_POSITION
    assert check(risk, {"amount": "1.5", "side": "SELL"}, position=D(-4)) == Rule.MAX_POSITION
    # already beyond the limit (limit lowered): reducing is still allowed
    assert check(risk, {"amount": "1", "side": "SELL"}, position=D(6)) is None


def test_slippage_limit_on_order_and_estimate(risk: RiskPolicies) -> None:
    assert check(risk, {"max_slippage": "0.01"}) is None
    assert check(risk, {"max_slippage": "0.02"}) == Rule.SLIPPAGE
    assert check(risk, estimated_slippage=D("0.0101")) == Rule.SLIPPAGE
    assert check(risk, estimated_slippage=D("0.005")) is None


def test_latency_breach_blocks_the_venue_until_it_recovers(risk: RiskPolicies, recorder: Recorder) -> None:
    risk.record_latency(VENUE, 501)
    assert check(risk) == Rule.LATENCY_BREACH
    assert check(risk, venue="OTHER") is None
    assert recorder.events[-1].risk_action is RiskAction.BLOCK
    risk.record_latency(VENUE, 400)
    assert check(risk) is None
    assert recorder.events[-1].risk_action is RiskAction.ALLOW


def test_loss_kill_switch_kills_the_strategy_and_alerts(
    risk: RiskPolicies, halts: HaltState, alerts: Alerts
) -> None:
    risk.update_pnl("S-1", D("-999.99"))
    assert halts.killed("S-1") is None
    risk.update_pnl("S-1", D(-1000))
    killed = halts.killed("S-1")
    assert killed is not None
    assert killed.rule is Rule.LOSS_KILL_SWITCH
    assert alerts.calls == [(killed, "S-1")]
    assert halts.safe is None  # only that strategy
    assert check(risk) == Rule.LOSS_KILL_SWITCH
    assert check(risk, {"strategy": "S-2"}) is None
    # a reducing order of the killed strategy still passes the risk matrix
    assert check(risk, {"side": "SELL"}, position=D(2)) is None
    risk.update_pnl("S-1", D(-1100))
    assert len(alerts.calls) == 1  # no repeated alert while killed


def test_portfolio_loss_limit_halts_all(clock: TestClock, risk: RiskPolicies, halts: HaltState) -> None:
    risk.update_pnl("S-1", D(-1500))  # daily 1500 < 2000
    advance(clock, 86_400 * SEC)
    risk.update_pnl("S-2", D(-1400))  # daily 1400, total 2900 < 3000
    assert halts.safe is None
    risk.update_pnl("S-3", D(-100))  # total 3000
    assert halts.safe is not None
    assert halts.safe.rule is Rule.PORTFOLIO_LOSS_LIMIT
    assert check(risk, {"strategy": "S-9"}) == Rule.PORTFOLIO_LOSS_LIMIT


def test_max_daily_loss_blocks_and_kills(clock: TestClock, risk: RiskPolicies, halts: HaltState) -> None:
    # yesterday's losses do not count today
    risk.update_pnl("S-1", D(-900))
    risk.update_pnl("S-2", D(900))
    advance(clock, 86_400 * SEC)
    risk.update_pnl("S-1", D(-1900))
    risk.update_pnl("S-2", D(0))
    assert halts.safe is None
    assert check(risk, {"strategy": "S-3"}) is None
    risk.update_pnl("S-2", D(-100))
    assert halts.safe is not None
    assert halts.safe.rule is Rule.MAX_DAILY_LOSS
    assert check(risk, {"strategy": "S-3"}) == Rule.MAX_DAILY_LOSS


def test_drawdown_throttle_cooldown_then_reduced_size(clock: TestClock, risk: RiskPolicies) -> None:
    risk.update_pnl("S-1", D(400))
    risk.update_pnl("S-1", D(-99))  # 499 below the peak: not yet
    assert check(risk, {"amount": "2"}) is None
    risk.update_pnl("S-1", D(-100))  # 500 below the peak: drawdown
    assert check(risk, {"amount": "0.1"}) == Rule.COOLDOWN
    assert check(risk, {"amount": "0.1", "strategy": "S-2"}) is None
    advance(clock, 30 * SEC)
    assert check(risk, {"amount": "1"}) is None
    error = risk.check(
        make_order(amount="1.01"), asset=ASSET, position=D(0), venue=VENUE, estimated_slippage=None
    )
    assert error is not None
    assert error.details == {"rule": "drawdown_throttle", "max_amount": "1.0"}
    risk.update_pnl("S-1", D(0))  # back within the throttle band
    assert check(risk, {"amount": "2"}) is None


def test_reset_baselines_clears_loss_breaches(risk: RiskPolicies) -> None:
    risk.update_pnl("S-1", D(-2500))
    assert check(risk) == Rule.MAX_DAILY_LOSS
    risk.reset_baselines("alice")
    assert risk.global_breaches() == []
    assert check(risk) is None
