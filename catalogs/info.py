"""Describe an existing catalog from Parquet footers (no data pages are read)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_ext.catalogs.keys import read_keys
from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.catalogs.target import parse_target
from nautilus_ext.errors import InvalidConfig


@dataclass
class CatalogInfo:
    """
    Summary of a catalog.

    Attributes
    ----------
    target : str
        The catalog location.
    rows : dict[str, int]
        Rows per data type folder.
    days : dict[str, list[str]]
        UTC days (from day-chunked file names) per data type folder.
    identifiers : dict[str, list[str]]
        Instrument ids (or bar types) per data type folder.
    instruments : list[str]
        Instrument ids stored as instruments.
    keys : dict[str, str | None]
        Instrument id -> canonical key, from the sidecar.
    """

    target: str
    rows: dict[str, int] = field(default_factory=dict)
    days: dict[str, list[str]] = field(default_factory=dict)
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    instruments: list[str] = field(default_factory=list)
    keys: dict[str, str | None] = field(default_factory=dict)

    def format(self) -> str:
        """Return a human-readable description."""
        lines = [f"catalog {self.target}"]
        for name in sorted(self.rows):
            days = self.days.get(name, [])
            span = f"{days[0]} .. {days[-1]} ({len(days)} days)" if days else ""
            lines.append(f"  {name:<40} {self.rows[name]:>12,}  {span}")
        lines.append(f"  instruments ({len(self.instruments)}):")
        for iid in self.instruments:
            lines.append(f"    {iid:<40} {self.keys.get(iid) or '(no canonical key)'}")
        return "\n".join(lines)


def catalog_info(target: str | Path | CatalogTarget) -> CatalogInfo:
    """
    Return the summary of the catalog at ``target``.

    Raises
    ------
    InvalidConfig
        If no catalog exists there.
    """
    tgt = target if isinstance(target, CatalogTarget) else parse_target(target)
    fs = tgt.filesystem()
    root = tgt.join("data")
    if not fs.isdir(root):
        raise InvalidConfig(f"no catalog at {tgt.uri} (missing data/ folder)", details={"target": tgt.uri})
    out = CatalogInfo(target=tgt.uri)
    files: list[Any] = fs.glob(f"{root}/*/**/*.parquet")
    instrument_ids: set[str] = set()
    for path in sorted(str(f) for f in files):
        rel = path[len(root.rstrip("/")) + 1 :].split("/")
        folder = rel[0]
        ident = rel[1] if len(rel) > 2 else None
        n = parquet_rows(fs, path)
        out.rows[folder] = out.rows.get(folder, 0) + n
        name = rel[-1]
        if name.endswith("T23-59-59-999999999Z.parquet"):
            out.days.setdefault(folder, []).append(name[:10])
        if ident is not None:
            out.identifiers.setdefault(folder, [])
            if ident not in out.identifiers[folder]:
                out.identifiers[folder].append(ident)
        if folder in _INSTRUMENT_FOLDERS and ident is not None:
            instrument_ids.add(ident)
    for folder in out.days:
        out.days[folder] = sorted(set(out.days[folder]))
    out.instruments = sorted(instrument_ids)
    out.keys = {r["instrument_id"]: r["instrument_key"] for r in read_keys(tgt).to_pylist()}
    return out


def parquet_rows(fs: Any, path: str) -> int:
    """
    Return the row count of one catalog Parquet file from its footer.

    Raises
    ------
    InvalidConfig
        If the file is not readable Parquet (truncated, corrupt, or not Parquet at all).
    """
    try:
        with fs.open(path, "rb") as fh:
            return int(pq.ParquetFile(fh).metadata.num_rows)
    except (pa.ArrowException, OSError, ValueError) as e:
        text = str(e)
        raise InvalidConfig(
            f"corrupt catalog file {path}: {text if len(text) <= 200 else text[:200] + '...'}",
            details={"file": path},
        ) from e


def check_catalog(target: str | Path | CatalogTarget) -> CatalogInfo:
    """
    Check that ``target`` is a readable catalog holding data; return its summary.

    Every Parquet footer is read, so a truncated or corrupt file is found before a backtest
    silently skips it.

    Raises
    ------
    InvalidConfig
        If there is no catalog there, a file is corrupt, or the catalog holds no data.
    """
    tgt = target if isinstance(target, CatalogTarget) else parse_target(target)
    info = catalog_info(tgt)
    data_rows = {k: v for k, v in info.rows.items() if k not in _INSTRUMENT_FOLDERS}
    if not any(data_rows.values()):
        raise InvalidConfig(f"catalog {tgt.uri} holds no market data", details={"target": tgt.uri})
    return info


_INSTRUMENT_FOLDERS = frozenset(
    {
        "currency_pair",
        "crypto_perpetual",
        "crypto_future",
        "crypto_option",
        "futures_contract",
        "futures_spread",
        "option_contract",
        "option_spread",
        "equity",
        "betting_instrument",
        "binary_option",
        "index_instrument",
        "commodity",
        "cfd",
        "perpetual_contract",
    },
)

__all__ = ["CatalogInfo", "catalog_info", "check_catalog", "parquet_rows"]
