"""Continuous series read from ParquetDataCatalogs: real Databento ES quotes, and a synthetic roll."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.continuous import continuous_from_catalog
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry

FRONT = "CME:FUTURE:SP500-USD-FRONT@LIN"
D = Decimal


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def test_real_databento_catalog_picks_the_front_contract(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "nautilus_trader/tests/test_data/databento/futures_settlement/databento"
    summary = build_catalog(
        "databento", sorted(str(p) for p in src.glob("*.dbn.zst")), tmp_path, progress=False
    )
    assert set(summary.instruments) == {"ESZ5.GLBX", "ESH6.GLBX"}
    series = continuous_from_catalog(tmp_path, FRONT, _ns("2025-12-19T14:00:00"), _ns("2025-12-19T15:00:00"))
    # ESZ5 (expiring that morning) rolled on 11 Dec: the front is ESH6, its real bbo-1m mids
    assert series.rolls == ()
    assert {p.instrument_id for p in series.points} == {"ESH6.GLBX"}
    assert [p.raw for p in series.points[:2]] == [D("6843.375"), D("6837.125")]
    assert len(series.points) == 10
    with pytest.raises(InvalidInstrumentKey, match="no listed ES contract"):
        continuous_from_catalog(tmp_path, FRONT, _ns("2026-03-20T00:00:00"), _ns("2026-03-21T00:00:00"))
    with pytest.raises(InvalidConfig, match="data must be"):
        continuous_from_catalog(tmp_path, FRONT, 0, 1, data="ticks")
    with pytest.raises(InvalidConfig, match="method must be"):
        continuous_from_catalog(tmp_path, FRONT, 0, 1, method="LOG")


def _quotes(inst: Any, mid: str, start: str, minutes: int) -> list[Any]:
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    t0, m = _ns(start), D(mid)
    return [
        QuoteTick(
            inst.id,
            Price(m - D("0.25"), 2),
            Price(m + D("0.25"), 2),
            Quantity(10, 0),
            Quantity(10, 0),
            t0 + i * 60_000_000_000,
            t0 + i * 60_000_000_000,
        )
        for i in range(minutes)
    ]


def test_synthetic_catalog_back_and_ratio_adjusted_across_the_es_roll(tmp_path: Path) -> None:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from nautilus_ext.adapters.symbology import build_instrument

    registry = InstrumentRegistry.default()
    esu4, esz4 = (
        build_instrument(registry.get(k), registry)
        for k in ("CME:FUTURE:SP500-USD-240920@LIN", "CME:FUTURE:SP500-USD-241220@LIN")
    )
    catalog = ParquetDataCatalog(str(tmp_path))
    catalog.write_data([esu4, esz4])
    # ESU4's roll date, 12 Sep 2024, starts at 22:00 UTC on the 11th (17:00 CDT)
    catalog.write_data(
        _quotes(esu4, "5600.00", "2024-09-11T20:55:00", 5)
        + _quotes(esu4, "5610.00", "2024-09-11T22:00:00", 3)
    )
    catalog.write_data(
        _quotes(esz4, "5650.00", "2024-09-11T20:55:00", 5)
        + _quotes(esz4, "5662.50", "2024-09-11T22:00:00", 3)
    )
    start, end = _ns("2024-09-11T20:00:00"), _ns("2024-09-11T23:00:00")
    back = continuous_from_catalog(tmp_path, FRONT, start, end, "BACK")
    (roll,) = back.rolls
    assert (roll.from_id, roll.to_id, roll.roll_ns) == ("ESU4.XCME", "ESZ4.XCME", _ns("2024-09-11T22:00:00"))
    assert (roll.old_price, roll.new_price, roll.gap) == (D("5610.00"), D("5662.50"), D("52.50"))
    assert [(p.instrument_id, p.adjusted) for p in back.points] == [("ESU4.XCME", D("5652.50"))] * 5 + [
        ("ESZ4.XCME", D("5662.50"))
    ] * 3
    ratio = continuous_from_catalog(tmp_path, FRONT, start, end, "ratio")
    assert ratio.points[0].adjusted == D("5600.00") * D("5662.50") / D("5610.00")
    assert ratio.points[-1].adjusted == D("5662.50")
