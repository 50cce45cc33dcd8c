"""``nautilus-ext dex ...``: commands over the pool math."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nautilus_ext.errors import NautilusExtError

app = typer.Typer(help="DEX pool math.", no_args_is_help=True)


@app.command("check-vectors")
def check_vectors_command(
    file: Annotated[
        Path,
        typer.Argument(help="A swap-vector file (format of v3-core's UniswapV3Pool.swaps.vectors.json)"),
    ],
) -> None:
    """Replay each swap vector with the pure V3 math; print match/mismatch per case and a total."""
    from nautilus_ext.dex.vectors import check_vectors

    matched = total = 0
    try:
        for result in check_vectors(file):
            total += 1
            matched += result.matched
            typer.echo(result.line())
    except NautilusExtError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"{matched}/{total} cases match")
    if matched != total:
        raise typer.Exit(code=1)
