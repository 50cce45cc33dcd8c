"""Normalised funding records: interval normalisation, APR, sign convention, validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding import FundingRateSample
from nautilus_ext.funding import convention_for
from nautilus_ext.funding import funding_payment
from nautilus_ext.funding import normalise_rate

TS = 1_735_689_600 * 1_000_000_000  # 2025-01-01T00:00:00Z


def _sample(**overrides: object) -> FundingRateSample:
    fields: dict[str, object] = {
        "venue": "BINANCE",
        "instrument_key": "BINANCE:PERPETUAL:BTC-USDT@LIN",
        "base": "BTC",
        "quote": "USDT",
        "rate": Decimal("0.0001"),
        "interval_hours": Decimal(8),
        "ts_ns": TS,
    }
    fields.update(overrides)
    return FundingRateSample(**fields)  # type: ignore[arg-type]


def test_an_8h_rate_and_an_hourly_rate_compare_per_hour() -> None:
    binance = _sample(rate=Decimal("0.0008"), interval_hours=Decimal(8))
    hyperliquid = _sample(
        venue="HYPERLIQUID",
        instrument_key="HYPERLIQUID:PERPETUAL:BTC-USDC@LIN",
        quote="USDC",
        rate=Decimal("0.0001"),
        interval_hours=Decimal(1),
    )
    assert binance.rate_per_hour == hyperliquid.rate_per_hour == Decimal("0.0001")
    assert binance.apr == Decimal("0.876")


def test_a_4h_symbol_is_not_read_as_8h() -> None:
    assert _sample(interval_hours=Decimal(4)).rate_per_hour == Decimal("0.000025")


def test_payment_sign_longs_pay_shorts_when_positive() -> None:
    assert funding_payment(Decimal(2), Decimal(50_000), Decimal("0.0001")) == Decimal("-10.0000")
    assert funding_payment(Decimal(-2), Decimal(50_000), Decimal("0.0001")) == Decimal("10.0000")
    assert funding_payment(Decimal(2), Decimal(50_000), Decimal("-0.0001")) == Decimal("10.0000")


def test_every_known_venue_has_longs_pay_when_positive() -> None:
    for venue in ("BINANCE", "BYBIT", "OKX", "HYPERLIQUID", "DERIBIT", "paradex"):
        assert normalise_rate(venue, Decimal("0.0003")) == Decimal("0.0003")


def test_unknown_venue_convention_is_refused() -> None:
    with pytest.raises(InvalidConfig) as info:
        convention_for("NOWHERE")
    assert info.value.code is ErrorCode.INVALID_CONFIG
    assert "NOWHERE" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("interval_hours", Decimal(0)),
        ("interval_hours", Decimal(-8)),
        ("rate", Decimal("NaN")),
        ("rate", Decimal("Infinity")),
        ("rate", Decimal(2)),
        ("rate", 0.0001),
        ("ts_ns", TS * 1000),  # picoseconds: year 56,000
        ("ts_ns", TS // 1_000_000),  # milliseconds read as nanoseconds: 1970
        ("next_funding_ns", 1),
        ("mark_price", Decimal(-1)),
        ("open_interest", Decimal("NaN")),
        ("venue", "binance"),
    ],
)
def test_each_rule_can_fail(field: str, value: object) -> None:
    with pytest.raises(InvalidConfig) as info:
        _sample(**{field: value})
    assert field in str(info.value) or "venue" in str(info.value)
