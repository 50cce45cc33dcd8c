"""Funding rates and mark prices for a backtest's strategy, from Tardis derivative-ticker rows."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import MarkPriceUpdate

from nautilus_ext.backtest.perp_data import perp_updates

IID = "BTCUSDT-PERP.BINANCE"


def _row(ts: int, rate: str | None, mark: str | None, iid: str = IID) -> dict[str, object]:
    return {
        "instrument_id": iid,
        "ts_event": ts,
        "ts_init": ts + 5,
        "funding_rate": rate,
        "funding_timestamp": 28_800_000_000_000,
        "mark_price": mark,
    }


def test_each_row_gives_its_mark_then_its_funding_rate() -> None:
    rows = [
        _row(1, "0.0001", "60000.1"),
        _row(2, None, "60000.2"),
        _row(3, "-0.00002", None),
        _row(4, "1", "1", "X.Y"),
    ]
    updates = perp_updates(rows, {IID: 1})
    assert [type(u) for u in updates] == [
        MarkPriceUpdate,
        FundingRateUpdate,
        MarkPriceUpdate,
        FundingRateUpdate,
    ]
    mark, rate = updates[0], updates[1]
    assert (mark.value.as_decimal(), mark.ts_event, mark.ts_init) == (Decimal("60000.1"), 1, 6)
    assert (rate.rate, rate.next_funding_ns, rate.ts_init) == (Decimal("0.0001"), 28_800_000_000_000, 6)
    assert updates[3].rate == Decimal("-0.00002")


def test_kinds_select_what_is_fed() -> None:
    rows = [_row(1, "0.0001", "60000.1")]
    assert [type(u) for u in perp_updates(rows, {IID: 1}, ["funding_rates"])] == [FundingRateUpdate]
    assert [type(u) for u in perp_updates(rows, {IID: 1}, ["mark_prices"])] == [MarkPriceUpdate]
