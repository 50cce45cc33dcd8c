"""
Funding rates and mark prices for strategies in a backtest, from the catalog's Tardis tickers.

A strategy that trades funding (the funding carry) subscribes to ``FundingRateUpdate`` and
``MarkPriceUpdate``, as it does in LIVE. A catalog built from Tardis holds them as
``derivative_ticker`` rows (:class:`~nautilus_ext.catalogs.custom.TardisDerivativeTicker`); the
``data:`` kinds ``funding_rates`` and ``mark_prices`` of a backtest YAML turn each row into
those Nautilus types (:func:`perp_updates`), added to the engine beside the books. The mark of a
row comes before its funding rate at the same time, so a strategy pricing a settlement sees the
mark of that instant (the settlement module prices with the last mark at or before it too).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

FUNDING_KINDS: Final = ("funding_rates", "mark_prices")
"""The ``data:`` kinds derived from the catalog's derivative tickers (not read as catalog types)."""


def ticker_rows(
    catalog: str, instrument_ids: Iterable[str], start_ns: int, end_ns: int
) -> list[dict[str, Any]]:
    """Return the derivative-ticker rows of ``instrument_ids`` with ``start_ns <= ts_init <= end_ns``."""
    import pyarrow.dataset as ds

    from nautilus_ext.catalogs.build import _folder
    from nautilus_ext.catalogs.custom import TardisDerivativeTicker

    root = Path(catalog) / "data" / _folder(TardisDerivativeTicker)
    rows: list[dict[str, Any]] = []
    columns = ["instrument_id", "ts_event", "ts_init", "funding_rate", "funding_timestamp", "mark_price"]
    for iid in instrument_ids:
        folder = root / iid
        if not folder.is_dir():
            continue
        table = ds.dataset(str(folder), format="parquet").to_table(columns=columns)
        rows.extend(r for r in table.to_pylist() if start_ns <= int(r["ts_init"]) <= end_ns)
    rows.sort(key=lambda r: (int(r["ts_init"]), str(r["instrument_id"])))
    return rows


def perp_updates(
    rows: Iterable[dict[str, Any]], price_precisions: dict[str, int], kinds: Iterable[str] = FUNDING_KINDS
) -> list[Any]:
    """
    Return ``MarkPriceUpdate`` and ``FundingRateUpdate`` objects for ticker ``rows`` (in order).

    ``price_precisions`` gives each instrument's price precision (marks are Nautilus prices);
    rows of other instruments are skipped. A row without a funding rate gives no funding update.
    """
    from nautilus_trader.model.data import FundingRateUpdate
    from nautilus_trader.model.data import MarkPriceUpdate
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price

    wanted = set(kinds)
    out: list[Any] = []
    for row in rows:
        iid_text = str(row["instrument_id"])
        if iid_text not in price_precisions:
            continue
        iid = InstrumentId.from_str(iid_text)
        ts_event, ts_init = int(row["ts_event"]), int(row["ts_init"])
        mark = row.get("mark_price")
        if "mark_prices" in wanted and mark not in (None, ""):
            price = Price(Decimal(str(mark)), precision=price_precisions[iid_text])
            out.append(MarkPriceUpdate(iid, price, ts_event, ts_init))
        rate = row.get("funding_rate")
        if "funding_rates" in wanted and rate not in (None, ""):
            next_ns = row.get("funding_timestamp")
            out.append(
                FundingRateUpdate(
                    iid,
                    Decimal(str(rate)),
                    ts_event,
                    ts_init,
                    next_funding_ns=None if next_ns is None else int(next_ns),
                )
            )
    return out


def add_perp_data(engine: Any, catalog: str, kinds: Iterable[str], start_ns: int, end_ns: int) -> int:
    """
    Add the funding rates and mark prices of the engine's instruments to ``engine``; return how many.

    The engine's data is sorted before the run (``BacktestNode`` sorts everything it loads).
    """
    precisions = {str(i.id): int(i.price_precision) for i in engine.cache.instruments()}
    updates = perp_updates(ticker_rows(catalog, precisions, start_ns, end_ns), precisions, kinds)
    if updates:
        engine.add_data(updates, sort=False)
    return len(updates)


__all__ = ["FUNDING_KINDS", "add_perp_data", "perp_updates", "ticker_rows"]
