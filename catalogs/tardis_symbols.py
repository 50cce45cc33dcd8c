"""
Tardis exchange/symbol -> canonical key, Nautilus instrument id and contract terms.

Tardis CSV files carry no instrument definitions, so the builder creates the instruments from
the exchange name and symbol. The Nautilus symbols follow NautilusTrader's own adapters (and
``nautilus_ext.instruments.attributes.Symbology``): Binance USD-M perpetuals are
``BTCUSDT-PERP.BINANCE``, Bybit linear perpetuals ``BTCUSDT-LINEAR.BYBIT``, OKX swaps
``BTC-USDT-SWAP.OKX``, Deribit ``BTC-PERPETUAL.DERIBIT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey

# Quote assets tried longest first when a symbol has no separator (BTCUSDT).
_QUOTES: Final = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB")
_BASE_ALIASES: Final = {"XBT": "BTC"}
_FUTURE_SUFFIX_RE: Final = re.compile(r"^(?P<pair>[A-Z0-9]+)_(?P<expiry>[0-9]{6})$")


@dataclass(frozen=True, slots=True)
class TardisSymbol:
    """
    How one Tardis ``(exchange, symbol)`` maps to our keys and Nautilus.

    Parameters
    ----------
    exchange, symbol : str
        As written in the CSV's first two columns.
    key : InstrumentKey
        The canonical key.
    nautilus_venue, nautilus_symbol : str
        The Nautilus instrument id parts.
    base, quote, settle : str
        Contract currencies.
    inverse : bool
        Whether the contract is inverse (margined in the base asset).
    expiry : date, optional
        Expiry date of a dated future.
    """

    exchange: str
    symbol: str
    key: InstrumentKey
    nautilus_venue: str
    nautilus_symbol: str
    base: str
    quote: str
    settle: str
    inverse: bool
    expiry: date | None = None

    @property
    def instrument_id(self) -> str:
        """Return the Nautilus instrument id text (``BTCUSDT-PERP.BINANCE``)."""
        return f"{self.nautilus_symbol}.{self.nautilus_venue}"


def _split_concat(text: str, exchange: str, symbol: str) -> tuple[str, str]:
    for quote in _QUOTES:
        if text.endswith(quote) and len(text) > len(quote):
            base = text[: -len(quote)]
            return _BASE_ALIASES.get(base, base), quote
    raise InvalidConfig(
        f"Tardis symbol {symbol!r} on {exchange!r}: cannot split into base and quote",
        details={"exchange": exchange, "symbol": symbol},
    )


def _perp(
    exchange: str,
    symbol: str,
    venue_code: str,
    nautilus_venue: str,
    nautilus_symbol: str,
    base: str,
    quote: str,
    *,
    inverse: bool,
) -> TardisSymbol:
    key = InstrumentKey(
        venue=venue_code,
        instrument_type=InstrumentType.PERPETUAL,
        payload=f"{base}-{quote}",
        suffix="INV" if inverse else "LIN",
    )
    return TardisSymbol(
        exchange=exchange,
        symbol=symbol,
        key=key,
        nautilus_venue=nautilus_venue,
        nautilus_symbol=nautilus_symbol,
        base=base,
        quote=quote,
        settle=base if inverse else quote,
        inverse=inverse,
    )


def _spot(
    exchange: str,
    symbol: str,
    venue_code: str,
    nautilus_venue: str,
    nautilus_symbol: str,
    base: str,
    quote: str,
) -> TardisSymbol:
    key = InstrumentKey(venue=venue_code, instrument_type=InstrumentType.SPOT_PAIR, payload=f"{base}-{quote}")
    return TardisSymbol(
        exchange=exchange,
        symbol=symbol,
        key=key,
        nautilus_venue=nautilus_venue,
        nautilus_symbol=nautilus_symbol,
        base=base,
        quote=quote,
        settle=quote,
        inverse=False,
    )


def resolve_tardis_symbol(exchange: str, symbol: str) -> TardisSymbol:
    """
    Return the mapping for a Tardis ``(exchange, symbol)``.

    Supported exchanges: binance, binance-futures, binance-delivery, bybit, bybit-spot, okex,
    okex-swap, deribit (perpetuals), bitmex (perpetuals), huobi-dm-swap,
    huobi-dm-linear-swap.

    Raises
    ------
    InvalidConfig
        If the exchange is not supported or the symbol does not fit the exchange's format.
    """
    ex = exchange.strip().lower()
    sym = symbol.strip().upper()
    if ex == "binance":
        base, quote = _split_concat(sym, ex, symbol)
        return _spot(ex, symbol, "BINANCE-SPOT", "BINANCE", sym, base, quote)
    if ex == "binance-futures":
        m = _FUTURE_SUFFIX_RE.match(sym)
        if m:
            base, quote = _split_concat(m["pair"], ex, symbol)
            yymmdd = m["expiry"]
            expiry = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
            key = InstrumentKey(
                venue="BINANCE-FUTURES",
                instrument_type=InstrumentType.FUTURE,
                payload=f"{base}-{quote}-{yymmdd}",
                suffix="LIN",
            )
            return TardisSymbol(
                exchange=ex,
                symbol=symbol,
                key=key,
                nautilus_venue="BINANCE",
                nautilus_symbol=sym,
                base=base,
                quote=quote,
                settle=quote,
                inverse=False,
                expiry=expiry,
            )
        base, quote = _split_concat(sym, ex, symbol)
        return _perp(ex, symbol, "BINANCE-FUTURES", "BINANCE", f"{sym}-PERP", base, quote, inverse=False)
    if ex == "binance-delivery" and sym.endswith("_PERP"):
        base, quote = _split_concat(sym[: -len("_PERP")], ex, symbol)
        return _perp(ex, symbol, "BINANCE-DELIVERY", "BINANCE", sym, base, quote, inverse=True)
    if ex == "bybit":
        base, quote = _split_concat(sym, ex, symbol)
        inverse = quote == "USD"
        suffix = "INVERSE" if inverse else "LINEAR"
        return _perp(ex, symbol, "BYBIT", "BYBIT", f"{sym}-{suffix}", base, quote, inverse=inverse)
    if ex == "bybit-spot":
        base, quote = _split_concat(sym, ex, symbol)
        return _spot(ex, symbol, "BYBIT", "BYBIT", f"{sym}-SPOT", base, quote)
    if ex in ("okex", "okex-swap", "huobi-dm-swap", "huobi-dm-linear-swap"):
        parts = sym.split("-")
        if ex == "okex" and len(parts) == 2:
            return _spot(ex, symbol, "OKX", "OKX", sym, parts[0], parts[1])
        if ex == "okex-swap" and len(parts) == 3 and parts[2] == "SWAP":
            inverse = parts[1] == "USD"
            return _perp(ex, symbol, "OKX", "OKX", sym, parts[0], parts[1], inverse=inverse)
        if ex.startswith("huobi") and len(parts) == 2:
            inverse = ex == "huobi-dm-swap"
            venue = "HUOBI-DM-SWAP" if inverse else "HUOBI-DM-LINEAR-SWAP"
            return _perp(ex, symbol, venue, "HUOBI", sym, parts[0], parts[1], inverse=inverse)
    if ex == "deribit" and sym.endswith("-PERPETUAL") and "_" not in sym:
        base = sym[: -len("-PERPETUAL")]
        return _perp(ex, symbol, "DERIBIT", "DERIBIT", sym, base, "USD", inverse=True)
    if ex == "bitmex" and re.fullmatch(r"[A-Z0-9]+USD", sym):
        base = _BASE_ALIASES.get(sym[:-3], sym[:-3])
        return _perp(ex, symbol, "BITMEX", "BITMEX", sym, base, "USD", inverse=True)
    raise InvalidConfig(
        f"Tardis exchange/symbol {exchange!r}/{symbol!r} is not supported by the catalog builder",
        details={"exchange": exchange, "symbol": symbol},
    )


__all__ = ["TardisSymbol", "resolve_tardis_symbol"]
