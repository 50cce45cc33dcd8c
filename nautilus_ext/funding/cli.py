"""
``nautilus-ext funding collect|backfill|gaps``: the funding collector as a command.

Mount with ``app.add_typer(nautilus_ext.funding.cli.app, name="funding")``. Bad input (a
missing or invalid config, an unreachable store, an unparseable time) prints the typed error
and exits 2; with ``--once`` a venue that fails after its retries exits 1 with the venue named
(the service keeps polling and logs it). ``gaps`` exits 1 when it finds any.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Final

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.funding.finder_cli import register as register_finder_commands

if TYPE_CHECKING:
    from nautilus_ext.funding.collector import BackfillReport
    from nautilus_ext.funding.history import FundingGap
    from nautilus_ext.funding.store import FundingRepository

app = typer.Typer(
    help="Funding rates: collect, backfill, find gaps, opportunities, serve the API.", no_args_is_help=True
)

_RELATIVE_RE: Final = re.compile(r"^(?P<n>[0-9]+)(?P<unit>[mhd])$")
_UNIT_NS: Final = {"m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="store URL (default: the config's db_url, $NAUTILUS_EXT_DB_URL, ./nautilus_ext.db)"
    ),
]


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2)


def parse_time(text: str, *, now_ns: int | None = None) -> int:
    """
    Return UNIX ns for an ISO-8601 date/time (UTC unless it has an offset) or ``30d``/``12h``/``15m`` ago.

    Raises
    ------
    InvalidConfig
        If the text is neither.
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    if text == "now":
        return now_ns
    relative = _RELATIVE_RE.match(text)
    if relative:
        return now_ns - int(relative["n"]) * _UNIT_NS[relative["unit"]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidConfig(
            f"time {text!r} is neither ISO-8601 (2025-01-31, 2025-01-31T08:00) nor relative (30d, 12h, 15m)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_repository(url: str | None) -> FundingRepository:
    from nautilus_ext.funding.store import FundingRepository
    from nautilus_ext.persistence import Database

    return FundingRepository(Database.open(url))


def _print_gaps(gaps: list[FundingGap]) -> None:
    if not gaps:
        typer.echo("no gaps")
        return
    typer.echo(f"{len(gaps)} gap(s):")
    for g in gaps:
        typer.echo(
            f"  {g.venue:<12} {g.base}/{g.quote:<6} {g.missing:>4} missing every {g.interval_hours}h "
            f"after {_iso(g.after_ns)} (next recorded {_iso(g.before_ns)})"
        )


@app.command()
def collect(
    config: Annotated[Path, typer.Argument(help="collector YAML (configs/funding/collector.yaml)")],
    once: Annotated[bool, typer.Option("--once", help="poll every venue once and exit")] = False,
    db: DbOption = None,
) -> None:
    """Poll every configured venue at the configured cadence and write the store."""
    from nautilus_ext.funding.collector import FundingCollector
    from nautilus_ext.funding.config import load_collector_config

    try:
        cfg = load_collector_config(config)
        repository = _open_repository(db or cfg.db_url)
        collector = FundingCollector(cfg, repository)
    except NautilusExtError as e:
        raise _fail(e) from None

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        failures = 0
        async with collector:
            if once:
                reports = [await collector.poll_once()]
            else:
                reports = await collector.run(stop=stop)
        for report in reports:
            failures += len(report.failed)
        last = reports[-1] if reports else None
        if last is not None:
            for v in last.venues:
                status = "ok" if v.error is None else f"FAILED [{v.error.code}] {v.error.message}"
                typer.echo(f"{v.venue:<12} {v.written:>5} rates  {status}")
            typer.echo(f"wrote {sum(r.written for r in reports)} rates in {len(reports)} poll(s)")
        # --once: a venue that failed is a failed run; a service stopped by a signal ends cleanly
        return 1 if failures and once else 0

    try:
        code = asyncio.run(main())
    except NautilusExtError as e:
        raise _fail(e) from None
    raise typer.Exit(code=code)


@app.command()
def backfill(
    config: Annotated[
        Path | None, typer.Argument(help="collector YAML: read the venues' history endpoints")
    ] = None,
    since: Annotated[str, typer.Option(help="start: ISO-8601 (UTC) or relative (30d, 12h)")] = "30d",
    until: Annotated[str, typer.Option(help="end: ISO-8601 (UTC), relative, or 'now'")] = "now",
    tardis: Annotated[
        list[Path] | None, typer.Option("--tardis", help="Tardis derivative_ticker CSV(s) to load instead")
    ] = None,
    db: DbOption = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Backfill settled funding rates from venue history endpoints or Tardis files; report gaps."""
    try:
        if (config is None) == (not tardis):
            raise InvalidConfig("give either a collector config or --tardis files (not both)")
        if tardis:
            code = _backfill_tardis(tardis, db, progress)
        else:
            assert config is not None
            code = _backfill_venues(config, parse_time(since), parse_time(until), db, progress)
    except NautilusExtError as e:
        raise _fail(e) from None
    raise typer.Exit(code=code)


def _backfill_tardis(files: list[Path], db: str | None, progress: bool) -> int:
    from tqdm import tqdm

    from nautilus_ext.funding.history import detect_gaps
    from nautilus_ext.funding.history import samples_from_tardis

    repository = _open_repository(db)
    samples = []
    for path in tqdm(files, desc="tardis", unit="file", disable=not progress):
        samples += samples_from_tardis(path)
    written = repository.upsert_rates(samples)
    typer.echo(f"wrote {written} settled rates from {len(files)} file(s)")
    _print_gaps(detect_gaps(samples))
    return 0


def _backfill_venues(config: Path, since_ns: int, until_ns: int, db: str | None, progress: bool) -> int:
    from tqdm import tqdm

    from nautilus_ext.funding.collector import FundingCollector
    from nautilus_ext.funding.config import load_collector_config

    cfg = load_collector_config(config)
    repository = _open_repository(db or cfg.db_url)
    collector = FundingCollector(cfg, repository)
    bar = tqdm(desc="funding history", unit="rate", disable=not progress)

    async def main() -> BackfillReport:
        async with collector:
            return await collector.backfill(since_ns, until_ns, on_page=bar.update)

    try:
        report = asyncio.run(main())
    finally:
        bar.close()
    for s in report.series:
        typer.echo(f"{s.venue:<12} {s.symbol:<20} {s.written:>6} settled rates")
    typer.echo(f"wrote {report.written} settled rates {_iso(since_ns)} .. {_iso(until_ns)}")
    for venue, error in report.errors:
        typer.echo(f"{venue:<12} FAILED [{error.code}] {error.message}", err=True)
    _print_gaps(report.gaps)
    return 1 if report.errors else 0


@app.command()
def gaps(
    db: DbOption = None,
    venue: Annotated[str | None, typer.Option(help="only this venue (BYBIT, BINANCE ...)")] = None,
    base: Annotated[str | None, typer.Option(help="only this base asset (BTC ...)")] = None,
    since: Annotated[str | None, typer.Option(help="start: ISO-8601 (UTC) or relative")] = None,
    until: Annotated[str | None, typer.Option(help="end: ISO-8601 (UTC), relative, or 'now'")] = None,
) -> None:
    """Report missing funding settlements in the store (given each series' interval)."""
    from nautilus_ext.funding.history import detect_gaps

    try:
        since_ns = None if since is None else parse_time(since)
        until_ns = None if until is None else parse_time(until)
        repository = _open_repository(db)
        series = {
            (s.venue, s.base)
            for s in repository.latest_rates()
            if (venue is None or s.venue == venue.upper()) and (base is None or s.base == base.upper())
        }
        found: list[FundingGap] = []
        for v, b in sorted(series):
            found += detect_gaps(repository.history(v, b, since_ns=since_ns, until_ns=until_ns))
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"{len(series)} series checked")
    _print_gaps(found)
    raise typer.Exit(code=1 if found else 0)


# funding-finder: `opportunities` and `serve` (nautilus_ext/funding/finder_cli.py)
register_finder_commands(app)

__all__ = ["app", "parse_time"]
