"""Load a ccxt exchange's markets as Nautilus instruments with canonical keys."""

from __future__ import annotations

from typing import Any

from nautilus_trader.common.component import Clock
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.core.correctness import PyCondition
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.ccxt.constants import INVERSE_AMOUNT_IN_QUOTE
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.adapters.ccxt.parsing.instruments import CCXT_SYMBOL_INFO
from nautilus_ext.adapters.ccxt.parsing.instruments import parse_market
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments.nautilus import CANONICAL_KEY_INFO
from nautilus_ext.instruments.registry import InstrumentRegistry


class CcxtInstrumentProvider(InstrumentProvider):
    """
    Provide Nautilus instruments from a ccxt exchange's markets.

    Parameters
    ----------
    exchange : ccxt.pro.Exchange
        The ccxt exchange (markets are loaded through it).
    venue : str
        The Nautilus venue name of fallback ids.
    venue_code : str
        The canonical-key venue code.
    config : InstrumentProviderConfig, optional
        Which instruments to load (``load_all`` or ``load_ids``).
    registry : InstrumentRegistry, optional
        Venue symbology for the instrument ids (the native adapters' ids when known).
    timeout_secs : float, default 30.0
        Upper bound on loading markets.
    clock : Clock, optional
        The clock stamping ``ts_init`` (the node's clock; a live clock by default).
    market_types : tuple[str, ...], optional
        Keep only markets of these ccxt types (``swap``, ``spot``): for exchanges whose ccxt
        ``fetchMarkets`` ignores the configured types; ``None`` keeps every market.
    """

    def __init__(
        self,
        exchange: Any,
        venue: str,
        venue_code: str,
        config: InstrumentProviderConfig | None = None,
        registry: InstrumentRegistry | None = None,
        timeout_secs: float = 30.0,
        clock: Clock | None = None,
        market_types: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(config=config)
        self._market_types = frozenset(market_types or ())
        self._clock = clock or LiveClock()
        self._exchange = exchange
        self._venue = venue
        self._venue_code = venue_code
        self._registry = registry
        self._timeout_secs = timeout_secs
        self._keys: dict[InstrumentId, InstrumentKey] = {}
        self._symbols: dict[InstrumentId, str] = {}
        self._by_symbol: dict[str, InstrumentId] = {}

    async def initialize(self, reload: bool = False) -> None:
        """
        Load the markets once (ccxt fetches every market in one call, so with neither
        ``load_all`` nor ``load_ids`` configured, everything is loaded).
        """
        if not self._load_all_on_start and self._load_ids_on_start is None:
            self._load_all_on_start = True
        await super().initialize(reload)

    async def load_all_async(self, filters: dict[str, Any] | None = None) -> None:
        """Load every modelled market (``filters['types']`` restricts ccxt market types)."""
        markets = await ccxt_call(
            lambda: self._exchange.load_markets(reload=True),
            venue=self._venue,
            operation="load_markets",
            timeout_secs=self._timeout_secs,
        )
        types = set((filters or {}).get("types") or []) or set(self._market_types)
        ts = self._clock.timestamp_ns()
        for market in markets.values():
            if types and market.get("type") not in types:
                continue
            instrument = parse_market(
                market,
                venue=self._venue,
                venue_code=self._venue_code,
                precision_mode=int(self._exchange.precisionMode),
                ts_init=ts,
                registry=self._registry,
                inverse_amount_in_quote=self._exchange.id in INVERSE_AMOUNT_IN_QUOTE,
            )
            if instrument is not None:
                self._register(instrument)

    async def load_ids_async(
        self,
        instrument_ids: list[InstrumentId],
        filters: dict[str, Any] | None = None,
    ) -> None:
        """Load the markets, keeping only ``instrument_ids``."""
        PyCondition.not_none(instrument_ids, "instrument_ids")
        await self.load_all_async(filters)
        wanted = set(instrument_ids)
        for instrument_id in list(self._instruments):
            if instrument_id not in wanted:
                self._instruments.pop(instrument_id)

    async def load_async(self, instrument_id: InstrumentId, filters: dict[str, Any] | None = None) -> None:
        """Load one instrument (all markets are fetched; ccxt has no per-market call)."""
        await self.load_ids_async([instrument_id], filters)

    def _register(self, instrument: Instrument) -> None:
        self.add(instrument)
        info = instrument.info or {}
        self._keys[instrument.id] = InstrumentKey.parse(str(info[CANONICAL_KEY_INFO]))
        symbol = str(info[CCXT_SYMBOL_INFO])
        self._symbols[instrument.id] = symbol
        self._by_symbol[symbol] = instrument.id

    def canonical_key(self, instrument_id: InstrumentId) -> InstrumentKey | None:
        """Return the canonical key of a loaded instrument."""
        return self._keys.get(instrument_id)

    def ccxt_symbol(self, instrument_id: InstrumentId) -> str | None:
        """Return ccxt's unified symbol of a loaded instrument."""
        return self._symbols.get(instrument_id)

    def instrument_id_for_symbol(self, symbol: str) -> InstrumentId | None:
        """Return the instrument id of a ccxt unified symbol."""
        return self._by_symbol.get(symbol)
