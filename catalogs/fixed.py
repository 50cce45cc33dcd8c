"""
Vectorised encoding of decimal columns into NautilusTrader's 128-bit fixed-point binary.

The Python catalog stores prices and sizes as ``fixed_size_binary[16]``: a little-endian
two's-complement int128 equal to ``value * 10**16`` (``nautilus_pyo3.FIXED_PRECISION``), after
rounding the value to the instrument's precision, the same rounding as ``Price.new(f64, p)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FIXED_PRECISION: Final = 16
_MASK32: Final = np.uint64(0xFFFFFFFF)
_SHIFT32: Final = np.uint64(32)
MAX_EXACT: Final = 2**52  # |value * 10**precision| must stay below this to round exactly


def decimals_of(text: pa.ChunkedArray | pa.Array) -> int:
    """
    Return the number of decimals needed to write every value of a string column exactly.

    Trailing zeros do not count (``"50000.0"`` needs 0); scientific notation is supported.
    """
    arr = pc.drop_null(text)
    if len(arr) == 0:
        return 0
    has_exp = pc.match_substring_regex(arr, "[eE]")
    if pc.any(has_exp).as_py():
        uniq = pc.unique(pc.filter(arr, has_exp)).to_pylist()
        exp_dec = max(max(0, -int(Decimal(u).normalize().as_tuple().exponent)) for u in uniq)
        arr = pc.filter(arr, pc.invert(has_exp))
    else:
        exp_dec = 0
    with_dot = pc.filter(arr, pc.match_substring(arr, "."))
    if len(with_dot) == 0:
        return exp_dec
    trimmed = pc.utf8_rtrim(with_dot, characters="0")
    dot = pc.find_substring(trimmed, ".")
    decimals = pc.subtract(pc.subtract(pc.utf8_length(trimmed), dot), 1)
    return max(exp_dec, int(pc.max(decimals).as_py() or 0))


def decimals_from_floats(values: np.ndarray, max_decimals: int = 12) -> int | None:
    """
    Return the decimals of parsed values, or ``None`` when floats cannot decide exactly.

    A value needs ``d`` decimals when ``value * 10**d`` is an integer to within 1e-6; the
    check is only trusted while the scaled values stay far inside float64's exact-integer
    range, otherwise the caller must inspect the text.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 0
    top = float(np.max(np.abs(v)))
    for d in range(max_decimals + 1):
        scale = 10.0**d
        if top * scale >= MAX_EXACT / 1024:  # too close to float64's integer limit: use text
            return None
        scaled = v * scale
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-6):
            return d
    return None


def to_fixed_binary(values: np.ndarray, precision: int) -> pa.FixedSizeBinaryArray:
    """
    Encode float64 ``values`` rounded to ``precision`` decimals as Nautilus fixed-point binary.

    Raises
    ------
    ValueError
        If a value is not finite or too large to round exactly at ``precision``.
    """
    scaled = np.rint(np.asarray(values, dtype=np.float64) * (10.0**precision))
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= MAX_EXACT):
        raise ValueError(f"values out of the exact range at precision {precision}")
    v = scaled.astype(np.int64)
    neg = v < 0
    mag = np.abs(v).astype(np.uint64)
    m = 10 ** (FIXED_PRECISION - precision)
    c, d = np.uint64(m >> 32), np.uint64(m & 0xFFFFFFFF)
    a, b = mag >> _SHIFT32, mag & _MASK32
    lo = b * d
    mid = a * d + b * c
    lo2 = lo + ((mid & _MASK32) << _SHIFT32)
    carry = (lo2 < lo).astype(np.uint64)
    hi = a * c + (mid >> _SHIFT32) + carry
    if np.any(neg):
        nlo = ~lo2 + np.uint64(1)
        nhi = ~hi + (lo2 == 0).astype(np.uint64)
        lo2 = np.where(neg, nlo, lo2)
        hi = np.where(neg, nhi, hi)
    out = np.empty((len(v), 2), dtype="<u8")
    out[:, 0] = lo2
    out[:, 1] = hi
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(v), [None, pa.py_buffer(out.tobytes())])


__all__ = ["FIXED_PRECISION", "decimals_from_floats", "decimals_of", "to_fixed_binary"]
