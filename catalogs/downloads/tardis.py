"""
Tardis daily CSV datasets through the vendor's ``tardis-dev`` client, into a catalog.

``tardis-dev`` is the maintained successor of ``tardis-client`` from the same vendor (the
older package only replays raw exchange messages; its datasets API is the one that serves
the CSV files the catalog builder reads). It resumes by skipping files already in the
download folder and writes each file under a temporary name first; this module adds the
end-to-end gzip check, the taxonomy errors and the catalog build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import urllib.error
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import aiohttp

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.downloads.common import DownloadSummary
from nautilus_ext.catalogs.downloads.common import cache_root
from nautilus_ext.catalogs.downloads.common import check_compressed
from nautilus_ext.catalogs.downloads.common import day_range
from nautilus_ext.catalogs.downloads.common import discard
from nautilus_ext.catalogs.downloads.common import run_sync
from nautilus_ext.catalogs.downloads.common import vendor_key
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import VenueUnavailable

KEY_ENV: Final = "TARDIS_API_KEY"
DEFAULT_ENDPOINT: Final = "https://datasets.tardis.dev/v1"
DATA_TYPES: Final = (
    "trades",
    "incremental_book_L2",
    "book_snapshot_25",
    "book_snapshot_5",
    "quotes",
    "derivative_ticker",
)


def file_name(
    exchange: str, data_type: str, day: dt.date | dt.datetime, symbol: str, fmt: str = "csv"
) -> str:
    """Return the cache file name of one dataset day (the client's own naming)."""
    safe = re.sub(r'[:\\/?*<>|"]', "-", symbol)
    return f"{exchange}_{data_type}_{day.strftime('%Y-%m-%d')}_{safe}.{fmt}.gz"


def _normal_symbol(symbol: str) -> str:
    # tardis-dev upper-cases and replaces ':' and '/' before building the URL
    return symbol.replace(":", "-").replace("/", "-").upper()


def _translate(e: Exception, exchange: str) -> NautilusExtError:
    if isinstance(e, urllib.error.HTTPError):
        where = (e.filename or "").split("/v1/", 1)[-1]
        if e.code in (401, 403):
            return InvalidConfig(
                f"Tardis refused the API key (HTTP {e.code}) for {where}: check {KEY_ENV}",
                details={"http_status": e.code},
            )
        if e.code == 429:
            return RateLimited(
                f"Tardis rate limit for {where} (HTTP 429, Retry-After "
                f"{e.headers.get('Retry-After') if e.headers else '?'} s): try again later",
                venue="TARDIS",
                retryable=True,
            )
        if e.code == 404:
            return InvalidInstrumentKey(
                f"Tardis has no dataset {where} (HTTP 404): check the exchange {exchange!r}, "
                "the data type and the symbol",
                details={"dataset": where},
            )
        if e.code == 400:
            return InvalidConfig(
                f"Tardis refused the request for {where}: {e.msg}", details={"dataset": where}
            )
        return VenueUnavailable(f"Tardis answered HTTP {e.code} for {where}", venue="TARDIS", retryable=True)
    if isinstance(e, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return VenueUnavailable(
            f"Tardis download failed: {type(e).__name__}: {e}", venue="TARDIS", retryable=True
        )
    if isinstance(e, ValueError):
        return InvalidConfig(f"Tardis download arguments refused: {e}")
    raise e


def download_tardis(
    exchange: str,
    data_types: Sequence[str],
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date,
    target: str,
    *,
    endpoint: str = DEFAULT_ENDPOINT,
    cache_dir: str | Path | None = None,
    concurrency: int = 8,
    progress: bool = True,
) -> DownloadSummary:
    """
    Download Tardis datasets for ``[start, end)`` and build them into ``target``.

    Raises
    ------
    InvalidConfig
        On a missing or refused key or a bad argument.
    InvalidInstrumentKey
        If Tardis has no such exchange, data type or symbol.
    RateLimited, VenueUnavailable
        On throttling, network failure or a cut download (nothing of it enters the catalog).
    """
    from tardis_dev import download_datasets_async

    unknown = sorted(set(data_types) - set(DATA_TYPES))
    if unknown:
        raise InvalidConfig(
            f"unsupported Tardis data types {unknown} (expected some of {', '.join(DATA_TYPES)})"
        )
    if not symbols:
        raise InvalidConfig("give at least one --symbol")
    days = day_range(start, end)
    key = vendor_key(KEY_ENV, "Tardis")
    folder = cache_root(cache_dir) / "tardis" / exchange
    summary = DownloadSummary(source="tardis", target=target, days=[d.isoformat() for d in days])
    wanted = [
        (d, t, _normal_symbol(s), folder / file_name(exchange, t, d, _normal_symbol(s)))
        for d in days
        for s in symbols
        for t in data_types
    ]
    before = {path for *_, path in wanted if path.exists()}
    # a complete file from an earlier run is kept; a corrupt one is fetched again
    for path in sorted(before):
        try:
            check_compressed(path, "Tardis")
        except VenueUnavailable:
            discard(path)
    before = {path for path in before if path.exists()}

    async def fetch_day(day: dt.date) -> None:
        await download_datasets_async(
            exchange=exchange,
            data_types=list(data_types),
            symbols=list(symbols),
            from_date=day.isoformat(),
            to_date=(day + dt.timedelta(days=1)).isoformat(),
            api_key=key,
            download_dir=str(folder),
            endpoint=endpoint.rstrip("/"),
            concurrency=concurrency,
            get_filename=file_name,
            skip_if_exists=True,
        )

    async def fetch_all() -> None:
        from tqdm import tqdm

        for day in tqdm(days, desc=f"tardis {exchange}", unit="day", disable=not progress):
            await fetch_day(day)

    try:
        run_sync(fetch_all())
    except NautilusExtError:
        raise
    except Exception as e:
        raise _translate(e, exchange) from e
    files: list[Path] = []
    for _, _, _, path in wanted:
        if not path.exists():
            raise VenueUnavailable(f"Tardis download {path.name} is missing after the run", venue="TARDIS")
        try:
            check_compressed(path, "Tardis")
        except VenueUnavailable:
            discard(path)  # so the next run fetches it anew
            raise
        if path in before:
            summary.cached.append(path.name)
        else:
            summary.downloaded.append(path.name)
            summary.bytes_downloaded += path.stat().st_size
        if _has_rows(path):
            files.append(path)
        else:
            summary.empty.append(path.name)
    if files:
        summary.build = build_catalog("tardis", files, target, progress=progress)
    return summary


def _has_rows(path: Path) -> bool:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as f:
        f.readline()
        return bool(f.readline().strip())
