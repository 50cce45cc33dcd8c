"""
Canonical keys <-> Interactive Brokers contracts for CME Group futures and futures options.

``CME:FUTURE:SP500-USD-241220@LIN`` is IB's ``Contract(secType="FUT", symbol="ES",
exchange="CME", lastTradeDateOrContractMonth="20241220", multiplier="50", tradingClass="ES")``;
``CME:OPTION:SP500-USD-241220-4500-CALL@LIN`` the ``FOP`` with ``strike=4500``, ``right="C"``.
The key's date is the contract's last trade date (as in ``configs/instruments``), sent to IB as
the full ``YYYYMMDD``; IB also accepts a contract month, which :func:`to_ib_contract` sends when
asked (``by_month=True``), e.g. when only the month of a key is known to be right.

The canonical venue is ``CME`` (the CME Group: the registry's venue code); the IB exchange
(``CME``, ``CBOT``, ``NYMEX``, ``COMEX``) comes from the root. Pure: no IB client is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Final

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import InstrumentKey

CANONICAL_VENUE: Final = "CME"
IB_EXCHANGES: Final = frozenset({"CME", "CBOT", "NYMEX", "COMEX"})
MIC_BY_EXCHANGE: Final = {"CME": "XCME", "CBOT": "XCBT", "NYMEX": "XNYM", "COMEX": "XCEC"}
"""IB exchange -> the MIC NautilusTrader's IB adapter uses as venue (``convert_exchange_to_mic_venue``)."""


@dataclass(frozen=True)
class IBRoot:
    """One futures root at IB: symbol, trading class, exchange and contract multiplier."""

    symbol: str
    trading_class: str
    exchange: str
    multiplier: str
    option_trading_class: str | None = None  # the quarterly options' trading class, if listed


ROOTS: Final = {
    "SP500": IBRoot("ES", "ES", "CME", "50", "ES"),
    "NASDAQ100": IBRoot("NQ", "NQ", "CME", "20", "NQ"),
    "RUSSELL2000": IBRoot("RTY", "RTY", "CME", "50"),
    "EURUSD": IBRoot("EUR", "6E", "CME", "125000"),
    "WTI": IBRoot("CL", "CL", "NYMEX", "1000", "LO"),
    "GOLD": IBRoot("GC", "GC", "COMEX", "100", "OG"),
    "ZN": IBRoot("ZN", "ZN", "CBOT", "1000", "OZN"),
}
"""Canonical base asset -> IB root (the bases are the venue config's ``root_aliases``)."""


@dataclass(frozen=True)
class IBContractSpec:
    """The IB contract fields of one listed future or futures option."""

    sec_type: str  # FUT or FOP
    symbol: str
    exchange: str
    last_trade_date_or_contract_month: str
    multiplier: str
    trading_class: str
    currency: str = "USD"
    strike: Decimal | None = None
    right: str = ""  # C / P for FOP
    local_symbol: str = ""
    con_id: int = 0


def _root_for(key: InstrumentKey) -> IBRoot:
    base = key.base_asset or ""
    root = ROOTS.get(base)
    if root is None:
        raise InvalidInstrumentKey(
            f"{key}: no Interactive Brokers root for {base!r} (known: {', '.join(sorted(ROOTS))})"
        )
    return root


