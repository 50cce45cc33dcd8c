"""
``nautilus-ext data download tardis|databento|betfair``: vendor data straight into a catalog.

Mount with ``app.add_typer(nautilus_ext.catalogs.downloads.cli.app, name="data")``. Keys come
only from the environment (``TARDIS_API_KEY``, ``DATABENTO_API_KEY``, ``BETFAIR_USERNAME``/
``BETFAIR_PASSWORD``/``BETFAIR_APP_KEY``); ``--to`` is exclusive; a re-run resumes from the cache.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import Annotated

import typer

from nautilus_ext.catalogs.downloads.common import DownloadSummary
from nautilus_ext.catalogs.downloads.common import parse_day
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="Download vendor data into catalogs.", no_args_is_help=True)
download_app = typer.Typer(help="Download from a vendor and build the catalog.", no_args_is_help=True)
app.add_typer(download_app, name="download")

_Target = Annotated[str, typer.Option("--target", "-t", help="catalog: local dir or gs://bucket/prefix")]
_From = Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (UTC)")]
_To = Annotated[str, typer.Option("--to", help="day after the last, YYYY-MM-DD (exclusive)")]
_Cache = Annotated[str | None, typer.Option(help="download cache (default ~/.cache/nautilus-ext/downloads)")]
_Progress = Annotated[bool, typer.Option(help="show progress bars")]


def _finish(run: object) -> None:
    try:
        summary = run() if callable(run) else run
    except NautilusExtError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    assert isinstance(summary, DownloadSummary)
    typer.echo(summary.format())


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@download_app.command()
def tardis(
    exchange: Annotated[str, typer.Argument(help="Tardis exchange id, e.g. binance-futures")],
    target: _Target,
    start: _From,
    end: _To,
    symbol: Annotated[list[str], typer.Option("--symbol", "-s", help="symbol(s), repeat or comma-separate")],
    data_type: Annotated[
        list[str], typer.Option("--data-type", "-d", help="trades, incremental_book_L2, quotes, ...")
    ] = ["trades"],  # noqa: B006 - typer needs a list default
    endpoint: Annotated[str | None, typer.Option(help="datasets API root (default Tardis')")] = None,
    cache_dir: _Cache = None,
    progress: _Progress = True,
) -> None:
    """Download Tardis daily CSV datasets (tardis-dev) and build them into the catalog."""
    from nautilus_ext.catalogs.downloads.tardis import DEFAULT_ENDPOINT
    from nautilus_ext.catalogs.downloads.tardis import download_tardis

    _finish(
        lambda: download_tardis(
            exchange,
            _split(data_type),
            _split(symbol),
            parse_day(start, "--from"),
            parse_day(end, "--to"),
            target,
            endpoint=endpoint or DEFAULT_ENDPOINT,
            cache_dir=cache_dir,
            progress=progress,
        )
    )


@download_app.command()
def databento(
    dataset: Annotated[str, typer.Argument(help="Databento dataset, e.g. GLBX.MDP3")],
    target: _Target,
    start: _From,
    end: _To,
    symbol: Annotated[list[str], typer.Option("--symbol", "-s", help="symbol(s), repeat or comma-separate")],
    schema: Annotated[
        list[str], typer.Option("--schema", help="trades, mbp-1, mbo, definition, ohlcv-1m, ...")
    ] = ["trades"],  # noqa: B006 - typer needs a list default
    max_cost: Annotated[str, typer.Option(help="most this run may cost in USD (vendor estimate)")] = "0",
    stype_in: Annotated[
        str, typer.Option(help="input symbology (raw_symbol, parent, continuous)")
    ] = "raw_symbol",
    gateway: Annotated[str | None, typer.Option(help="historical gateway host[:port]")] = None,
    cache_dir: _Cache = None,
    progress: _Progress = True,
) -> None:
    """Price, then download Databento data (databento Historical) and build the catalog."""
    from nautilus_ext.catalogs.downloads.databento import download_databento

    def run() -> DownloadSummary:
        try:
            limit = Decimal(max_cost)
        except InvalidOperation as e:
            raise InvalidConfig(f"--max-cost must be a number of US dollars, got {max_cost!r}") from e
        if not limit.is_finite() or limit < 0:
            raise InvalidConfig(f"--max-cost must be zero or more, got {max_cost!r}")
        return download_databento(
            dataset,
            _split(schema),
            _split(symbol),
            parse_day(start, "--from"),
            parse_day(end, "--to"),
            target,
            max_cost_usd=limit,
            stype_in=stype_in,
            gateway=gateway,
            cache_dir=cache_dir,
            progress=progress,
            echo=lambda line: typer.echo(line, err=True),
        )

    _finish(run)


@download_app.command()
def betfair(
    sport: Annotated[str, typer.Argument(help="Betfair historic sport, e.g. 'Horse Racing', Soccer")],
    target: _Target,
    start: _From,
    end: _To,
    plan: Annotated[str, typer.Option(help="Basic Plan, Advanced Plan or Pro Plan")] = "Basic Plan",
    market_type: Annotated[list[str], typer.Option("--market-type", help="e.g. WIN, MATCH_ODDS")] = [],  # noqa: B006
    country: Annotated[list[str], typer.Option("--country", help="ISO country codes, e.g. GB")] = [],  # noqa: B006
    event_id: Annotated[str | None, typer.Option(help="one event only")] = None,
    currency: Annotated[str, typer.Option(help="account currency of the instruments")] = "GBP",
    cache_dir: _Cache = None,
    progress: _Progress = True,
) -> None:
    """Download Betfair historical stream files (betfairlightweight) and build the catalog."""
    from nautilus_ext.catalogs.downloads.betfair import download_betfair

    _finish(
        lambda: download_betfair(
            sport,
            parse_day(start, "--from"),
            parse_day(end, "--to"),
            target,
            plan=plan,
            market_types=_split(market_type),
            countries=_split(country),
            event_id=event_id,
            currency=currency,
            cache_dir=cache_dir,
            progress=progress,
        )
    )


__all__ = ["app"]
