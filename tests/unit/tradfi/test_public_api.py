"""The tradfi package's public API is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import nautilus_ext.tradfi as tradfi


def test_package_all_is_pinned() -> None:
    assert sorted(tradfi.__all__) == [
        "Adjustment",
        "BusinessCalendar",
        "ContinuousSeries",
        "ContractDates",
        "ContractProvider",
        "ExpiryRule",
        "FrontMonthResolver",
        "InstrumentContractProvider",
        "ListedContract",
        "OptionChain",
        "RollAnchor",
        "RollCalendar",
        "RollMethod",
        "RollsConfig",
        "RootRoll",
        "RuleContractProvider",
        "SessionCalendar",
        "TradingHours",
        "build_continuous",
        "front_chains",
        "option_chains",
    ]
    for name in tradfi.__all__:
        assert getattr(tradfi, name) is not None
