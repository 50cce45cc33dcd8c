"""
``nautilus-ext catalog build|info``: build a Python ParquetDataCatalog and describe one.

Mount with ``app.add_typer(nautilus_ext.catalogs.cli.app, name="catalog")``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="Build and inspect NautilusTrader Parquet catalogs.", no_args_is_help=True)


@app.command()
def build(
    source: Annotated[str, typer.Argument(help="tardis, databento or betfair")],
    inputs: Annotated[list[str], typer.Argument(help="input files or glob patterns")],
    target: Annotated[str, typer.Option("--target", "-t", help="local dir or gs://bucket/prefix")],
    price_precision: Annotated[int | None, typer.Option(help="override price precision")] = None,
    size_precision: Annotated[int | None, typer.Option(help="override size precision")] = None,
    betfair_currency: Annotated[str, typer.Option(help="Betfair account currency")] = "GBP",
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Build (or rebuild days of) a catalog from vendor files and print a summary."""
    from nautilus_ext.catalogs.build import build_catalog

    try:
        summary = build_catalog(
            source,
            inputs,
            target,
            price_precision=price_precision,
            size_precision=size_precision,
            betfair_currency=betfair_currency,
            progress=progress,
        )
    except NautilusExtError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=2) from e
    typer.echo(summary.format())


@app.command()
def info(
    target: Annotated[str, typer.Argument(help="local dir or gs://bucket/prefix")],
) -> None:
    """Print data types, rows, days, instruments and canonical keys of a catalog."""
    from nautilus_ext.catalogs.info import catalog_info

    try:
        typer.echo(catalog_info(target).format())
    except NautilusExtError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=2) from e


__all__ = ["app"]
