"""Basis data: day-chunked Parquet round trip, missing-series checks, generator, CSV and Tardis loaders."""

from __future__ import annotations

import csv
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.data import Requirements
from nautilus_ext.basis.data import build_market_data
from nautilus_ext.basis.data import hour_grid
from nautilus_ext.basis.data import read_tables
from nautilus_ext.basis.data import write_tables
from nautilus_ext.basis.engine import requirements
from nautilus_ext.basis.generator import generate
from nautilus_ext.basis.loaders import perp_rows_from_tardis
from nautilus_ext.basis.loaders import tables_from_csv
from nautilus_ext.errors import InvalidConfig

T0 = datetime(2024, 5, 1, tzinfo=UTC)
T3 = datetime(2024, 5, 4, tzinfo=UTC)
TARDIS_SAMPLE = Path(
    "/work/shared/data/nautilus_trader/crates/adapters/tardis/test_data/csv/derivative_ticker_1.csv"
)
ALL = Requirements(
    spot_assets=("BTC", "ETH"),
    perps=(("BINANCE-FUTURES", "ETH"), ("BYBIT", "ETH"), ("OKX", "ETH")),
    reserves=("USDT", "WETH", "WEETH"),
    oracles=("WEETH", "WSTETH"),
    gas=True,
    reward_tokens=("EIGEN", "ETHFI"),
)


def test_parquet_round_trip_is_day_chunked_and_exact(tmp_path: Path) -> None:
    tables = generate(T0, T3, seed=5)
    files = write_tables(tmp_path, tables)
    assert (tmp_path / "spot" / "date=2024-05-01" / "part-0.parquet") in files
    assert {p.parent.name for p in files if p.parent.parent.name == "perp"} == {
        "date=2024-05-01",
        "date=2024-05-02",
        "date=2024-05-03",
    }
    loaded = read_tables(tmp_path, T0, T3)
    a = build_market_data(tables, T0, T3, ALL)
    b = build_market_data(loaded, T0, T3, ALL)
    assert a == b
    assert a.liquidity_index["USDT"][0] == int(tables["aave"][0]["liquidity_index"])


def test_generator_is_seeded_and_has_a_stress_window() -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    a, b = generate(start, end, seed=9), generate(start, end, seed=9)
    assert a == b
    assert a != generate(start, end, seed=10)
    weeth = [r["rate"] for r in a["oracle"] if r["lst"] == "WEETH"]
    drops = max((weeth[i] - weeth[i + 1]) / weeth[i] for i in range(len(weeth) - 1))
    assert min(weeth) < weeth[0] * Decimal("0.95")
    assert drops > 0
    rates = [r["funding_rate"] for r in a["perp"] if r["funding_rate"] is not None]
    assert min(rates) < 0 < max(rates)  # the funding flip
    calm = generate(start, end, seed=9, stress=False)
    calm_weeth = [r["rate"] for r in calm["oracle"] if r["lst"] == "WEETH"]
    assert calm_weeth == sorted(calm_weeth)


def test_missing_series_are_named(tmp_path: Path) -> None:
    tables = generate(T0, T3, seed=5)
    broken = dict(tables)
    broken["perp"] = [r for r in tables["perp"] if r["venue"] != "OKX"]
    broken["gas"] = tables["gas"][1:]
    with pytest.raises(InvalidConfig) as e:
        build_market_data(broken, T0, T3, ALL)
    assert "perp/OKX/ETH (72 of 72 hours missing" in str(e.value)
    assert "gas (1 of 72 hours missing, first 2024-05-01T00:00:00+00:00)" in str(e.value)
    cfg = resolve(RunRequest("eth_staking_only", "eth_directional", Decimal(10), "2024-05-01", "2024-05-04"))
    no_rewards = {**tables, "distributions": [r for r in tables["distributions"] if r["token"] != "ETHFI"]}
    with pytest.raises(InvalidConfig, match="distributions/ETHFI"):
        build_market_data(no_rewards, T0, T3, requirements(cfg))
    base_only = resolve(
        RunRequest("eth_staking_only", "eth_directional", Decimal(10), "2024-05-01", "2024-05-04"),
        {"staking.rewards_mode": "base_only"},
    )
    assert build_market_data(no_rewards, T0, T3, requirements(base_only)).distributions == []


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_csv_exports_resample_to_the_hour(tmp_path: Path) -> None:
    hours = hour_grid(T0, datetime(2024, 5, 2, 1, tzinfo=UTC))
    oracle = _write_csv(
        tmp_path / "oracle.csv",
        ["timestamp", "lst", "rate"],
        [["2024-05-01T00:00:00Z", "weETH", "1.04"], ["2024-05-02", "weETH", "1.0424"]],
    )
    rows = tables_from_csv("oracle", oracle, hours)
    assert rows[0]["rate"] == Decimal("1.04")
    assert rows[12]["rate"] == Decimal("1.0412")
    assert rows[24]["rate"] == Decimal("1.0424")
    assert len(rows) == 25
    aave = _write_csv(
        tmp_path / "aave.csv",
        ["timestamp", "reserve", "liquidity_index", "variable_borrow_index"],
        [[1714521600, "USDT", 10**27, 2 * 10**27], [1714608000, "USDT", 10**27 + 2400, 2 * 10**27 + 24]],
    )
    rows = tables_from_csv("aave", aave, hours)
    assert rows[1]["liquidity_index"] == 10**27 + 100
    assert rows[1]["variable_borrow_index"] == 2 * 10**27 + 1
    spot = _write_csv(
        tmp_path / "spot.csv", ["timestamp", "asset", "price"], [[1714521600000, "ETH", "3000.5"]]
    )
    assert {r["price"] for r in tables_from_csv("spot", spot, hours)} == {Decimal("3000.5")}  # last value
    dist = _write_csv(
        tmp_path / "dist.csv",
        ["token", "payout_timestamp", "period_start", "period_end", "rate_per_lst"],
        [["eigen", "2024-05-02T16:00:00", "2024-04-25T16:00:00", "2024-05-02T16:00:00", "0.17"]],
    )
    assert tables_from_csv("distributions", dist, hours)[0]["token"] == "EIGEN"
    bad = _write_csv(tmp_path / "bad.csv", ["timestamp", "asset"], [["2024-05-01", "ETH"]])
    with pytest.raises(InvalidConfig, match="needs columns price"):
        tables_from_csv("spot", bad, hours)
    bad = _write_csv(tmp_path / "bad2.csv", ["timestamp", "asset", "price"], [["2024-05-01", "ETH", "abc"]])
    with pytest.raises(InvalidConfig, match="line 2 column price"):
        tables_from_csv("spot", bad, hours)


