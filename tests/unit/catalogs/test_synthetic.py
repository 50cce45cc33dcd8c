"""The synthetic Tardis generator: seeded, realistic shape, and loadable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest

from nautilus_ext.catalogs.synthetic import DEMO_VENUES
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.catalogs.synthetic import write_synthetic_trades
from nautilus_ext.errors import InvalidConfig


def _gen(tmp_path: Path, seed: int) -> dict[str, dict[str, Path]]:
    return write_synthetic_tardis(
        tmp_path / str(seed), hours=0.05, seed=seed, levels=10, book_updates_per_sec=5, gzip=False
    )


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = _gen(tmp_path, 1), _gen(tmp_path / "x", 1), _gen(tmp_path, 2)
    for venue in a:
        for kind in a[venue]:
            assert a[venue][kind].read_bytes() == b[venue][kind].read_bytes()
            assert a[venue][kind].read_bytes() != c[venue][kind].read_bytes()


def test_book_replays_uncrossed_with_full_depth(tmp_path: Path) -> None:
    """Replay the generated L2 stream through NautilusTrader's order book."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType

    from nautilus_ext.catalogs.tardis import nautilus_objects
    from nautilus_ext.catalogs.tardis import scan_tardis_csv

    files = _gen(tmp_path, 3)
    for venue in files.values():
        scan = scan_tardis_csv(venue["incremental_book_L2"])
        deltas = nautilus_objects(scan, scan.price_decimals, scan.size_decimals)
        book = OrderBook(deltas[0].instrument_id, BookType.L2_MBP)
        spreads = []
        for d in deltas:
            book.apply_delta(d)
            if d.flags & 128:  # F_LAST: the book is consistent after each event
                bid, ask = book.best_bid_price(), book.best_ask_price()
                assert bid is not None
                assert ask is not None
                assert bid < ask
                assert len(book.bids()) == len(book.asks()) == 10
                spreads.append(float(ask - bid))
        tick = 10.0**-scan.price_decimals
        assert min(spreads) == pytest.approx(tick)
        assert max(spreads) <= 3 * tick + 1e-9
        trades = pacsv.read_csv(venue["trades"])
        assert trades.num_rows > 0
        assert set(trades.column("side").to_pylist()) == {"buy", "sell"}


def test_trades_file_has_exact_rows_and_sorted_local_time(tmp_path: Path) -> None:
    path = write_synthetic_trades(tmp_path / "t.csv", 5_000, seed=3)
    table = pacsv.read_csv(path)
    assert table.num_rows == 5_000
    local = np.asarray(table.column("local_timestamp"))
    assert np.all(np.diff(local) >= 0)
    assert table.column_names == [
        "exchange",
        "symbol",
        "timestamp",
        "local_timestamp",
        "id",
        "side",
        "price",
        "amount",
    ]


def test_demo_venues_are_two_cefi_perps() -> None:
    assert [(v.exchange, v.symbol) for v in DEMO_VENUES] == [
        ("binance-futures", "BTCUSDT"),
        ("bybit", "BTCUSDT"),
    ]


@pytest.mark.parametrize("kwargs", [{"hours": 0}, {"book_updates_per_sec": 0}, {"levels": 0}])
def test_bad_parameters(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(InvalidConfig):
        write_synthetic_tardis(tmp_path, **kwargs)
    with pytest.raises(InvalidConfig):
        write_synthetic_trades(tmp_path / "x.csv", 0)
