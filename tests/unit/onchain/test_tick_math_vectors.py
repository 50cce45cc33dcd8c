"""Uniswap V3 TickMath port against the protocol's own snapshot vectors (../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nautilus_ext.onchain.calculators.tick_math import MAX_SQRT_RATIO
from nautilus_ext.onchain.calculators.tick_math import MAX_TICK
from nautilus_ext.onchain.calculators.tick_math import MIN_SQRT_RATIO
from nautilus_ext.onchain.calculators.tick_math import MIN_TICK
from nautilus_ext.onchain.calculators.tick_math import get_sqrt_ratio_at_tick
from nautilus_ext.onchain.calculators.tick_math import get_tick_at_sqrt_ratio

VECTORS = "uniswap-v3-core/test/__snapshots__/TickMath.vectors.json"


def _vectors(shared_data: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((shared_data / VECTORS).read_text())
    return data


def test_get_sqrt_ratio_at_tick_matches_every_vector(shared_data: Path) -> None:
    cases = {
        int(key.split("tick ")[1].split(" ")[0]): int(str(value))
        for key, value in _vectors(shared_data).items()
        if key.startswith("TickMath #getSqrtRatioAtTick tick ") and " result " in key
    }
    assert len(cases) >= 25
    for tick, expected in cases.items():
        assert get_sqrt_ratio_at_tick(tick) == expected, tick


def test_get_tick_at_sqrt_ratio_matches_every_vector(shared_data: Path) -> None:
    cases = {
        int(key.split("ratio ")[1].split(" ")[0]): int(str(value))
        for key, value in _vectors(shared_data).items()
        if key.startswith("TickMath #getTickAtSqrtRatio ratio ") and " result " in key
    }
    assert len(cases) >= 10
    for ratio, expected in cases.items():
        assert get_tick_at_sqrt_ratio(ratio) == expected, ratio


def test_bounds() -> None:
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    with pytest.raises(ValueError, match="outside"):
        get_sqrt_ratio_at_tick(MAX_TICK + 1)
    with pytest.raises(ValueError, match="outside"):
        get_tick_at_sqrt_ratio(MAX_SQRT_RATIO)
