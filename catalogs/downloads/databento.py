"""
Databento historical data through ``databento.Historical``, into a catalog.

Per day and schema, one ``timeseries.get_range`` request streams zstd DBN to a temporary file
in the cache; the file is walked record by record
(:func:`~nautilus_ext.catalogs.databento.check_dbn_complete`) and only then renamed into place.
Before any paid request, ``metadata.get_cost`` prices every day still missing from the cache;
the run stops unless the total is within ``max_cost_usd`` (nothing is requested, nothing is
billed). Days already in the cache are neither priced nor fetched again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.databento import check_dbn_complete
from nautilus_ext.catalogs.downloads.common import DownloadSummary
from nautilus_ext.catalogs.downloads.common import cache_root
from nautilus_ext.catalogs.downloads.common import day_range
from nautilus_ext.catalogs.downloads.common import discard
from nautilus_ext.catalogs.downloads.common import vendor_key
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import VenueUnavailable

KEY_ENV: Final = "DATABENTO_API_KEY"
GATEWAY_ENV: Final = "DATABENTO_GATEWAY"


def file_name(dataset: str, schema: str, symbols: Sequence[str], day: dt.date) -> str:
    """Return the cache file name of one day of one request."""
    joined = ",".join(sorted(symbols))
    label = re.sub(r"[^A-Za-z0-9.-]", "-", joined)
    if len(label) > 40:  # many symbols: a short, stable digest instead
        label = hashlib.sha256(joined.encode()).hexdigest()[:16]
    return f"{dataset}_{schema}_{label}_{day.isoformat()}.dbn.zst"


def _translate(e: Exception, what: str) -> NautilusExtError:
    from databento.common.error import BentoClientError
    from databento.common.error import BentoError
    from databento.common.error import BentoServerError

    if isinstance(e, BentoClientError):
        status = e.http_status
        detail = e.message or ""
        if status in (401, 403):
            return InvalidConfig(f"Databento refused the API key (HTTP {status}): check {KEY_ENV}")
        if status == 429:
            return RateLimited(
                f"Databento rate limit on {what} (HTTP 429): try again later", venue="DATABENTO"
            )
        if status == 422 and "symbol" in detail.lower():
            return InvalidInstrumentKey(f"Databento: {detail} ({what})", details={"request": what})
        return InvalidConfig(f"Databento refused {what} (HTTP {status}): {detail}", details={"request": what})
    if isinstance(e, BentoServerError):
        message = f"Databento failed on {what} (HTTP {e.http_status}): {e.message or ''}"
        return VenueUnavailable(message, venue="DATABENTO", retryable=True)
    if isinstance(e, BentoError):
        return VenueUnavailable(f"Databento {what}: {e}", venue="DATABENTO", retryable=True)
    import requests

    if isinstance(e, requests.RequestException | OSError):
        message = f"Databento unreachable on {what}: {type(e).__name__}"
        return VenueUnavailable(message, venue="DATABENTO", retryable=True)
    if isinstance(e, ValueError):
        return InvalidConfig(f"Databento refused the arguments of {what}: {e}")
    raise e


def download_databento(
    dataset: str,
    schemas: Sequence[str],
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date,
    target: str,
    *,
    max_cost_usd: Decimal = Decimal(0),
    stype_in: str = "raw_symbol",
    gateway: str | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    echo: Any = None,
) -> DownloadSummary:
    """
    Download ``schemas`` of ``symbols`` for ``[start, end)`` and build them into ``target``.

    Parameters
    ----------
    max_cost_usd : Decimal, default 0
        The most this run may cost by the vendor's estimate; above it nothing is requested.
    gateway : str, optional
        The historical gateway (host[:port]); default ``$DATABENTO_GATEWAY`` or Databento's.
    echo : callable, optional
        Receives the cost estimate line before any paid request.

    Raises
    ------
    InvalidConfig
        On a missing or refused key or a bad argument.
    RiskBlocked
        If the estimated cost exceeds ``max_cost_usd`` (nothing was requested).
    InvalidInstrumentKey
        If no symbol resolves.
    RateLimited, VenueUnavailable
        On throttling, network failure or a cut download (nothing of it enters the catalog).
    """
    import databento
    from tqdm import tqdm

    if not symbols or not schemas:
        raise InvalidConfig("give at least one --symbol and one --schema")
    days = day_range(start, end)
    key = vendor_key(KEY_ENV, "Databento")
    gateway = gateway or os.environ.get(GATEWAY_ENV) or None
    try:
        client = databento.Historical(key=key, **({"gateway": gateway} if gateway else {}))
    except ValueError as e:
        raise InvalidConfig(f"Databento client refused its settings: {e}") from e
    folder = cache_root(cache_dir) / "databento" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    summary = DownloadSummary(source="databento", target=target, days=[d.isoformat() for d in days])
    wanted = [(d, s, folder / file_name(dataset, s, symbols, d)) for d in days for s in schemas]
    missing = []
    for day, schema, path in wanted:
        if path.exists():
            try:
                check_dbn_complete(path)
                summary.cached.append(path.name)
                continue
            except InvalidConfig:
                discard(path)  # a damaged cache file is fetched again
        missing.append((day, schema, path))

    def request(day: dt.date, schema: str) -> dict[str, Any]:
        return {
            "dataset": dataset,
            "start": day.isoformat(),
            "end": (day + dt.timedelta(days=1)).isoformat(),
            "symbols": list(symbols),
            "schema": schema,
            "stype_in": stype_in,
        }

    cost = Decimal(0)
    for day, schema, _ in missing:
        what = f"metadata.get_cost {dataset} {schema} {day.isoformat()}"
        try:
            cost += Decimal(str(client.metadata.get_cost(**request(day, schema))))
        except Exception as e:
            raise _translate(e, what) from e
    summary.estimated_cost_usd = cost
    if echo is not None:
        echo(f"Databento estimate for {len(missing)} missing day-schema files: ${cost:.2f}")
    if cost > max_cost_usd:
        raise RiskBlocked(
            f"Databento estimates ${cost:.2f} for this download, above --max-cost ${max_cost_usd:.2f}: "
            "nothing was requested (raise --max-cost to proceed)",
            details={"estimated_cost_usd": str(cost), "max_cost_usd": str(max_cost_usd)},
        )
    for day, schema, path in tqdm(missing, desc=f"databento {dataset}", unit="file", disable=not progress):
        what = f"timeseries.get_range {dataset} {schema} {day.isoformat()}"
        tmp = path.with_name(f".part-{os.getpid()}-{path.name}")  # still *.dbn.zst
        discard(tmp)
        try:
            store = client.timeseries.get_range(**request(day, schema), path=tmp)
            store.reader.close()  # the client leaves the file it wrote open for reading
            check_dbn_complete(tmp)
        except InvalidConfig as e:
            discard(tmp)
            raise VenueUnavailable(
                f"Databento download {path.name} is incomplete or corrupt ({e.message}); nothing of it "
                "was added to the catalog: run the same command again to fetch it anew",
                venue="DATABENTO",
                retryable=True,
                details={"file": path.name},
            ) from e
        except Exception as e:
            discard(tmp)
            raise _translate(e, what) from e
        os.replace(tmp, path)
        summary.downloaded.append(path.name)
        summary.bytes_downloaded += path.stat().st_size
    files = []
    for _, _, path in wanted:
        if check_dbn_complete(path) == 0:
            summary.empty.append(path.name)
        else:
            files.append(path)
    if files:
        summary.build = build_catalog("databento", files, target, progress=progress)
    return summary
