"""
Day-chunked, idempotent, atomic writes into a NautilusTrader Python ``ParquetDataCatalog``.

Layout (the one the Python catalog and ``BacktestNode`` read)::

    <root>/data/<type>/<instrument id or bar type>/<DAY>T00-00-00-000000000Z_<DAY>T23-59-59-999999999Z.parquet

One file per instrument, data type and UTC day. The file name spans the whole day, so
rebuilding a day writes the same name: the new file is written to a temporary object in the
same folder and renamed over the old one (``os.replace`` locally, a single object overwrite on
GCS). A failed build leaves the previous version of the day intact and never leaves a file the
catalog would read half-written (temporary names do not end in ``.parquet``).

Instruments are stored one file per instrument id (the latest definition wins).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable

if TYPE_CHECKING:
    import fsspec

NS_PER_DAY: Final = 86_400_000_000_000
ROW_GROUP_SIZE: Final = 65_536  # readers do not depend on it; larger groups write faster


def day_of(ts_ns: int) -> str:
    """Return the UTC day ``YYYY-MM-DD`` of a UNIX-nanosecond timestamp."""
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d")


def day_filename(day_index: int) -> str:
    """Return the catalog file name covering UTC day number ``day_index`` (days since epoch)."""
    day = datetime.fromtimestamp(day_index * 86_400, tz=UTC).strftime("%Y-%m-%d")
    return f"{day}T00-00-00-000000000Z_{day}T23-59-59-999999999Z.parquet"


def _parse_interval(name: str) -> tuple[int, int] | None:
    stem = name.rsplit("/", 1)[-1].removesuffix(".parquet")
    first, sep, second = stem.partition("_")
    if not sep:
        return None
    try:
        return _file_ts(first), _file_ts(second)
    except ValueError:
        return None


def _file_ts(text: str) -> int:
    # 2023-10-26T07-30-50-123456789Z -> ns
    date_part, _, time_part = text.partition("T")
    hh, mm, ss, nanos = time_part.rstrip("Z").split("-")
    base = datetime.strptime(f"{date_part}T{hh}:{mm}:{ss}", "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(base.timestamp()) * 1_000_000_000 + int(nanos)


@dataclass
class WriteStats:
    """
    What a build wrote: rows per data type, days, instruments and the time span.

    Attributes
    ----------
    rows : dict[str, int]
        Rows written per catalog data type folder (``trade_tick``...).
    days : set[str]
        UTC days (``YYYY-MM-DD``) written.
    files : int
        Parquet files written (data and instruments).
    ts_min, ts_max : int, optional
        Smallest and largest ``ts_init`` written (UNIX ns).
    instruments : set[str]
        Nautilus instrument ids written as instruments.
    """

    rows: dict[str, int] = field(default_factory=dict)
    days: set[str] = field(default_factory=set)
    files: int = 0
    ts_min: int | None = None
    ts_max: int | None = None
    instruments: set[str] = field(default_factory=set)


class DayChunkWriter:
    """
    Write Arrow tables (Nautilus catalog schema) day by day into a catalog target.

    Parameters
    ----------
    target : CatalogTarget
        Where the catalog lives.
    """

    def __init__(self, target: CatalogTarget) -> None:
        self.target = target
        self.fs: fsspec.AbstractFileSystem = target.filesystem()
        self.stats = WriteStats()

    # -- data ---------------------------------------------------------------------------------

    def directory(self, type_folder: str, identifier: str | None) -> str:
        """Return the catalog folder of a data type (and identifier)."""
        parts = ["data", type_folder]
        if identifier is not None:
            parts.append(identifier.replace("/", ""))
        return self.target.join(*parts)

    def write_table(self, table: pa.Table, type_folder: str, identifier: str | None) -> None:
        """
        Write ``table`` split into one file per UTC day of its ``ts_init``.

        The table is stably sorted by ``ts_init`` first (the catalog requires non-decreasing
        ``ts_init`` within a file).

        Raises
        ------
        InvalidConfig
            If the folder holds files spanning several days that this writer did not produce
            (they would duplicate rows); remove or rebuild them first.
        VenueUnavailable
            If the filesystem (GCS) fails.
        """
        if table.num_rows == 0:
            return
        ts = table.column("ts_init").to_numpy().astype(np.uint64, copy=False)
        if np.any(ts[1:] < ts[:-1]):
            order = np.argsort(ts, kind="stable")
            table = table.take(pa.array(order))
            ts = ts[order]
        days = (ts // np.uint64(NS_PER_DAY)).astype(np.int64)
        cuts = np.flatnonzero(np.diff(days)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(days)]))
        directory = self.directory(type_folder, identifier)
        self._mkdirs(directory)
        existing = self._existing_files(directory)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            day_index = int(days[start])
            self._check_foreign(existing, day_index, directory)
            self._write_atomic(table.slice(start, end - start), f"{directory}/{day_filename(day_index)}")
            self.stats.days.add(day_of(day_index * NS_PER_DAY))
        self.stats.rows[type_folder] = self.stats.rows.get(type_folder, 0) + table.num_rows
        lo, hi = int(ts[0]), int(ts[-1])
        self.stats.ts_min = lo if self.stats.ts_min is None else min(self.stats.ts_min, lo)
        self.stats.ts_max = hi if self.stats.ts_max is None else max(self.stats.ts_max, hi)

    def check_folders(self, directories: list[str]) -> None:
        """
        Refuse, before anything is written, folders that cannot be created (a local file named
        like a folder of the path), so a build never stops half-way through writing.

        Raises
        ------
        InvalidConfig
            If a component of a folder exists and is not a folder.
        """
        if self.target.is_remote:
            return  # object stores have no folders to collide with
        root = self.target.path.rstrip("/")
        seen: set[str] = set()
        for directory in directories:
            parts = directory[len(root) :].strip("/").split("/")
            current = root
            for part in parts:
                current = f"{current}/{part}"
                if current in seen:
                    continue
                seen.add(current)
                if self.fs.exists(current) and not self.fs.isdir(current):
                    raise InvalidConfig(
                        f"catalog folder {current} is a file: remove it before building "
                        f"into {self.target.uri}",
                        details={"file": current},
                    )

    # -- instruments --------------------------------------------------------------------------

    def write_instrument(self, table: pa.Table, type_folder: str, instrument_id: str) -> None:
        """Write one instrument's table as the only file of its folder (latest wins)."""
        directory = self.directory(type_folder, instrument_id)
        self._mkdirs(directory)
        ts = int(table.column("ts_init")[table.num_rows - 1].as_py())
        stamp = _iso_file_ts(ts)
        final = f"{directory}/{stamp}_{stamp}.parquet"
        old = [f for f in self._existing_files(directory) if f != final]
        self._write_atomic(table, final)
        for path in old:
            self._call(self.fs.rm, path)
        self.stats.instruments.add(instrument_id)

    # -- plumbing -----------------------------------------------------------------------------

    def _write_atomic(self, table: pa.Table, final: str) -> None:
        directory, name = final.rsplit("/", 1)
        tmp = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
        try:
            self._call(pq.write_table, table, tmp, filesystem=self.fs, row_group_size=ROW_GROUP_SIZE)
            self._call(self.fs.mv, tmp, final)
        finally:
            if self._call(self.fs.exists, tmp):
                self._call(self.fs.rm, tmp)
        self.stats.files += 1

    def _existing_files(self, directory: str) -> list[str]:
        found: list[str] = self._call(self.fs.glob, f"{directory}/*.parquet")
        return [str(f) for f in found]

    def _check_foreign(self, existing: list[str], day_index: int, directory: str) -> None:
        day_lo = day_index * NS_PER_DAY
        day_hi = day_lo + NS_PER_DAY - 1
        own = day_filename(day_index)
        for path in existing:
            name = path.rsplit("/", 1)[-1]
            if name == own:
                continue
            interval = _parse_interval(name)
            if interval is None:
                continue
            lo, hi = interval
            if lo <= day_hi and hi >= day_lo:
                raise InvalidConfig(
                    f"{directory} already holds {name}, which overlaps "
                    f"{day_of(day_lo)} and was not written day-chunked; remove it before "
                    "rebuilding that day (it would duplicate rows)",
                    details={"file": path},
                )

    def _mkdirs(self, directory: str) -> None:
        self._call(self.fs.makedirs, directory, exist_ok=True)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.target.is_remote:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except (OSError, TimeoutError, ConnectionError) as e:
            raise VenueUnavailable(
                f"GCS operation {getattr(fn, '__name__', fn)} failed on {self.target.uri}: {e}",
                venue="GCS",
            ) from e


def _iso_file_ts(ts_ns: int) -> str:
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H-%M-%S")
    return f"{base}-{nanos:09d}Z"


__all__ = ["NS_PER_DAY", "DayChunkWriter", "WriteStats", "day_filename", "day_of"]
