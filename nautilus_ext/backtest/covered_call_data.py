"""
Catalogs for the covered-call backtests (``configs/backtests/covered_call_{cme,deribit}.yaml``).

CME (:func:`build_cme_catalog`): the real Databento GLBX.MDP3 sample (``options_catalog``: ESM4
bbo-1m and definitions, ESM4 option bbo-1m and definitions, 9 May 2024 09:55-10:05 UTC) through
the project's catalog builder. That sample quotes only two ESM4 *puts* (P5230, P5250), so the
calls at those strikes are **derived** by put-call parity from each minute's real put and ESM4
quotes (``C = P + F - K`` at zero rate, bid from bids and ask from asks); their definitions are
the real puts' with the right switched and the symbol ``ESM4 C5230``. The derived calls are
named in the build summary; everything else is the vendor's data.

Deribit (:func:`build_deribit_catalog`): the Tardis ``options_chain`` sample holds seven rows
(two of them real), too few for a backtest, so this is a **seeded synthetic** Deribit chain:
BTC-PERPETUAL quotes on a geometric Brownian path started at the sample's underlying (9 756.36
USD, 8 Jun 2020) with its mark volatility (~60%) and a mild smile, hourly, and BTC weekly calls
(Friday 08:00 UTC expiries, 250 USD strikes) priced by Black-76 in BTC. Beside the catalog it
writes ``options_chain.csv`` in Tardis's format with each quote's delta and mark IV, which the
strategy uses as "the data's Greeks".
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.tradfi import black76

CME_FILES: Final = (
    "futures_definition.dbn.zst",
    "options_definition.dbn.zst",
    "futures_bbo-1m_2024-05-09T09-55_2024-05-09T10-05.dbn.zst",
    "options_bbo-1m_2024-05-09T09-55_2024-05-09T10-05.dbn.zst",
)
"""The real files of ``tests/test_data/databento/options_catalog/databento`` the CME run reads."""

DERIBIT_PERP: Final = "DERIBIT:PERPETUAL:BTC-USD@INV"
_HOUR_NS: Final = 3_600_000_000_000


@dataclass
class CatalogBuild:
    """What a covered-call catalog holds: instruments, quote counts and what was derived."""

    path: Path
    instruments: list[str] = field(default_factory=list)
    quotes: int = 0
    derived: list[str] = field(default_factory=list)
    greeks_csv: Path | None = None


def build_cme_catalog(source_dir: str | Path, target: str | Path) -> CatalogBuild:
    """
    Build the CME covered-call catalog from the real Databento sample in ``source_dir``.

    Raises
    ------
    InvalidConfig
        If a sample file is missing, or ``target`` already exists.
    """
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.instruments import OptionContract
    from nautilus_trader.model.objects import Price
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    src, out = Path(source_dir), Path(target)
    if out.exists():
        raise InvalidConfig(f"catalog target {out} already exists")
    missing = [f for f in CME_FILES if not (src / f).is_file()]
    if missing:
        raise InvalidConfig(f"Databento sample {src} lacks {', '.join(missing)}")
    build_catalog("databento", [str(src / f) for f in CME_FILES], out, progress=False)
    catalog = ParquetDataCatalog(str(out))
    instruments = catalog.instruments()
    future = next(i for i in instruments if i.raw_symbol.value == "ESM4")
    futures_quotes = {q.ts_event: q for q in catalog.quote_ticks(instrument_ids=[future.id.value])}
    build = CatalogBuild(out, [i.id.value for i in instruments])
    for put in [i for i in instruments if isinstance(i, OptionContract) and i.option_kind.name == "PUT"]:
        strike = put.strike_price.as_decimal()
        symbol = put.raw_symbol.value.replace(" P", " C", 1)
        data = OptionContract.to_dict(put)
        data.update(id=f"{symbol}.{put.id.venue.value}", raw_symbol=symbol, option_kind="CALL")
        call = OptionContract.from_dict(data)
        quotes = []
        for q in catalog.quote_ticks(instrument_ids=[put.id.value]):
            f = futures_quotes.get(q.ts_event)
            if f is None:
                continue
            bid = q.bid_price.as_decimal() + f.bid_price.as_decimal() - strike
            ask = q.ask_price.as_decimal() + f.ask_price.as_decimal() - strike
            if bid <= 0:
                continue
            p = call.price_precision
            quotes.append(
                QuoteTick(
                    call.id, Price(bid, p), Price(ask, p), q.bid_size, q.ask_size, q.ts_event, q.ts_init
                )
            )
        catalog.write_data([call])
        catalog.write_data(quotes)
        build.instruments.append(call.id.value)
        build.derived.append(f"{call.id.value}: {len(quotes)} quotes by put-call parity from {put.id.value}")
        build.quotes += len(quotes)
    return build


def _smile(forward: float, strike: float, base_vol: float) -> float:
    return base_vol + 0.15 * math.log(strike / forward) ** 2


def _fridays(start: datetime, weeks: int) -> list[datetime]:
    days = (4 - start.weekday()) % 7 or 7
    first = (start + timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)
    return [first + timedelta(weeks=w) for w in range(weeks)]


def build_deribit_catalog(
    target: str | Path,
    *,
    seed: int = 7,
    start: datetime = datetime(2020, 6, 8, tzinfo=UTC),
    days: int = 19,
    spot: float = 9756.36,
    vol: float = 0.60,
    drift: float = 0.0,
    strikes: tuple[int, int] = (-2, 8),
    registry: InstrumentRegistry | None = None,
) -> CatalogBuild:
    """
    Write a seeded synthetic Deribit BTC perpetual + weekly calls catalog and its Greeks CSV.

    ``drift`` is the path's annual drift; ``strikes`` the first and last strike listed, in
    250 USD steps from the at-the-money strike; the defaults start at the Tardis sample's underlying
    price and mark volatility. The same arguments always give the same catalog.

    Raises
    ------
    InvalidConfig
        If ``target`` already exists.
    """
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    out = Path(target)
    if out.exists():
        raise InvalidConfig(f"catalog target {out} already exists")
    reg = registry or InstrumentRegistry.default()
    rng = random.Random(seed)
    start_ns = int(start.timestamp()) * 1_000_000_000
    steps = days * 24
    dt = 1 / (365 * 24)
    path = [spot]
    for _ in range(steps):
        shock = rng.gauss(0.0, 1.0)
        path.append(path[-1] * math.exp((drift - 0.5 * vol * vol) * dt + vol * math.sqrt(dt) * shock))
    perp = build_instrument(reg.get(DERIBIT_PERP), reg)
    quotes: list[Any] = []
    for i, f in enumerate(path):
        ts = start_ns + i * _HOUR_NS
        bid = math.floor(f * 2) / 2
        quotes.append(
            QuoteTick(
                perp.id,
                Price(bid, 1),
                Price(bid + 0.5, 1),
                Quantity(100_000, 0),
                Quantity(100_000, 0),
                ts,
                ts,
            )
        )
    options = []
    rows: list[dict[str, Any]] = []
    atm = round(spot / 250) * 250
    for expiry in _fridays(start, days // 7 + 1):
        exp_ns = int(expiry.timestamp()) * 1_000_000_000
        for k in range(strikes[0], strikes[1] + 1):
            strike = atm + 250 * k
            attrs = InstrumentAttributes(
                instrument_key=f"DERIBIT:OPTION:BTC-USD-{expiry:%y%m%d}-{strike}-CALL@INV",
                expiry=expiry,
                strike=Decimal(strike),
                option_type=OptionKind.CALL,
                tick_size=Decimal("0.0001"),
                size_increment=Decimal("0.1"),
                min_size=Decimal("0.1"),
                contract_size=Decimal(1),
                inverse=True,
                maker_fee=Decimal("0.0003"),
                taker_fee=Decimal("0.0003"),
                base_asset="BTC",
                quote_asset="USD",
                settle_asset="BTC",
            )
            inst = build_instrument(attrs, reg)
            options.append(inst)
            for i, f in enumerate(path):
                ts = start_ns + i * _HOUR_NS
                years = black76.years_between(ts, exp_ns)
                if years <= 0:
                    break
                iv = _smile(f, strike, vol)
                mark = black76.price(OptionKind.CALL, f, strike, years, iv) / f  # BTC per option
                half = max(0.0005, 0.03 * mark)
                bid, ask = math.floor((mark - half) * 1e4) / 1e4, math.ceil((mark + half) * 1e4) / 1e4
                if bid < 0.0001:
                    continue  # Deribit shows no bid this far out of the money
                quotes.append(
                    QuoteTick(inst.id, Price(bid, 4), Price(ask, 4), Quantity(50, 1), Quantity(50, 1), ts, ts)
                )
                g = black76.greeks(OptionKind.CALL, f, strike, years, iv)
                rows.append(
                    {
                        "exchange": "deribit",
                        "symbol": inst.raw_symbol.value,
                        "timestamp": ts // 1000,
                        "local_timestamp": ts // 1000,
                        "type": "call",
                        "strike_price": strike,
                        "expiration": exp_ns // 1000,
                        "bid_price": f"{bid:.4f}",
                        "ask_price": f"{ask:.4f}",
                        "mark_price": f"{mark:.8f}",
                        "mark_iv": f"{iv * 100:.2f}",
                        "underlying_index": f"SYN.BTC-{expiry:%-d%b%y}".upper(),
                        "underlying_price": f"{f:.2f}",
                        "delta": f"{g.delta:.5f}",
                        "gamma": f"{g.gamma:.5f}",
                        "vega": f"{g.vega / 100:.5f}",
                    }
                )
    out.mkdir(parents=True)
    catalog = ParquetDataCatalog(str(out))
    catalog.write_data([perp, *options])
    quotes.sort(key=lambda q: q.ts_init)
    catalog.write_data(quotes)
    greeks_csv = out / "options_chain.csv"
    columns = [
        "exchange", "symbol", "timestamp", "local_timestamp", "type", "strike_price", "expiration",
        "bid_price", "ask_price", "mark_price", "mark_iv", "underlying_index", "underlying_price",
        "delta", "gamma", "vega",
    ]  # fmt: skip
    with greeks_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return CatalogBuild(out, [perp.id.value, *(o.id.value for o in options)], len(quotes), [], greeks_csv)


def main(argv: list[str] | None = None) -> int:
    """Build a covered-call catalog: ``python -m nautilus_ext.backtest.covered_call_data VENUE TARGET``."""
    import argparse
    import sys

    from nautilus_ext.errors import NautilusExtError

    parser = argparse.ArgumentParser(prog="python -m nautilus_ext.backtest.covered_call_data")
    parser.add_argument("venue", choices=["cme", "deribit"])
    parser.add_argument("target")
    import os

    shared = os.environ.get("NAUTILUS_EXT_SHARED_DATA", "../shared/data")
    parser.add_argument(
        "--source",
        default=f"{shared}/nautilus_trader/tests/test_data/databento/options_catalog/databento",
        help="CME: the Databento options_catalog sample folder ($NAUTILUS_EXT_SHARED_DATA/...)",
    )
    parser.add_argument("--seed", type=int, default=7, help="Deribit: the synthetic path's seed")
    args = parser.parse_args(argv)
    try:
        if args.venue == "cme":
            built = build_cme_catalog(args.source, args.target)
        else:
            built = build_deribit_catalog(args.target, seed=args.seed)
    except NautilusExtError as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    lines = [f"{built.path}: {len(built.instruments)} instruments, {built.quotes} quotes written"]
    for line in built.derived:
        lines.append(f"  derived {line}")
    if built.greeks_csv is not None:
        lines.append(f"  Greeks: {built.greeks_csv}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


__all__ = ["CME_FILES", "DERIBIT_PERP", "CatalogBuild", "build_cme_catalog", "build_deribit_catalog", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
