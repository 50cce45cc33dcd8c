"""
Custom catalog data: Tardis ``derivative_ticker`` rows (funding, open interest, mark/index).

:class:`TardisDerivativeTicker` is a NautilusTrader ``Data`` subclass registered for Arrow
through ``nautilus_trader.model.custom.customdataclass``; the Python ``ParquetDataCatalog``
stores it under ``data/custom_tardis_derivative_ticker/<instrument id>/`` and a backtest can
subscribe to it as custom data. Numbers are kept as the exact decimal text from the source
(``None`` where Tardis left the field empty); the ``*_decimal`` helpers return ``Decimal``.
"""

from decimal import Decimal
from typing import Any

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


@customdataclass
class DexPoolState(Data):  # type: ignore[misc]
    """
    A DEX pool's state after the last event of a block (one snapshot per block that changed it).

    Integers wider than 64 bits are kept as decimal text. :meth:`pool_state` rebuilds the exact
    pure-math state (:class:`~nautilus_ext.dex.V2PoolState` or :class:`~nautilus_ext.dex.V3PoolState`).

    Parameters
    ----------
    instrument_id : InstrumentId
        The pool's pair instrument.
    pool : str
        Pool address (lower-case hex).
    kind : str
        ``"V2"`` or ``"V3"``.
    block_number : int
        The block the state is after.
    base_fee_wei : int
        The block's ``baseFeePerGas`` (0 when unknown).
    reserve0, reserve1 : str
        V2 reserves in base units ("0" for V3).
    sqrt_price_x96, liquidity : str
        V3 ``slot0.sqrtPriceX96`` and in-range liquidity ("0" for V2).
    tick, fee_pips, tick_spacing, fee_protocol : int
        V3 ``slot0.tick``, fee tier, tick spacing, ``slot0.feeProtocol`` (V2: fee_pips 3000).
    ticks : str
        V3 initialized ticks since pool creation, ``index:liquidityNet:liquidityGross`` joined by ``;``.
    decimals0, decimals1 : int
        Token decimals.
    base_is_token0 : bool
        Whether the instrument's base asset is token0.
    """

    instrument_id: InstrumentId = InstrumentId.from_str("UNSET.UNSET")
    pool: str = ""
    kind: str = "V3"
    block_number: int = 0
    base_fee_wei: int = 0
    reserve0: str = "0"
    reserve1: str = "0"
    sqrt_price_x96: str = "0"
    liquidity: str = "0"
    tick: int = 0
    fee_pips: int = 3000
    tick_spacing: int = 60
    fee_protocol: int = 0
    ticks: str = ""
    decimals0: int = 18
    decimals1: int = 18
    base_is_token0: bool = True

    def pool_state(self) -> Any:
        """Return the pure-math pool state (``V2PoolState`` or ``V3PoolState``)."""
        from nautilus_ext.dex.uniswap_v2 import V2PoolState
        from nautilus_ext.dex.uniswap_v3 import V3PoolState
        from nautilus_ext.dex.uniswap_v3 import V3Tick

        if self.kind == "V2":
            if self.fee_pips == 3000:  # Uniswap V2's 997/1000
                return V2PoolState(int(self.reserve0), int(self.reserve1))
            return V2PoolState(int(self.reserve0), int(self.reserve1), 1_000_000 - self.fee_pips, 1_000_000)
        ticks = tuple(V3Tick(*(int(x) for x in part.split(":"))) for part in self.ticks.split(";") if part)
        return V3PoolState(
            sqrt_price_x96=int(self.sqrt_price_x96),
            tick=self.tick,
            liquidity=int(self.liquidity),
            fee_pips=self.fee_pips,
            tick_spacing=self.tick_spacing,
            ticks=ticks,
            fee_protocol=self.fee_protocol,
        )


__all__ = ["DexPoolState", "TardisDerivativeTicker"]
