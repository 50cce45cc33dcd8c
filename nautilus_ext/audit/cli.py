"""
``nautilus-ext audit ...``: verify, inspect, compare and report on audit logs.

Exit codes: 0 success (verified, found, identical), 1 negative outcome (broken chain, id not
found, runs diverged), 2 invalid input or storage error.

``daily`` and ``incident`` verify the chain before reporting. On a chain that does not verify
they still write the report (it is what an operator needs during an incident), with a banner
at its top, print a ``WARNING: audit chain does not verify: ...`` line on stderr and exit 1.
``compact`` refuses a broken chain (exit 2, nothing written). All three exit 2 when the root
holds no audit log, so a typo in the path never reads as an empty day.
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
from nautilus_ext.audit.layout import list_segments
from nautilus_ext.audit.layout import open_root
from nautilus_ext.audit.lineage import show as show_lineage
from nautilus_ext.audit.records import verify_log
from nautilus_ext.audit.reports import chain_warning
from nautilus_ext.audit.reports import incident_report
from nautilus_ext.audit.reports import load_events
from nautilus_ext.audit.reports import render_daily_html
from nautilus_ext.audit.reports import summarize_day
from nautilus_ext.audit.schemas import MAX_TS_NS
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


def _checked_chain(root: str, options: dict[str, str]) -> str | None:
    # The chain warning for a report, or InvalidConfig when there is no log at all.
    fs, audit_path = open_root(root, options)
    if not list_segments(fs, audit_path):
        raise InvalidConfig(f"no audit log under {root}")
    return chain_warning(root, options)


def _warn_and_exit(warning: str | None) -> None:
    if warning is not None:
        typer.echo(f"WARNING: audit chain does not verify: {warning}", err=True)
        raise typer.Exit(code=1)


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
        options = _options(storage_option)
        warning = _checked_chain(root, options)
        events = load_events(root, options, until_day=parsed)
        summary = summarize_day(events, parsed)
        page = render_daily_html(summary, chain_warning=warning)
        try:
            out.write_text(page, encoding="utf-8")
        except OSError as e:
            raise InvalidConfig(f"cannot write the report to {out}: {e}") from e
    except NautilusExtError as e:
        raise _fail(e) from e
    typer.echo(f"wrote {out}: {summary.intents} intents, {summary.orders} orders, {summary.fills} fills")
    _warn_and_exit(warning)


@app.command()
def compact(
    day: Annotated[str, typer.Argument(help="UTC day, YYYY-MM-DD.")],
    root: Annotated[str, typer.Option("--root", help="Storage root holding audit/.")],
    storage_option: StorageOption = None,
) -> None:
    """
    Compact a closed day into audit/date=DAY/compacted.parquet (the JSON lines stay).

    The chain is verified first: a broken one is refused (exit 2) and nothing is written.
    """
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
        If ``text`` is neither, or is after 2200-01-01 (a timestamp in the wrong unit).
    """
    if text.isascii() and text.isdigit():
        if len(text) > 20 or int(text) >= MAX_TS_NS:
            raise InvalidConfig(f"time {text[:30]!r} is after 2200-01-01 in UNIX ns (wrong unit?)")
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidConfig(f"time {text!r} is neither UNIX ns nor ISO 8601") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year >= 2200:
        raise InvalidConfig(f"time {text!r} is after 2200-01-01")
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
        options = _options(storage_option)
        warning = _checked_chain(root, options)
        report = incident_report(load_events(root, options), start_ns, end_ns, chain_warning=warning)
    except NautilusExtError as e:
        raise _fail(e) from e
    typer.echo(report)
    _warn_and_exit(warning)


__all__ = ["app", "parse_time_ns"]
