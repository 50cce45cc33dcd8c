"""The basis engine's live seam: engine events -> venue actions, live snapshots, logical hours."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest

from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.engine import BasisEngine
from nautilus_ext.basis.live import ActionKind
from nautilus_ext.basis.live import CexInputs
from nautilus_ext.basis.live import ChainInputs
from nautilus_ext.basis.live import actions_for
from nautilus_ext.basis.live import hour_of
from nautilus_ext.basis.live import live_snapshot
from nautilus_ext.basis.model import requirements
from nautilus_ext.errors import InvalidConfig

T0 = datetime(2026, 12, 8, tzinfo=UTC)
RAY = 10**27
VENUES = ("BINANCE-FUTURES", "BYBIT", "OKX")


def _cfg() -> EffectiveConfig:
    return resolve(RunRequest("usdt_market_neutral", "usdt_stable", Decimal(50000), "", ""))


def _chain(liquidity: int = RAY, borrow: int = RAY, rate: str = "1.05") -> ChainInputs:
    return ChainInputs(
        {"WEETH": liquidity, "WETH": liquidity},
        {"WEETH": borrow, "WETH": borrow},
        {"WEETH": Decimal(rate)},
        Decimal(1),
        0,
    )


def _cex(mark: str = "3000", settled: dict[tuple[str, str], Decimal] | None = None) -> CexInputs:
    return CexInputs({"ETH": Decimal(mark)}, {(v, "ETH"): Decimal(mark) for v in VENUES}, dict(settled or {}))


def test_entry_events_become_shorts_and_one_leverage_bundle() -> None:
    cfg = _cfg()
    engine = BasisEngine(cfg)
    perps = requirements(cfg).perps
    engine.step(live_snapshot(0, hour_of(T0, 0), _cex(), _chain(), perps))
    actions = actions_for(engine.events, target_ltv=cfg.mode.leverage.target_ltv)
    kinds = [a.kind for a in actions]
    shorts = [a for a in actions if a.kind is ActionKind.PERP_TRADE]
    assert [a.venue for a in shorts] == list(VENUES)
    assert all(a.amount < 0 for a in shorts)
    lg = engine.ledger
    assert lg is not None
    assert [a.amount for a in shorts] == [lg.qty(f"{v}.perp") for v in VENUES]
    (entry,) = [a for a in actions if a.kind is ActionKind.LEVERAGE_ENTRY]
    # the bundle's equity is the ETH withdrawn from the spot venue to the wallet
    (withdrawal,) = [a for a in actions if a.kind is ActionKind.TRANSFER and "-> wallet" in a.detail["note"]]
    assert entry.amount == withdrawal.amount
    assert entry.detail["target_ltv"] == Decimal("0.80")
    # funding of the CEXs and the ETH withdrawal are transfers; the entry comes after the shorts
    assert kinds.index(ActionKind.LEVERAGE_ENTRY) > max(
        i for i, k in enumerate(kinds) if k is ActionKind.PERP_TRADE
    )
    assert sum(k is ActionKind.TRANSFER for k in kinds) == 5  # 3 margins + spot venue + withdrawal


def test_a_price_rise_asks_for_a_deleverage_and_smaller_shorts() -> None:
    cfg = _cfg()
    engine = BasisEngine(cfg)
    perps = requirements(cfg).perps
    engine.step(live_snapshot(0, hour_of(T0, 0), _cex(), _chain(), perps))
    before = len(engine.events)
    engine.step(live_snapshot(1, hour_of(T0, 1), _cex("4000"), _chain(), perps))
    actions = actions_for(engine.events[before:], target_ltv=cfg.mode.leverage.target_ltv)
    (delev,) = [a for a in actions if a.kind is ActionKind.DELEVERAGE]
    assert delev.detail["bundle"] == "DELEVERAGE_FOR_MARGIN"
    assert delev.amount > 0
    reduces = [a for a in actions if a.kind is ActionKind.PERP_TRADE]
    assert [a.detail["event"] for a in reduces] == ["HEDGE_REDUCE"] * 3
    assert all(a.amount > 0 for a in reduces)  # buys to cover


def test_funding_is_booked_only_in_the_hour_after_a_settlement() -> None:
    cfg = _cfg()
    engine = BasisEngine(cfg)
    perps = requirements(cfg).perps
    engine.step(live_snapshot(0, hour_of(T0, 0), _cex(), _chain(), perps))
    engine.step(live_snapshot(1, hour_of(T0, 1), _cex(), _chain(), perps))
    assert not [e for e in engine.events if e.event == "FUNDING_PAYMENT"]
    rate = Decimal("0.0001")
    engine.step(live_snapshot(2, hour_of(T0, 2), _cex(settled={("BYBIT", "ETH"): rate}), _chain(), perps))
    (payment,) = [e for e in engine.events if e.event == "FUNDING_PAYMENT"]
    lg = engine.ledger
    assert lg is not None
    assert payment.venue == "BYBIT"
    assert payment.amount == -lg.qty("BYBIT.perp") * Decimal(3000) * rate


def test_adopting_the_chain_books_the_difference_as_trading() -> None:
    cfg = _cfg()
    engine = BasisEngine(cfg)
    perps = requirements(cfg).perps
    engine.step(live_snapshot(0, hour_of(T0, 0), _cex(), _chain(), perps))
    supply, debt = engine.aave_scaled()
    lg = engine.ledger
    assert lg is not None
    equity = lg.equity()
    change = engine.adopt_aave({"WEETH": supply["WEETH"] - 10**12}, debt, "chain staked at its own rate")
    assert change == -Decimal(10**12) / Decimal(10**18) * Decimal("1.05") * Decimal(3000)
    assert lg.equity() - equity == change
    assert engine.aave_scaled() == ({"WEETH": supply["WEETH"] - 10**12}, debt)
    assert engine.events[-1].event == "AAVE_RECONCILED"


def test_an_hour_without_a_mark_is_refused() -> None:
    cex = CexInputs({"ETH": Decimal(3000)}, {("BYBIT", "ETH"): Decimal(3000)}, {})
    with pytest.raises(InvalidConfig, match="no live mark price for BINANCE-FUTURES ETH, OKX ETH"):
        live_snapshot(0, T0, cex, _chain(), [(v, "ETH") for v in VENUES])


def test_logical_hours_start_on_the_hour() -> None:
    assert hour_of(T0, 3) == datetime(2026, 12, 8, 3, tzinfo=UTC)
    with pytest.raises(InvalidConfig, match="on the hour"):
        hour_of(T0.replace(minute=5), 0)


def test_a_bundle_without_a_live_action_is_refused() -> None:
    from nautilus_ext.basis.model import BasisEvent

    events = [
        BasisEvent(T0, 1, "ATOMIC_TRANSACTION", "AAVE_V3_ETH", bundle="MYSTERY"),
        BasisEvent(T0, 2, "FLASH_BORROW", "AAVE_V3_ETH", "WETH", Decimal(1), parent=1),
    ]
    with pytest.raises(InvalidConfig, match="MYSTERY"):
        actions_for(events, target_ltv=Decimal("0.8"))
