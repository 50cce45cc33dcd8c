"""
Vectorised DBN ``trades`` -> ``TradeTick`` catalog table (no per-record Python objects).

Mirrors NautilusTrader's Databento decoder (tested row for row against
``DatabentoDataLoader``): ``ts_event`` and ``ts_init`` are the record's ``ts_recv``; the
aggressor is ``B`` -> BUYER, ``A`` -> SELLER, otherwise NO_AGGRESSOR; the trade id is the
record's sequence number; sizes have precision 0; the instrument id is
``<raw symbol>.<dataset venue>`` (``ESM4.GLBX``). Used only when a file holds exactly one
instrument whose symbol the metadata maps and whose price precision is known; every other
file goes through the NautilusTrader loader.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nautilus_ext.catalogs.fixed import FIXED_PRECISION
from nautilus_ext.errors import InvalidConfig

_DBN_SCALE: Final = 10**9
_MASK32: Final = np.uint64(0xFFFFFFFF)
_SHIFT32: Final = np.uint64(32)
_DATASET_VENUES: Final = {"GLBX.MDP3": "GLBX"}


_CHUNK: Final = 1 << 20


def check_dbn_complete(path: Path) -> int:
    """
    Walk every record of a DBN file (plain or zstd) and return how many it holds.

    The Databento decoders stop quietly at a cut record (with a warning) and a cut zstd frame
    just ends early, so a half-copied file would load as a shorter history. This walk reads
    the metadata length and each record's length byte and fails unless the last record ends
    exactly at the end of a complete zstd frame (or of the plain file).

    Raises
    ------
    InvalidConfig
        If the file is not DBN, is truncated, or holds a corrupt record length.
    """
    import zstandard

    def fail(why: str) -> InvalidConfig:
        return InvalidConfig(f"bad DBN file {path}: {why}", details={"file": str(path)})

    walker = _RecordWalker(fail)
    try:
        with path.open("rb") as fh:
            if not path.name.endswith(".zst"):
                while chunk := fh.read(_CHUNK):
                    walker.feed(chunk)
                return walker.finish()
            decomp = zstandard.ZstdDecompressor().decompressobj()
            frames, in_frame = 0, False
            data = fh.read(_CHUNK)
            while data:
                walker.feed(decomp.decompress(data))
                in_frame = True
                if decomp.eof:  # the frame ended: what is left starts the next one
                    frames, in_frame = frames + 1, False
                    data = decomp.unused_data
                    decomp = zstandard.ZstdDecompressor().decompressobj()
                    if data:
                        continue
                data = fh.read(_CHUNK)
            if in_frame or frames == 0:
                raise fail("the zstd stream is truncated (its last frame is incomplete)")
    except zstandard.ZstdError as e:
        raise fail(f"corrupt zstd data ({e})") from e
    except OSError as e:
        raise fail(f"cannot read ({e.strerror or e})") from e
    return walker.finish()


class _RecordWalker:
    """Incrementally check DBN framing: header, metadata, then length-prefixed records."""

    def __init__(self, fail: Callable[[str], InvalidConfig]) -> None:
        self.fail = fail
        self.buffer = bytearray()
        self.metadata_done = False
        self.records = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        buf = self.buffer
        pos = 0
        if not self.metadata_done:
            if len(buf) < 8:
                return
            if bytes(buf[:3]) != b"DBN":
                raise self.fail("not a DBN file (no DBN header)")
            end = 8 + int.from_bytes(buf[4:8], "little")
            if len(buf) < end:
                return
            pos = end
            self.metadata_done = True
        while pos < len(buf):
            length = buf[pos] * 4
            if length == 0:
                raise self.fail(f"corrupt record length 0 after record {self.records}")
            if pos + length > len(buf):
                break
            pos += length
            self.records += 1
        del buf[:pos]

    def finish(self) -> int:
        if not self.metadata_done:
            raise self.fail("truncated before the end of its metadata")
        if self.buffer:
            raise self.fail(
                f"truncated: {len(self.buffer)} bytes of an incomplete record after {self.records} records"
            )
        return self.records


def _raw_to_fixed(raw: np.ndarray, from_scale_decimals: int) -> pa.FixedSizeBinaryArray:
    # exact int128: raw (int64) * 10**(16 - from_scale_decimals)
    v = np.asarray(raw, dtype=np.int64)
    neg = v < 0
    mag = np.abs(v).astype(np.uint64)
    m = 10 ** (FIXED_PRECISION - from_scale_decimals)
    c, d = np.uint64(m >> 32), np.uint64(m & 0xFFFFFFFF)
    a, b = mag >> _SHIFT32, mag & _MASK32
    lo = b * d
    mid = a * d + b * c
    lo2 = lo + ((mid & _MASK32) << _SHIFT32)
    hi = a * c + (mid >> _SHIFT32) + (lo2 < lo).astype(np.uint64)
    if np.any(neg):
        nlo = ~lo2 + np.uint64(1)
        nhi = ~hi + (lo2 == 0).astype(np.uint64)
        lo2, hi = np.where(neg, nlo, lo2), np.where(neg, nhi, hi)
    out = np.empty((len(v), 2), dtype="<u8")
    out[:, 0], out[:, 1] = lo2, hi
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(v), [None, pa.py_buffer(out.tobytes())])


def dbn_trades_table(
    path: Path, price_precision: int | None, known_precisions: Mapping[str, int]
) -> tuple[str, pa.Table] | None:
    """
    Return ``(instrument_id, table)`` for a single-instrument DBN trades file, else ``None``.

    The price precision is ``price_precision`` if given, else the instrument's from
    ``known_precisions`` (definitions loaded in the same build); ``None`` is returned when
    it is unknown or a price is not a multiple of its tick (the loader then decides), so the
    table never misstates a price.
    """
    import databento as db

    store = db.DBNStore.from_bytes(path.read_bytes())
    meta = store.metadata
    if str(meta.schema) != "trades" or str(meta.stype_out) != "instrument_id":
        return None
    venue = _DATASET_VENUES.get(str(meta.dataset))
    if venue is None:
        return None
    rec = store.to_ndarray()
    if len(rec) == 0:
        return None
    ids = np.unique(rec["instrument_id"])
    if len(ids) != 1:
        return None
    symbols = {
        raw
        for raw, intervals in meta.mappings.items()
        for interval in intervals
        if str(interval["symbol"]) == str(int(ids[0]))
    }
    if len(symbols) != 1:
        return None
    instrument_id = f"{symbols.pop()}.{venue}"
    if price_precision is None:
        price_precision = known_precisions.get(instrument_id)
        if price_precision is None:
            return None
    price = rec["price"].astype(np.int64)
    tick = 10 ** (9 - price_precision)
    if not 0 <= price_precision <= 9 or np.any(price % tick):
        return None
    side = rec["side"].view(np.uint8) if rec["side"].dtype.kind == "S" else rec["side"]
    aggressor = np.zeros(len(rec), dtype=np.uint8)
    aggressor[side == ord("B")] = 1
    aggressor[side == ord("A")] = 2
    ts = rec["ts_recv"].astype(np.uint64)
    schema = pa.schema(
        [
            pa.field("price", pa.binary(16), nullable=False),
            pa.field("size", pa.binary(16), nullable=False),
            pa.field("aggressor_side", pa.uint8(), nullable=False),
            pa.field("trade_id", pa.string(), nullable=False),
            pa.field("ts_event", pa.uint64(), nullable=False),
            pa.field("ts_init", pa.uint64(), nullable=False),
        ],
        metadata={
            "instrument_id": instrument_id,
            "price_precision": str(price_precision),
            "size_precision": "0",
        },
    )
    table = pa.Table.from_arrays(
        [
            _raw_to_fixed(price, 9),
            _raw_to_fixed(rec["size"].astype(np.int64), 0),
            pa.array(aggressor),
            pc.cast(pa.array(rec["sequence"].astype(np.uint32)), pa.string()),
            pa.array(ts),
            pa.array(ts),
        ],
        schema=schema,
    )
    return instrument_id, table


__all__ = ["dbn_trades_table"]
