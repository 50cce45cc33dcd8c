"""``nautilus-ext carry``: the carry report over a store, and the carry backtest on demo data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="Funding carry: the carry report and the carry backtest.", no_args_is_help=True)


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2)


def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidConfig(f"--{name} {text!r} is not an ISO-8601 time") from None
    if value.tzinfo is None:
        raise InvalidConfig(f"--{name} {text!r} has no time zone (add Z or +00:00)")
    return value


def _print_summary(summary: list[object]) -> None:
    from nautilus_ext.reports import display

    for s in summary:
        row = s.as_row()  # type: ignore[attr-defined]
        ccy = row["currency"]
        figures = ", ".join(
            f"{k} {display.money(row[k], ccy)}" for k in ("funding", "trading", "fees", "slippage", "net")
        )
        typer.echo(f"{row['positions']} positions ({ccy}): {figures}")


@app.command("report")
def report_command(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default $NAUTILUS_EXT_DB_URL, else ./nautilus_ext.db)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output HTML file")] = Path("carry_report.html"),
    strategy: Annotated[
        list[str] | None, typer.Option("--strategy", help="Strategy name(s) (default: every strategy)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Positions opened at or after (ISO-8601, with zone)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Positions opened before (ISO-8601, with zone)")] = None,
) -> None:
    """Write the carry report (attribution, divergence, leg imbalance, margin) of stored positions."""
    from nautilus_ext.persistence import Database
    from nautilus_ext.persistence import default_url
    from nautilus_ext.persistence import render_url
    from nautilus_ext.persistence.records import PositionRecords
    from nautilus_ext.reports.carry import write_carry_report

    try:
        start, end = _when(since, "since"), _when(until, "until")
        url = db or default_url()
        database = Database.open(url)
        try:
            history = PositionRecords(database).history(strategy or None, since=start, until=end)
        finally:
            database.close()
        report = write_carry_report(
            out,
            history,
            meta={"store": render_url(url), "strategies": ", ".join(strategy or ["all"])},
        )
    except NautilusExtError as e:
        raise _fail(e) from None
    if not report.positions:
        typer.echo(f"no positions in {render_url(url)} for {', '.join(strategy or ['any strategy'])}")
    _print_summary(list(report.summary))
    typer.echo(f"carry report: {report.path.resolve()}")


@app.command("clear-halt")
def clear_halt_command(
    strategy: Annotated[str, typer.Option("--strategy", help="The carry strategy's name (strategy_name)")],
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default $NAUTILUS_EXT_DB_URL, else ./nautilus_ext.db)"),
    ] = None,
) -> None:
    """
    Clear a carry strategy's persisted halt so its next start may trade again.

    A guard's halt (ADL, liquidation, an unhedged leg, a position mismatch) is stored and survives
    restarts; clear it only once the positions are checked and flat or reconciled.
    """
    from nautilus_ext.persistence import Database
    from nautilus_ext.persistence import default_url
    from nautilus_ext.persistence import render_url
    from nautilus_ext.persistence.repository import StrategyRepository

    url = db or default_url()
    try:
        database = Database.open(url)
        try:
            repository = StrategyRepository(database)
            reason = repository.get_state(strategy, "refusing")
            if not reason:
                typer.echo(f"{strategy} in {render_url(url)} is not halted: nothing to clear")
                return
            repository.set_state(strategy, "refusing", None)
        finally:
            database.close()
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"{strategy}: halt cleared ({reason}); its next start may trade again")


@app.command("demo")
def demo_command(
    config: Annotated[
        Path | None, typer.Argument(help="Carry backtest YAML (default configs/backtests/funding_carry.yaml)")
    ] = None,
    regenerate: Annotated[
        bool, typer.Option(help="Generate the demo data even if the catalog exists")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the generated data")] = 7,
) -> None:
    """Run the funding carry backtest on generated demo data; write its report and carry report."""
    from nautilus_ext.backtest.carry_demo import CARRY_CONFIG
    from nautilus_ext.backtest.carry_demo import run_carry_demo
    from nautilus_ext.instruments.registry import default_config_dir

    try:
        outcome, report = run_carry_demo(
            config or default_config_dir() / CARRY_CONFIG, regenerate=regenerate, seed=seed, say=typer.echo
        )
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(
        f"{len(outcome.results)} orders, {outcome.events_processed} events in {outcome.elapsed_secs:.2f}s"
    )
    typer.echo(f"report: {report}")
    if outcome.carry_report is not None:
        typer.echo(f"carry report: {outcome.carry_report}")
