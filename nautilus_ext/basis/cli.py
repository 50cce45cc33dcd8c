"""
``nautilus-ext basis``: backtest one mode, compare all six, generate or import data.

Required run parameters (decision 25): mode, share class, capital, start and end. Everything
else comes from ``configs/modes/<mode>.yaml``; ``--set a.b=value`` and the named flags
override the YAML (the CLI wins) and the overrides are written to ``effective_config.json``.
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

app = typer.Typer(no_args_is_help=True, help="Basis/yield strategy (seed 003): backtests of the six modes.")

_DEFAULT_SHARE_CLASS = {
    "pure_lending": "usdt_stable",
    "btc_basis": "usdt_stable",
    "eth_staking_only": "eth_directional",
    "eth_leveraged": "eth_directional",
    "usdt_market_neutral_no_leverage": "usdt_stable",
    "usdt_market_neutral": "usdt_stable",
}


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2)


def parse_decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidConfig(f"{name} {text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidConfig(f"{name} {text!r} is not finite")
    return value


def parse_overrides(
    sets: list[str],
    rewards_mode: str | None,
    execution: str | None,
    max_leverage_iterations: str | None,
    target_ltv: str | None,
) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidConfig(f"--set {item!r}: expected key.path=value")
        out[key.strip()] = value.strip()
    named = {
        "staking.rewards_mode": rewards_mode,
        "leverage.execution": execution,
        "leverage.max_iterations": max_leverage_iterations,
        "leverage.target_ltv": target_ltv,
    }
    out.update({k: v for k, v in named.items() if v is not None})
    return out


@app.command("backtest")
def backtest_command(
    mode: Annotated[str, typer.Option(help="One of the six modes (configs/modes/<mode>.yaml)")],
    share_class: Annotated[str, typer.Option(help="usdt_stable or eth_directional (configs/share_classes)")],
    capital: Annotated[str, typer.Option(help="Initial capital in the share class currency (USD or ETH)")],
    start: Annotated[str, typer.Option(help="First day (UTC, YYYY-MM-DD)")],
    end: Annotated[str, typer.Option(help="End day, exclusive (UTC, YYYY-MM-DD)")],
    data: Annotated[
        Path | None,
        typer.Option(help="Day-chunked basis data (`basis generate`/`basis import`); default: generated"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data (without --data)")] = 3,
    stress: Annotated[bool, typer.Option(help="Generated data includes the stress window")] = True,
    out: Annotated[Path | None, typer.Option(help="Output folder (default data/analysis/<mode>)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a mode setting: a.b.c=value")
    ] = None,
    rewards_mode: Annotated[
        str | None, typer.Option(help="base_only | base_eigen | base_eigen_seasonal")
    ] = None,
    execution: Annotated[str | None, typer.Option(help="Leverage loop: atomic | sequential")] = None,
    max_leverage_iterations: Annotated[
        str | None, typer.Option(help="Sequential loop limit (or null)")
    ] = None,
    target_ltv: Annotated[str | None, typer.Option(help="Leverage target LTV")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Backtest one mode hour by hour and write summary, CSVs, plots and the HTML report."""
    from nautilus_ext.basis.config import RunRequest
    from nautilus_ext.basis.config import resolve

    try:
        overrides = parse_overrides(set_ or [], rewards_mode, execution, max_leverage_iterations, target_ltv)
        cfg = resolve(
            RunRequest(mode, share_class, parse_decimal(capital, "--capital"), start, end), overrides
        )
        folder = out or Path("data/analysis") / mode
        report, summary = _run_one(cfg, data, seed, stress, folder, progress)
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(
        f"{mode}/{share_class}: APY {summary['apy']:.2%}, max drawdown {summary['max_drawdown']:.2%}, "
        f"worst HF {summary['worst_health_factor']}, gas {summary['gas_spent_eth']} ETH, "
        f"rebalances {summary['rebalances']['total']}, liquidations {summary['liquidations']}"
    )
    typer.echo(f"report: {report.resolve()}")


