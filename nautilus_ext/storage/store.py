"""
Day-chunked cluster store: ``<root>/<cluster>/date=YYYY-MM-DD/<part>.parquet``.

The same code writes to a local directory or ``gs://bucket/prefix`` (fsspec). Each file is
written to a temporary name in its folder and renamed into place, so a reader never sees a
half-written file, and writing the same ``(cluster, day, part)`` again replaces it
(idempotent). Readers select days by folder name, so a date-range read opens only those days.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.orders.serialization import ORDER_ARROW_SCHEMA
from nautilus_ext.orders.serialization import orders_to_table
from nautilus_ext.orders.serialization import table_to_orders
from nautilus_ext.storage.schemas import BETTING_PNL_ARROW_SCHEMA
from nautilus_ext.storage.schemas import BETTING_PNL_SCHEMA_VERSION
from nautilus_ext.storage.schemas import EXECUTION_RESULT_ARROW_SCHEMA
from nautilus_ext.storage.schemas import SIGNAL_ARROW_SCHEMA
from nautilus_ext.storage.schemas import ExecutionResult
from nautilus_ext.storage.schemas import Signal
from nautilus_ext.storage.schemas import results_to_table
from nautilus_ext.storage.schemas import signals_to_table
from nautilus_ext.storage.schemas import table_to_results
from nautilus_ext.storage.schemas import table_to_signals

if TYPE_CHECKING:
    import fsspec

    from nautilus_ext.orders.model import Order

ORDERS: Final = "orders"
EXECUTION_RESULTS: Final = "execution_results"
SIGNALS: Final = "signals"
BETTING_PNL: Final = "betting_pnl"
CLUSTER_SCHEMAS: Final[dict[str, pa.Schema]] = {
    ORDERS: ORDER_ARROW_SCHEMA,
    EXECUTION_RESULTS: EXECUTION_RESULT_ARROW_SCHEMA,
    SIGNALS: SIGNAL_ARROW_SCHEMA,
    BETTING_PNL: BETTING_PNL_ARROW_SCHEMA,
}
_DAY_COLUMN: Final = {
    ORDERS: "created_at",
    EXECUTION_RESULTS: "ts_event",
    SIGNALS: "ts",
    BETTING_PNL: "ts_settled",
}
_PART_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_DAY_DIR_RE: Final = re.compile(r"date=(\d{4}-\d{2}-\d{2})$")


class ClusterStore:
    """
    Read and write the orders, execution-results and signals clusters by UTC day.

    Parameters
    ----------
    root : str or Path
        A local directory or ``gs://bucket/prefix``.
    storage_options : dict, optional
        fsspec options (e.g. ``{"token": "anon"}`` for the GCS emulator; that is the default
        when ``STORAGE_EMULATOR_HOST`` is set).
    """

    def __init__(self, root: str | Path, storage_options: dict[str, Any] | None = None) -> None:
        from nautilus_ext.catalogs.target import parse_target

        self._target = parse_target(root, storage_options)
        self.fs: fsspec.AbstractFileSystem = self._target.filesystem()
        self.root = self._target.path

    # -- generic ------------------------------------------------------------------------------

    def path(self, cluster: str, day: date, part: str) -> str:
        """Return the file path of ``(cluster, day, part)``."""
        return f"{self.root}/{_cluster(cluster)}/date={day.isoformat()}/{_part(part)}.parquet"

    def write_day(self, cluster: str, day: date, table: pa.Table, part: str = "part-0") -> str:
        """
        Atomically write (or replace) one part of one day of a cluster.

        Raises
        ------
        InvalidConfig
            If the table's schema is not the cluster's, or a row belongs to another day.
        VenueUnavailable
            If the filesystem (GCS) fails.
        """
        schema = CLUSTER_SCHEMAS[_cluster(cluster)]
        if not table.schema.equals(schema, check_metadata=False):
            raise InvalidConfig(f"table schema does not match the {cluster} cluster schema")
        column = _DAY_COLUMN[cluster]
        for ts in table.column(column).to_pylist():
            if ts is None or ts.astimezone(UTC).date() != day:
                raise InvalidConfig(f"{cluster} row with {column}={ts} does not belong to {day}")
        final = self.path(cluster, day, part)
        directory = final.rsplit("/", 1)[0]
        tmp = f"{directory}/.{_part(part)}.{uuid.uuid4().hex}.tmp"
        try:
            self._io(self.fs.makedirs, directory, exist_ok=True)
            self._io(pq.write_table, table.cast(schema), tmp, filesystem=self.fs)
            self._io(self.fs.mv, tmp, final)
        finally:
            if self._io(self.fs.exists, tmp):
                self._io(self.fs.rm, tmp)
        return final

    def days(self, cluster: str) -> list[date]:
        """Return the days present in a cluster, sorted."""
        base = f"{self.root}/{_cluster(cluster)}"
        if not self._io(self.fs.exists, base):
            return []
        out = []
        for entry in self._io(self.fs.ls, base, detail=False):
            m = _DAY_DIR_RE.search(str(entry).rstrip("/"))
            if m:
                try:
                    out.append(date.fromisoformat(m.group(1)))
                except ValueError as e:
                    raise InvalidConfig(
                        f"storage {self.root}: folder {entry} is not a valid day ({e})",
                        details={"folder": str(entry)},
                    ) from None
        return sorted(out)

    def read_range(self, cluster: str, start: date, end: date) -> pa.Table:
        """Return all rows of days ``start..end`` (inclusive), in day then part order."""
        if end < start:
            raise InvalidConfig(f"end {end} is before start {start}")
        schema = CLUSTER_SCHEMAS[_cluster(cluster)]
        tables = []
        for day in self.days(cluster):
            if start <= day <= end:
                folder = f"{self.root}/{cluster}/date={day.isoformat()}"
                for f in sorted(self._io(self.fs.glob, f"{folder}/*.parquet")):
                    tables.append(self._read(str(f), schema))
        return pa.concat_tables(tables) if tables else schema.empty_table()

    # -- typed --------------------------------------------------------------------------------

    def write_orders(self, orders: Iterable[Order], part: str = "part-0") -> list[str]:
        """Write orders day-chunked by ``created_at`` (required); return the paths written."""
        items = list(orders)
        for o in items:
            if o.created_at is None:
                raise InvalidConfig(
                    f"order {o.operation_id} has no created_at: cannot choose its day",
                    order_id=o.operation_id,
                )
        return self._write_grouped(ORDERS, items, lambda o: o.created_at, orders_to_table, part)

    def read_orders(self, start: date, end: date) -> list[Order]:
        """Return the orders of days ``start..end``."""
        return table_to_orders(self.read_range(ORDERS, start, end))

    def write_results(self, results: Iterable[ExecutionResult], part: str = "part-0") -> list[str]:
        """Write execution results day-chunked by ``ts_event``."""
        return self._write_grouped(
            EXECUTION_RESULTS, list(results), lambda r: r.ts_event, results_to_table, part
        )

    def read_results(self, start: date, end: date) -> list[ExecutionResult]:
        """Return the execution results of days ``start..end``."""
        return table_to_results(self.read_range(EXECUTION_RESULTS, start, end))

    def write_signals(self, signals: Iterable[Signal], part: str = "part-0") -> list[str]:
        """Write signals day-chunked by ``ts``."""
        return self._write_grouped(SIGNALS, list(signals), lambda s: s.ts, signals_to_table, part)

    def read_signals(self, start: date, end: date) -> list[Signal]:
        """Return the signals of days ``start..end``."""
        return table_to_signals(self.read_range(SIGNALS, start, end))

    def write_betting_pnl(self, rows: Iterable[dict[str, Any]], part: str = "part-0") -> list[str]:
        """
        Write betting P&L rows (:func:`nautilus_ext.reports.betting.betting_rows`) by settlement day.
        """

        def to_table(group: list[dict[str, Any]]) -> pa.Table:
            return pa.Table.from_pylist(
                [{**r, "schema_version": BETTING_PNL_SCHEMA_VERSION} for r in group],
                schema=BETTING_PNL_ARROW_SCHEMA,
            )

        return self._write_grouped(BETTING_PNL, list(rows), lambda r: r["ts_settled"], to_table, part)

    def read_betting_pnl(self, start: date, end: date) -> list[dict[str, Any]]:
        """Return the betting P&L rows of days ``start..end``."""
        rows: list[dict[str, Any]] = self.read_range(BETTING_PNL, start, end).to_pylist()
        return rows

    # -- plumbing -----------------------------------------------------------------------------

    def _write_grouped(
        self,
        cluster: str,
        items: list[Any],
        when: Callable[[Any], datetime],
        to_table: Callable[[list[Any]], pa.Table],
        part: str,
    ) -> list[str]:
        by_day: dict[date, list[Any]] = defaultdict(list)
        for item in items:
            by_day[when(item).astimezone(UTC).date()].append(item)
        return [
            self.write_day(cluster, day, to_table(sorted(group, key=when)), part)
            for day, group in sorted(by_day.items())
        ]

    def _read(self, path: str, schema: pa.Schema) -> pa.Table:
        try:
            table: pa.Table = self._io(pq.read_table, path, filesystem=self.fs).cast(schema)
        except (pa.ArrowException, ValueError) as e:  # truncated, corrupt or foreign file
            text = str(e)
            raise InvalidConfig(
                f"storage file {path} is corrupt or not this cluster's: {text[:200]}",
                details={"file": path},
            ) from e
        return table

    def _io(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._target.is_remote:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except (OSError, TimeoutError, ConnectionError) as e:
            raise VenueUnavailable(f"GCS storage failed on {self._target.uri}: {e}", venue="GCS") from e


def _cluster(name: str) -> str:
    if name not in CLUSTER_SCHEMAS:
        raise InvalidConfig(f"unknown cluster {name!r} (expected one of {sorted(CLUSTER_SCHEMAS)})")
    return name


def _part(part: str) -> str:
    if not _PART_RE.fullmatch(part) or part.endswith(".tmp"):
        raise InvalidConfig(f"bad part name {part!r} (letters, digits, '_', '-', '.')")
    return part


__all__ = ["BETTING_PNL", "CLUSTER_SCHEMAS", "EXECUTION_RESULTS", "ORDERS", "SIGNALS", "ClusterStore"]
