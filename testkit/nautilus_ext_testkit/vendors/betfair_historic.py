"""
A stand-in for Betfair's identity login and historic data API (https://historicdata.betfair.com).

As ``betfairlightweight`` calls them: ``POST <identity>/login`` (form ``username``,
``password``; header ``X-Application``) answers ``{"token": ..., "status": "SUCCESS"}`` or
``{"status": "INVALID_USERNAME_OR_PASSWORD"}``; ``POST /api/DownloadListOfFiles`` (JSON
filter: ``sport``, ``plan``, ``fromDay``/``fromMonth``/``fromYear``, ``toDay``/..., optional
``eventId``, ``marketTypesCollection``, ``countriesCollection``; header ``ssoid``) answers the
matching files' paths; ``GET /api/DownloadFile?filePath=...`` answers the bz2 stream file.
Registered files are real historical stream files; their sport, date, event, market type and
country come from the first market definition in the file.
"""

from __future__ import annotations

import bz2
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiohttp import web

from nautilus_ext_testkit.vendors.base import Fault
from nautilus_ext_testkit.vendors.base import VendorServer

# Betfair event type ids and the historic data API's sport names
SPORTS: Final = {
    "1": "Soccer",
    "2": "Tennis",
    "4": "Cricket",
    "7": "Horse Racing",
    "4339": "Greyhound Racing",
    "7522": "Basketball",
}
_PLAN_DIRS: Final = {"Basic Plan": "BASIC", "Advanced Plan": "ADVANCED", "Pro Plan": "PRO"}


@dataclass(frozen=True)
class _StreamFile:
    path: str  # the API's file path
    sport: str
    plan: str
    day: dt.date
    event_id: str
    market_type: str
    country: str
    body: bytes


class FakeBetfairHistoric(VendorServer):
    """Betfair's login and historic data API over registered real stream files."""

    thread_name = "fake-betfair-historic"

    def __init__(self, *, username: str, password: str, app_key: str) -> None:
        super().__init__(api_key=app_key)
        self.username = username
        self.password = password
        self._tokens: set[str] = set()
        self._files: dict[str, _StreamFile] = {}

    @property
    def identity_uri(self) -> str:
        """The value for ``APIClient.identity_uri``."""
        return f"{self.base_url}/identity/"

    @property
    def historic_url(self) -> str:
        """The historic data API root (``.../api/``)."""
        return f"{self.base_url}/api/"

    def add_stream(self, path: Path, plan: str = "Basic Plan") -> str:
        """Register a real ``.bz2`` stream file; return its API file path."""
        body = path.read_bytes()
        definition: dict[str, object] = {}
        market_id = ""
        for line in bz2.decompress(body).decode().splitlines():
            for change in json.loads(line).get("mc", []):
                if "marketDefinition" in change:
                    definition, market_id = change["marketDefinition"], change["id"]
                    break
            if definition:
                break
        when = dt.datetime.fromisoformat(str(definition["marketTime"]).replace("Z", "+00:00"))
        event_id = str(definition["eventId"])
        api_path = (
            f"/xds_nfs/edp_processed/{_PLAN_DIRS[plan]}/{when.year}/{when.strftime('%b')}/{when.day}/"
            f"{event_id}/{market_id}.bz2"
        )
        self._files[api_path] = _StreamFile(
            path=api_path,
            sport=SPORTS.get(str(definition["eventTypeId"]), str(definition["eventTypeId"])),
            plan=plan,
            day=when.date(),
            event_id=event_id,
            market_type=str(definition.get("marketType", "")),
            country=str(definition.get("countryCode", "")),
            body=body,
        )
        return api_path

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/identity/login", self._login)
        app.router.add_post("/api/DownloadListOfFiles", self._list)
        app.router.add_get("/api/DownloadFile", self._download)

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("X-Application") != self.api_key:
            return web.json_response({"status": "FAIL", "error": "INVALID_APP_KEY"})
        if form.get("username") != self.username or form.get("password") != self.password:
            return web.json_response({"status": "INVALID_USERNAME_OR_PASSWORD"})
        token = secrets.token_hex(16)
        self._tokens.add(token)
        return web.json_response({"token": token, "status": "SUCCESS"})

    def _session_ok(self, request: web.Request) -> bool:
        return request.headers.get("ssoid") in self._tokens

    async def _list(self, request: web.Request) -> web.Response:
        if not self._session_ok(request):
            return web.json_response({"error": "NO_SESSION"}, status=401)
        params = json.loads(await request.text())
        try:
            start = dt.date(int(params["fromYear"]), int(params["fromMonth"]), int(params["fromDay"]))
            end = dt.date(int(params["toYear"]), int(params["toMonth"]), int(params["toDay"]))
        except (KeyError, ValueError):
            return web.json_response({"error": "INVALID_DATE"}, status=400)
        types = params.get("marketTypesCollection") or []
        countries = params.get("countriesCollection") or []
        paths = [
            f.path
            for f in self._files.values()
            if f.sport == params.get("sport")
            and f.plan == params.get("plan")
            and start <= f.day <= end
            and (not params.get("eventId") or str(params["eventId"]) == f.event_id)
            and (not types or f.market_type in types)
            and (not countries or f.country in countries)
        ]
        return web.json_response(sorted(paths))

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if not self._session_ok(request):
            return web.json_response({"error": "NO_SESSION"}, status=401)
        entry = self._files.get(request.query.get("filePath", ""))
        if entry is None:
            return web.json_response({"error": "FILE_NOT_FOUND"}, status=404)
        fault = self.take_fault(entry.path)
        if fault is Fault.TRUNCATE:
            return await self.stream_truncated(request, entry.body, "application/octet-stream")
        if fault is not None:
            faulted = self.fault_response(fault)
            assert faulted is not None
            return faulted
        return web.Response(body=entry.body, headers={"Content-Type": "application/octet-stream"})
