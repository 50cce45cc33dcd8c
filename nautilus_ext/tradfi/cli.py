"""
``nautilus-ext cme``: roll calendars and trading hours of CME futures roots.

``nautilus-ext cme rolls ES --year 2025`` lists each contract of the year with its last trading
day, first notice day and roll date; ``nautilus-ext cme session ES --at 2024-09-11T21:30:00Z``
says whether the root's market is open then and until when.
"""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Annotated

import typer

from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="CME futures: roll calendars and trading hours.", no_args_is_help=True)


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2)


@app.command("rolls")
def rolls(
    root: Annotated[str, typer.Argument(help="Futures root, e.g. ES, NQ, CL, ZN, 6E")],
    year: Annotated[
        int | None, typer.Option(help="Contracts whose last trading day is in this year (default: this year)")
    ] = None,
) -> None:
    """List a root's contracts of a year: last trading day, first notice day, roll date, key."""
    from nautilus_ext.tradfi.rolls import RollCalendar

    try:
        cal = RollCalendar.default()
        year = year or datetime.now(tz=UTC).year
        contracts = cal.contracts(root.upper(), date(year, 1, 1), date(year, 12, 31))
        spec = cal.spec(root.upper())
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"{root.upper()}: {spec.expiry_rule}, roll {spec.roll_method}")
    typer.echo(f"{'symbol':7} {'last trade':11} {'first notice':13} {'roll date':10}  key")
    for c in contracts:
        notice = "-" if c.first_notice is None else c.first_notice.isoformat()
        typer.echo(
            f"{c.symbol:7} {c.last_trade.isoformat():11} {notice:13} {c.roll_date.isoformat():10}  {c.key}"
        )


@app.command("session")
def session(
    root: Annotated[str, typer.Argument(help="Futures root, e.g. ES")],
    at: Annotated[str, typer.Option(help="UTC time, ISO 8601 (default: now)")] = "",
) -> None:
    """Say whether a root's Globex market is open at a time, and until when."""
    from nautilus_ext.tradfi.sessions import TradingHours

    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(tz=UTC)
    except ValueError:
        raise typer.BadParameter(f"--at must be an ISO 8601 time, got {at!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ts = int(when.timestamp() * 1_000_000_000)
    try:
        calendar = TradingHours.default().calendar(root.upper())
        state = calendar.state(ts)
    except NautilusExtError as e:
        raise _fail(e) from None
    until = (
        "unknown"
        if state.until_ns is None
        else datetime.fromtimestamp(state.until_ns / 1e9, tz=UTC).isoformat()
    )
    verb = "open until" if state.open else "closed; next open"
    typer.echo(f"{root.upper()} ({calendar.name}) at {when.astimezone(UTC).isoformat()}: {verb} {until}")


__all__ = ["app"]
