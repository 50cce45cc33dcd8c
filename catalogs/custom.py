"""
Custom catalog data: Tardis ``derivative_ticker`` rows (funding, open interest, mark/index).

:class:`TardisDerivativeTicker` is a NautilusTrader ``Data`` subclass registered for Arrow
through ``nautilus_trader.model.custom.customdataclass``; the Python ``ParquetDataCatalog``
stores it under ``data/custom_tardis_derivative_ticker/<instrument id>/`` and a backtest can
subscribe to it as custom data. Numbers are kept as the exact decimal text from the source
(``None`` where Tardis left the field empty); the ``*_decimal`` helpers return ``Decimal``.
"""

from decimal import Decimal

import pyarrow as pa
from nautilus_trader.core.data import Data
from nautilus_trader.model.custom import customdataclass
from nautilus_trader.model.identifiers import InstrumentId


@customdataclass
class TardisDerivativeTicker(Data):  # type: ignore[misc]
    """
    One Tardis derivative ticker update.

    Parameters
    ----------
    instrument_id : InstrumentId
        The Nautilus instrument id.
    funding_rate, predicted_funding_rate : str, optional
        Current and predicted funding rate (fractions per funding interval), exact text.
    open_interest : str, optional
        Open interest in contracts (venue units), exact text.
    last_price, index_price, mark_price : str, optional
        Prices, exact text.
    funding_timestamp : int, optional
        Next funding time (UNIX ns), if the venue publishes it.
    """

    instrument_id: InstrumentId = InstrumentId.from_str("UNSET.UNSET")
    funding_rate: str | None = None
    predicted_funding_rate: str | None = None
    open_interest: str | None = None
    last_price: str | None = None
    index_price: str | None = None
    mark_price: str | None = None
    funding_timestamp: int | None = None

    # Explicit schema: customdataclass cannot derive nullable fields from ``X | None``.
    _schema = pa.schema(
        {
            "instrument_id": pa.string(),
            "funding_rate": pa.string(),
            "predicted_funding_rate": pa.string(),
            "open_interest": pa.string(),
            "last_price": pa.string(),
            "index_price": pa.string(),
            "mark_price": pa.string(),
            "funding_timestamp": pa.int64(),
            "type": pa.string(),
            "ts_event": pa.int64(),
            "ts_init": pa.int64(),
        },
    )

    def decimal(self, name: str) -> Decimal | None:
        """Return a numeric field (``"mark_price"``...) as a ``Decimal`` (``None`` if absent)."""
        value = getattr(self, name)
        return None if value is None else Decimal(value)


__all__ = ["TardisDerivativeTicker"]
