"""Fixed-point encoding and decimal inference against NautilusTrader's own Price/Quantity."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.catalogs.fixed import decimals_of
from nautilus_ext.catalogs.fixed import to_fixed_binary


def _raw_of(binary: bytes) -> int:
    return int.from_bytes(binary, "little", signed=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=50),
    st.integers(min_value=0, max_value=9),
)
def test_to_fixed_binary_equals_nautilus_price_raw(ticks: list[int], precision: int) -> None:
    from nautilus_trader.model.objects import Price

    values = np.array(ticks, dtype=np.float64) / 10**precision
    encoded = to_fixed_binary(values, precision).to_pylist()
    for value, raw in zip(values, encoded, strict=True):
        assert _raw_of(raw) == Price(float(value), precision).raw


def test_to_fixed_binary_rejects_values_beyond_exact_range() -> None:
    with pytest.raises(ValueError, match="exact range"):
        to_fixed_binary(np.array([1e15]), 4)
    with pytest.raises(ValueError, match="exact range"):
        to_fixed_binary(np.array([np.nan]), 2)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["1", "20", "300"], 0),
        (["50000.0", "1.50"], 1),
        (["0.001", "12.5"], 3),
        (["1e-05", "2"], 5),
        (["1.5E+2", "0.25"], 2),
        ([None, "0.1"], 1),
    ],
)
def test_decimals_of(texts: list[str | None], expected: int) -> None:
    assert decimals_of(pa.array(texts, pa.string())) == expected
