"""
A Nautilus actor that writes the funding data a node streams into the store.

Where NautilusTrader's adapters stream funding (``FundingRateUpdate`` from Bybit tickers,
Binance ``markPrice`` streams, OKX ``funding-rate``, Hyperliquid asset contexts, and the ccxt
adapter's funding polls), :class:`FundingCollectorActor` subscribes to the funding rate, mark
price and index price of each configured perpetual, normalises every ``FundingRateUpdate`` into
a :class:`~nautilus_ext.funding.model.FundingRateSample` (interval from the update, else the
venue convention; the latest mark/index seen attached) and writes them in batches with
:meth:`FundingRepository.upsert_rates` (idempotent on the update's ``ts_event``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.funding.history import funding_venue_of_key_venue
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.instruments.nautilus import CANONICAL_KEY_INFO

_MINUTES_PER_HOUR = Decimal(60)


class FundingCollectorActorConfig(ActorConfig, frozen=True):
    """
    Configuration of :class:`FundingCollectorActor`.

    Parameters
    ----------
    instrument_ids : tuple[str, ...]
        The perpetuals whose funding to record (``BTCUSDT-PERP.BINANCE``).
    db_url : str, optional
        The store URL (default: ``$NAUTILUS_EXT_DB_URL``, else ``./nautilus_ext.db``).
    batch_size : int, default 100
        Samples buffered before a write (the rest is written on stop).
    """

    instrument_ids: tuple[str, ...] = ()
    db_url: str | None = None
    batch_size: int = 100

    def __post_init__(self) -> None:
        if not self.instrument_ids:
            raise InvalidConfig("FundingCollectorActorConfig.instrument_ids is empty")
        if self.batch_size <= 0:
            raise InvalidConfig(f"batch_size must be > 0, got {self.batch_size}")
        for text in self.instrument_ids:
            try:
                InstrumentId.from_str(text)
            except ValueError as e:
                raise InvalidConfig(f"not a NautilusTrader instrument id: {text!r} ({e})") from None


class FundingCollectorActor(Actor):  # type: ignore[misc]
    """
    Record streamed funding rates (with mark and index prices) into the store.

    Parameters
    ----------
    config : FundingCollectorActorConfig
        The perpetuals and the store.
    repository : FundingRepository, optional
        An open repository (default: opened from ``config.db_url`` on start).
    """

    def __init__(self, config: FundingCollectorActorConfig, repository: Any | None = None) -> None:
        super().__init__(config)
        self._instrument_ids = [InstrumentId.from_str(i) for i in config.instrument_ids]
        self._db_url = config.db_url
        self._batch_size = config.batch_size
        self.repository = repository
        self._marks: dict[InstrumentId, Decimal] = {}
        self._indexes: dict[InstrumentId, Decimal] = {}
        self._buffer: list[FundingRateSample] = []
        self.written = 0
        self.rejected = 0

    def on_start(self) -> None:
        """Open the store and subscribe to funding, mark and index of every perpetual."""
        if self.repository is None:
            from nautilus_ext.funding.store import FundingRepository
            from nautilus_ext.persistence import Database

            self.repository = FundingRepository(Database.open(self._db_url))
        for instrument_id in self._instrument_ids:
            self.subscribe_funding_rates(instrument_id)
            self.subscribe_mark_prices(instrument_id)
            self.subscribe_index_prices(instrument_id)

    def on_stop(self) -> None:
        """Write what is buffered."""
        self.flush()

    def on_mark_price(self, mark_price: MarkPriceUpdate) -> None:
        """Remember the latest mark price."""
        self._marks[mark_price.instrument_id] = mark_price.value.as_decimal()

    def on_index_price(self, index_price: IndexPriceUpdate) -> None:
        """Remember the latest index price."""
        self._indexes[index_price.instrument_id] = index_price.value.as_decimal()

    def on_funding_rate(self, funding_rate: FundingRateUpdate) -> None:
        """Normalise and buffer one funding update (written every ``batch_size``)."""
        try:
            sample = self._sample(funding_rate)
        except NautilusExtError as e:
            self.rejected += 1
            self.log.warning(f"Cannot record funding of {funding_rate.instrument_id}: {e}")
            return
        self._buffer.append(sample)
        if len(self._buffer) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the buffered samples."""
        if not self._buffer or self.repository is None:
            return
        batch, self._buffer = self._buffer, []
        self.written += self.repository.upsert_rates(batch)

    def _sample(self, update: FundingRateUpdate) -> FundingRateSample:
        iid = update.instrument_id
        instrument: Instrument | None = self.cache.instrument(iid)
        if instrument is None:
            raise InvalidConfig(f"instrument {iid} is not in the cache")
        key = (instrument.info or {}).get(CANONICAL_KEY_INFO) or self._key_of(instrument)
        venue = funding_venue_of_key_venue(str(key).split(":", 1)[0])
        minutes = update.interval
        hours = (
            Decimal(minutes) / _MINUTES_PER_HOUR if minutes else convention_for(venue).default_interval_hours
        )
        base = getattr(instrument, "base_currency", None)
        return FundingRateSample(
            venue=venue,
            instrument_key=str(key),
            base=(base.code if base is not None else instrument.id.symbol.value).upper(),
            quote=instrument.quote_currency.code.upper(),
            rate=normalise_rate(venue, Decimal(update.rate)),
            interval_hours=hours,
            ts_ns=update.ts_event,
            next_funding_ns=update.next_funding_ns or None,
            mark_price=self._marks.get(iid),
            index_price=self._indexes.get(iid),
            settled=False,
        )

    @staticmethod
    def _key_of(instrument: Instrument) -> str:
        base = getattr(instrument, "base_currency", None)
        if base is None:
            raise InvalidConfig(f"{instrument.id} has no base currency (not a perpetual)")
        suffix = "INV" if getattr(instrument, "is_inverse", False) else "LIN"
        venue = instrument.id.venue.value
        return f"{venue}:PERPETUAL:{base.code}-{instrument.quote_currency.code}@{suffix}"


__all__ = ["FundingCollectorActor", "FundingCollectorActorConfig"]
