"""
Paradex's SBE binary WebSocket frames (schema 1, version 3), for clients that connect with
``?sbeSchemaId=1&sbeSchemaVersion=3`` (ccxt 4.5.90's default).

Paradex publishes no SBE schema file in its public docs; the layout here is the one ccxt's
decoder reads (``ccxt/pro/paradex.py``: ``parse_sbe_*``): an 8-byte little-endian header
(block length, template id, schema id, version), a fixed block whose fields sit at absolute
frame offsets, repeating groups (``u16`` entry length, ``u16`` count) for book levels, then
``u8``-length-prefixed strings. Decimals are int64 mantissas with 8 decimals (the int64
minimum encodes "none"), timestamps int64 microseconds, addresses 32 big-endian bytes.
Bytes ccxt does not read are filled with the frame timestamp (offset 8) and sequence number
(offset 16), where the other templates keep them, and zeros elsewhere.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Final

SCHEMA_ID: Final = 1
SCHEMA_VERSION: Final = 3
_NULL_DECIMAL: Final = -(2**63)
_SCALE: Final = Decimal(10**8)
_SIDES: Final = {"BUY": 1, "SELL": 2}
_STATUSES: Final = {"NEW": 1, "UNTRIGGERED": 2, "OPEN": 3, "CLOSED": 4}
_TYPES: Final = {"LIMIT": 1, "MARKET": 2, "STOP_LIMIT": 3, "STOP_MARKET": 4}
_TIFS: Final = {"GTC": 1, "IOC": 2, "POST_ONLY": 3, "RPI": 4}
_STP: Final = {"NONE": 0, "EXPIRE_MAKER": 1, "EXPIRE_TAKER": 2, "EXPIRE_BOTH": 3}
_FILL_TYPES: Final = {"FILL": 1, "LIQUIDATION": 2}
_LIQUIDITY: Final = {"MAKER": 1, "TAKER": 2}
_POSITION_SIDES: Final = {"LONG": 1, "SHORT": 2}
_POSITION_STATUSES: Final = {"OPEN": 1, "CLOSED": 2}


class _Frame:
    """A fixed block being filled at absolute frame offsets (header included)."""

    def __init__(self, template_id: int, block_length: int) -> None:
        self.buf = bytearray(8 + block_length)
        struct.pack_into("<HHHH", self.buf, 0, block_length, template_id, SCHEMA_ID, SCHEMA_VERSION)
        self.tail = bytearray()

    def u8(self, offset: int, value: int) -> None:
        self.buf[offset] = value

    def i64(self, offset: int, value: int) -> None:
        struct.pack_into("<q", self.buf, offset, value)

    def decimal(self, offset: int, value: Any) -> None:
        try:
            mantissa = int(Decimal(str(value)) * _SCALE) if value not in (None, "") else _NULL_DECIMAL
        except InvalidOperation:
            mantissa = _NULL_DECIMAL
        self.i64(offset, mantissa)

    def micros(self, offset: int, ms: Any) -> None:
        self.i64(offset, int(ms) * 1000 if ms is not None else _NULL_DECIMAL)

    def address(self, offset: int, value: str) -> None:
        self.buf[offset : offset + 32] = int(value, 16).to_bytes(32, "big")

    def group(self, entries: list[tuple[Any, Any]]) -> None:
        self.tail += struct.pack("<HH", 16, len(entries))
        for price, size in entries:
            self.tail += struct.pack("<qq", int(Decimal(price) * _SCALE), int(Decimal(size) * _SCALE))

    def strings(self, *values: str) -> bytes:
        for value in values:
            raw = value.encode()
            self.tail += bytes([len(raw)]) + raw
        return bytes(self.buf + self.tail)


def _head(frame: _Frame, ts_ms: int, seq: int) -> None:
    frame.micros(8, ts_ms)
    frame.i64(16, seq)


def trade(data: dict[str, Any], seq: int) -> bytes:
    """Template 1: a public trade (``trades.<market>``)."""
    f = _Frame(1, 50)
    _head(f, data["created_at"], seq)
    f.u8(32, _SIDES[data["side"]])
    f.decimal(33, data["price"])
    f.decimal(41, data["size"])
    f.micros(49, data["created_at"])
    f.u8(57, 1)
    return f.strings(data["market"], str(data["id"]))


def order_book(data: dict[str, Any]) -> bytes:
    """Template 3: a book snapshot (``order_book.<market>.snapshot@15@100ms``)."""
    f = _Frame(3, 17)
    f.micros(8, data["last_updated_at"])
    f.i64(16, int(data["seq_no"]))
    f.u8(24, 0)
    inserts = data["inserts"]
    f.group([(i["price"], i["size"]) for i in inserts if i["side"] == "BUY"])
    f.group([(i["price"], i["size"]) for i in inserts if i["side"] == "SELL"])
    return f.strings(data["market"])


def market_summary(data: dict[str, Any], seq: int) -> bytes:
    """Template 4: a market summary (``markets_summary``)."""
    f = _Frame(4, 96)
    _head(f, data["created_at"], seq)
    f.decimal(24, data["mark_price"])
    f.decimal(32, data["underlying_price"])
    f.decimal(40, data["last_traded_price"])
    f.decimal(48, data["volume_24h"])
    f.decimal(56, data["open_interest"])
    f.decimal(64, data["funding_rate"])
    f.decimal(72, data["bid"])
    f.decimal(80, data["ask"])
    f.decimal(88, data["total_volume"])
    f.decimal(96, data["price_change_rate_24h"])
    return f.strings(data["symbol"])


def order(data: dict[str, Any]) -> bytes:
    """Template 20: an order update (``orders.<market>``)."""
    f = _Frame(20, 126)
    _head(f, data["timestamp"], int(data["seq_no"]))
    f.u8(24, _STATUSES[data["status"]])
    f.u8(25, _SIDES[data["side"]])
    f.u8(26, _TYPES[data["type"]])
    f.u8(27, _TIFS[data["instruction"]])
    f.decimal(28, data["price"])
    f.decimal(36, data["trigger_price"])
    f.decimal(44, data["size"])
    f.decimal(52, data["remaining_size"])
    f.decimal(60, data["avg_fill_price"])
    f.micros(68, data["created_at"])
    f.micros(76, data["last_updated_at"])
    f.address(84, data["account"])
    f.micros(116, data["received_at"])
    f.micros(124, data["published_at"])
    f.u8(132, _STP[data["stp"]])
    f.u8(133, 1 if "REDUCE_ONLY" in data["flags"] else 0)
    return f.strings(data["id"], data["client_id"], data["market"], data.get("cancel_reason", ""))


def fill(data: dict[str, Any], seq: int) -> bytes:
    """Template 21: an account fill (``fills.<market>``)."""
    f = _Frame(21, 107)
    _head(f, data["created_at"], seq)
    f.u8(24, _FILL_TYPES[data["fill_type"]])
    f.u8(25, _SIDES[data["side"]])
    f.u8(26, _LIQUIDITY[data["liquidity"]])
    f.decimal(27, data["price"])
    f.decimal(35, data["size"])
    f.decimal(43, data["fee"])
    f.decimal(51, data["realized_pnl"])
    f.micros(59, data["created_at"])
    f.address(67, data["account"])
    f.decimal(99, None)  # underlying price: not tracked by the fake
    f.decimal(107, data["realized_funding"])
    return f.strings(
        data["id"], data["order_id"], data["client_id"], "", data["market"], data["fee_currency"]
    )


def position(data: dict[str, Any]) -> bytes:
    """Template 22: a position update (``positions``); the size is unsigned, the side says."""
    f = _Frame(22, 154)
    _head(f, data["last_updated_at"], int(data["seq_no"]))
    f.u8(24, _POSITION_SIDES[data["side"]])
    f.decimal(25, abs(Decimal(data["size"])))
    f.decimal(33, data["average_entry_price"])
    f.decimal(41, data["unrealized_pnl"])
    f.decimal(49, data["realized_pnl"])
    f.decimal(65, data["liquidation_price"])
    f.decimal(73, data["leverage"])
    f.micros(81, data["last_updated_at"])
    f.address(89, data["account"])
    f.decimal(121, data["average_entry_price_usd"])
    f.decimal(129, data["cost"])
    f.decimal(137, data["cost_usd"])
    f.decimal(145, data["cached_funding_index"])
    f.decimal(153, data["unrealized_funding_pnl"])
    f.u8(161, _POSITION_STATUSES[data["status"]])
    return f.strings(data["market"], data["last_fill_id"])


def account(data: dict[str, Any]) -> bytes:
    """Template 23: an account summary (``account``)."""
    f = _Frame(23, 113)
    _head(f, data["updated_at"], int(data["seq_no"]))
    f.decimal(24, data["total_collateral"])
    f.decimal(32, data["free_collateral"])
    f.decimal(40, data["initial_margin_requirement"])
    f.decimal(48, data["maintenance_margin_requirement"])
    f.decimal(56, data["account_value"])
    f.micros(72, data["updated_at"])
    f.address(80, data["account"])
    f.decimal(112, data["margin_cushion"])
    f.u8(120, 1 if data["status"] == "ACTIVE" else 2)
    return f.strings(data["settlement_asset"])


def encode(channel: str, data: dict[str, Any], seq: int) -> bytes | None:
    """Return the SBE frame of a push on ``channel`` (``None`` for channels without one here)."""
    name = channel.split(".")[0]
    if name == "trades":
        return trade(data, seq)
    if name == "order_book":
        return order_book(data)
    if name == "markets_summary":
        return market_summary(data, seq)
    if name == "orders":
        return order(data)
    if name == "fills":
        return fill(data, seq)
    if name == "positions":
        return position(data)
    if name == "account":
        return account(data)
    return None
