"""
A stand-in for Databento's historical gateway (https://databento.com/docs/api-reference-historical).

The ``databento`` client's own calls: ``POST /v0/metadata.get_cost`` (form fields ``dataset``,
``start``, ``end``, ``symbols``, ``schema``, ``stype_in``; JSON number of US dollars) and
``POST /v0/timeseries.get_range`` (the same fields; a zstd-compressed DBN stream), with the
API key as the HTTP basic-auth user name. Registered real ``.dbn.zst`` files are served for
the requests their dataset, schema, symbols and time range match; a range with no data is a
valid DBN stream holding only its metadata. Errors use Databento's JSON ``{"detail": ...}``:
401 for a wrong key, 422 for symbols that resolve to nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import databento_dbn
import zstandard
from aiohttp import web

from nautilus_ext_testkit.vendors.base import Fault
from nautilus_ext_testkit.vendors.base import VendorServer
from nautilus_ext_testkit.vendors.tls import SelfSignedCert


@dataclass(frozen=True)
class _DbnFile:
    dataset: str
    schema: str
    symbols: tuple[str, ...]
    start: int
    end: int
    stype_in: str
    stype_out: str
    body: bytes  # the file as published (zstd)
    decoded_size: int


class FakeDatabentoHistorical(VendorServer):
    """Databento's historical gateway over registered real DBN files (HTTPS)."""

    thread_name = "fake-databento"

    def __init__(self, *, api_key: str, cert: SelfSignedCert, usd_per_gb: Decimal = Decimal("10")) -> None:
        super().__init__(api_key=api_key, cert=cert)
        self.usd_per_gb = usd_per_gb
        self._files: list[_DbnFile] = []
        self.paid_requests = 0

    @property
    def gateway(self) -> str:
        """The value for ``databento.Historical(gateway=...)`` (host and port)."""
        return f"127.0.0.1:{self.port}"

    def add_dbn(self, path: Path) -> tuple[str, str, tuple[str, ...]]:
        """Register a real ``.dbn.zst`` file; return its (dataset, schema, symbols)."""
        body = path.read_bytes()
        raw = zstandard.ZstdDecompressor().stream_reader(body).read()
        decoder = databento_dbn.DBNDecoder()
        decoder.write(raw)
        meta = decoder.decode()[0]
        assert isinstance(meta, databento_dbn.Metadata), f"{path} does not start with DBN metadata"
        entry = _DbnFile(
            dataset=str(meta.dataset),
            schema=str(meta.schema),
            symbols=tuple(str(s) for s in meta.symbols),
            start=int(meta.start),
            end=int(meta.end),
            stype_in=str(meta.stype_in),
            stype_out=str(meta.stype_out),
            body=body,
            decoded_size=len(raw),
        )
        self._files.append(entry)
        return entry.dataset, entry.schema, entry.symbols

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v0/metadata.get_cost", self._get_cost)
        app.router.add_post("/v0/timeseries.get_range", self._get_range)

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user = base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[0]
        return user == self.api_key

    async def _query(self, request: web.Request) -> tuple[list[_DbnFile], dict[str, str]] | web.Response:
        if not self._authorised(request):
            return web.json_response({"detail": "Authentication failed."}, status=401)
        form = {k: str(v) for k, v in (await request.post()).items()}
        for name in ("dataset", "start", "schema", "symbols"):
            if not form.get(name):
                return web.json_response({"detail": f"Missing required parameter `{name}`."}, status=422)
        start = _ns(form["start"])
        end = _ns(form["end"]) if form.get("end") else start + 86_400 * 10**9
        symbols = [s for s in form["symbols"].split(",") if s]
        candidates = [f for f in self._files if f.dataset == form["dataset"] and f.schema == form["schema"]]
        known = {s for f in candidates for s in f.symbols}
        unknown = [s for s in symbols if s not in known]
        if candidates == [] or unknown == symbols:
            detail = (
                f"None of the symbols could be resolved: {unknown}"
                if candidates
                else (f"No data for dataset {form['dataset']!r} schema {form['schema']!r}.")
            )
            return web.json_response({"detail": detail}, status=422)
        form["_start"], form["_end"] = str(start), str(end)
        matched = [f for f in candidates if set(symbols) & set(f.symbols) and f.start < end and start < f.end]
        return matched, form

    async def _get_cost(self, request: web.Request) -> web.Response:
        found = await self._query(request)
        if isinstance(found, web.Response):
            return found
        matched, _ = found
        size = sum(f.decoded_size for f in matched)
        cost = Decimal(size) / Decimal(10**9) * self.usd_per_gb
        return web.json_response(float(cost))

    async def _get_range(self, request: web.Request) -> web.StreamResponse:
        found = await self._query(request)
        if isinstance(found, web.Response):
            return found
        matched, form = found
        self.paid_requests += 1
        if matched:
            body = matched[0].body
        else:
            first = next(
                f for f in self._files if f.dataset == form["dataset"] and f.schema == form["schema"]
            )
            meta = databento_dbn.Metadata(
                dataset=first.dataset,
                schema=databento_dbn.Schema(first.schema),
                start=int(form["_start"]),
                stype_in=databento_dbn.SType(first.stype_in),
                stype_out=databento_dbn.SType(first.stype_out),
                end=int(form["_end"]),
                symbols=form["symbols"].split(","),
                partial=[],
                not_found=[],
                mappings=[],
            )
            body = zstandard.ZstdCompressor().compress(bytes(meta.encode()))
        fault = self.take_fault(request.path)
        if fault is Fault.TRUNCATE:
            return await self.stream_truncated(request, body, "application/octet-stream")
        if fault is not None:
            faulted = self.fault_response(fault)
            assert faulted is not None
            return faulted
        return web.Response(body=body, headers={"Content-Type": "application/octet-stream"})


def _ns(text: str) -> int:
    # the client sends ISO dates or datetimes (UTC unless zoned), or integer nanoseconds
    if text.isdigit():
        return int(text)
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000