def _run_one(
    cfg: object, data: Path | None, seed: int, stress: bool, folder: Path, progress: bool
) -> tuple[Path, dict[str, Any]]:
    from tqdm import tqdm

    from nautilus_ext.basis.backtest import load_tables
    from nautilus_ext.basis.backtest import run_backtest
    from nautilus_ext.basis.config import EffectiveConfig
    from nautilus_ext.basis.data import hour_grid
    from nautilus_ext.basis.data import parse_day
    from nautilus_ext.basis.outputs import write_results

    assert isinstance(cfg, EffectiveConfig)
    hours = len(hour_grid(parse_day(cfg.start), parse_day(cfg.end)))
    tables = load_tables(cfg, data, seed=seed, stress=stress)
    with tqdm(total=hours, desc=cfg.mode.mode, unit="h", disable=not progress) as bar:
        result = run_backtest(cfg, tables, progress=bar.update)
    return write_results(result, folder), result.summary


@app.command("compare")
def compare_command(
    start: Annotated[str, typer.Option(help="First day (UTC, YYYY-MM-DD)")],
    end: Annotated[str, typer.Option(help="End day, exclusive (UTC, YYYY-MM-DD)")],
    capital_usd: Annotated[
        str, typer.Option(help="Capital in USD (ETH classes get its ETH value at start)")
    ] = "100000",
    data: Annotated[Path | None, typer.Option(help="Day-chunked basis data; default: generated")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data (without --data)")] = 3,
    stress: Annotated[bool, typer.Option(help="Generated data includes the stress window")] = True,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("data/analysis/compare"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Run all six modes over the same period; write one table and one chart."""
    from nautilus_ext.basis.backtest import load_tables
    from nautilus_ext.basis.backtest import run_backtest
    from nautilus_ext.basis.config import MODE_NAMES
    from nautilus_ext.basis.config import RunRequest
    from nautilus_ext.basis.config import resolve
    from nautilus_ext.basis.outputs import comparison_row
    from nautilus_ext.basis.outputs import write_comparison
    from nautilus_ext.basis.outputs import write_results

    try:
        usd = parse_decimal(capital_usd, "--capital-usd")
        results = []
        tables = None
        for mode in MODE_NAMES:
            share = _DEFAULT_SHARE_CLASS[mode]
            cfg = resolve(RunRequest(mode, share, usd, start, end))
            if tables is None:
                tables = load_tables(cfg, data, seed=seed, stress=stress)
            if cfg.share_class.currency == "ETH":
                eth0 = next(
                    r["price"] for r in sorted(tables["spot"], key=lambda r: r["ts"]) if r["asset"] == "ETH"
                )
                cfg.capital = (usd / Decimal(str(eth0))).quantize(Decimal("0.000001"))
            from tqdm import tqdm

            from nautilus_ext.basis.data import hour_grid
            from nautilus_ext.basis.data import parse_day

            hours = len(hour_grid(parse_day(start), parse_day(end)))
            with tqdm(total=hours, desc=mode, unit="h", disable=not progress) as bar:
                result = run_backtest(cfg, tables, progress=bar.update)
            write_results(result, out / mode)
            results.append(result)
        page = write_comparison(results, out)
    except NautilusExtError as e:
        raise _fail(e) from None
    header = (
        f"{'mode':34} {'class':16} {'APY':>9} {'maxDD':>8} {'worstHF':>8} "
        f"{'gas ETH':>10} {'rebal':>6} {'liq':>4}"
    )
    typer.echo(header)
    for r in results:
        row = comparison_row(r)
        hf = "-" if row["worst_health_factor"] is None else f"{row['worst_health_factor']:.4f}"
        typer.echo(
            f"{row['mode']:34} {row['share_class']:16} {row['apy']:>9.2%} "
            f"{row['max_drawdown']:>8.2%} {hf:>8} "
            f"{row['gas_spent_eth']:>10.4f} {row['rebalances']:>6} {row['liquidations']:>4}"
        )
    typer.echo(f"comparison: {page.resolve()}")


@app.command("generate")
def generate_command(
    start: Annotated[str, typer.Option(help="First day (UTC, YYYY-MM-DD)")],
    end: Annotated[str, typer.Option(help="End day, exclusive")],
    out: Annotated[Path, typer.Option(help="Data folder (day-chunked Parquet)")] = Path("data/basis"),
    seed: Annotated[int, typer.Option(help="Random seed")] = 3,
    stress: Annotated[
        bool, typer.Option(help="Include the stress window (rally, funding flip, depeg)")
    ] = True,
) -> None:
    """Write seeded realistic data (with a stress window) in the basis data format."""
    from nautilus_ext.basis.data import parse_day
    from nautilus_ext.basis.data import write_tables
    from nautilus_ext.basis.generator import generate

    try:
        files = write_tables(out, generate(parse_day(start), parse_day(end), seed=seed, stress=stress))
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(f"wrote {len(files)} files under {out.resolve()}")


@app.command("import")
def import_command(
    start: Annotated[str, typer.Option(help="First day (UTC, YYYY-MM-DD)")],
    end: Annotated[str, typer.Option(help="End day, exclusive")],
    out: Annotated[Path, typer.Option(help="Data folder (day-chunked Parquet)")] = Path("data/basis"),
    tardis: Annotated[
        list[Path] | None, typer.Option(help="Tardis derivative_ticker CSV (repeat per venue/asset)")
    ] = None,
    tardis_spot_trades: Annotated[
        list[Path] | None, typer.Option(help="Tardis trades CSV of a spot market (ETHUSDT, BTCUSDT)")
    ] = None,
    spot_csv: Annotated[Path | None, typer.Option(help="timestamp, asset, price")] = None,
    aave_csv: Annotated[
        Path | None, typer.Option(help="timestamp, reserve, liquidity_index, variable_borrow_index")
    ] = None,
    oracle_csv: Annotated[Path | None, typer.Option(help="timestamp, lst, rate")] = None,
    gas_csv: Annotated[Path | None, typer.Option(help="timestamp, gas_price_gwei")] = None,
    token_price_csv: Annotated[Path | None, typer.Option(help="timestamp, token, price")] = None,
    distributions_csv: Annotated[
        Path | None, typer.Option(help="token, payout_timestamp, period_start, period_end, rate_per_lst")
    ] = None,
) -> None:
    """Convert CSV exports and Tardis derivative_ticker files into the basis data format."""
    from nautilus_ext.basis.data import hour_grid
    from nautilus_ext.basis.data import parse_day
    from nautilus_ext.basis.data import write_tables
    from nautilus_ext.basis.loaders import perp_rows_from_tardis
    from nautilus_ext.basis.loaders import spot_rows_from_tardis_trades
    from nautilus_ext.basis.loaders import tables_from_csv

    try:
        hours = hour_grid(parse_day(start), parse_day(end))
        tables: dict[str, list[dict[str, object]]] = {}
        for kind, path in (
            ("spot", spot_csv),
            ("aave", aave_csv),
            ("oracle", oracle_csv),
            ("gas", gas_csv),
            ("token_price", token_price_csv),
            ("distributions", distributions_csv),
        ):
            if path is not None:
                tables[kind] = tables_from_csv(kind, path, hours)
        if tardis:
            tables["perp"] = [row for f in tardis for row in perp_rows_from_tardis(f, hours)]
        if tardis_spot_trades:
            tables.setdefault("spot", [])
            tables["spot"] += [
                row for f in tardis_spot_trades for row in spot_rows_from_tardis_trades(f, hours)
            ]
        if not tables:
            raise InvalidConfig("nothing to import: pass --tardis, --tardis-spot-trades and/or CSV exports")
        files = write_tables(out, tables)
    except NautilusExtError as e:
        raise _fail(e) from None
    typer.echo(
        f"wrote {len(files)} files ({', '.join(f'{k}: {len(v)} rows' for k, v in tables.items())}) "
        f"under {out}"
    )


__all__ = ["app"]
