"""Covered-call configuration checks and the data's Greeks (the real Tardis options_chain sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.strategies.covered_call import CoveredCallConfig
from nautilus_ext.strategies.covered_call import CoveredCallStrategy
from nautilus_ext.strategies.covered_call import DataGreeks

GOOD: dict[str, Any] = {
    "underlying_key": "CME:FUTURE:SP500-USD-240621@LIN",
    "underlying_quantity": "1",
    "option_underlying": "ESM4",
    "call_quantity": "1",
}


def test_a_valid_config_builds_and_round_trips() -> None:
    config = CoveredCallConfig(**GOOD)
    assert CoveredCallConfig.parse(config.json()) == config
    strategy = CoveredCallStrategy(config)
    assert str(strategy.underlying) == GOOD["underlying_key"]
    assert strategy.positions == []
    assert strategy.errors == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"underlying_key": "CME:FUTURE:nonsense"}, "underlying_key"),
        ({"call_quantity": "0"}, "must be positive"),
        ({"underlying_quantity": "-1"}, "must be positive"),
        ({"target_delta": 0.9, "itm_delta": 0.8}, "target_delta"),
        ({"target_delta": 0.0}, "target_delta"),
        ({"itm_delta": 1.5}, "itm_delta"),
        ({"option_underlying": ""}, "option_underlying"),
        ({"min_days_to_expiry": 10, "max_days_to_expiry": 5}, "min_days_to_expiry"),
    ],
)
def test_each_config_rule_can_fail(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidConfig) as e:
        CoveredCallStrategy(CoveredCallConfig(**{**GOOD, **change}))
    assert e.value.code is ErrorCode.INVALID_CONFIG
    assert fragment in e.value.message


def test_data_greeks_from_the_tardis_sample(shared_data: Path) -> None:
    greeks = DataGreeks(shared_data / "nautilus_trader/crates/adapters/tardis/test_data/options_chain.csv")
    first_ns = 1591574399413000 * 1000
    g = greeks.at("BTC-9JUN20-9875-P", first_ns + 2_000_000_000, max_age_ns=300 * 10**9)
    assert g is not None
    assert g.source == "data"
    assert (g.delta, g.vol) == (-0.61752, 0.6289)  # the latest row at or before the instant
    later = greeks.at("BTC-9JUN20-9875-P", 1591574460454000 * 1000, max_age_ns=300 * 10**9)
    assert later is not None
    assert later.delta == -0.61767
    assert greeks.at("BTC-9JUN20-9875-P", first_ns - 1, max_age_ns=10**12) is None  # before any row
    assert greeks.at("BTC-9JUN20-9875-P", first_ns + 10**12, max_age_ns=10**9) is None  # stale
    assert (
        greeks.at("BTC-10JUN20-10000-C", first_ns + 10**10, max_age_ns=10**12) is None
    )  # no Greeks in its row