def to_ib_contract(key: InstrumentKey | str, *, by_month: bool = False) -> IBContractSpec:
    """
    Return the IB contract of a CME Group future or futures option key.

    Raises
    ------
    InvalidInstrumentKey
        If the key is not a ``CME`` future/option in USD with a known root.
    """
    k = InstrumentKey.parse(key) if isinstance(key, str) else key
    if k.venue != CANONICAL_VENUE:
        raise InvalidInstrumentKey(f"{k}: Interactive Brokers futures keys are on venue {CANONICAL_VENUE}")
    if k.instrument_type not in (InstrumentType.FUTURE, InstrumentType.OPTION):
        raise InvalidInstrumentKey(f"{k}: only FUTURE and OPTION keys map to IB futures contracts")
    if k.quote_asset != "USD":
        raise InvalidInstrumentKey(f"{k}: CME contracts are quoted in USD, not {k.quote_asset}")
    root = _root_for(k)
    expiry = k.expiry_date
    assert expiry is not None  # the grammar requires it for FUTURE/OPTION
    month = f"{expiry:%Y%m}" if by_month else f"{expiry:%Y%m%d}"
    if k.instrument_type is InstrumentType.FUTURE:
        return IBContractSpec("FUT", root.symbol, root.exchange, month, root.multiplier, root.trading_class)
    if root.option_trading_class is None:
        raise InvalidInstrumentKey(f"{k}: no options on {k.base_asset} in this mapping")
    return IBContractSpec(
        "FOP",
        root.symbol,
        root.exchange,
        month,
        root.multiplier,
        root.option_trading_class,
        strike=k.strike,
        right="C" if k.option_kind is OptionKind.CALL else "P",
    )


def _strike_text(strike: Decimal) -> str:
    text = format(strike.normalize(), "f")
    return text


def from_ib_contract(
    sec_type: str,
    symbol: str,
    exchange: str,
    last_trade_date: str,
    trading_class: str = "",
    strike: float | Decimal | None = None,
    right: str = "",
    currency: str = "USD",
) -> InstrumentKey:
    """
    Return the canonical key of an IB future (``FUT``) or futures option (``FOP``).

    ``last_trade_date`` must be a full ``YYYYMMDD`` (IB's contract details carry it; a month
    alone names no key). ``exchange`` may be IB's or its MIC (``XCME``).

    Raises
    ------
    InvalidInstrumentKey
        If the contract is not a CME Group future/option of a known root.
    """
    exch = {mic: ib for ib, mic in MIC_BY_EXCHANGE.items()}.get(exchange, exchange)
    if exch not in IB_EXCHANGES:
        raise InvalidInstrumentKey(f"IB exchange {exchange!r} is not a CME Group exchange")
    day = last_trade_date.split(" ")[0]
    if len(day) != 8 or not day.isdigit():
        raise InvalidInstrumentKey(f"IB last trade date {last_trade_date!r} is not YYYYMMDD")
    expiry = datetime.strptime(day, "%Y%m%d").date()
    base = _base_for(sec_type, symbol, trading_class, exch)
    yymmdd = f"{expiry:%y%m%d}"
    if sec_type == "FUT":
        return InstrumentKey.parse(f"{CANONICAL_VENUE}:FUTURE:{base}-{currency}-{yymmdd}@LIN")
    if sec_type == "FOP":
        if strike is None or right not in ("C", "P", "CALL", "PUT"):
            raise InvalidInstrumentKey(f"IB FOP {symbol} {day}: strike and right C/P are required")
        kind = "CALL" if right.startswith("C") else "PUT"
        strike_text = _strike_text(Decimal(str(strike)))
        return InstrumentKey.parse(
            f"{CANONICAL_VENUE}:OPTION:{base}-{currency}-{yymmdd}-{strike_text}-{kind}@LIN"
        )
    raise InvalidInstrumentKey(f"IB secType {sec_type!r}: only FUT and FOP map to CME keys")


def _base_for(sec_type: str, symbol: str, trading_class: str, exchange: str) -> str:
    for base, root in ROOTS.items():
        if root.exchange != exchange:
            continue
        classes = {root.trading_class} | ({root.option_trading_class} if root.option_trading_class else set())
        if symbol == root.symbol and (not trading_class or trading_class in classes):
            return base
        if sec_type == "FUT" and trading_class == root.trading_class:
            return base
    raise InvalidInstrumentKey(f"IB contract {symbol}/{trading_class} on {exchange}: unknown root")


def last_trade_date(spec: IBContractSpec) -> date | None:
    """Return the spec's last trade date when it names a day (``None`` for a month)."""
    text = spec.last_trade_date_or_contract_month
    return datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else None
