"""
Fuzz the Tardis scanner: any file in, a scan or the project's typed error out, nothing else.

Inputs are the real Tardis samples (read from ``../shared/data``) with cells replaced by
hostile values (negative, NaN, 5,000 digits, 9.2e18 timestamps, unknown sides, 200-character
or non-ASCII trade ids...), rows cut or padded, or random bytes. A file the scanner accepts
must also convert to catalog tables without error. The same ``tardis_files`` strategy is used
once with a large N to measure the figure reported in issue 13.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_ext.catalogs import tardis
from nautilus_ext.errors import NautilusExtError

_REPO = Path(__file__).resolve().parents[3]
_DATA = Path(
    os.environ.get(
        "NAUTILUS_EXT_SHARED_DATA",
        next(
            (p for p in (_REPO.parent / "shared" / "data", Path("/work/shared/data")) if p.is_dir()),
            _REPO.parent / "shared" / "data",
        ),
    )
)
SAMPLES = [
    "nautilus_trader/tests/test_data/tardis/bitmex_trades_XBTUSD.csv",
    "nautilus_trader/tests/test_data/tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv",
    "nautilus_trader/tests/test_data/tardis/huobi-dm-swap_quotes_BTC-USD.csv",
    "nautilus_trader/tests/test_data/tardis/binance-futures_book_snapshot_5_BTCUSDT.csv",
    "nautilus_trader/crates/adapters/tardis/test_data/csv/derivative_ticker_1.csv",
    "nautilus_trader/crates/adapters/tardis/test_data/csv/trades_1.csv",
]
_LINES = {name: (_DATA / name).read_text(encoding="utf-8").splitlines() for name in SAMPLES}

HOSTILE = [
    "",
    "-1",
    "0",
    "-0",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "9" * 5000,
    "9200000000000000000",
    "99999999999999999999999",
    "-1583020803145000",
    "1.5e15",
    "sideways",
    "middle",
    "maybe",
    "x" * 200,
    "é" * 10,
    "a b",
    '"quoted,comma"',
    "\x00",
    "buy",
    "sell",
    "bid",
    "ask",
    "true",
    "false",
    "unknown",
    "bitmex",
    "deribit",
    "BTC-PERPETUAL",
    "NOSUCH",
]


@st.composite
def tardis_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """Return (file name, content): a mutated real sample, or random bytes."""
    name = draw(st.sampled_from(SAMPLES))
    if draw(st.integers(0, 19)) == 0:
        return name, draw(st.binary(max_size=300))
    lines = list(_LINES[name])
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        header_too = draw(st.integers(0, 9)) == 0 or len(lines) == 1
        row = draw(st.integers(0 if header_too else 1, len(lines) - 1))
        cells = lines[row].split(",")
        action = draw(st.sampled_from(["cell", "cell", "cell", "text", "cut", "pad", "drop"]))
        col = draw(st.integers(0, len(cells) - 1))
        if action == "cell":
            cells[col] = draw(st.sampled_from(HOSTILE))
        elif action == "text":
            cells[col] = draw(st.text(max_size=12).filter(lambda t: "\n" not in t and "\r" not in t))
        elif action == "cut":
            cells = cells[: draw(st.integers(0, len(cells)))]
        elif action == "pad":
            cells.append(draw(st.sampled_from(HOSTILE)))
        else:
            lines.pop(row)
            continue
        lines[row] = ",".join(cells)
    if not lines:
        return name, b""
    return name, ("\n".join(lines) + "\n").encode("utf-8")


def untyped_error(case: tuple[str, bytes]) -> BaseException | None:
    """Scan (and, if accepted, convert) one file; return any exception that is not typed."""
    name, content = case
    with tempfile.TemporaryDirectory(prefix="tardis-fuzz-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        try:
            scan = tardis.scan_tardis_csv(path)
            if scan.kind == tardis.TRADES:
                tardis.trades_table(scan, scan.price_decimals, scan.size_decimals)
            elif scan.kind == tardis.INCREMENTAL_BOOK_L2:
                tardis.deltas_table(scan, scan.price_decimals, scan.size_decimals)
            elif scan.kind == tardis.DERIVATIVE_TICKER:
                tardis.derivative_ticker_table(scan)
        except NautilusExtError:
            return None
        except Exception as e:
            return e
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tardis_files())
def test_scanner_raises_only_typed_errors(case: tuple[str, bytes]) -> None:
    error = untyped_error(case)
    assert error is None, f"{type(error).__name__}: {error}"


def test_the_unmutated_samples_scan() -> None:
    for name in SAMPLES:
        assert untyped_error((name, (_DATA / name).read_bytes())) is None
        tardis.scan_tardis_csv(_DATA / name)
