"""
Position deltas from fills: what a fill really changed, on the venue and instrument that filled.

A strategy's ``expected_deltas`` are its estimate (a SPOT_PAIR order names no venue, and its
quote-currency amount is a guess at the price). A result reports what happened instead, one
fill at a time, on the canonical keys of the venue that filled (seed 000: SPOT_ASSET keys are
the positions):

==========================  ==========================================================
instrument that filled      deltas of one fill (``q`` signed: + bought, - sold)
==========================  ==========================================================
spot pair ``V:SPOT_PAIR:B-Q``  ``V:SPOT_ASSET:B`` ``+q``; ``V:SPOT_ASSET:Q`` ``-q * price``
equity, option              the instrument's key ``+q``; quote asset ``-q * price * multiplier``
perpetual, future           the instrument's key ``+q`` (margined: no cash moves at the fill)
bet (Betfair)               ``<market key>|<selection>`` ``+stake`` for BACK, ``-stake`` for LAY
==========================  ==========================================================

Every fill's fee is taken off ``V:SPOT_ASSET:<fee currency>`` (a negative fee, a rebate, adds).
Pure functions over :class:`PositionSpec`; :func:`position_spec` reads one from a Nautilus
instrument, and :class:`FillRecorder` turns a Nautilus ``OrderFilled`` into a
:class:`~nautilus_ext.execution.results.FillRecord` carrying its deltas.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.results import FillRecord
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry


@unique
class Settlement(StrEnum):
    """How a fill moves value between the instrument and the venue's assets."""

    EXCHANGE = "EXCHANGE"  # spot: base asset in, quote asset out (or the reverse)
    PREMIUM = "PREMIUM"  # equity, option: the position changes and the quote asset pays for it
    MARGIN = "MARGIN"  # perpetual, future: the position changes; no cash moves at the fill
    BET = "BET"  # a Betfair bet: the selection's stake (BACK +, LAY -)


@dataclass(frozen=True, slots=True)
class PositionSpec:
    """
    What a fill on one instrument changes.

    Parameters
    ----------
    position_key : str
        The key the position is held under (a spot pair's base ``SPOT_ASSET`` key).
    venue_key : InstrumentKey
        Any canonical key of the venue (its ``spot_asset`` names the venue's asset keys).
    quote : str
        The quote currency (what a spot or premium fill pays in).
    settlement : Settlement
        How the fill settles.
    multiplier : Decimal
        Contract multiplier (premium instruments).
    """

    position_key: str
    venue_key: InstrumentKey
    quote: str
    settlement: Settlement
    multiplier: Decimal = Decimal(1)

    def asset_key(self, asset: str) -> str:
        """Return the ``SPOT_ASSET`` key of ``asset`` on this venue."""
        return str(self.venue_key.spot_asset(asset))


def fill_deltas(
    spec: PositionSpec,
    *,
    buy: bool,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
    fee_currency: str | None,
) -> dict[str, Decimal]:
    """
    Return the position deltas of one fill (see the module docstring).

    Parameters
    ----------
    spec : PositionSpec
        The instrument that filled.
    buy : bool
        The fill's Nautilus side is BUY (for a bet: a LAY; NautilusTrader's BACK is a SELL).
    quantity : Decimal
        The fill quantity (positive; a bet's stake).
    price : Decimal
        The fill price (a bet's odds).
    fee : Decimal
        The commission, positive when paid.
    fee_currency : str, optional
        The commission's currency (None: no fee to book).
    """
    # a bet is long its selection when BACKed: NautilusTrader's SELL
    long = not buy if spec.settlement is Settlement.BET else buy
    signed = quantity if long else -quantity
    deltas: dict[str, Decimal] = {spec.position_key: signed}
    if spec.settlement is Settlement.EXCHANGE:
        quote = spec.asset_key(spec.quote)
        deltas[quote] = deltas.get(quote, Decimal(0)) - signed * price
    elif spec.settlement is Settlement.PREMIUM:
        quote = spec.asset_key(spec.quote)
        deltas[quote] = deltas.get(quote, Decimal(0)) - signed * price * spec.multiplier
    if fee and fee_currency:
        fee_key = spec.asset_key(fee_currency)
        deltas[fee_key] = deltas.get(fee_key, Decimal(0)) - fee
    return deltas


