"""Helpers shared by the venue symbology rules (pure; no client code)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import InstrumentKey

# quote assets recognised at the end of a concatenated symbol (BTCUSDT), longest match first
QUOTES: Final = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")


def split_concat(symbol: str) -> tuple[str, str] | None:
    """Return ``(base, quote)`` of a concatenated symbol (``BTCUSDT`` -> ``BTC``, ``USDT``)."""
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return None


def make_key(
    spec: VenueSpec, t: InstrumentType, payload: str, suffix: str | None = None
) -> InstrumentKey | None:
    """Return the key on ``spec``'s venue, or ``None`` if the grammar refuses it."""
    try:
        return InstrumentKey(venue=spec.code, instrument_type=t, payload=payload, suffix=suffix)
    except InvalidInstrumentKey:
        return None


def option_letter(kind: OptionKind | None) -> str:
    """Return ``C`` for a call, ``P`` for a put."""
    return "C" if kind is OptionKind.CALL else "P"


def strike_text(value: Decimal | None) -> str:
    """Return a strike without exponent notation (``''`` when absent)."""
    return format(value, "f") if value is not None else ""


OPTION_KINDS: Final = {"C": "CALL", "P": "PUT"}
"""Venue option letters -> the canonical grammar's option kinds."""
