"""
``onchain`` commands: leverage and health-factor math from the pure calculators.

Mounted by the main CLI (``nautilus-ext onchain ...``). Amounts are typed as decimal strings
and converted exactly; nothing here touches a chain.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation

import typer

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.calculators.aave import health_factor
from nautilus_ext.onchain.calculators.leverage import leverage_targets
from nautilus_ext.onchain.calculators.leverage import sequential_loop_schedule
from nautilus_ext.onchain.calculators.ray_math import WAD

app = typer.Typer(help="On-chain DeFi math: leverage loops and AAVE health factor.")

_WEI = Decimal(10**18)


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{name} must be a decimal number, got {text!r}") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{name} must be finite")
    return value


def _wei(name: str, text: str) -> int:
    value = _decimal(name, text).scaleb(18)
    if value != value.to_integral_value() or value <= 0:
        raise typer.BadParameter(f"{name} must be a positive amount with at most 18 decimals")
    return int(value)


@app.command("leverage")
def leverage(
    equity: str = typer.Option(..., help="Equity E in ETH, e.g. 10"),
    ltv: str = typer.Option(..., help="Target LTV λ in (0, 1), e.g. 0.9"),
    min_step: str = typer.Option("0.1", help="Smallest borrow of the sequential loop, in ETH"),
) -> None:
    """Print F = λ/(1-λ)·E, S = E + F, B = F and the sequential loop reaching it."""
    equity_wei = _wei("equity", equity)
    try:
        targets = leverage_targets(equity_wei, _decimal("ltv", ltv))
        schedule = sequential_loop_schedule(
            equity_wei, targets.target_ltv, min_step_wei=_wei("min-step", min_step)
        )
    except InvalidOrder as e:
        raise typer.BadParameter(e.message) from None
    borrowed = sum(step.borrow for step in schedule)
    typer.echo(f"flash F   {Decimal(targets.flash) / _WEI} ETH")
    typer.echo(f"supply S  {Decimal(targets.supply) / _WEI} ETH")
    typer.echo(f"borrow B  {Decimal(targets.borrow) / _WEI} ETH")
    typer.echo(f"leverage  {targets.leverage:.4f}x")
    typer.echo(f"sequential loop: {len(schedule)} iterations, borrows {Decimal(borrowed) / _WEI} ETH")


@app.command("health-factor")
def health_factor_command(
    collateral: str = typer.Option(..., help="Collateral value (any base currency unit)"),
    debt: str = typer.Option(..., help="Debt value (same unit)"),
    threshold_bps: int = typer.Option(..., help="Liquidation threshold in basis points"),
) -> None:
    """Print the AAVE health factor (collateral × threshold / debt, protocol rounding)."""
    if not 0 < threshold_bps <= 10_000:
        raise typer.BadParameter("threshold-bps must be in (0, 10000]")
    collateral_units = _wei("collateral", collateral)
    debt_units = _wei("debt", debt)
    hf = health_factor(collateral_units, debt_units, threshold_bps)
    typer.echo(f"health factor {Decimal(hf) / Decimal(WAD)}")


__all__ = ["app"]