def add_deltas(into: dict[str, Decimal], deltas: dict[str, Decimal], sign: int = 1) -> None:
    """Add ``deltas`` (times ``sign``) into ``into`` in place."""
    for key, value in deltas.items():
        into[key] = into.get(key, Decimal(0)) + value * sign


def position_spec(instrument: Any, registry: InstrumentRegistry) -> PositionSpec:
    """
    Return the :class:`PositionSpec` of a Nautilus instrument.

    An instrument without a canonical key (not in the registry, no canonical form) is held
    under its Nautilus id on its Nautilus venue, so its fills are still reported, never dropped.
    """
    from nautilus_trader.model.instruments import BettingInstrument
    from nautilus_trader.model.instruments import CryptoOption
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.instruments import Equity
    from nautilus_trader.model.instruments import OptionContract

    quote = instrument.quote_currency.code
    try:
        key = key_for_instrument(instrument, registry)
    except NautilusExtError:
        key = None
    if key is None:
        venue_key = InstrumentKey.parse(f"{instrument.id.venue.value}:SPOT_ASSET:{quote}")
        position_key = str(instrument.id)
    else:
        venue_key = key
        position_key = str(key)
    if isinstance(instrument, CurrencyPair):
        base = instrument.base_currency.code
        return PositionSpec(str(venue_key.spot_asset(base)), venue_key, quote, Settlement.EXCHANGE)
    if isinstance(instrument, BettingInstrument):
        return PositionSpec(f"{position_key}|{instrument.selection_name}", venue_key, quote, Settlement.BET)
    if isinstance(instrument, Equity | OptionContract | CryptoOption):
        return PositionSpec(
            position_key, venue_key, quote, Settlement.PREMIUM, instrument.multiplier.as_decimal()
        )
    return PositionSpec(position_key, venue_key, quote, Settlement.MARGIN)


class FillRecorder:
    """
    Turn ``OrderFilled`` events into :class:`FillRecord` s with the deltas each fill made.

    Parameters
    ----------
    cache : Cache
        The node's cache (the instrument of each fill; its spec is read once per instrument).
    registry : InstrumentRegistry
        Canonical keys of the instruments.
    """

    def __init__(self, cache: Any, registry: InstrumentRegistry) -> None:
        self._cache = cache
        self._registry = registry
        self._specs: dict[Any, PositionSpec] = {}

    def spec(self, instrument_id: Any) -> PositionSpec | None:
        """Return the spec of a Nautilus instrument id (None when the cache does not hold it)."""
        spec = self._specs.get(instrument_id)
        if spec is None:
            inst = self._cache.instrument(instrument_id)
            if inst is None:
                return None
            spec = position_spec(inst, self._registry)
            self._specs[instrument_id] = spec
        return spec

    def record(self, event: Any) -> FillRecord:
        """
        Return the record of one fill, with its deltas on the venue and instrument that filled.

        A fill on an instrument the cache lacks (a Nautilus engine cannot fill one) carries no
        deltas and no venue, rather than someone else's.
        """
        spec = self.spec(event.instrument_id)
        price = event.last_px.as_decimal()
        qty = event.last_qty.as_decimal()
        fee = event.commission.as_decimal()
        fee_currency = event.commission.currency.code
        deltas = (
            {}
            if spec is None
            else fill_deltas(
                spec,
                buy=event.order_side.name == "BUY",
                quantity=qty,
                price=price,
                fee=fee,
                fee_currency=fee_currency,
            )
        )
        return FillRecord(
            ts_ns=event.ts_event,
            price=price,
            quantity=qty,
            fee=fee,
            fee_currency=fee_currency,
            trade_id=str(event.trade_id),
            liquidity=event.liquidity_side.name,
            deltas=deltas,
            venue=None if spec is None else spec.venue_key.venue,
            instrument_id=str(event.instrument_id),
        )
