"""
Continuous futures series straight from a ``ParquetDataCatalog`` (Databento CME data).

:func:`continuous_from_catalog` reads the catalog's ``FuturesContract`` definitions, resolves a
front-month key over time (:class:`~nautilus_ext.tradfi.front.FrontMonthResolver`), queries the
quotes, trades or bars of exactly the contracts the schedule names, and splices and adjusts
them (:func:`~nautilus_ext.tradfi.continuous.build_continuous`). The math lives in
``nautilus_ext.tradfi``; this module only reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.tradfi.continuous import Adjustment
from nautilus_ext.tradfi.continuous import ContinuousSeries
from nautilus_ext.tradfi.continuous import build_continuous
from nautilus_ext.tradfi.continuous import price_points
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.front import InstrumentContractProvider
from nautilus_ext.tradfi.rolls import RollCalendar

DATA_KINDS: Final = ("quotes", "trades", "bars")


def continuous_from_catalog(
    catalog: str | Path,
    front_key: str | InstrumentKey,
    start_ns: int,
    end_ns: int,
    method: Adjustment | str = Adjustment.BACK,
    *,
    data: str = "quotes",
    bar_spec: str = "1-MINUTE-LAST-EXTERNAL",
    calendar: RollCalendar | None = None,
) -> ContinuousSeries:
    """
    Build a continuous series of ``front_key`` over ``[start_ns, end_ns]`` from a catalog.

    Parameters
    ----------
    catalog : str or Path
        A local Python ``ParquetDataCatalog`` (e.g. built by ``nautilus-ext catalog build databento``).
    front_key : str or InstrumentKey
        A front-month key (``CME:FUTURE:SP500-USD-FRONT@LIN``).
    start_ns, end_ns : int
        The span, UNIX ns.
    method : Adjustment or str
        ``BACK``, ``RATIO`` or ``NONE``.
    data : {"quotes", "trades", "bars"}
        Which prices: quote mids, trade prices or bar closes.
    bar_spec : str
        The bar specification when ``data="bars"`` (Databento ohlcv-1m: ``1-MINUTE-LAST-EXTERNAL``).
    calendar : RollCalendar, optional
        The roll rules (default: ``configs/tradfi/rolls.yaml``).

    Raises
    ------
    InvalidConfig
        If ``data`` or ``method`` is unknown, the span is empty, or a roll lacks prices.
    InvalidInstrumentKey
        If the key is not a front-month key of a root with roll rules, or no contract of the
        catalog is live over the span.
    """
    from nautilus_trader.model.data import Bar
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    if data not in DATA_KINDS:
        raise InvalidConfig(f"data must be one of {', '.join(DATA_KINDS)}, got {data!r}")
    if end_ns < start_ns:
        raise InvalidConfig("the span is empty: end_ns is before start_ns")
    try:
        adjustment = Adjustment(str(method).upper())
    except ValueError:
        raise InvalidConfig(f"method must be BACK, RATIO or NONE, got {method!r}") from None
    key = front_key if isinstance(front_key, InstrumentKey) else InstrumentKey.parse(front_key)
    rolls = calendar or RollCalendar.default()
    store = ParquetDataCatalog(str(catalog))
    resolver = FrontMonthResolver(rolls, InstrumentContractProvider(rolls, store.instruments()))
    schedule = resolver.schedule(key, start_ns, end_ns)
    ids = sorted({c.instrument_id for _, c in schedule})
    if data == "quotes":
        rows = store.query(QuoteTick, identifiers=ids, start=start_ns, end=end_ns)
    elif data == "trades":
        rows = store.query(TradeTick, identifiers=ids, start=start_ns, end=end_ns)
    else:
        bar_types = [f"{i}-{bar_spec}" for i in ids]
        rows = store.query(Bar, identifiers=bar_types, start=start_ns, end=end_ns)
    return build_continuous(
        price_points(rows), [(t, c.instrument_id) for t, c in schedule], adjustment, end_ns=end_ns
    )


__all__ = ["DATA_KINDS", "continuous_from_catalog"]
