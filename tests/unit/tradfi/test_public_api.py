"""The tradfi package's public API is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import nautilus_ext.tradfi as tradfi


def test_package_all_is_pinned() -> None:
    assert sorted(tradfi.__all__) == [
        "BusinessCalendar",
        "ContractDates",
        "ExpiryRule",
        "RollAnchor",
        "RollCalendar",
        "RollMethod",
        "RollsConfig",
        "RootRoll",
    ]
    for name in tradfi.__all__:
        assert getattr(tradfi, name) is not None
