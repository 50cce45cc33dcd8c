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


@app.command("build-onchain")
def build_onchain(
    target: Annotated[str, typer.Option("--target", "-t", help="local catalog dir")],
    pool: Annotated[
        list[str],
        typer.Option(
            help="ADDRESS,V2|V3,INSTRUMENT_ID,BASE,QUOTE,DEC0,DEC1[,FEE_PIPS][,base=token1][,key=CANONICAL_KEY]"
        ),
    ],
    files: Annotated[list[str] | None, typer.Argument(help="JSON files of logs (RPC or HyperSync)")] = None,
    rpc_url: Annotated[str | None, typer.Option(help="node URL for eth_getLogs")] = None,
    from_block: Annotated[int, typer.Option(help="first block (with --rpc-url)")] = 0,
    to_block: Annotated[int | None, typer.Option(help="last block (default: latest)")] = None,
    block_time: Annotated[
        list[str] | None, typer.Option(help="BLOCK=UNIX_SECS[:BASE_FEE_WEI] for logs without a timestamp")
    ] = None,
) -> None:
    """Load DEX pool logs (files or eth_getLogs) into trades and per-block pool-state snapshots."""
    from nautilus_ext.catalogs.onchain import BlockInfo
    from nautilus_ext.catalogs.onchain import fetch_logs
    from nautilus_ext.catalogs.onchain import load_events
    from nautilus_ext.catalogs.onchain import parse_pool_spec
    from nautilus_ext.catalogs.onchain import read_log_files
    from nautilus_ext.errors import InvalidConfig

    try:
        specs = [parse_pool_spec(p) for p in pool]
        blocks: dict[int, BlockInfo] = {}
        for item in block_time or []:
            number, _, rest = item.partition("=")
            secs, _, fee = rest.partition(":")
            try:
                blocks[int(number)] = BlockInfo(int(secs), int(fee or 0))
            except ValueError as e:
                raise InvalidConfig(f"--block-time {item!r}: expected BLOCK=UNIX_SECS[:BASE_FEE_WEI]") from e
        if rpc_url is not None:
            from web3 import HTTPProvider
            from web3 import Web3

            w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
            last = to_block if to_block is not None else int(w3.eth.block_number)
            logs, fetched = fetch_logs(w3, [s.address for s in specs], from_block, last)
            blocks.update(fetched)
        elif files:
            logs = read_log_files(files)
        else:
            raise InvalidConfig("give log files or --rpc-url")
        from nautilus_ext.catalogs.onchain import write_onchain

        load = load_events(logs, specs, blocks)
        rows = write_onchain(load, specs, target)
    except NautilusExtError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=2) from e
    typer.echo(f"events: {dict(sorted(load.events.items()))}; skipped logs: {load.skipped_logs}")
    for note in load.notes:
        typer.echo(f"  note: {note}")
    for folder, n in sorted(rows.items()):
        typer.echo(f"  {folder:<40} {n:>10,}")


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
