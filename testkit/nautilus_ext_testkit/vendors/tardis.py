"""
A stand-in for Tardis' datasets API (https://docs.tardis.dev/downloadable-csv-files).

``GET /v1/<exchange>/<data_type>/<YYYY>/<MM>/<DD>/<symbol>.csv.gz`` with
``Authorization: Bearer <key>`` answers the day's rows of a registered real CSV, gzipped,
header first; a day without rows is the header alone (as Tardis serves quiet days). An
unknown exchange, data type or symbol is HTTP 404, a wrong key HTTP 401, both with Tardis'
JSON error body (``{"code": ..., "message": ...}``).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from pathlib import Path

from aiohttp import web

from nautilus_ext_testkit.vendors.base import Fault
from nautilus_ext_testkit.vendors.base import VendorServer

_DAY_US = 86_400_000_000


class FakeTardisDatasets(VendorServer):
    """Tardis' datasets API over registered real CSV files."""

    thread_name = "fake-tardis"

    def __init__(self, *, api_key: str) -> None:
        super().__init__(api_key=api_key)
        # (exchange, data_type, symbol) -> (header, rows)
        self._files: dict[tuple[str, str, str], tuple[str, list[str]]] = {}

    def add_csv(self, data_type: str, path: Path) -> tuple[str, str]:
        """Register a real Tardis CSV (plain or ``.gz``) as ``data_type``; return (exchange, symbol)."""
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
        header, rows = lines[0], [r for r in lines[1:] if r]
        first = next(csv.DictReader(io.StringIO("\n".join([header, rows[0]]))))
        key = (first["exchange"], data_type, first["symbol"].upper())
        self._files[key] = (header, rows)
        return first["exchange"], first["symbol"]

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/{exchange}/{data_type}/{y}/{m}/{d}/{file}", self._dataset)

    async def _dataset(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"code": 100, "message": "Invalid API key provided."}, status=401)
        info = request.match_info
        name = info["file"]
        if not name.endswith(".csv.gz"):
            return web.json_response({"code": 100, "message": f"Unsupported format: {name}"}, status=400)
        symbol = name.removesuffix(".csv.gz").upper()
        entry = self._files.get((info["exchange"], info["data_type"], symbol))
        if entry is None:
            message = (
                f"Invalid 'symbol' param provided: '{symbol}' for {info['exchange']} {info['data_type']}"
            )
            return web.json_response({"code": 100, "message": message}, status=404)
        try:
            day = dt.datetime(int(info["y"]), int(info["m"]), int(info["d"]), tzinfo=dt.UTC)
        except ValueError:
            return web.json_response({"code": 100, "message": "Invalid date"}, status=400)
        header, rows = entry
        start_us = int(day.timestamp()) * 1_000_000
        ts_col = header.split(",").index("timestamp")
        kept = [r for r in rows if start_us <= _micros(r.split(",")[ts_col]) < start_us + _DAY_US]
        body = gzip.compress(("\n".join([header, *kept]) + "\n").encode())
        fault = self.take_fault(request.path)
        if fault is Fault.TRUNCATE:
            return await self.stream_truncated(request, body, "text/csv")
        if fault is not None:
            faulted = self.fault_response(fault)
            assert faulted is not None
            return faulted
        return web.Response(body=body, headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"})


def _micros(text: str) -> int:
    value = int(text)
    # NautilusTrader's own test copies carry nanoseconds; Tardis serves microseconds
    return value // 1000 if value > 10**17 else value
