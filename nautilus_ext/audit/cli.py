"""
``nautilus-ext audit ...``: verify, inspect, compare and report on audit logs.

Exit codes: 0 success (verified, found, identical), 1 negative outcome (broken chain, id not
found, runs diverged), 2 invalid input or storage error.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from nautilus_ext.audit.compaction import compact_day
from nautilus_ext.audit.compaction import verify_compacted
from nautilus_ext.audit.comparator import DEFAULT_IGNORED_FIELDS
from nautilus_ext.audit.comparator import compare_logs
from nautilus_ext.audit.lineage import show as show_lineage
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.reports import incident_report
from nautilus_ext.audit.reports import load_events
from nautilus_ext.audit.reports import render_daily_html
from nautilus_ext.audit.reports import summarize_day
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

app = typer.Typer(
    name="audit",
    help="Verify, inspect, compare and report on audit logs.",
    no_args_is_help=True,
    add_completion=False,
)

StorageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--storage-option",
        "-o",
        help="fsspec option KEY=VALUE for remote roots (repeatable).",
    ),
]


def _options(pairs: list[str] | None) -> dict[str, str]:
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidConfig(f"storage option {pair.split('=')[0]!r} must be KEY=VALUE")
        options[key] = value
    return options


def _fail(error: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=2)


@app.command()
def verify(
    path: Annotated[str, typer.Argument(help="Storage root holding audit/ (path or gs://).")],
    storage_option: StorageOption = None,
) -> None:
    """Verify the hash chain; print the first broken link (exit 1) or the head hash (exit 0)."""
    try:
        report = verify_log(path, _options(storage_option))
    except NautilusExtError as e:
        raise _fail(e) from e
    if report.segments == 0:
        # A typo in the path must not read as "verified".
        typer.echo(f"error: no audit log under {path}", err=True)
        raise typer.Exit(code=2)
    if report.broken is None:
        typer.echo(
            f"OK: {report.records} records in {report.segments} segments, "
            f"last seq {report.last_seq}, head hash {report.head_hash}"
        )
        return
    typer.echo(f"BROKEN after {report.records} good records:\n{report.broken.describe()}")
    raise typer.Exit(code=1)


@app.command()
def show(
    record_id: Annotated[str, typer.Argument(help="An intent, order or fill id.")],
    root: Annotated[str, typer.Option("--root", help="Storage root holding audit/.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a tree.")] = False,
    storage_option: StorageOption = None,
) -> None:
    """Print the lineage Decision -> Intent -> Order -> Fill of an id."""
    try:
        lineage = show_lineage(record_id, root, _options(storage_option))
    except NautilusExtError as e:
        raise _fail(e) from e
    if lineage is None:
        typer.echo(f"no intent, order or fill with id {record_id!r} under {root}")
        raise typer.Exit(code=1)
    typer.echo(json.dumps(lineage.to_dict(), indent=2) if as_json else lineage.render())


@app.command()
def compare(
    left: Annotated[str, typer.Argument(help="Root of the first run's audit log.")],
    right: Annotated[str, typer.Argument(help="Root of the second run's audit log.")],
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Top-level field to ignore (repeatable; default ts_wall, mode)."),
    ] = None,
) -> None:
    """Report "identical" (exit 0) or the first divergence between two runs (exit 1)."""
    fields = frozenset(ignore) if ignore else DEFAULT_IGNORED_FIELDS
    try:
        result = compare_logs(left, right, ignore_fields=fields)
    except NautilusExtError as e:
        raise _fail(e) from e
    typer.echo(result.describe())
    if not result.identical:
        raise typer.Exit(code=1)


@app.command()
def daily(
    day: Annotated[str, typer.Argument(help="UTC day, YYYY-MM-DD.")],
    root: Annotated[str, typer.Option("--root", help="Storage root holding audit/.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")],
    storage_option: StorageOption = None,
) -> None:
    """Write the daily summary (section 13) as a self-contained HTML page."""
    try:
        try:
            parsed = date.fromisoformat(day)
        except ValueError as e:
            raise InvalidConfig(f"day {day!r} is not YYYY-MM-DD") from e
        events = load_events(root, _options(storage_option), until_day=parsed)
        summary = summarize_day(events, parsed)
    except NautilusExtError as e:
        raise _fail(e) from e
    out.write_text(render_daily_html(summary), encoding="utf-8")
    typer.echo(f"wrote {out}: {summary.intents} intents, {summary.orders} orders, {summary.fills} fills")


@app.command()
def compact(
    day: Annotated[str, typer.Argument(help="UTC day, YYYY-MM-DD.")],
    root: Annotated[str, typer.Option("--root", help="Storage root holding audit/.")],
    storage_option: StorageOption = None,
) -> None:
    """Compact a closed day into audit/date=DAY/compacted.parquet (the JSON lines stay)."""
    options = _options(storage_option) if storage_option else None
    try:
        try:
            parsed = date.fromisoformat(day)
        except ValueError as e:
            raise InvalidConfig(f"day {day!r} is not YYYY-MM-DD") from e
        result = compact_day(root, parsed, options)
        verify_compacted(result.url, options)
    except NautilusExtError as e:
        raise _fail(e) from e
    typer.echo(
        f"compacted {result.rows} records (seq {result.first_seq}..{result.last_seq}) to {result.path}"
    )


def parse_time_ns(text: str) -> int:
    """
    Parse UNIX nanoseconds or an ISO 8601 time (``2024-01-02T09:30:00Z``; naive means UTC).

    Raises
    ------
    InvalidConfig
        If ``text`` is neither.
    """
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidConfig(f"time {text!r} is neither UNIX ns nor ISO 8601") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@app.command()
def incident(
    start: Annotated[str, typer.Argument(help="Window start: UNIX ns or ISO 8601 (UTC if naive).")],
    end: Annotated[str, typer.Argument(help="Window end, exclusive: UNIX ns or ISO 8601.")],
    root: Annotated[str, typer.Option("--root", help="Storage root holding audit/.")],
    storage_option: StorageOption = None,
) -> None:
    """Print an incident report skeleton (Markdown) pre-filled from the log."""
    try:
        start_ns, end_ns = parse_time_ns(start), parse_time_ns(end)
        typer.echo(incident_report(load_events(root, _options(storage_option)), start_ns, end_ns))
    except NautilusExtError as e:
        raise _fail(e) from e


__all__ = ["app", "parse_time_ns"]
