"""Bad Tardis values fail the build with an error naming file, line and field, and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.tardis import scan_tardis_csv
from nautilus_ext.errors import InvalidConfig

TRADES = "tests/test_data/tardis/bitmex_trades_XBTUSD.csv"
BOOK = "tests/test_data/tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv"


def _variant(nautilus_data: Path, tmp_path: Path, rel: str, line: int, column: str, value: str) -> Path:
    lines = (nautilus_data / rel).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    out = tmp_path / Path(rel).name
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("rel", "line", "column", "value", "why"),
    [
        (TRADES, 4, "amount", "-5", "must be positive"),
        (TRADES, 5, "timestamp", "9200000000000000000", "outside 2000..2100"),
        (TRADES, 3, "side", "sideways", "is not one of buy, sell, unknown"),
        (TRADES, 3, "price", "-8531.5", "must be positive"),
        (TRADES, 6, "id", "x" * 200, "longer than 36 bytes"),
        (TRADES, 6, "id", "trade-é", "is not ASCII"),
        (TRADES, 3, "price", "1e400", "is not a finite number"),
        (BOOK, 4, "side", "middle", "is not one of bid, ask"),
        (BOOK, 4, "price", "-6422", "must be positive"),
        (BOOK, 4, "amount", "-1", "is negative"),
        (BOOK, 4, "is_snapshot", "maybe", "is not one of true, false"),
    ],
)
def test_bad_value_names_file_line_and_field(
    nautilus_data: Path, tmp_path: Path, rel: str, line: int, column: str, value: str, why: str
) -> None:
    bad = _variant(nautilus_data, tmp_path, rel, line, column, value)
    with pytest.raises(InvalidConfig) as info:
        scan_tardis_csv(bad)
    assert f"{bad}:{line}: {column} " in str(info.value)
    assert why in str(info.value)
    assert info.value.details == {"file": str(bad), "line": line, "field": column}
    target = tmp_path / "catalog"
    with pytest.raises(InvalidConfig):
        build_catalog("tardis", [nautilus_data / BOOK, bad], target, progress=False)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no staging folder left behind


def test_a_file_in_the_way_fails_before_anything_is_written(nautilus_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    build_catalog("tardis", [nautilus_data / TRADES], target, progress=False)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    (target / "data" / "order_book_deltas").write_text("in the way", encoding="utf-8")
    with pytest.raises(InvalidConfig, match="order_book_deltas is a file"):
        build_catalog("tardis", [nautilus_data / TRADES, nautilus_data / BOOK], target, progress=False)
    after = sorted(p.relative_to(target) for p in target.rglob("*"))
    assert after == sorted([*before, Path("data/order_book_deltas")])
