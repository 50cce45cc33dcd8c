"""
Seed 001, section 15: a per-venue allowlist of assets and read-only venues, in the gate.

An order on an asset outside its venue's allowlist, or to a venue that is not listed, is
DENIED ``RISK_BLOCKED`` (rule ``asset_not_allowed``); every order to a venue configured with
read-only keys is DENIED (rule ``read_only_venue``), reducing or not, confirmed or not.
"""

from __future__ import annotations

import pytest
from nautilus_trader.common.component import TestClock

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.safety import Rule
from nautilus_ext.safety import SafetyConfig
from nautilus_ext.safety import SafetyGate

from .conftest import ASSET
from .conftest import VENUE
from .conftest import Recorder
from .conftest import config_dict
from .conftest import fresh_feeds
from .conftest import make_order

ETH = "BINANCE-FUTURES:PERPETUAL:ETH-USDT@LIN"
OTHER_VENUE = "BYBIT"


def _gate(clock: TestClock, mode: str = "DRY_RUN", **risk: object) -> SafetyGate:
    gate = SafetyGate(SafetyConfig.parse(config_dict(mode, risk=risk)), clock, sink=Recorder())
    fresh_feeds(gate)
    fresh_feeds(gate, ETH)
    return gate


def test_asset_outside_the_venue_allowlist_is_denied(clock: TestClock) -> None:
    gate = _gate(clock, allowed_assets_by_venue={VENUE: [ASSET]})
    assert gate.check(make_order("op-1")).allowed
    decision = gate.check(make_order("op-2", instrument_key=ETH))
    assert not decision.allowed
    assert decision.code is ErrorCode.RISK_BLOCKED
    assert decision.rule == Rule.ASSET_NOT_ALLOWED
    assert ETH in decision.reason


def test_venue_missing_from_a_configured_allowlist_is_denied(clock: TestClock) -> None:
    gate = _gate(clock, allowed_assets_by_venue={OTHER_VENUE: ["BYBIT:PERPETUAL:BTC-USDT@LIN"]})
    assert gate.check(make_order()).rule == Rule.ASSET_NOT_ALLOWED


def test_no_allowlist_allows_every_asset(clock: TestClock) -> None:
    gate = _gate(clock)
    assert gate.check(make_order("op-1", instrument_key=ETH)).allowed


def test_read_only_venue_denies_every_order_even_confirmed(clock: TestClock) -> None:
    gate = _gate(clock, "LIVE", read_only_venues=[VENUE])
    gate.arm(60, "alice")
    order = make_order()
    gate.confirm(gate.stage(order).intent_hash, "alice")
    decision = gate.check(order)
    assert not decision.allowed
    assert decision.code is ErrorCode.RISK_BLOCKED
    assert decision.rule == Rule.READ_ONLY_VENUE


def test_read_only_venue_denies_reducing_orders_too(clock: TestClock) -> None:
    gate = _gate(clock, read_only_venues=[VENUE])
    assert gate.check(make_order(side="SELL")).rule == Rule.READ_ONLY_VENUE


def test_allowlist_is_validated(clock: TestClock) -> None:
    with pytest.raises(InvalidConfig, match="allowed_assets_by_venue"):
        SafetyConfig.parse(config_dict(risk={"allowed_assets_by_venue": {VENUE: "not a list"}}))
