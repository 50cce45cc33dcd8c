"""
Betfair Exchange stream files: read every message with its line, refuse what is not market data.

Betfair captures come in three shapes, all read here:

- historical files (PRO/ADVANCED data, ``.bz2``/``.gz`` or plain): one JSON message per line;
- recorded sessions written as a JSON array of messages, pretty-printed over many lines;
- a single pretty-printed message.

Each message is classified by its ``op``:

- ``mcm`` (market change): parsed by NautilusTrader's own ``BetfairParser`` into instruments,
  book deltas, starting-price (BSP) deltas, trades, tickers, statuses and closes;
- ``connection`` and ``status`` (and ``mcm`` heartbeats): stream control, skipped and counted;
- ``ocm`` (order change): the account's own orders, refused (not market data);
- ``rcm`` (race, Total Performance Data) and ``ccm`` (cricket): score streams, refused.

Every refusal is an :class:`~nautilus_ext.errors.InvalidData` naming the file and the line of
the message. NautilusTrader 1.231's own Arrow encoder for ``BSPOrderBookDelta`` writes raw
128-bit prices into an ``int64`` column and overflows; :func:`register_bsp_arrow` replaces it
with one storing the raw values as 16-byte little-endian integers (the layout NautilusTrader
uses for ``OrderBookDelta`` in high-precision mode), and reads them back exactly.
"""

from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

import pyarrow as pa

from nautilus_ext.adapters.betfair.markets import BetfairMarket
from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.errors import InvalidData

SCORE_STREAMS: Final = {
    "rcm": "a race score stream (rcm: Total Performance Data positions and speeds)",
    "ccm": "a cricket score stream (ccm: match scores)",
}
CONTROL_OPS: Final = frozenset({"connection", "status"})

_DECODER: Final = json.JSONDecoder()
_WS: Final = " \t\r\n"


@dataclass
class StreamMessage:
    """One stream message: its 1-based line in the file, its text and its decoded object."""

    line: int
    text: str
    value: Any


@dataclass
class BetfairFileLoad:
    """
    What one stream file yielded.

    Attributes
    ----------
    messages : int
        Stream messages read (every ``op``).
    control : int
        Connection, status and heartbeat messages skipped.
    objects : list
        NautilusTrader objects parsed from the market changes (``BetfairSequenceCompleted``
        batch markers left out).
    market_definitions : dict[str, dict]
        Per market id: ``definition`` (the last one seen, the stream's own field names), ``ts``
        (its publish time, UNIX ns), ``first_ts`` (the first definition's) and ``names``
        (runner names from any definition: later ones may omit them), and once the market
        turned in play ``in_play_ns`` (when) and ``bet_delay_secs`` (Betfair's in-play delay).
    """

    messages: int = 0
    control: int = 0
    objects: list[Any] = field(default_factory=list)
    market_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _read_text(path: Path) -> str:
    opener: Any = bz2.open if path.suffix == ".bz2" else (gzip.open if path.suffix == ".gz" else open)
    try:
        with opener(path, "rb") as f:
            raw: bytes = f.read()
    except EOFError as e:
        raise InvalidData(
            f"bad Betfair stream file {path}: truncated ({e})", details={"file": str(path)}
        ) from e
    except OSError as e:  # bz2/gzip raise OSError on data that is not compressed
        raise InvalidData(f"bad Betfair stream file {path}: {e}", details={"file": str(path)}) from e
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidData(
            f"bad Betfair stream file {path}: not UTF-8 text (byte {e.start})", details={"file": str(path)}
        ) from e


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _fail(path: Path, line: int, why: str) -> InvalidData:
    return InvalidData(
        f"bad Betfair stream file {path}, line {line}: {why}", details={"file": str(path), "line": line}
    )


