"""Synthetic funding/mark/index tickers for perpetuals (the demo's funding data)."""

from __future__ import annotations

import dataclasses
import gzip
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nautilus_ext.catalogs.synthetic import DEFAULT_START
from nautilus_ext.catalogs.synthetic import SyntheticVenue
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.catalogs.tardis import scan_tardis_csv

PERPS = (
    SyntheticVenue("binance-futures", "BTCUSDT", funding_interval_hours=8, funding_bps=1.0),
    SyntheticVenue("bybit", "BTCUSDT", basis_bps=1.5, funding_interval_hours=8, funding_bps=2.5),
)
INTERVAL_US = 8 * 3_600_000_000


def test_perps_get_tickers_with_diverging_rates(tmp_path: Path) -> None:
    files = write_synthetic_tardis(
        tmp_path, venues=PERPS, hours=10, book_updates_per_sec=0.1, trades_per_sec=0.05
    )
    means = {}
    for stem, kinds in files.items():
        scan = scan_tardis_csv(kinds["derivative_ticker"])
        assert scan.kind == "derivative_ticker"
        t = pacsv.read_csv(
            kinds["derivative_ticker"],
            convert_options=pacsv.ConvertOptions(
                strings_can_be_null=False,
                column_types={"funding_rate": "string", "mark_price": "string", "index_price": "string"},
            ),
        )
        ts = t.column("timestamp").to_pylist()
        funding_ts = t.column("funding_timestamp").to_pylist()
        assert ts[0] == int(DEFAULT_START.timestamp() * 1e6)
        # the next epoch-aligned 8 h boundary, strictly after the row
        assert all(
            f > x and f % INTERVAL_US == 0 and f - x <= INTERVAL_US
            for x, f in zip(ts, funding_ts, strict=True)
        )
        rates = [Decimal(r) for r in t.column("funding_rate").to_pylist()]
        assert all(r == r.quantize(Decimal("1e-8")) for r in rates)
        means[stem] = sum(rates) / len(rates)
        assert all(Decimal(m) > 0 for m in t.column("mark_price").to_pylist())
        assert pc.all(pc.greater(pc.cast(t.column("index_price"), "float64"), 0)).as_py()
    divergence = means["bybit_BTCUSDT"] - means["binance-futures_BTCUSDT"]
    assert Decimal("0.00005") < divergence < Decimal("0.00025")  # 1.5 bp apart, give or take the noise


def test_books_unchanged_by_funding(tmp_path: Path) -> None:
    spot_like = tuple(dataclasses.replace(v, funding_interval_hours=None) for v in PERPS)
    a = write_synthetic_tardis(tmp_path / "a", venues=PERPS, hours=1, book_updates_per_sec=0.5)
    b = write_synthetic_tardis(tmp_path / "b", venues=spot_like, hours=1, book_updates_per_sec=0.5)
    for stem in a:
        assert "derivative_ticker" not in b[stem]
        for kind in ("incremental_book_L2", "trades"):
            assert gzip.decompress(a[stem][kind].read_bytes()) == gzip.decompress(b[stem][kind].read_bytes())
