"""What the three download sources share: days, the cache, keys, file checks and the summary."""

from __future__ import annotations

import asyncio
import bz2
import datetime as dt
import gzip
import os
import zlib
from collections.abc import Coroutine
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.catalogs.build import BuildSummary
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable

MAX_DAYS: Final = 3660  # ten years of days in one request is a typo, not a plan
_CHUNK: Final = 1 << 20


def day_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """
    Return the UTC days from ``start`` up to, not including, ``end``.

    Raises
    ------
    InvalidConfig
        If ``end`` is not after ``start`` or the range is longer than ten years.
    """
    if end <= start:
        raise InvalidConfig(
            f"--to {end.isoformat()} must be after --from {start.isoformat()} (--to is exclusive)"
        )
    count = (end - start).days
    if count > MAX_DAYS:
        raise InvalidConfig(f"{count} days requested: split the download (at most {MAX_DAYS} days per run)")
    return [start + dt.timedelta(days=i) for i in range(count)]


def run_sync[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion, also from inside a running loop (a Jupyter cell)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def parse_day(text: str, option: str) -> dt.date:
    """Parse ``YYYY-MM-DD`` or raise :class:`InvalidConfig` naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise InvalidConfig(f"{option} must be a date YYYY-MM-DD, got {text!r}") from e


def vendor_key(env_var: str, vendor: str) -> str:
    """Return the API key in ``env_var`` or raise naming the variable (never a value)."""
    key = os.environ.get(env_var, "").strip()
    if not key:
        raise InvalidConfig(f"{vendor} needs an API key: set {env_var} in the environment")
    return key


def cache_root(cache_dir: str | Path | None) -> Path:
    """Return the download cache (default ``$NAUTILUS_EXT_CACHE/downloads`` or ``~/.cache/...``)."""
    if cache_dir is not None:
        return Path(cache_dir)
    base = os.environ.get("NAUTILUS_EXT_CACHE") or str(Path.home() / ".cache" / "nautilus-ext")
    return Path(base) / "downloads"


def _read_through(stream: gzip.GzipFile | bz2.BZ2File) -> int:
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
    return total


def check_compressed(path: Path, vendor: str) -> int:
    """
    Read a ``.gz`` or ``.bz2`` file to its end (checksums included); return its decoded size.

    Raises
    ------
    VenueUnavailable
        If the file is cut short or corrupt (retryable: downloading it again may succeed).
    """
    opener = gzip.open if path.name.endswith(".gz") else bz2.open
    try:
        with opener(path, "rb") as stream:
            return _read_through(stream)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise VenueUnavailable(
            f"{vendor} download {path.name} is incomplete or corrupt ({e}); nothing of it was "
            "added to the catalog: run the same command again to fetch it anew",
            venue=vendor.upper(),
            retryable=True,
            details={"file": path.name},
        ) from e


def discard(path: Path) -> None:
    """Remove a file if it exists (a failed or partial download)."""
    path.unlink(missing_ok=True)


@dataclass
class DownloadSummary:
    """
    The outcome of one download run.

    Attributes
    ----------
    source : str
        ``tardis``, ``databento`` or ``betfair``.
    target : str
        The catalog built or updated.
    days : list[str]
        The days requested (``YYYY-MM-DD``).
    downloaded, cached : list[str]
        Files fetched by this run, and files found complete in the cache (a resumed run).
    empty : list[str]
        Files that held no rows (quiet days); they build nothing.
    bytes_downloaded : int
        Compressed bytes fetched by this run.
    estimated_cost_usd : Decimal, optional
        The vendor's cost estimate for this run's requests (Databento).
    build : BuildSummary, optional
        The catalog build, when there was anything to build.
    """

    source: str
    target: str
    days: list[str]
    downloaded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0
    estimated_cost_usd: Decimal | None = None
    build: BuildSummary | None = None

    def format(self) -> str:
        """Return a human-readable summary."""
        days = f"{self.days[0]} .. {self.days[-1]} ({len(self.days)} days)" if self.days else "none"
        lines = [
            f"download {self.source} -> {self.target}",
            f"  days        {days}",
            f"  downloaded  {len(self.downloaded)} files, {self.bytes_downloaded:,} bytes",
            f"  from cache  {len(self.cached)} files",
        ]
        if self.empty:
            lines.append(f"  no rows     {len(self.empty)} files: {', '.join(self.empty[:5])}")
        if self.estimated_cost_usd is not None:
            lines.append(f"  cost        ${self.estimated_cost_usd:.2f} (vendor estimate)")
        if self.build is None:
            lines.append("  catalog     nothing to build")
        else:
            lines.append(self.build.format())
        return "\n".join(lines)
