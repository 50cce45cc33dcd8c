"""
Messages adapters publish for the layers above them (bottom layer: imports only Nautilus).

Adapters sit below the execution service and the safety layer and never import them; what an
adapter tells those layers travels on the message bus as one of the types below, and what the
layers need to know about a client is a capability the client declares. Both live here, next
to :mod:`nautilus_ext.errors`, so either side can import them.

* :class:`VenuePositionSnapshot` on ``nautilus_ext.venue_positions.<VENUE>``: the venue's own
  view of positions (:func:`publish_venue_positions` builds and publishes one).
* :class:`FillGap` on ``nautilus_ext.fill_gaps.<VENUE>``: fills a venue reports but the adapter
  can never deliver.
* :class:`ForcedReduction` on ``nautilus_ext.forced_reductions.<VENUE>``: a position the venue
  closed by its own hand (auto-deleveraging or liquidation), as the venue reported it.
* :class:`VenueMargin` on ``nautilus_ext.venue_margin.<VENUE>``: the account's margin balance,
  maintenance margin, position notional and liquidation prices as the venue reports them.
* :class:`FundingPaymentReport` on ``nautilus_ext.funding_payments.<VENUE>``: a funding payment
  the account received or paid, from the venue's own funding history.
* :class:`PublishesVenuePositions`: an execution client that publishes snapshots itself (the
  safety layer polls only the others).
* :class:`FundingCollected` on ``nautilus_ext.funding_collected.<VENUE>``: a funding payment a
  strategy booked (positive received, negative paid).
* :class:`HealthFactorUpdate` on ``nautilus_ext.health_factor.<ACCOUNT>``: a lending account's
  health factor (AAVE-style; below 1 is liquidatable).

The operator's metrics exporter (:mod:`nautilus_ext.operator`) listens to these topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import ClassVar
from typing import Final
from typing import Protocol
from typing import runtime_checkable

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue

FEED_STATUS_TOPIC: Final = "nautilus_ext.feed_status.*"
VENUE_POSITIONS_TOPIC: Final = "nautilus_ext.venue_positions.*"
FILL_GAPS_TOPIC: Final = "nautilus_ext.fill_gaps.*"
FUNDING_COLLECTED_TOPIC: Final = "nautilus_ext.funding_collected.*"
HEALTH_FACTOR_TOPIC: Final = "nautilus_ext.health_factor.*"
FORCED_REDUCTIONS_TOPIC: Final = "nautilus_ext.forced_reductions.*"
VENUE_MARGIN_TOPIC: Final = "nautilus_ext.venue_margin.*"
FUNDING_PAYMENTS_TOPIC: Final = "nautilus_ext.funding_payments.*"


@dataclass(frozen=True)
class VenuePositionSnapshot:
    """
    The venue's own view of positions (a REST poll or a WebSocket push), published by an adapter.

    Published on ``nautilus_ext.venue_positions.<VENUE>``. ``positions`` holds every instrument
    the publisher is responsible for, flat ones as zero, so a position closed behind the
    system's back shows as a mismatch.

    Parameters
    ----------
    venue : str
        The venue.
    positions : dict[InstrumentId, Decimal]
        Signed position per instrument (positive long, negative short).
    ts_ns : int
        When the venue reported it (node clock).
    source : str
        ``"rest"`` (a snapshot) or ``"ws"`` (a position event).
    """

    venue: str
    positions: dict[InstrumentId, Decimal]
    ts_ns: int
    source: str = "rest"


@dataclass(frozen=True)
class FillGap:
    """
    Fills a venue reports but the adapter can never deliver, published by an adapter.

    Published on ``nautilus_ext.fill_gaps.<VENUE>``. Venues without a per-account fill sequence
    (Bybit's execution ``seq`` is a cross sequence shared by all accounts, not a counter of
    one account's fills) show a lost fill as an order the venue reports filled beyond the
    fills it lists; the adapter publishes that here and the gate enters SAFE mode.

    Parameters
    ----------
    venue : str
        The venue.
    instrument_id : InstrumentId
        The instrument.
    client_order_id : str
        The order with the missing fills.
    venue_filled : Decimal
        The filled quantity the venue reports for the order.
    seen_filled : Decimal
        The filled quantity of the fills the adapter could obtain.
    ts_ns : int
        When the gap was detected (node clock).
    """

    venue: str
    instrument_id: InstrumentId
    client_order_id: str
    venue_filled: Decimal
    seen_filled: Decimal
    ts_ns: int


@dataclass(frozen=True)
class ForcedReduction:
    """
    A position the venue reduced by its own hand, published by an adapter.

    Published on ``nautilus_ext.forced_reductions.<VENUE>`` when the venue reports an execution
    that no order of ours caused: auto-deleveraging (Bybit ``execType`` ``AdlTrade``, Binance
    client id ``adl_autoclose``) or liquidation (Bybit ``BustTrade``/``CreateByLiq``, Binance
    ``autoclose-`` client ids and order type ``LIQUIDATION``).

    Parameters
    ----------
    venue : str
        The venue.
    instrument_id : InstrumentId
        The instrument.
    kind : str
        ``"ADL"`` or ``"LIQUIDATION"``.
    side : str
        ``"BUY"`` or ``"SELL"``: the side of the venue's closing execution.
    quantity : Decimal
        The quantity the venue closed (0 when the message did not say).
    price : Decimal | None
        The execution price, when reported.
    venue_order_id : str
        The venue's id of its closing order (messages are deduplicated by it).
    ts_ns : int
        When it was received (node clock).
    """

    venue: str
    instrument_id: InstrumentId
    kind: str
    side: str
    quantity: Decimal
    price: Decimal | None
    venue_order_id: str
    ts_ns: int


def forced_reduction_topic(venue: str) -> str:
    """Return the topic :class:`ForcedReduction` messages of ``venue`` are published on."""
    return f"nautilus_ext.forced_reductions.{venue}"


@dataclass(frozen=True)
class VenueMargin:
    """
    The account's margin at a venue as the venue reports it, published by an adapter.

    Published on ``nautilus_ext.venue_margin.<VENUE>``. ``margin_ratio`` (equity over position
    notional) is what seed 003's warning and urgent thresholds compare.

    Parameters
    ----------
    venue : str
        The venue.
    equity : Decimal
        The margin balance: wallet balance plus unrealised PnL, in the settlement currency.
    maintenance_margin : Decimal
        The venue's maintenance margin of the account (liquidation when equity falls to it).
    notional : Decimal
        The absolute value of the positions at the mark.
    liquidation_prices : dict[InstrumentId, Decimal]
        The venue's liquidation price of each position it reports one for.
    marks : dict[InstrumentId, Decimal]
        The venue's mark price of each position.
    ts_ns : int
        When it was received (node clock).
    """

    venue: str
    equity: Decimal
    maintenance_margin: Decimal
    notional: Decimal
    liquidation_prices: dict[InstrumentId, Decimal]
    marks: dict[InstrumentId, Decimal]
    ts_ns: int

    @property
    def margin_ratio(self) -> Decimal | None:
        """Return equity over notional (None without positions)."""
        return self.equity / self.notional if self.notional > 0 else None

    @property
    def maintenance_ratio(self) -> Decimal | None:
        """Return the maintenance margin over notional (None without positions)."""
        return self.maintenance_margin / self.notional if self.notional > 0 else None


def venue_margin_topic(venue: str) -> str:
    """Return the topic :class:`VenueMargin` messages of ``venue`` are published on."""
    return f"nautilus_ext.venue_margin.{venue}"


@dataclass(frozen=True)
class FundingPaymentReport:
    """
    A funding payment from the venue's funding history, published by an adapter.

    Published on ``nautilus_ext.funding_payments.<VENUE>`` (each payment once per adapter run;
    consumers deduplicate across runs). ``amount`` is signed as a cash flow of the account:
    positive received, negative paid, whatever the venue's own sign convention.

    Parameters
    ----------
    venue : str
        The venue.
    instrument_id : InstrumentId
        The perpetual the payment was for.
    amount : Decimal
        Received (> 0) or paid (< 0), in ``currency``.
    currency : str
        The settlement currency.
    rate : Decimal | None
        The funding rate applied, when the venue reports it.
    ts_ns : int
        The funding time, UNIX ns.
    payment_id : str
        The venue's id of the payment.
    """

    venue: str
    instrument_id: InstrumentId
    amount: Decimal
    currency: str
    rate: Decimal | None
    ts_ns: int
    payment_id: str


def funding_payments_topic(venue: str) -> str:
    """Return the topic :class:`FundingPaymentReport` messages of ``venue`` are published on."""
    return f"nautilus_ext.funding_payments.{venue}"


def fill_gap_topic(venue: str) -> str:
    """Return the topic :class:`FillGap` messages of ``venue`` are published on."""
    return f"nautilus_ext.fill_gaps.{venue}"


def venue_positions_topic(venue: str) -> str:
    """Return the topic :class:`VenuePositionSnapshot` messages of ``venue`` are published on."""
    return f"nautilus_ext.venue_positions.{venue}"


def watched_instruments(cache: Cache, venue: Venue) -> set[InstrumentId]:
    """Return the instruments of ``venue`` with orders or positions in ``cache`` (what a snapshot covers)."""
    watched = {o.instrument_id for o in cache.orders(venue=venue)}
    watched |= {p.instrument_id for p in cache.positions(venue=venue)}
    return watched


def publish_venue_positions(
    msgbus: MessageBus,
    venue: Venue,
    watched: set[InstrumentId],
    reported: dict[InstrumentId, Decimal],
    ts_ns: int,
) -> VenuePositionSnapshot:
    """
    Publish the venue's positions on ``nautilus_ext.venue_positions.<VENUE>`` and return them.

    Every watched instrument is included, flat ones as zero, so a position closed or opened
    behind the system's back shows as a mismatch.
    """
    snapshot = VenuePositionSnapshot(
        venue=venue.value,
        positions={**dict.fromkeys(watched, Decimal(0)), **reported},
        ts_ns=ts_ns,
        source="rest",
    )
    msgbus.publish(venue_positions_topic(venue.value), snapshot)
    return snapshot


@runtime_checkable
class PublishesVenuePositions(Protocol):
    """
    The capability of an execution client that publishes :class:`VenuePositionSnapshot` itself.

    A client declares it with the class attribute ``publishes_venue_positions = True``; the
    safety layer then leaves its positions alone instead of polling them.
    """

    publishes_venue_positions: ClassVar[bool]


def publishes_venue_positions(client: Any) -> bool:
    """Return whether ``client`` declared that it publishes its venue's positions itself."""
    return getattr(type(client), "publishes_venue_positions", False) is True


@dataclass(frozen=True)
class FundingCollected:
    """
    A funding payment a strategy booked on a perpetual position.

    Published on ``nautilus_ext.funding_collected.<VENUE>``.

    Parameters
    ----------
    venue : str
        The venue that settled it.
    instrument_key : str
        The perpetual's canonical instrument key.
    amount : Decimal
        Signed amount: positive received, negative paid.
    currency : str
        The settlement currency.
    ts_ns : int
        The funding time, UNIX ns.
    strategy_id : str, optional
        The strategy holding the position.
    """

    venue: str
    instrument_key: str
    amount: Decimal
    currency: str
    ts_ns: int
    strategy_id: str | None = None


@dataclass(frozen=True)
class HealthFactorUpdate:
    """
    A lending account's health factor (collateral x liquidation threshold / debt).

    Published on ``nautilus_ext.health_factor.<ACCOUNT>``.

    Parameters
    ----------
    account : str
        The account (address or name).
    protocol : str
        The lending protocol (``AAVE_V3``...).
    health_factor : Decimal
        The health factor (below 1 the position can be liquidated).
    ts_ns : int
        When it was read, UNIX ns.
    """

    account: str
    protocol: str
    health_factor: Decimal
    ts_ns: int


def funding_collected_topic(venue: str) -> str:
    """Return the topic :class:`FundingCollected` messages of ``venue`` are published on."""
    return f"nautilus_ext.funding_collected.{venue}"


def health_factor_topic(account: str) -> str:
    """Return the topic :class:`HealthFactorUpdate` messages of ``account`` are published on."""
    return f"nautilus_ext.health_factor.{account}"


__all__ = [
    "FEED_STATUS_TOPIC",
    "FILL_GAPS_TOPIC",
    "FORCED_REDUCTIONS_TOPIC",
    "FUNDING_COLLECTED_TOPIC",
    "FUNDING_PAYMENTS_TOPIC",
    "HEALTH_FACTOR_TOPIC",
    "VENUE_MARGIN_TOPIC",
    "VENUE_POSITIONS_TOPIC",
    "FillGap",
    "ForcedReduction",
    "FundingCollected",
    "FundingPaymentReport",
    "HealthFactorUpdate",
    "PublishesVenuePositions",
    "VenueMargin",
    "VenuePositionSnapshot",
    "fill_gap_topic",
    "forced_reduction_topic",
    "funding_collected_topic",
    "funding_payments_topic",
    "health_factor_topic",
    "publish_venue_positions",
    "publishes_venue_positions",
    "venue_margin_topic",
    "venue_positions_topic",
    "watched_instruments",
]