def iter_messages(path: Path) -> Iterator[StreamMessage]:
    """
    Yield every message of a stream file (JSON lines, a JSON array or one JSON document).

    Raises
    ------
    InvalidData
        If the file cannot be read, is empty, or holds something that is not a JSON object,
        naming the line.
    """
    text = _read_text(path)
    cursor = [0, 1]  # a position and its line: positions only grow, so count incrementally

    def line_of(pos: int) -> int:
        cursor[1] += text.count("\n", cursor[0], pos)
        cursor[0] = pos
        return cursor[1]

    def decode_at(pos: int) -> tuple[Any, int]:
        try:
            return _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise _fail(path, e.lineno, f"not valid JSON ({e.msg}, column {e.colno})") from None
        except RecursionError:
            raise _fail(path, line_of(pos), "JSON nested too deeply") from None

    pos = _skip_ws(text, 0)
    if pos == len(text):
        raise InvalidData(f"bad Betfair stream file {path}: no stream records", details={"file": str(path)})
    in_array = text[pos] == "["
    if in_array:
        pos = _skip_ws(text, pos + 1)
    count = 0
    while pos < len(text):
        if in_array and text[pos] == "]":
            pos = _skip_ws(text, pos + 1)
            if pos < len(text):
                raise _fail(path, line_of(pos), "data after the closing ] of the message array")
            break
        value, end = decode_at(pos)
        if not isinstance(value, dict):
            raise _fail(path, line_of(pos), f"a message must be a JSON object, got {type(value).__name__}")
        yield StreamMessage(line=line_of(pos), text=text[pos:end], value=value)
        count += 1
        pos = _skip_ws(text, end)
        if in_array:
            if pos < len(text) and text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
            elif pos >= len(text) or text[pos] != "]":
                raise _fail(path, line_of(pos), "message array is not closed with ]")
    if count == 0:
        raise InvalidData(f"bad Betfair stream file {path}: no stream records", details={"file": str(path)})


def load_stream_file(path: Path, currency: str) -> BetfairFileLoad:
    """
    Parse one stream file into NautilusTrader objects with NautilusTrader's ``BetfairParser``.

    Parameters
    ----------
    path : Path
        The stream file.
    currency : str
        The account currency of the instruments.

    Returns
    -------
    BetfairFileLoad

    Raises
    ------
    InvalidData
        If a message is not market data (order or score stream, a bare market definition), is
        malformed, or the file holds no market data at all; naming the file and the line.
    """
    import msgspec
    from betfair_parser.exceptions import BetfairError
    from betfair_parser.spec.streaming import stream_decode
    from nautilus_trader.adapters.betfair.data_types import BetfairSequenceCompleted
    from nautilus_trader.adapters.betfair.parsing.core import BetfairParser
    from nautilus_trader.model.data import CustomData

    parser = BetfairParser(currency=currency)
    load = BetfairFileLoad()
    market_changes = 0
    for msg in iter_messages(path):
        load.messages += 1
        op = msg.value.get("op")
        if op in SCORE_STREAMS:
            raise _fail(path, msg.line, f"is {SCORE_STREAMS[op]}, not market data")
        if op == "ocm":
            raise _fail(path, msg.line, "is an order stream (ocm: the account's own orders), not market data")
        if op in CONTROL_OPS:
            load.control += 1
            continue
        if op != "mcm":
            what = "a bare market definition" if "marketType" in msg.value else "not a stream message"
            raise _fail(path, msg.line, f"{what} (op is {op!r}; expected mcm, connection or status)")
        if msg.value.get("ct") == "HEARTBEAT":
            load.control += 1
            continue
        try:
            mcm = stream_decode(msg.text.encode())
            parsed = parser.parse(mcm)
        except (BetfairError, msgspec.MsgspecError, AssertionError, ValueError, TypeError, KeyError) as e:
            why = str(e) or type(e).__name__
            if "Incorrect orderbook data" in why or "at most length 2" in why:
                why = (
                    "its ladders are levelled [level, price, size] entries (batb/batl/bdatb or a"
                    " levelled atb/atl: a depth-limited subscription); NautilusTrader's parser reads"
                    " full price ladders [price, size] only"
                )
            raise _fail(path, msg.line, f"not a valid market change ({why})") from e
        market_changes += 1
        for mc in msg.value.get("mc") or []:
            md = mc.get("marketDefinition") if isinstance(mc, dict) else None
            if md is not None:
                ts = int(msg.value["pt"]) * 1_000_000
                entry = load.market_definitions.setdefault(str(mc.get("id")), {"names": {}, "first_ts": ts})
                entry["definition"] = md
                entry["ts"] = ts
                if md.get("inPlay") and "in_play_ns" not in entry:
                    entry["in_play_ns"] = ts  # bets from here on wait for the in-play delay
                if md.get("inPlay"):
                    entry["bet_delay_secs"] = max(
                        int(entry.get("bet_delay_secs", 0)), int(md.get("betDelay") or 0)
                    )
                for r in md.get("runners") or []:
                    if r.get("name"):
                        entry["names"][str(r["id"])] = r["name"]
        for obj in parsed:
            inner = obj.data if isinstance(obj, CustomData) else obj
            if not isinstance(inner, BetfairSequenceCompleted):  # a live batch marker
                load.objects.append(obj)
    if market_changes == 0:
        raise InvalidData(
            f"bad Betfair stream file {path}: no market data ({load.control} connection, status or"
            " heartbeat messages only)",
            details={"file": str(path)},
        )
    if not load.objects:
        raise InvalidData(
            f"bad Betfair stream file {path}: {market_changes} market changes but no market data rows"
            " (no market definition, ladder, trade or status for any runner)",
            details={"file": str(path)},
        )
    return load


