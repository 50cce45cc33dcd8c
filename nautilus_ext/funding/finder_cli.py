"""
CLI commands over the funding store: ``funding opportunities`` and ``funding serve``.

``opportunities`` reads the latest rates and venue fees from the store (``--db``, default
``$NAUTILUS_EXT_DB_URL`` or ``./nautilus_ext.db``), runs the opportunity finder with the filter
given on the command line and prints the ranked table (or ``--json``). ``serve`` runs the REST API
(:func:`nautilus_ext.funding.api.create_app`) with uvicorn on a loopback address.

The functions are plain; :func:`register` adds them to a typer app (the ``funding`` sub-app).
Bad input exits 2 with ``error: [CODE] message`` on stderr and no traceback; an unreachable
database exits 3.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError

_DB_HELP = "Store URL (default: $NAUTILUS_EXT_DB_URL, else sqlite:///./nautilus_ext.db)"


def _fail(e: NautilusExtError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(code=2 if not getattr(e, "retryable", False) else 3)


def _decimal(name: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidConfig(f"--{name}: {text!r} is not a number") from None
    if not value.is_finite():
        raise InvalidConfig(f"--{name}: {text!r} is not a finite number")
    return value


def _names(name: str, text: str | None, upper: bool) -> frozenset[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise InvalidConfig(f"--{name}: give at least one comma-separated name")
    return frozenset(t.upper() if upper else t for t in items)


def _quote_prices(items: list[str]) -> dict[str, Decimal]:
    prices = {"USD": Decimal(1), "USDT": Decimal(1), "USDC": Decimal(1)}
    for item in items:
        code, sep, text = item.partition("=")
        if not sep or not code.strip():
            raise InvalidConfig(f"--quote-price: {item!r} is not CODE=PRICE (e.g. USDC=0.9998)")
        value = _decimal("quote-price", text)
        assert value is not None
        if value <= 0:
            raise InvalidConfig(f"--quote-price: the USD price of {code.strip()} must be > 0")
        prices[code.strip().upper()] = value
    return prices


def _open_store(db: str | None) -> Any:
    """Open an existing store: a read command never creates an empty SQLite file by mistake."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from nautilus_ext.persistence import Database
    from nautilus_ext.persistence import default_url
    from nautilus_ext.persistence import render_url

    url = db or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None  # Database.open names the problem
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not Path(path).expanduser().is_file():
            raise InvalidConfig(
                f"store {render_url(url)} does not exist: fill it first (nautilus-ext funding collect "
                "or backfill), or pass --db"
            )
    return Database.open(url)


@dataclass(frozen=True, slots=True)
class _Fee:
    maker: Decimal
    taker: Decimal


def _fees(items: list[str]) -> dict[str, _Fee]:
    fees: dict[str, _Fee] = {}
    for item in items:
        venue, sep, pair = item.partition("=")
        maker_text, colon, taker_text = pair.partition(":")
        if not sep or not colon or not venue.strip():
            raise InvalidConfig(
                f"--fee: {item!r} is not VENUE=MAKER:TAKER (fractions, e.g. BYBIT=0.0002:0.00055)"
            )
        maker, taker = _decimal("fee", maker_text), _decimal("fee", taker_text)
        assert maker is not None
        assert taker is not None
        for fee in (maker, taker):
            if not Decimal("-0.01") <= fee <= Decimal("0.01"):
                raise InvalidConfig(f"--fee {item!r}: {fee} is not a fraction in [-0.01, 0.01]")
        fees[venue.strip().upper()] = _Fee(maker, taker)
    return fees


class _FeeOverlay:
    """The store as a rate source, with fees given on the command line over the store's own."""

    def __init__(self, source: Any, fees: dict[str, _Fee]) -> None:
        self._source = source
        self._fees = fees

    def latest_rates(self) -> Any:
        return self._source.latest_rates()

    def venue_fees(self) -> dict[str, Any]:
        return {**self._source.venue_fees(), **self._fees}


def _pct(value: Decimal, places: str = "0.01") -> str:
    return f"{(value * 100).quantize(Decimal(places))}%"


def opportunity_row(o: Any) -> dict[str, str]:
    """Return the key numbers of one opportunity as exact decimal strings (the ``--json`` shape)."""
    return {
        "base": o.base,
        "long": o.long.sample.instrument_key,
        "short": o.short.sample.instrument_key,
        "long_rate_per_hour": str(o.long.sample.rate_per_hour),
        "short_rate_per_hour": str(o.short.sample.rate_per_hour),
        "divergence_apr": str(o.divergence_apr),
        "fee_cost": str(o.fee_cost),
        "depth_cost": "" if o.depth_cost is None else str(o.depth_cost),
        "basis_cost": str(o.basis_cost),
        "total_cost": str(o.total_cost),
        "break_even_hours": str(o.break_even_hours),
        "holding_hours": str(o.holding_hours),
        "net_apr": str(o.net_apr),
    }


