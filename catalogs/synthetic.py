"""
Seeded synthetic market data in Tardis CSV format (``incremental_book_L2`` and ``trades``).

The model, kept simple and stated plainly so nobody mistakes it for real data:

- a common mid price follows a driftless log random walk (``annual_vol``) on a fixed step grid
  (``book_updates_per_sec``); each venue adds a small mean-reverting basis around it;
- each venue keeps ``levels`` price levels per side on its tick grid; the spread is one tick
  most of the time and sometimes two or three; as the mid moves, levels that leave the window
  are deleted (amount 0) and new ones are added, and a few resting sizes change every step;
- level sizes are log-normal and grow with the distance from the touch;
- trades arrive as a Poisson process (``trades_per_sec``), hit the best bid or lift the best
  ask with equal probability, with log-normal amounts (no price impact on the book).

Everything is vectorised numpy; 1M rows take about a second.
"""

from __future__ import annotations

import gzip as gzip_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nautilus_ext.errors import InvalidConfig

SECONDS_PER_YEAR: Final = 365.0 * 86_400.0
DEFAULT_START: Final = datetime(2024, 1, 2, tzinfo=UTC)


@dataclass(frozen=True)
class SyntheticVenue:
    """
    One venue's contract terms for synthetic data.

    Parameters
    ----------
    exchange, symbol : str
        Tardis exchange id and symbol (``binance-futures``, ``BTCUSDT``).
    price_precision : int
        Decimals of the tick (tick = ``10**-price_precision``).
    size_precision : int
        Decimals of sizes.
    basis_bps : float
        Mean basis of this venue's mid over the common mid, in basis points.
    typical_size : float
        Median size at the touch, in base units.
    funding_interval_hours : int, optional
        Funding interval of a perpetual (``None`` for spot: no ``derivative_ticker`` file).
    funding_bps : float
        Mean funding rate per interval, in basis points (venues differ: that is the divergence).
    """

    exchange: str
    symbol: str
    price_precision: int = 1
    size_precision: int = 3
    basis_bps: float = 0.0
    typical_size: float = 0.5
    funding_interval_hours: int | None = None
    funding_bps: float = 1.0


DEMO_VENUES: Final = (
    SyntheticVenue(
        "binance-futures",
        "BTCUSDT",
        basis_bps=0.0,
        typical_size=0.8,
        funding_interval_hours=8,
        funding_bps=1.0,
    ),
    SyntheticVenue(
        "bybit", "BTCUSDT", basis_bps=1.5, typical_size=0.5, funding_interval_hours=8, funding_bps=2.5
    ),
)
"""The two CeFi venues of ``make demo``: Binance USD-M and Bybit linear BTCUSDT perpetuals."""