def test_real_tardis_derivative_ticker_sample() -> None:
    hours = hour_grid(datetime(2020, 3, 1, tzinfo=UTC), datetime(2020, 3, 1, 3, tzinfo=UTC))
    rows = perp_rows_from_tardis(TARDIS_SAMPLE, hours)
    # the file quotes 00:00:03 and 00:01:03: no mark at 00:00, the last one at 01:00 and 02:00
    assert [(r["ts"].hour, r["venue"], r["asset"], r["mark_price"]) for r in rows] == [
        (1, "BITMEX", "BTC", Decimal("9500.75")),
        (2, "BITMEX", "BTC", Decimal("9500.75")),
    ]
    assert rows[0]["funding_rate"] == Decimal("0.00015")  # settled 00:01, booked at 01:00


def test_tardis_binance_file_gives_venue_asset_and_8h_funding(tmp_path: Path) -> None:
    header = (
        "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
        "predicted_funding_rate,open_interest,last_price,index_price,mark_price\n"
    )
    t0 = int(T0.timestamp()) * 1_000_000
    h = 3_600_000_000
    lines = []
    for i in range(17):
        ts = t0 + i * h - 1_000_000
        nxt = t0 + ((i // 8) + (1 if i % 8 else 0)) * 8 * h
        lines.append(f"binance-futures,ETHUSDT,{ts},{ts + 5},{nxt},0.0001{i % 10},,1,3000,3000,{3000 + i}\n")
    path = tmp_path / "binance-futures_derivative_ticker_ETHUSDT.csv"
    path.write_text(header + "".join(lines))
    rows = perp_rows_from_tardis(path, hour_grid(T0, datetime(2024, 5, 1, 16, tzinfo=UTC)))
    assert {(r["venue"], r["asset"]) for r in rows} == {("BINANCE-FUTURES", "ETH")}
    assert rows[3]["mark_price"] == Decimal(3003)
    settled = {r["ts"].hour: r["funding_rate"] for r in rows if r["funding_rate"] is not None}
    assert set(settled) == {0, 8}  # 16:00 is quoted but not reached yet


def test_spot_from_tardis_trades(tmp_path: Path) -> None:
    from nautilus_ext.basis.loaders import spot_rows_from_tardis_trades

    t0 = int(T0.timestamp()) * 1_000_000
    h = 3_600_000_000
    lines = [
        f"binance,ETHUSDT,{t0 + i * h // 2 - 1},{t0 + i * h // 2},{i},buy,{3000 + i}.5,0.1\n"
        for i in range(6)
    ]
    path = tmp_path / "binance_trades_ETHUSDT.csv"
    path.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n" + "".join(lines))
    rows = spot_rows_from_tardis_trades(path, hour_grid(T0, datetime(2024, 5, 1, 3, tzinfo=UTC)))
    # trades at 00:00-, 00:30-, 01:00-, ...: the last one at or before each hour
    assert [(r["ts"].hour, r["asset"], r["price"]) for r in rows] == [
        (0, "ETH", Decimal("3000.5")),
        (1, "ETH", Decimal("3002.5")),
        (2, "ETH", Decimal("3004.5")),
    ]
    real_perp = Path("/work/shared/data/nautilus_trader/tests/test_data/tardis/bitmex_trades_XBTUSD.csv")
    with pytest.raises(InvalidConfig, match="not a spot market"):
        spot_rows_from_tardis_trades(real_perp, [T0])
    with pytest.raises(InvalidConfig, match="not trades"):
        spot_rows_from_tardis_trades(TARDIS_SAMPLE, [T0])
