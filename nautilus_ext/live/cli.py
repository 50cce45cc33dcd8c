"""``nautilus-ext live <config.yaml>``: run a TradingNode in LIVE or DRY_RUN mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import LiveMode
from nautilus_ext.live.config import load_live_config

app = typer.Typer(help="Live trading: TradingNode in LIVE or DRY_RUN mode.", no_args_is_help=True)


@app.command("live")
def live(
    config_path: Annotated[Path, typer.Argument(help="A configs/live/*.yaml file.")],
    check: Annotated[bool, typer.Option("--check", help="Validate and build, do not run.")] = False,
) -> None:
    """Validate ``config_path``, build the node and run it until interrupted."""
    try:
        config = load_live_config(config_path)
    except InvalidConfig as e:
        typer.echo(f"[{e.code}] {e.message}", err=True)
        raise typer.Exit(code=2) from e
    venues = ", ".join(f"{v.venue}({v.adapter})" for v in config.venues)
    typer.echo(f"mode={config.mode} trader_id={config.trader_id} venues={venues}")
    if config.mode is LiveMode.LIVE:
        typer.echo("LIVE: real orders will be sent", err=True)
    from nautilus_ext.live.node import build_trading_node  # heavy import: only when needed

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = build_trading_node(config, loop)
    if check:
        typer.echo("configuration OK; node built")
        node.dispose()
        return
    try:
        node.run()
    finally:
        node.dispose()


@app.command("live-validate")
def live_validate(
    config_path: Annotated[Path, typer.Argument(help="A configs/live/*.yaml file.")],
) -> None:
    """Validate ``config_path`` only (no node is built)."""
    try:
        config = load_live_config(config_path)
    except InvalidConfig as e:
        typer.echo(f"[{e.code}] {e.message}", err=True)
        raise typer.Exit(code=2) from e
    typer.echo(f"OK mode={config.mode} venues={[v.venue for v in config.venues]}")
