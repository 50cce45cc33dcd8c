"""
Betfair symbology: market types and sports of the canonical grammar, market keys from Betfair's
fields, and NautilusTrader's betting instrument ids (``<market>-<selection>-<handicap>``).
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Final

from nautilus_trader.adapters.betfair.parsing.common import betfair_instrument_id
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.instruments.betting import null_handicap
from nautilus_trader.model.objects import Quantity

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import AssetClass
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.nautilus import invalid_key
from nautilus_ext.instruments.nautilus import slug
from nautilus_ext.instruments.registry import InstrumentRegistry

MARKET_TYPES: Final = {
    "MATCH_ODDS": (InstrumentType.MATCH_WINNER, None),
    "MONEY_LINE": (InstrumentType.MATCH_WINNER, None),
    "BOTH_TEAMS_TO_SCORE": (InstrumentType.BTTS, None),
    "OVER_UNDER_25": (InstrumentType.TOTAL_GOALS_OU_2_5, "2.5"),
    "WIN": (InstrumentType.WIN, None),
}
"""Betfair market types -> (canonical instrument type, suffix)."""

SPORTS: Final = {
    "1": AssetClass.FOOTBALL,
    "2": AssetClass.TENNIS,
    "4": AssetClass.CRICKET,
    "7": AssetClass.HORSE_RACING,
    "7522": AssetClass.BASKETBALL,
}
"""Betfair event type ids -> canonical sports."""


def format_symbol(key: InstrumentKey, spec: VenueSpec, attrs: InstrumentAttributes | None) -> str | None:
    """Betting ids need a selection: see :func:`betting_instrument_id`."""
    return None


def parse_symbol(symbol: str, spec: VenueSpec, registry: InstrumentRegistry) -> InstrumentKey | None:
    """Return the registered market of a betting instrument id, or ``None``."""
    # betfair_instrument_id: <market id with '-' for '.'>-<selection id>-<handicap>
    m = re.fullmatch(r"(\d+)-(\d+)-\d+-.+", symbol)
    return registry.key_for_betfair_market(f"{m.group(1)}.{m.group(2)}") if m is not None else None


def betting_instrument_id(
    key: InstrumentKey, attrs: InstrumentAttributes | None, selection: str | None
) -> InstrumentId:
    """
    Return the Nautilus id of one selection of a registered betting market.

    Raises
    ------
    InvalidInstrumentKey
        If the market is not registered with a Betfair market id, or the selection is unknown.
    """
    if attrs is None or attrs.betfair_market_id is None:
        raise invalid_key(key, "betting markets need a registry entry with betfair_market_id")
    if selection is None:
        raise invalid_key(key, f"a selection is required (one of {', '.join(sorted(attrs.selections))})")
    selection_id = attrs.selections.get(selection.upper())
    if selection_id is None:
        raise invalid_key(
            key, f"unknown selection {selection!r} (one of {', '.join(sorted(attrs.selections))})"
        )
    return betfair_instrument_id(attrs.betfair_market_id, selection_id, None)


def _fixture(event_name: str) -> str:
    # seed 000 writes fixtures with '-' everywhere: BAYERN-MUNICH-BORUSSIA-DORTMUND
    teams = re.split(r"\s+(?:v|vs|@|-)\s+", event_name.strip(), maxsplit=1, flags=re.IGNORECASE)
    return "-".join(slug(t, "-") for t in teams)


def betting_market_key(
    *,
    event_type_id: str,
    market_type: str,
    country_code: str,
    competition_name: str,
    event_name: str,
    market_start_time: datetime,
) -> InstrumentKey:
    """
    Return the canonical market key from Betfair market fields.

    The league is ``<COUNTRY>-<COMPETITION>`` (``GB-PREMIER_LEAGUE``), or ``<COUNTRY>-<SPORT>``
    when the stream carries no competition; the fixture is the event name with teams joined
    by ``-``; kickoff is the market start time in UTC.

    Raises
    ------
    InvalidInstrumentKey
        If the market type or sport has no canonical form.
    """
    if market_type not in MARKET_TYPES and not re.fullmatch(r"OVER_UNDER_\d5", market_type):
        raise InvalidInstrumentKey(f"Betfair market type {market_type!r} has no canonical type")
    if market_type in MARKET_TYPES:
        t, suffix = MARKET_TYPES[market_type]
    else:
        digits = market_type.removeprefix("OVER_UNDER_")
        t, suffix = InstrumentType.TOTAL_GOALS, f"{digits[:-1]}.{digits[-1]}"
    asset_class = SPORTS.get(event_type_id)
    if asset_class is None:
        raise InvalidInstrumentKey(f"Betfair event type {event_type_id!r} has no canonical sport")
    league_name = slug(competition_name) if competition_name.strip() else asset_class.value
    league = f"{slug(country_code) if country_code.strip() else 'INTL'}-{league_name}"
    kickoff = market_start_time.astimezone(UTC).strftime("%Y%m%dT%H%M")
    fixture = _fixture(event_name) if event_name.strip() else "UNKNOWN"
    return InstrumentKey(
        venue="BETFAIR",
        instrument_type=t,
        payload=f"{league}:{kickoff}:{fixture}",
        suffix=suffix,
        asset_class=asset_class,
    )


def betting_key(instrument: BettingInstrument) -> InstrumentKey:
    """Return the canonical market key of a Nautilus betting instrument (from its own fields)."""
    return betting_market_key(
        event_type_id=str(instrument.event_type_id),
        market_type=instrument.market_type,
        country_code=instrument.event_country_code,
        competition_name=instrument.competition_name,
        event_name=instrument.event_name,
        market_start_time=instrument.market_start_time,
    )


def build_betting(
    attrs: InstrumentAttributes,
    iid: InstrumentId,
    selection: str | None,
    p_prec: int,
    s_prec: int,
    min_qty: Quantity | None,
    ts_init: int,
    info: dict[str, Any],
) -> BettingInstrument:
    """Return the ``BettingInstrument`` of one selection of a registered market."""
    key = attrs.instrument_key
    if selection is None or attrs.betfair_market_id is None or key.kickoff is None or key.league is None:
        raise invalid_key(key, "betting instruments need a selection and a betfair_market_id")
    event_type = {v: k for k, v in SPORTS.items()}.get(key.asset_class or AssetClass.FOOTBALL, "1")
    market_type = {v[0]: k for k, v in reversed(MARKET_TYPES.items())}.get(
        key.instrument_type, f"OVER_UNDER_{str(key.goal_line).replace('.', '')}"
    )
    country, _, competition = key.league.partition("-")
    return BettingInstrument(
        venue_name="BETFAIR",
        event_type_id=int(event_type),
        event_type_name=(key.asset_class or AssetClass.FOOTBALL).value.title(),
        competition_id=0,
        competition_name=competition.replace("_", " ").title(),
        event_id=0,
        event_name=attrs.event_name or (key.fixture or "").replace("-", " v ", 1),
        event_country_code=country,
        event_open_date=key.kickoff,
        betting_type="ODDS",
        market_id=attrs.betfair_market_id,
        market_name=market_type.replace("_", " ").title(),
        market_start_time=key.kickoff,
        market_type=market_type,
        selection_id=attrs.selections[selection.upper()],
        selection_name=selection.upper(),
        currency="GBP",
        selection_handicap=null_handicap(),
        price_precision=p_prec,
        size_precision=s_prec,
        ts_event=ts_init,
        ts_init=ts_init,
        min_quantity=min_qty,
        info=info,
    )
