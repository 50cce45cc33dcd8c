"""
Betfair historical stream files through ``betfairlightweight``'s historic data API, into a catalog.

Login (interactive, as the historic data site uses) with the account's credentials from the
environment (the adapter's ``BETFAIR_USERNAME``/``BETFAIR_PASSWORD``/``BETFAIR_APP_KEY``), then
``DownloadListOfFiles`` for the sport, plan, days, market types and countries, and
``DownloadFile`` per market into a temporary folder; each file is read to its end (bz2
checksums) before it is moved into the cache, so a re-run skips what is complete and fetches
what is not.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.adapters.betfair.credentials import BetfairCredentials
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.downloads.common import DownloadSummary
from nautilus_ext.catalogs.downloads.common import cache_root
from nautilus_ext.catalogs.downloads.common import check_compressed
from nautilus_ext.catalogs.downloads.common import day_range
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RateLimited
from nautilus_ext.errors import VenueUnavailable

PLANS: Final = ("Basic Plan", "Advanced Plan", "Pro Plan")
IDENTITY_ENV: Final = "BETFAIR_IDENTITY_URL"
HISTORIC_ENV: Final = "BETFAIR_HISTORIC_URL"


def _client(credentials: BetfairCredentials, identity_url: str | None, historic_url: str | None) -> Any:
    import betfairlightweight
    from betfairlightweight.endpoints import Historic

    client = betfairlightweight.APIClient(
        credentials.username, credentials.password, app_key=credentials.app_key, lightweight=True
    )
    if identity_url:
        client.identity_uri = identity_url.rstrip("/") + "/"
    if historic_url:
        root = historic_url.rstrip("/") + "/"

        class _Historic(Historic):  # type: ignore[misc]
            # the endpoint's URL is a fixed property: a stand-in or proxy needs its own
            @property
            def url(self) -> str:
                return root

        client.historic = _Historic(client)
    return client


def _translate(e: Exception, what: str) -> NautilusExtError:
    from betfairlightweight import exceptions as bf

    if isinstance(e, bf.LoginError):
        response = e.response if isinstance(e.response, dict) else {}
        status = response.get("error") or response.get("status") or response.get("loginStatus") or "refused"
        return InvalidConfig(
            f"Betfair refused the login ({status}): check BETFAIR_USERNAME, BETFAIR_PASSWORD "
            "and BETFAIR_APP_KEY"
        )
    if isinstance(e, bf.StatusCodeError):
        code = int(e.status_code) if str(e.status_code).isdigit() else 0
        if code in (401, 403):
            return InvalidConfig(f"Betfair refused the session for {what} (HTTP {code}): log in again")
        if code == 429:
            return RateLimited(f"Betfair rate limit on {what} (HTTP 429): try again later", venue="BETFAIR")
        return VenueUnavailable(f"Betfair {what} answered: {e}", venue="BETFAIR", retryable=True)
    if isinstance(e, bf.BetfairError):
        return VenueUnavailable(f"Betfair {what} failed: {type(e).__name__}", venue="BETFAIR", retryable=True)
    if isinstance(e, OSError):
        return VenueUnavailable(f"Betfair {what} failed: {e}", venue="BETFAIR", retryable=True)
    raise e


def download_betfair(
    sport: str,
    start: dt.date,
    end: dt.date,
    target: str,
    *,
    plan: str = "Basic Plan",
    market_types: Sequence[str] = (),
    countries: Sequence[str] = (),
    event_id: str | None = None,
    currency: str = "GBP",
    identity_url: str | None = None,
    historic_url: str | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> DownloadSummary:
    """
    Download the historical stream files of ``[start, end)`` and build them into ``target``.

    Raises
    ------
    InvalidConfig
        On missing or refused credentials or a bad argument.
    InvalidInstrumentKey
        If no file matches the sport, days, event, market types and countries.
    RateLimited, VenueUnavailable
        On throttling, network failure or a cut download (nothing of it enters the catalog).
    """
    import os

    from tqdm import tqdm

    if plan not in PLANS:
        raise InvalidConfig(f"unknown Betfair data plan {plan!r} (expected one of {', '.join(PLANS)})")
    days = day_range(start, end)
    credentials = BetfairCredentials.from_env()
    client = _client(
        credentials,
        identity_url or os.environ.get(IDENTITY_ENV),
        historic_url or os.environ.get(HISTORIC_ENV),
    )
    try:
        client.login_interactive()
    except Exception as e:
        raise _translate(e, "login") from e
    last = days[-1]
    try:
        paths: list[str] = client.historic.get_file_list(
            sport,
            plan,
            from_day=str(start.day),
            from_month=str(start.month),
            from_year=str(start.year),
            to_day=str(last.day),
            to_month=str(last.month),
            to_year=str(last.year),
            event_id=event_id,
            market_types_collection=list(market_types) or None,
            countries_collection=list(countries) or None,
            file_type_collection=["M"],
        )
    except Exception as e:
        raise _translate(e, "DownloadListOfFiles") from e
    if not paths:
        filters = ", ".join(
            f"{k}={v}"
            for k, v in (("event", event_id), ("markets", market_types), ("countries", countries))
            if v
        )
        raise InvalidInstrumentKey(
            f"Betfair has no {plan} files for {sport!r} from {start.isoformat()} to {last.isoformat()}"
            + (f" ({filters})" if filters else "")
        )
    folder = cache_root(cache_dir) / "betfair"
    summary = DownloadSummary(source="betfair", target=target, days=[d.isoformat() for d in days])
    files: list[Path] = []
    with tempfile.TemporaryDirectory(prefix=".betfair-", dir=_mkdir(folder)) as tmp:
        for api_path in tqdm(paths, desc=f"betfair {sport}", unit="file", disable=not progress):
            final = folder / api_path.lstrip("/")
            if final.exists():
                try:
                    check_compressed(final, "Betfair")
                    summary.cached.append(final.name)
                    files.append(final)
                    continue
                except VenueUnavailable:
                    final.unlink()
            try:
                got = Path(client.historic.download_file(api_path, store_directory=tmp))
            except Exception as e:
                raise _translate(e, f"DownloadFile {api_path}") from e
            _check_stream(got, api_path)
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(got, final)
            summary.downloaded.append(final.name)
            summary.bytes_downloaded += final.stat().st_size
            files.append(final)
    summary.build = build_catalog("betfair", files, target, betfair_currency=currency, progress=progress)
    return summary


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_stream(path: Path, api_path: str) -> None:
    # ``download_file`` writes whatever the server answered, an error page included
    head = path.read_bytes()[:64]
    if not head.startswith(b"BZh"):
        text = head.decode("utf-8", "replace")
        path.unlink()
        if "NO_SESSION" in text or "INVALID_SESSION" in text:
            raise InvalidConfig(f"Betfair refused the session for {api_path}: log in again")
        if "rate limit" in text.lower() or "too many requests" in text.lower():
            raise RateLimited(
                f"Betfair rate limit on DownloadFile {api_path}: try again later", venue="BETFAIR"
            )
        raise VenueUnavailable(
            f"Betfair answered {text[:40]!r} instead of the stream file {api_path}",
            venue="BETFAIR",
            retryable=True,
        )
    try:
        check_compressed(path, "Betfair")
    except VenueUnavailable:
        path.unlink()
        raise