def render_table(opportunities: list[Any]) -> str:
    """Return the ranked opportunities as a fixed-width text table."""
    header = ("#", "pair (long / short)", "div APR", "costs", "break-even h", "net APR")
    rows = [
        (
            str(i),
            f"{o.base}: {o.long.venue} / {o.short.venue}",
            _pct(o.divergence_apr),
            f"{(o.total_cost * 10_000).quantize(Decimal('0.01'))} bp",
            str(o.break_even_hours.quantize(Decimal("0.1"))),
            _pct(o.net_apr),
        )
        for i, o in enumerate(opportunities, 1)
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = [
        "  ".join(
            h.ljust(w) if c == 1 else h.rjust(w) for c, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    for r in rows:
        lines.append(
            "  ".join(
                v.ljust(w) if c == 1 else v.rjust(w) for c, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def opportunities(
    db: Annotated[str | None, typer.Option(help=_DB_HELP)] = None,
    size_usd: Annotated[str, typer.Option(help="Notional per leg in USD")] = "10000",
    holding_hours: Annotated[str, typer.Option(help="Holding horizon for net APR, hours")] = "168",
    maker: Annotated[bool, typer.Option("--maker", help="Price both legs with maker fees")] = False,
    min_divergence_apr: Annotated[str | None, typer.Option(help="Minimum gross APR (fraction)")] = None,
    min_net_apr: Annotated[str | None, typer.Option(help="Minimum net APR (fraction)")] = None,
    max_break_even_hours: Annotated[str | None, typer.Option(help="Maximum break-even hours")] = None,
    min_oi_usd: Annotated[str | None, typer.Option(help="Minimum open interest per leg, USD")] = None,
    min_volume_usd: Annotated[str | None, typer.Option(help="Minimum 24h volume per leg, USD")] = None,
    max_age_hours: Annotated[str | None, typer.Option(help="Ignore rates older than this (hours)")] = None,
    venues: Annotated[str | None, typer.Option(help="Only these venues (comma-separated)")] = None,
    symbols: Annotated[str | None, typer.Option(help="Only these base assets (comma-separated)")] = None,
    quote_price: Annotated[
        list[str] | None, typer.Option(help="USD price of a quote currency, CODE=PRICE (repeatable)")
    ] = None,
    fee: Annotated[
        list[str] | None,
        typer.Option(help="A venue's fees over the store's, VENUE=MAKER:TAKER fractions (repeatable)"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the table")] = False,
) -> None:
    """Print the ranked cross-venue funding opportunities in the store, after costs."""
    from nautilus_ext.funding.finder import OpportunityFilter
    from nautilus_ext.funding.finder import OpportunityFinder
    from nautilus_ext.funding.store import FundingRepository

    try:
        size, hours = _decimal("size-usd", size_usd), _decimal("holding-hours", holding_hours)
        assert size is not None
        assert hours is not None
        criteria = OpportunityFilter(
            size_usd=size,
            holding_hours=hours,
            use_maker_fees=maker,
            min_divergence_apr=_decimal("min-divergence-apr", min_divergence_apr),
            min_net_apr=_decimal("min-net-apr", min_net_apr),
            max_break_even_hours=_decimal("max-break-even-hours", max_break_even_hours),
            min_open_interest_usd=_decimal("min-oi-usd", min_oi_usd),
            min_volume_24h_usd=_decimal("min-volume-usd", min_volume_usd),
            max_age_hours=_decimal("max-age-hours", max_age_hours),
            venues=_names("venues", venues, upper=True),
            bases=_names("symbols", symbols, upper=True),
            limit=limit,
        )
        prices = _quote_prices(quote_price or [])
        fees = _fees(fee or [])
        database = _open_store(db)
        try:
            source = _FeeOverlay(FundingRepository(database), fees)
            result = OpportunityFinder(source, quote_prices=prices).find(criteria)
        finally:
            database.close()
    except NautilusExtError as e:
        raise _fail(e) from None
    if as_json:
        payload = {
            "opportunities": [opportunity_row(o) for o in result.opportunities],
            "skipped": [
                {"base": b, "long": lo, "short": sh, "why": why} for b, lo, sh, why in result.skipped
            ],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    if not result.opportunities:
        typer.echo(f"no opportunities ({len(result.skipped)} pairs skipped; --json lists why)")
        return
    typer.echo(render_table(result.opportunities))
    if result.skipped:
        typer.echo(f"({len(result.skipped)} pairs skipped; --json lists why)")


def _check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidConfig(f"--host {host!r}: the API serves on a loopback address only (127.0.0.1, ::1)")


def serve(
    db: Annotated[str | None, typer.Option(help=_DB_HELP)] = None,
    host: Annotated[str, typer.Option(help="Loopback address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8000,
    quote_price: Annotated[
        list[str] | None, typer.Option(help="USD price of a quote currency, CODE=PRICE (repeatable)")
    ] = None,
) -> None:
    """Serve the funding REST API (/api/v1/opportunities, /compare, /history, /health) with uvicorn."""
    import socket

    import uvicorn

    from nautilus_ext.funding.api import create_app
    from nautilus_ext.funding.store import FundingRepository

    try:
        _check_loopback(host)
        prices = _quote_prices(quote_price or [])
        try:  # a taken port is bad input, said plainly (uvicorn would log and exit 1)
            with socket.create_server((host, port)):
                pass
        except OSError as e:
            raise InvalidConfig(f"--port {port}: cannot bind {host}:{port} ({e.strerror})") from None
        database = _open_store(db)
    except NautilusExtError as e:
        raise _fail(e) from None
    try:
        app = create_app(FundingRepository(database), quote_prices=prices)
        typer.echo(f"serving the funding API on http://{host}:{port}/api/v1 (Ctrl-C stops)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    """Add ``opportunities`` and ``serve`` to ``app`` (the ``funding`` sub-app)."""
    app.command("opportunities")(opportunities)
    app.command("serve")(serve)


__all__ = ["opportunities", "opportunity_row", "register", "render_table", "serve"]