# -- market definitions beside the catalog -------------------------------------------------------

MARKETS_FILE: Final = "betfair_markets.json"
"""Sidecar of a catalog built from Betfair files: each market's latest definition."""


def read_market_entries(target: CatalogTarget) -> dict[str, dict[str, Any]]:
    """
    Return the sidecar's entries by market id (empty if the catalog has none).

    Raises
    ------
    InvalidData
        If the sidecar exists but is not the expected JSON.
    """
    fs = target.filesystem()
    path = target.join(MARKETS_FILE)
    if not fs.exists(path):
        return {}
    try:
        with fs.open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError) as e:
        raise InvalidData(
            f"catalog {target.uri}: corrupt {MARKETS_FILE} ({e})", details={"file": path}
        ) from e
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and "definition" in v for v in data.values()
    ):
        raise InvalidData(
            f"catalog {target.uri}: corrupt {MARKETS_FILE} (not market entries)", details={"file": path}
        )
    return data


def merge_market_entry(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """
    Merge two entries of one market: the newer definition wins; runner names accumulate; the
    first definition time and the in-play start are the earliest; the bet delay the largest.
    """
    if old is None:
        return dict(new)
    latest = new if int(new["ts"]) >= int(old["ts"]) else old
    merged = {**latest, "names": {**old.get("names", {}), **new.get("names", {})}}
    merged["first_ts"] = min(int(e.get("first_ts", e["ts"])) for e in (old, new))
    in_play = [int(e["in_play_ns"]) for e in (old, new) if e.get("in_play_ns") is not None]
    if in_play:
        merged["in_play_ns"] = min(in_play)
    merged["bet_delay_secs"] = max(int(e.get("bet_delay_secs", 0)) for e in (old, new))
    return merged


def upsert_market_entries(target: CatalogTarget, entries: dict[str, dict[str, Any]]) -> None:
    """Merge market entries into the sidecar (the newer definition wins, names accumulate)."""
    import uuid

    merged = read_market_entries(target)
    for market_id, entry in entries.items():
        merged[market_id] = merge_market_entry(merged.get(market_id), entry)
    fs = target.filesystem()
    path = target.join(MARKETS_FILE)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with fs.open(tmp, "wb") as f:
        f.write(json.dumps(merged, sort_keys=True, indent=1).encode())
    fs.mv(tmp, path)


def read_markets(catalog: str | Path | CatalogTarget) -> dict[str, BetfairMarket]:
    """
    Return the Betfair markets of a catalog by market id (their latest definitions).

    Raises
    ------
    InvalidData
        If the sidecar is corrupt.
    """
    from nautilus_ext.catalogs.target import parse_target

    target = catalog if isinstance(catalog, CatalogTarget) else parse_target(catalog)
    return {
        market_id: BetfairMarket.from_definition(
            market_id, e["definition"], {int(k): v for k, v in e.get("names", {}).items()}
        )
        for market_id, e in read_market_entries(target).items()
    }


# -- BSP ladders in the catalog ------------------------------------------------------------------

_BSP_SCHEMA: Final = pa.schema(
    {
        # per row, not schema metadata: the catalog concatenates every instrument's files into
        # one table on read, keeping only the first file's metadata
        "instrument_id": pa.string(),
        "price_precision": pa.uint8(),
        "size_precision": pa.uint8(),
        "action": pa.uint8(),
        "side": pa.uint8(),
        "price": pa.binary(16),
        "size": pa.binary(16),
        "order_id": pa.uint64(),
        "flags": pa.uint8(),
        "sequence": pa.uint64(),
        "ts_event": pa.uint64(),
        "ts_init": pa.uint64(),
    },
    metadata={"type": "BSPOrderBookDelta"},
)


def _raw_bytes(raw: int) -> bytes:
    return int(raw).to_bytes(16, "little", signed=True)


def _encode_bsp(objs: list[Any]) -> pa.RecordBatch:
    rows: dict[str, list[Any]] = {name: [] for name in _BSP_SCHEMA.names}
    for o in objs:
        order = o.order
        rows["instrument_id"].append(o.instrument_id.value)
        rows["price_precision"].append(0 if order is None else order.price.precision)
        rows["size_precision"].append(0 if order is None else order.size.precision)
        rows["action"].append(int(o.action))
        rows["side"].append(0 if order is None else int(order.side))
        rows["price"].append(_raw_bytes(0 if order is None else order.price.raw))
        rows["size"].append(_raw_bytes(0 if order is None else order.size.raw))
        rows["order_id"].append(0 if order is None else order.order_id)
        rows["flags"].append(o.flags)
        rows["sequence"].append(o.sequence)
        rows["ts_event"].append(o.ts_event)
        rows["ts_init"].append(o.ts_init)
    return pa.RecordBatch.from_pydict(rows, schema=_BSP_SCHEMA)


def _encode_bsp_one(obj: Any) -> pa.RecordBatch:
    return _encode_bsp([obj])


def _decode_bsp(table: pa.Table | pa.RecordBatch) -> list[Any]:
    from nautilus_trader.adapters.betfair.data_types import BSPOrderBookDelta
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    cols = {name: table.column(name).to_pylist() for name in _BSP_SCHEMA.names}
    ids: dict[str, InstrumentId] = {}
    out = []
    for i in range(table.num_rows):
        iid = ids.get(cols["instrument_id"][i])
        if iid is None:
            iid = ids[cols["instrument_id"][i]] = InstrumentId.from_str(cols["instrument_id"][i])
        price_prec, size_prec = cols["price_precision"][i], cols["size_precision"][i]
        action = BookAction(cols["action"][i])
        order = None
        if action != BookAction.CLEAR:
            order = BookOrder(
                side=OrderSide(cols["side"][i]),
                price=Price.from_raw(int.from_bytes(cols["price"][i], "little", signed=True), price_prec),
                size=Quantity.from_raw(int.from_bytes(cols["size"][i], "little", signed=True), size_prec),
                order_id=cols["order_id"][i],
            )
        out.append(
            BSPOrderBookDelta(
                instrument_id=iid,
                action=action,
                order=order,
                flags=cols["flags"][i],
                sequence=cols["sequence"][i],
                ts_event=cols["ts_event"][i],
                ts_init=cols["ts_init"][i],
            )
        )
    return out


def register_bsp_arrow() -> None:
    """
    Store ``BSPOrderBookDelta`` with 16-byte raw prices and sizes (replacing NautilusTrader's
    encoder, which overflows on them); call before writing or reading BSP ladders.
    """
    from nautilus_trader.adapters.betfair.data_types import BSPOrderBookDelta
    from nautilus_trader.serialization.arrow.serializer import register_arrow

    register_arrow(
        BSPOrderBookDelta,
        _BSP_SCHEMA,
        encoder=_encode_bsp_one,
        decoder=_decode_bsp,
        batch_encoder=_encode_bsp,
    )


__all__ = [
    "CONTROL_OPS",
    "MARKETS_FILE",
    "SCORE_STREAMS",
    "BetfairFileLoad",
    "StreamMessage",
    "iter_messages",
    "load_stream_file",
    "merge_market_entry",
    "read_market_entries",
    "read_markets",
    "register_bsp_arrow",
    "upsert_market_entries",
]
