"""
Canonical keys of catalog instruments, stored in a sidecar table.

The catalog keeps ``<root>/nautilus_ext/instrument_keys.parquet``: one row per Nautilus
instrument id with its canonical key (``None`` with a reason when the grammar has no type for
the instrument, e.g. calendar spreads or horse-racing markets). ``catalog info`` lists it.

Keys come from ``nautilus_ext.adapters.symbology.key_for_instrument`` when that module is
available and accepts the instrument; otherwise from the local derivation below.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey

KEYS_FILE: Final = "nautilus_ext/instrument_keys.parquet"
KEYS_SCHEMA: Final = pa.schema(
    [
        pa.field("instrument_id", pa.string(), nullable=False),
        pa.field("instrument_key", pa.string()),
        pa.field("instrument_class", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("note", pa.string()),
    ],
    metadata={b"nautilus_ext.schema": b"instrument_keys", b"nautilus_ext.version": b"1"},
)
_BETFAIR_TYPES: Final = {
    "MATCH_ODDS": InstrumentType.MATCH_WINNER,
    "OVER_UNDER_25": InstrumentType.TOTAL_GOALS_OU_2_5,
    "BOTH_TEAMS_TO_SCORE": InstrumentType.BTTS,
}
_FOOTBALL_EVENT_TYPE: Final = "1"
CANONICAL_KEY_INFO: Final = "canonical_key"  # same info key as nautilus_ext.instruments.nautilus
_REGISTRY: Any = None


def _name(text: str) -> str:
    cleaned = re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)


def _venue(instrument: Any) -> str:
    return _name(instrument.id.venue.value).replace("_", "-") or "UNKNOWN"


def _strike(value: Any) -> str:
    d = Decimal(str(value)).normalize()
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def registry() -> Any:
    """Return the default InstrumentRegistry (loaded once), or ``None`` if it cannot load."""
    global _REGISTRY
    if _REGISTRY is None:
        try:
            from nautilus_ext.instruments.registry import InstrumentRegistry

            _REGISTRY = InstrumentRegistry.default()
        except Exception:  # the registry or its YAML may be mid-edit: fall back to local rules
            _REGISTRY = False
    return _REGISTRY or None


def _lead_key(instrument: Any) -> InstrumentKey | None:
    reg = registry()
    if reg is None:
        return None
    try:
        from nautilus_ext.adapters.symbology import key_for_instrument
    except ImportError:
        return None
    try:
        key: InstrumentKey = key_for_instrument(instrument, reg)
    except (InvalidInstrumentKey, ValueError, KeyError, AttributeError, TypeError):
        return None
    return key


def derive_key(instrument: Any) -> tuple[InstrumentKey | None, str | None]:
    """
    Return ``(key, None)`` for a Nautilus instrument, or ``(None, reason)`` if it has none.
    """
    info = getattr(instrument, "info", None) or {}
    known = info.get(CANONICAL_KEY_INFO)
    if isinstance(known, str):
        try:
            return InstrumentKey.parse(known), None
        except InvalidInstrumentKey as e:
            return None, f"info[{CANONICAL_KEY_INFO!r}] is invalid: {e.message}"
    lead = _lead_key(instrument)
    if lead is not None:
        return lead, None
    cls = type(instrument).__name__
    try:
        if cls == "BettingInstrument":
            return _betting_key(instrument)
        venue = _venue(instrument)
        if cls == "CurrencyPair":
            base, quote = instrument.base_currency.code, instrument.quote_currency.code
            return InstrumentKey(venue, InstrumentType.SPOT_PAIR, f"{base}-{quote}"), None
        if cls == "CryptoPerpetual":
            base, quote = instrument.base_currency.code, instrument.quote_currency.code
            suffix = "INV" if instrument.is_inverse else "LIN"
            return InstrumentKey(venue, InstrumentType.PERPETUAL, f"{base}-{quote}", suffix), None
        if cls in ("FuturesContract", "CryptoFuture", "OptionContract"):
            expiry = datetime.fromtimestamp(instrument.expiration_ns / 1e9, tz=UTC)
            yymmdd = expiry.strftime("%y%m%d")
            quote = instrument.quote_currency.code
            if cls == "CryptoFuture":
                base = instrument.underlying.code
            else:
                base = _name(instrument.underlying).replace("-", "") or instrument.raw_symbol.value
            suffix = "INV" if instrument.is_inverse else "LIN"
            if cls == "OptionContract":
                kind = "CALL" if instrument.option_kind.name == "CALL" else "PUT"
                payload = f"{base}-{quote}-{yymmdd}-{_strike(instrument.strike_price)}-{kind}"
                return InstrumentKey(venue, InstrumentType.OPTION, payload, suffix), None
            return InstrumentKey(venue, InstrumentType.FUTURE, f"{base}-{quote}-{yymmdd}", suffix), None
        if cls == "Equity":
            symbol = _name(instrument.raw_symbol.value).replace("-", "")
            payload = f"{symbol}-{instrument.quote_currency.code}"
            return InstrumentKey(venue, InstrumentType.EQUITY, payload), None
    except InvalidInstrumentKey as e:
        return None, f"cannot form a canonical key: {e.message}"
    return None, f"the canonical grammar has no instrument type for {cls}"


def _betting_key(instrument: Any) -> tuple[InstrumentKey | None, str | None]:
    market_type = str(instrument.market_type)
    itype = _BETFAIR_TYPES.get(market_type)
    if str(instrument.event_type_id) != _FOOTBALL_EVENT_TYPE or itype is None:
        return None, (
            f"Betfair market type {market_type!r} of event type "
            f"{instrument.event_type_name!r} has no canonical type (football MATCH_ODDS, "
            "OVER_UNDER_25 and BOTH_TEAMS_TO_SCORE only)"
        )
    from nautilus_ext.instruments.enums import AssetClass

    kickoff = datetime.fromtimestamp(instrument.market_start_time.timestamp(), tz=UTC)
    league = _name(instrument.competition_name) or "UNKNOWN"
    fixture = _name(re.sub(r"\s+v(s)?\s+", " - ", instrument.event_name, flags=re.I))
    payload = f"{league}:{kickoff.strftime('%Y%m%dT%H%M')}:{fixture}"
    return InstrumentKey("BETFAIR", itype, payload, asset_class=AssetClass.FOOTBALL), None


def read_keys(target: CatalogTarget) -> pa.Table:
    """
    Return the sidecar table (empty with :data:`KEYS_SCHEMA` if absent).

    Raises
    ------
    InvalidConfig
        If the sidecar exists but cannot be read as the keys table.
    """
    fs = target.filesystem()
    path = target.join(KEYS_FILE)
    if not fs.exists(path):
        return KEYS_SCHEMA.empty_table()
    try:
        return pq.read_table(path, filesystem=fs).cast(KEYS_SCHEMA)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise InvalidConfig(
            f"catalog {target.uri}: corrupt instrument-keys file {path} ({_short(str(e))})",
            details={"file": path},
        ) from e


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def upsert_keys(target: CatalogTarget, rows: list[dict[str, Any]]) -> pa.Table:
    """Merge rows into the sidecar by ``instrument_id`` (new rows win); write it atomically."""
    import uuid

    merged = {r["instrument_id"]: r for r in read_keys(target).to_pylist()}
    for r in rows:
        merged[r["instrument_id"]] = r
    table = pa.Table.from_pylist([merged[k] for k in sorted(merged)], schema=KEYS_SCHEMA)
    fs = target.filesystem()
    path = target.join(KEYS_FILE)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    pq.write_table(table, tmp, filesystem=fs)
    fs.mv(tmp, path)
    return table


__all__ = ["KEYS_FILE", "KEYS_SCHEMA", "derive_key", "read_keys", "upsert_keys"]
