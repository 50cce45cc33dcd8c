"""Per-venue normalisation of ccxt funding payloads (interval, sign, OI, volume)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import NANOS_PER_HOUR
from nautilus_ext.funding.normalise import funding_venue
from nautilus_ext.funding.normalise import history_intervals
from nautilus_ext.funding.normalise import interval_hours_of
from nautilus_ext.funding.normalise import open_interest_from_ccxt
from nautilus_ext.funding.normalise import sample_from_ccxt
from nautilus_ext.funding.normalise import to_decimal
from nautilus_ext.funding.normalise import volume_from_ticker

TS = 1_796_000_000_000_000_000


@pytest.mark.parametrize(
    ("rate", "extra", "hours"),
    [
        ({"info": {"fundingIntervalHour": "4"}, "interval": "8h"}, None, Decimal(4)),  # Bybit ticker wins
        ({"info": {}, "interval": None}, {"fundingIntervalHours": 4}, Decimal(4)),  # Binance fundingInfo
        ({"info": {}, "interval": "8h"}, None, Decimal(8)),  # ccxt (OKX: next - current)
        ({"info": {}, "interval": "1h"}, None, Decimal(1)),  # Hyperliquid
        ({"info": {}, "interval": "30m"}, None, Decimal(30) / Decimal(60)),
        ({"info": {}, "interval": None}, None, None),  # Binance premiumIndex: says nothing
        ({"info": {"fundingIntervalHour": "0"}, "interval": "bogus"}, None, None),
    ],
)
def test_interval_comes_from_the_payload(rate: dict, extra: dict | None, hours: Decimal | None) -> None:
    assert interval_hours_of(rate, extra) == hours


def test_missing_interval_falls_back_to_the_venue_convention() -> None:
    binance = sample_from_ccxt(
        venue="BINANCE",
        instrument_key="BINANCE-USDM:PERPETUAL:BTC-USDT@LIN",
        base="BTC",
        quote="USDT",
        rate={"fundingRate": 0.0001, "interval": None, "info": {}, "fundingTimestamp": 1_796_025_600_000},
        ts_ns=TS,
    )
    hyperliquid = sample_from_ccxt(
        venue="HYPERLIQUID",
        instrument_key="HYPERLIQUID:PERPETUAL:BTC-USDC@LIN",
        base="BTC",
        quote="USDC",
        rate={"fundingRate": 1.25e-05, "interval": None, "info": {}, "markPrice": 0.0},
        ts_ns=TS,
    )
    assert (binance.interval_hours, hyperliquid.interval_hours) == (Decimal(8), Decimal(1))
    assert binance.rate == Decimal("0.0001")  # the venue's decimal text, exactly
    assert hyperliquid.rate == Decimal("0.0000125")
    assert binance.rate_per_hour == hyperliquid.rate_per_hour
    assert binance.next_funding_ns == 1_796_025_600_000 * 1_000_000
    assert hyperliquid.mark_price is None  # a zero mark is "not given", not a price
    assert hyperliquid.quote == "USDC"


def test_a_payload_without_a_rate_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="no fundingRate"):
        sample_from_ccxt(
            venue="OKX",
            instrument_key="OKX:PERPETUAL:BTC-USDT@LIN",
            base="BTC",
            quote="USDT",
            rate={"fundingRate": None},
            ts_ns=TS,
        )


def test_an_implausible_rate_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="not plausible"):
        sample_from_ccxt(
            venue="OKX",
            instrument_key="OKX:PERPETUAL:BTC-USDT@LIN",
            base="BTC",
            quote="USDT",
            rate={"fundingRate": 3.0},
            ts_ns=TS,
        )


def test_unknown_exchange_has_no_convention() -> None:
    with pytest.raises(InvalidConfig, match="no recorded funding convention"):
        funding_venue("kraken")
    assert funding_venue("binanceusdm") == "BINANCE"


def test_okx_volume_is_base_times_last_and_others_use_quote_volume() -> None:
    okx = {"info": {"volCcy24h": "120.5", "last": "50000"}, "quoteVolume": None}
    assert volume_from_ticker("okx", okx) == Decimal("6025000.0")
    assert volume_from_ticker("binanceusdm", {"info": {}, "quoteVolume": 1234.5}) == Decimal("1234.5")
    assert volume_from_ticker("bybit", {"info": {"turnover24h": "99"}, "quoteVolume": 1.0}) == Decimal(99)
    assert volume_from_ticker("binanceusdm", {"info": {}, "baseVolume": 2.0, "last": 10.0}) == Decimal("20.0")


def test_open_interest_in_contracts_becomes_base_units() -> None:
    assert open_interest_from_ccxt({"openInterestAmount": 10000.0}, Decimal("0.01")) == Decimal("100.00")
    assert open_interest_from_ccxt({"openInterestAmount": None, "baseVolume": 3.0}, Decimal(1)) == Decimal(
        "3.0"
    )


def test_history_intervals_survive_a_missing_settlement() -> None:
    h = NANOS_PER_HOUR
    times = [0, 8 * h, 24 * h, 32 * h]  # the 16 h settlement is missing
    assert history_intervals(times, Decimal(8)) == [Decimal(8)] * 4
    assert history_intervals([0], Decimal(4)) == [Decimal(4)]
    assert history_intervals([0, 90 * 60 * 10**9], Decimal(8)) == [Decimal(8), Decimal(8)]  # 1.5 h: not whole


@pytest.mark.parametrize(
    ("value", "out"),
    [
        ("0.1", Decimal("0.1")),
        (1e-05, Decimal("0.00001")),
        ("", None),
        (None, None),
        ("x", None),
        (float("nan"), None),
        (True, None),
    ],
)
def test_to_decimal(value: object, out: Decimal | None) -> None:
    assert to_decimal(value) == out