def _decimal_text(ticks: np.ndarray, precision: int) -> pa.Array:
    # integer ticks -> exact decimal text ("60000.1"), no float formatting
    ticks = np.asarray(ticks, dtype=np.int64)
    if precision == 0:
        return pc.cast(pa.array(ticks), pa.string())
    scale = 10**precision
    neg = ticks < 0
    mag = np.abs(ticks)
    whole = pc.cast(pa.array(mag // scale), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(mag % scale), pa.string()), width=precision, padding="0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    if np.any(neg):
        text = pc.if_else(pa.array(neg), pc.binary_join_element_wise("-", text, ""), text)
    return text


def mid_path(
    n_steps: int, step_secs: float, mid0: float, annual_vol: float, rng: np.random.Generator
) -> np.ndarray:
    """Return a log random walk of ``n_steps`` mids starting at ``mid0``."""
    sigma = annual_vol * np.sqrt(step_secs / SECONDS_PER_YEAR)
    steps = rng.normal(0.0, sigma, size=n_steps)
    steps[0] = 0.0
    out: np.ndarray = mid0 * np.exp(np.cumsum(steps))
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # expand [start, start+len) ranges: returns (group index, value)
    lengths = np.maximum(lengths, 0)
    group = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return group, np.repeat(starts, lengths) + offsets


def _window_changes(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Return ``(step, price)`` of deleted and of added levels as a window ``[lo, hi]`` moves.

    The window keeps its length; between consecutive steps it shifts by ``d`` ticks.
    """
    d = lo[1:] - lo[:-1]
    size = hi[0] - lo[0] + 1
    length = np.minimum(np.abs(d), size)
    lo_p, hi_p, lo_c, hi_c = lo[:-1], hi[:-1], lo[1:], hi[1:]
    add_lo = np.where(d > 0, np.maximum(hi_p + 1, lo_c), lo_c)
    del_lo = np.where(d > 0, lo_p, np.maximum(hi_c + 1, lo_p))
    steps = np.arange(1, len(lo))
    g_add, p_add = _ranges(add_lo, length)
    g_del, p_del = _ranges(del_lo, length)
    return steps[g_del], p_del, steps[g_add], p_add


def generate_venue_book_and_trades(
    venue: SyntheticVenue,
    common_mid: np.ndarray,
    start_us: int,
    step_us: int,
    *,
    levels: int = 25,
    trades_per_sec: float = 5.0,
    updates_per_step: float = 2.0,
    rng: np.random.Generator,
) -> tuple[pa.Table, pa.Table]:
    """
    Return ``(incremental_book_L2, trades)`` tables in Tardis CSV layout for one venue.

    Raises
    ------
    InvalidConfig
        If ``levels`` is not positive.
    """
    if levels < 1:
        raise InvalidConfig(f"levels must be >= 1, got {levels}")
    n = len(common_mid)
    scale = 10**venue.price_precision
    # slow mean-reverting basis (std ~0.5 bp): AR(1) on a 100-step grid, interpolated
    n_coarse = n // 100 + 2
    shocks = rng.normal(0.0, 0.5e-4 * np.sqrt(1 - 0.9**2), size=n_coarse)
    coarse = np.convolve(shocks, 0.9 ** np.arange(min(n_coarse, 60)))[:n_coarse]
    basis = venue.basis_bps * 1e-4 + np.interp(np.arange(n) / 100.0, np.arange(n_coarse), coarse)
    mid = common_mid * (1.0 + basis)
    spread = 1 + (rng.random(n) < 0.15).astype(np.int64) + (rng.random(n) < 0.05)
    best_bid = np.floor(mid * scale - spread / 2.0).astype(np.int64)
    best_ask = best_bid + spread
    ts = start_us + np.arange(n, dtype=np.int64) * step_us
    size_scale = venue.typical_size

    def sizes(count: int, depth: np.ndarray) -> np.ndarray:
        raw = rng.lognormal(np.log(size_scale), 0.8, size=count) * (1.0 + 0.08 * depth)
        units: np.ndarray = np.maximum(np.round(raw * 10**venue.size_precision), 1)
        return units.astype(np.int64)

    rows_step: list[np.ndarray] = []
    rows_side: list[np.ndarray] = []
    rows_price: list[np.ndarray] = []
    rows_size: list[np.ndarray] = []
    rows_snapshot: list[np.ndarray] = []
    depth_idx = np.arange(levels)
    for side_code, top, direction in ((0, best_bid, 1), (1, best_ask, -1)):
        # the initial snapshot
        snap_prices = top[0] - direction * depth_idx
        rows_step.append(np.zeros(levels, dtype=np.int64))
        rows_price.append(snap_prices)
        rows_size.append(sizes(levels, depth_idx))
        rows_snapshot.append(np.ones(levels, dtype=bool))
        rows_side.append(np.full(levels, side_code))
        lo = top - (levels - 1) if direction == 1 else top
        del_step, del_price, add_step, add_price = _window_changes(lo, lo + levels - 1)
        rows_step += [del_step, add_step]
        rows_price += [del_price, add_price]
        rows_size += [
            np.zeros(len(del_step), dtype=np.int64),
            sizes(len(add_step), np.abs(add_price - top[add_step])),
        ]
        rows_snapshot += [np.zeros(len(del_step), bool), np.zeros(len(add_step), bool)]
        rows_side += [np.full(len(del_step), side_code), np.full(len(add_step), side_code)]
        # resting size changes inside the current window
        counts = rng.poisson(updates_per_step, size=n - 1)
        upd_step = np.repeat(np.arange(1, n), counts)
        upd_depth = rng.integers(0, levels, size=len(upd_step))
        rows_step.append(upd_step)
        rows_price.append(top[upd_step] - direction * upd_depth)
        rows_size.append(sizes(len(upd_step), upd_depth))
        rows_snapshot.append(np.zeros(len(upd_step), bool))
        rows_side.append(np.full(len(upd_step), side_code))
    step = np.concatenate(rows_step)
    # within a step: snapshot rows, then deletes (size 0), then adds/updates
    size = np.concatenate(rows_size)
    snapshot = np.concatenate(rows_snapshot)
    rank = np.where(snapshot, 0, np.where(size == 0, 1, 2))
    order = np.lexsort((rank, step))
    step, size, snapshot = step[order], size[order], snapshot[order]
    price = np.concatenate(rows_price)[order]
    side_arr = np.concatenate(rows_side)[order]
    latency = rng.integers(500, 5_000, size=n)  # µs from exchange to recorder
    book = _book_table(venue, ts[step], ts[step] + latency[step], snapshot, side_arr, price, size)

    duration_s = n * step_us / 1e6
    n_trades = int(rng.poisson(trades_per_sec * duration_s))
    t_steps = np.sort(rng.integers(1, n, size=n_trades))
    is_buy = rng.random(n_trades) < 0.5
    t_price = np.where(is_buy, best_ask[t_steps], best_bid[t_steps])
    t_size = sizes(n_trades, np.zeros(n_trades))
    offset = rng.integers(0, step_us, size=n_trades)
    t_ts = ts[t_steps] + offset
    t_local = t_ts + rng.integers(500, 5_000, size=n_trades)
    order_t = np.argsort(t_local, kind="stable")
    trades = _trades_table(
        venue,
        t_ts[order_t],
        t_local[order_t],
        is_buy[order_t],
        t_price[order_t],
        t_size[order_t],
    )
    return book, trades


def _book_table(
    venue: SyntheticVenue,
    ts: np.ndarray,
    local: np.ndarray,
    snapshot: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
) -> pa.Table:
    n = len(ts)
    return pa.table(
        {
            "exchange": pa.array([venue.exchange] * n) if n else pa.array([], pa.string()),
            "symbol": pa.array([venue.symbol] * n) if n else pa.array([], pa.string()),
            "timestamp": pa.array(ts),
            "local_timestamp": pa.array(np.maximum.accumulate(local)),
            "is_snapshot": pc.if_else(pa.array(snapshot), "true", "false"),
            "side": pc.if_else(pa.array(side == 0), "bid", "ask"),
            "price": _decimal_text(price, venue.price_precision),
            "amount": _decimal_text(size, venue.size_precision),
        }
    )


def _trades_table(
    venue: SyntheticVenue,
    ts: np.ndarray,
    local: np.ndarray,
    is_buy: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
) -> pa.Table:
    n = len(ts)
    return pa.table(
        {
            "exchange": pa.array([venue.exchange] * n, pa.string()),
            "symbol": pa.array([venue.symbol] * n, pa.string()),
            "timestamp": pa.array(ts),
            "local_timestamp": pa.array(local),
            "id": pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string()),
            "side": pc.if_else(pa.array(is_buy), "buy", "sell"),
            "price": _decimal_text(price, venue.price_precision),
            "amount": _decimal_text(size, venue.size_precision),
        }
    )


def derivative_ticker(
    venue: SyntheticVenue,
    common_mid: np.ndarray,
    start_us: int,
    step_us: int,
    rng: np.random.Generator,
    every_secs: int = 60,
) -> pa.Table:
    """
    Return a Tardis ``derivative_ticker`` table of a perpetual: funding, mark, index, OI.

    One row every ``every_secs``. The index is the common mid, the mark the venue's mid (common
    mid times the venue's mean basis). The funding rate per interval is an AR(1) around
    ``funding_bps`` (std 0.4 bp per 8 h of interval, half-life 4 h: funding moves slowly), rounded
    to 1e-8 like the venues;
    ``funding_timestamp`` is the next multiple of the interval (UTC epoch-aligned, as Binance,
    Bybit and OKX schedule 8 h funding), in microseconds like Tardis.
    """
    if venue.funding_interval_hours is None:
        raise InvalidConfig(f"{venue.exchange} {venue.symbol}: no funding interval (not a perpetual)")
    stride = max(1, round(every_secs * 1e6 / step_us))
    idx = np.arange(0, len(common_mid), stride)
    n = len(idx)
    ts = start_us + idx.astype(np.int64) * step_us
    index = common_mid[idx]
    mark = index * (1.0 + venue.basis_bps * 1e-4)
    phi = 0.5 ** (every_secs / 14_400.0)
    scale = 0.4 * venue.funding_interval_hours / 8.0  # the same APR noise whatever the interval
    noise = rng.normal(0.0, scale * np.sqrt(1.0 - phi**2), size=n)
    dev = np.empty(n)
    dev[0] = noise[0] / np.sqrt(1.0 - phi**2)  # the stationary spread from the start
    for i in range(1, n):
        dev[i] = phi * dev[i - 1] + noise[i]
    rate_e8 = np.round((venue.funding_bps + dev) * 1e4).astype(np.int64)  # bps -> 1e-8 units
    interval_us = venue.funding_interval_hours * 3_600_000_000
    funding_ts = (ts // interval_us + 1) * interval_us
    oi = np.round(rng.normal(50_000.0, 500.0, size=n) * 1000).astype(np.int64)
    local = ts + rng.integers(500, 5_000, size=n)
    tick = 10**venue.price_precision

    def text(values: np.ndarray, precision: int) -> pa.Array:
        negative = values < 0
        body = _decimal_text(np.abs(values), precision)
        return pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", body, ""), body)

    return pa.table(
        {
            "exchange": pa.array([venue.exchange] * n, pa.string()),
            "symbol": pa.array([venue.symbol] * n, pa.string()),
            "timestamp": pa.array(ts),
            "local_timestamp": pa.array(np.maximum.accumulate(local)),
            "funding_timestamp": pa.array(funding_ts),
            "funding_rate": text(rate_e8, 8),
            "predicted_funding_rate": text(rate_e8, 8),
            "open_interest": _decimal_text(oi, 3),
            "last_price": _decimal_text(np.round(mark * tick), venue.price_precision),
            "index_price": _decimal_text(np.round(index * tick), venue.price_precision),
            "mark_price": _decimal_text(np.round(mark * tick), venue.price_precision),
        }
    )


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write a table as Tardis CSV (gzipped when ``path`` ends in ``.gz``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(quoting_style="none", include_header=False)
    header = (",".join(table.column_names) + "\n").encode()
    opener: Any = gzip_module.open if path.suffix == ".gz" else open
    kwargs: dict[str, Any] = {"compresslevel": 1} if path.suffix == ".gz" else {}
    with opener(path, "wb", **kwargs) as f:
        f.write(header)
        pacsv.write_csv(table, f, options)
    return path


def write_synthetic_tardis(
    out_dir: str | Path,
    *,
    venues: Sequence[SyntheticVenue] = DEMO_VENUES,
    start: datetime = DEFAULT_START,
    hours: float = 3.0,
    seed: int = 7,
    mid0: float = 60_000.0,
    annual_vol: float = 0.5,
    book_updates_per_sec: float = 10.0,
    trades_per_sec: float = 5.0,
    levels: int = 25,
    gzip: bool = True,
) -> dict[str, dict[str, Path]]:
    """
    Write seeded synthetic ``incremental_book_L2`` and ``trades`` CSVs for several venues.

    Perpetuals (venues with ``funding_interval_hours``) also get a ``derivative_ticker`` CSV
    (:func:`derivative_ticker`), drawn from a separate seeded stream so books and trades are the
    same with or without it.

    Returns
    -------
    dict[str, dict[str, Path]]
        ``{"<exchange>_<symbol>": {"incremental_book_L2": path, "trades": path}}`` (and
        ``"derivative_ticker": path`` for perpetuals).

    Raises
    ------
    InvalidConfig
        On a non-positive duration or rate, or a naive ``start``.
    """
    if hours <= 0 or book_updates_per_sec <= 0 or trades_per_sec < 0:
        raise InvalidConfig("hours and book_updates_per_sec must be > 0, trades_per_sec >= 0")
    if start.tzinfo is None:
        raise InvalidConfig("start must be timezone-aware (UTC)")
    rng = np.random.default_rng(seed)
    step_us = max(1, round(1e6 / book_updates_per_sec))
    n_steps = int(hours * 3600 * 1e6 / step_us)
    common = mid_path(n_steps, step_us / 1e6, mid0, annual_vol, rng)
    start_us = int(start.timestamp() * 1e6)
    out = Path(out_dir)
    ext = ".csv.gz" if gzip else ".csv"
    day = start.strftime("%Y-%m-%d")
    written: dict[str, dict[str, Path]] = {}
    for venue in venues:
        book, trades = generate_venue_book_and_trades(
            venue,
            common,
            start_us,
            step_us,
            levels=levels,
            trades_per_sec=trades_per_sec,
            rng=rng,
        )
        stem = f"{venue.exchange}_{venue.symbol}"
        written[stem] = {
            "incremental_book_L2": write_csv(
                book, out / f"{venue.exchange}_incremental_book_L2_{day}_{venue.symbol}{ext}"
            ),
            "trades": write_csv(trades, out / f"{venue.exchange}_trades_{day}_{venue.symbol}{ext}"),
        }
    funding_rng = np.random.default_rng([seed, 2])
    for venue in venues:
        if venue.funding_interval_hours is not None:
            ticker = derivative_ticker(venue, common, start_us, step_us, funding_rng)
            name = f"{venue.exchange}_derivative_ticker_{day}_{venue.symbol}{ext}"
            written[f"{venue.exchange}_{venue.symbol}"]["derivative_ticker"] = write_csv(ticker, out / name)
    return written


def write_synthetic_trades(
    path: str | Path,
    rows: int,
    *,
    venue: SyntheticVenue = DEMO_VENUES[0],
    start: datetime = DEFAULT_START,
    seed: int = 11,
    mid0: float = 60_000.0,
) -> Path:
    """Write a Tardis trades CSV of exactly ``rows`` trades (for benchmarks)."""
    if rows < 1:
        raise InvalidConfig(f"rows must be >= 1, got {rows}")
    rng = np.random.default_rng(seed)
    mid = mid_path(rows, 0.01, mid0, 0.5, rng)
    scale = 10**venue.price_precision
    bid = np.floor(mid * scale).astype(np.int64)
    is_buy = rng.random(rows) < 0.5
    price = np.where(is_buy, bid + 1, bid)
    size = np.maximum(np.round(rng.lognormal(np.log(0.2), 1.0, rows) * 1000), 1).astype(np.int64)
    ts = int(start.timestamp() * 1e6) + np.cumsum(rng.integers(0, 20_000, size=rows))
    local = ts + rng.integers(500, 5_000, size=rows)
    local = np.maximum.accumulate(local)
    table = _trades_table(venue, ts, local, is_buy, price, size)
    return write_csv(table, Path(path))


_TRADE_DTYPE = np.dtype(
    [
        ("length", "u1"),
        ("rtype", "u1"),
        ("publisher_id", "<u2"),
        ("instrument_id", "<u4"),
        ("ts_event", "<u8"),
        ("price", "<i8"),
        ("size", "<u4"),
        ("action", "u1"),
        ("side", "u1"),
        ("flags", "u1"),
        ("depth", "u1"),
        ("ts_recv", "<u8"),
        ("ts_in_delta", "<i4"),
        ("sequence", "<u4"),
    ]
)


@dataclass(frozen=True)
class _Interval:
    # databento_dbn.MappingInterval is a Protocol: any object with these attributes
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _SymbolMapping:
    raw_symbol: str
    intervals: list[_Interval]


def write_synthetic_dbn_trades(path: str | Path, rows: int, seed: int = 5) -> Path:
    """Write a zstd DBN trades file of ``rows`` ESM4 records with symbology in its metadata."""
    import databento_dbn
    import zstandard

    dbn: Any = databento_dbn  # its stubs mistype enum members and the mapping protocols

    path = Path(path)
    if rows < 1:
        raise InvalidConfig(f"rows must be >= 1, got {rows}")

    rng = np.random.default_rng(seed)
    start_ns = 1_715_212_800_000_000_000  # 2024-05-09T00:00:00Z
    ts_event = start_ns + np.cumsum(rng.integers(1_000, 100_000_000, size=rows))
    ticks = 20_000 + np.cumsum(rng.choice([-1, 0, 0, 0, 1], size=rows))
    rec = np.zeros(rows, dtype=_TRADE_DTYPE)
    rec["length"] = _TRADE_DTYPE.itemsize // 4
    rec["rtype"] = 0  # MBP-0 (trades)
    rec["publisher_id"] = 1
    rec["instrument_id"] = 5482
    rec["ts_event"] = ts_event
    rec["price"] = ticks.astype(np.int64) * 250_000_000  # 0.25 in 1e-9 units
    rec["size"] = rng.integers(1, 50, size=rows)
    rec["action"] = ord("T")
    rec["side"] = np.where(rng.random(rows) < 0.5, ord("A"), ord("B"))
    rec["ts_recv"] = np.maximum.accumulate(ts_event + rng.integers(1_000, 50_000, size=rows))
    rec["sequence"] = np.arange(rows)
    sample = dbn.TradeMsg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=int(rec["ts_event"][0]),
        price=int(rec["price"][0]),
        size=int(rec["size"][0]),
        action=dbn.Action.TRADE,
        side=dbn.Side.ASK if rec["side"][0] == ord("A") else dbn.Side.BID,
        flags=0,
        depth=0,
        ts_recv=int(rec["ts_recv"][0]),
        ts_in_delta=0,
        sequence=0,
    )
    if bytes(sample) != rec[:1].tobytes():
        raise RuntimeError("DBN TradeMsg layout mismatch: the generated file would be invalid")
    metadata = dbn.Metadata(
        dataset="GLBX.MDP3",
        schema=dbn.Schema.TRADES,
        start=start_ns,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        end=int(ts_event[-1]) + 1,
        symbols=["ESM4"],
        partial=[],
        not_found=[],
        mappings=[_SymbolMapping("ESM4", [_Interval(date(2024, 5, 1), date(2024, 6, 1), "5482")])],
    )
    raw = metadata.encode() + rec.tobytes()
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
    return path


def build_demo_catalog(
    target: str | Path,
    work_dir: str | Path,
    *,
    hours: float = 3.0,
    seed: int = 7,
    levels: int = 10,
    book_updates_per_sec: float = 2.0,
    trades_per_sec: float = 3.0,
    progress: bool = False,
) -> Any:
    """
    Generate synthetic data for :data:`DEMO_VENUES` into ``work_dir`` and build a catalog.

    The defaults keep the demo small (about 0.3M book rows per venue per hour); at
    ``levels=25, book_updates_per_sec=10`` a venue produces about 1.9M rows per hour, close
    to a real BTCUSDT perpetual feed.

    Returns
    -------
    nautilus_ext.catalogs.build.BuildSummary
    """
    from nautilus_ext.catalogs.build import build_catalog

    files = write_synthetic_tardis(
        work_dir,
        hours=hours,
        seed=seed,
        levels=levels,
        book_updates_per_sec=book_updates_per_sec,
        trades_per_sec=trades_per_sec,
    )
    inputs = [p for kinds in files.values() for p in kinds.values()]
    return build_catalog("tardis", inputs, target, progress=progress)


__all__ = [
    "DEMO_VENUES",
    "SyntheticVenue",
    "build_demo_catalog",
    "derivative_ticker",
    "mid_path",
    "write_synthetic_dbn_trades",
    "write_synthetic_tardis",
    "write_synthetic_trades",
]
