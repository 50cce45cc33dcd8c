"""Tardis derivative_ticker settlements and funding-gap detection."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.history import detect_gaps
from nautilus_ext.funding.history import samples_from_tardis
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.model import FundingRateSample

REAL_SAMPLE = Path(
    "/work/shared/data/nautilus_trader/crates/adapters/tardis/test_data/csv/derivative_ticker_1.csv"
)
T0 = 1_700_000_000_000_000_000 - 1_700_000_000_000_000_000 % (8 * NANOS_PER_HOUR)
HEADER = (
    "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
    "predicted_funding_rate,open_interest,last_price,index_price,mark_price\n"
)


def _sample(ts_ns: int, hours: int = 8, settled: bool = True, venue: str = "BYBIT") -> FundingRateSample:
    return FundingRateSample(
        venue=venue,
        instrument_key=f"{venue}:PERPETUAL:BTC-USDT@LIN",
        base="BTC",
        quote="USDT",
        rate=Decimal("0.0001"),
        interval_hours=Decimal(hours),
        ts_ns=ts_ns,
        settled=settled,
    )


def test_no_gap_in_a_regular_series() -> None:
    assert detect_gaps([_sample(T0 + i * 8 * NANOS_PER_HOUR) for i in range(5)]) == []


def test_missing_settlements_are_counted_and_located() -> None:
    h8 = 8 * NANOS_PER_HOUR
    samples = [_sample(T0), _sample(T0 + h8), _sample(T0 + 4 * h8), _sample(T0 + 5 * h8)]
    [gap] = detect_gaps(reversed(samples))  # order does not matter
    assert (gap.venue, gap.base, gap.quote, gap.missing) == ("BYBIT", "BTC", "USDT", 2)
    assert (gap.after_ns, gap.before_ns, gap.first_missing_ns) == (T0 + h8, T0 + 4 * h8, T0 + 2 * h8)


def test_late_stamps_and_indicative_samples_are_not_gaps() -> None:
    h = NANOS_PER_HOUR
    samples = [_sample(T0), _sample(T0 + 8 * h + 30 * 10**9), _sample(T0 + 12 * h, settled=False)]
    assert detect_gaps(samples) == []


def test_an_interval_change_is_not_a_gap_but_a_missing_hour_is() -> None:
    h = NANOS_PER_HOUR
    to_4h = [_sample(T0, 8), _sample(T0 + 4 * h, 4), _sample(T0 + 8 * h, 4)]
    to_8h = [_sample(T0, 4), _sample(T0 + 8 * h, 8), _sample(T0 + 16 * h, 8)]
    assert detect_gaps(to_4h) == detect_gaps(to_8h) == []
    [missed] = detect_gaps([_sample(T0, 8), _sample(T0 + 8 * h, 4)])  # 4 h regime: T0 + 4 h is missing
    assert (missed.missing, missed.first_missing_ns) == (1, T0 + 4 * h)
    hourly = [_sample(T0 + i * h, 1, venue="HYPERLIQUID") for i in (0, 1, 3)]
    [gap] = detect_gaps(hourly)
    assert (gap.venue, gap.missing, gap.interval_hours) == ("HYPERLIQUID", 1, Decimal(1))


def test_the_real_tardis_sample_yields_its_two_settlements() -> None:
    samples = samples_from_tardis(REAL_SAMPLE)
    assert [(s.venue, s.base, s.quote, s.rate, s.predicted_rate) for s in samples] == [
        ("BITMEX", "BTC", "USD", Decimal("0.0001"), Decimal("0.00012")),
        ("BITMEX", "BTC", "USD", Decimal("0.00015"), Decimal("0.00018")),
    ]
    assert [s.ts_ns for s in samples] == [1583020800000000000, 1583020860000000000]
    assert all(s.settled and s.instrument_key == "BITMEX:PERPETUAL:BTC-USD@INV" for s in samples)
    # inverse contracts count open interest in USD: stored in BTC
    assert samples[0].open_interest == (Decimal(1000000) / Decimal("9500.25")).quantize(Decimal("1e-8"))
    assert samples[0].interval_hours == Decimal(8)  # 1-minute spacing is not a whole hour


def test_a_binance_ticker_file_settles_the_last_rate_before_each_roll(tmp_path: Path) -> None:
    us = 1_000
    h8 = 8 * 3_600_000_000  # microseconds
    t0 = T0 // us
    rows = [
        (t0 - h8 // 2, t0, "0.0001"),
        (t0 - 10, t0, "0.0002"),  # the last quote before t0: settled at t0
        (t0 + 5, t0 + h8, "0.0003"),
        (t0 + h8 - 1, t0 + h8, "-0.0001"),  # settled at t0 + 8 h
        (t0 + h8 + 5, t0 + 2 * h8, "0.0005"),  # t0 + 16 h not reached yet: not settled
    ]
    path = tmp_path / "binance-futures_derivative_ticker.csv"
    path.write_text(
        HEADER
        + "".join(f"binance-futures,BTCUSDT,{ts},{ts + 1},{f},{r},,12.5,,50000,50001\n" for ts, f, r in rows)
    )
    samples = samples_from_tardis(path)
    assert [(s.ts_ns, s.rate) for s in samples] == [
        (T0, Decimal("0.0002")),
        (T0 + h8 * us, Decimal("-0.0001")),
    ]
    assert {(s.venue, s.quote, s.interval_hours) for s in samples} == {("BINANCE", "USDT", Decimal(8))}
    assert samples[0].open_interest == Decimal("12.5")
    assert samples[0].mark_price == Decimal(50001)


def test_a_non_ticker_tardis_file_is_refused(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bybit,BTCUSDT,1735689600000000,1735689600000100,a,buy,1,1\n"
    )
    with pytest.raises(InvalidConfig, match="not derivative_ticker"):
        samples_from_tardis(trades)
    with pytest.raises(InvalidConfig, match="does not exist"):
        samples_from_tardis(tmp_path / "missing.csv")
