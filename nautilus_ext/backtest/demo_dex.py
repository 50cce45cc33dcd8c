"""
The demo's DEX leg: a recorded Uniswap V3 BTC/USDT pool in the catalog and a CEX-vs-DEX routed order.

The recording (``python -m nautilus_ext_testkit.chain.demo_dex``: real pool bytecode on Anvil,
swapped and recorded; ``make demo`` makes it) is loaded with the on-chain catalog loader
(:mod:`nautilus_ext.catalogs.onchain`). At the routing time the demo reads Bybit spot's book
from the catalog and the pool's state at that block, splits one USDT->BTC conversion between
them with :func:`~nautilus_ext.routing.joint.route_conversion` (book walk + taker fee vs pool
impact + LP fee + gas), and turns the split into two unified Orders: a ``trade`` on Bybit spot
and a ``swap`` on the pool, both carrying the route's cost breakdown in their metadata. The
backtest fills the swap with the pool math (:mod:`nautilus_ext.backtest.dex_venue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.orders import Order

POOL_KEY: Final = "UNISWAPV3-ETH:POOL:BTC-USDT:500@ETHEREUM"
POOL_VENUE: Final = "UNISWAPV3-ETH"
CEX_KEY: Final = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"  # the pair, executed at Bybit as the demo's SOR orders
CEX_BOOK_KEY: Final = "BYBIT:SPOT_PAIR:BTC-USDT"  # the book the CEX leg walks
GAS_UNITS_V3: Final = 140_000
ETH_PRICE_USDT: Final = Decimal(3000)  # prices the pool's gas (the demo has no ETH market)
BTC_DECIMALS: Final = 8
USDT_DECIMALS: Final = 6


@dataclass(frozen=True)
class RoutedDemo:
    """The routed order's children and the route's reason."""

    orders: list[Order]
    reason: str
    dex_share: Decimal


def load_dex_leg(recording: Path, catalog: Path) -> Any:
    """Load the recorded pool into the demo catalog; return the load (trades, snapshots)."""
    from nautilus_ext.adapters.symbology import to_instrument_id
    from nautilus_ext.catalogs.keys import registry
    from nautilus_ext.catalogs.onchain import PoolSpec
    from nautilus_ext.catalogs.onchain import load_events
    from nautilus_ext.catalogs.onchain import read_recording
    from nautilus_ext.catalogs.onchain import write_onchain

    meta, logs, blocks = read_recording(recording)
    reg = registry()
    assert reg is not None
    spec = PoolSpec(
        address=meta["address"],
        kind=meta["kind"],
        instrument_id=str(to_instrument_id(POOL_KEY, reg)),
        base="BTC",
        quote="USDT",
        decimals0=int(meta["decimals0"]),
        decimals1=int(meta["decimals1"]),
        base_is_token0=bool(meta["base_is_token0"]),
        fee_pips=int(meta["fee_pips"]),
        price_precision=2,
        size_precision=6,
        instrument_key=POOL_KEY,
    )
    load = load_events(logs, [spec], blocks)
    write_onchain(load, [spec], catalog)
    return load


def _cex_asks(catalog: Path, instrument_id: str, when_ns: int, depth: int = 10) -> tuple[list[Any], Decimal]:
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    cat = ParquetDataCatalog(str(catalog))
    iid = InstrumentId.from_str(instrument_id)
    book = OrderBook(iid, BookType.L2_MBP)
    for delta in cat.order_book_deltas(instrument_ids=[instrument_id], end=when_ns):
        book.apply_delta(delta)
    (instrument,) = cat.instruments(instrument_ids=[instrument_id])
    levels = [(lvl.price.as_decimal(), lvl.size()) for lvl in book.asks()[:depth]]
    return [(p, Decimal(str(s))) for p, s in levels], instrument.taker_fee


def route_demo_order(catalog: Path, when: datetime, usdt: Decimal) -> RoutedDemo:
    """Split a USDT->BTC conversion of ``usdt`` between Bybit spot and the pool at ``when``."""
    from nautilus_ext.adapters.symbology import to_instrument_id
    from nautilus_ext.backtest.dex_venue import DexPoolSimulator
    from nautilus_ext.catalogs.keys import registry
    from nautilus_ext.dex.split import Hop
    from nautilus_ext.dex.split import PoolPath
    from nautilus_ext.routing.joint import CexBookLeg
    from nautilus_ext.routing.joint import route_conversion

    reg = registry()
    assert reg is not None
    when_ns = int(when.timestamp()) * 1_000_000_000
    asks, taker_fee = _cex_asks(catalog, str(to_instrument_id(CEX_BOOK_KEY, reg)), when_ns)
    pool_iid = str(to_instrument_id(POOL_KEY, reg))
    snap = DexPoolSimulator.from_catalog(str(catalog)).snapshot_at(pool_iid, when_ns)
    usdt_idx, btc_idx = (1, 0) if snap.base_is_token0 else (0, 1)
    gas_btc = Decimal(GAS_UNITS_V3 * snap.base_fee_wei).scaleb(-18) * ETH_PRICE_USDT / asks[0][0]
    dex = PoolPath(
        (Hop(snap.pool_state(), usdt_idx, btc_idx, f"UNISWAPV3:{snap.pool}"),), int(gas_btc.scaleb(8))
    )
    cex = CexBookLeg("BYBIT", tuple(asks), taker_fee, False, USDT_DECIMALS, BTC_DECIMALS)
    mid = asks[0][0]
    amount_in = int(usdt.scaleb(USDT_DECIMALS))
    route = route_conversion(
        [cex, dex], amount_in, Fraction(10**BTC_DECIMALS, 10**USDT_DECIMALS) / Fraction(mid)
    )
    orders: list[Order] = []
    dex_in = 0
    for line in route.lines:
        btc = (Decimal(line.amount_out).scaleb(-BTC_DECIMALS)).quantize(Decimal("0.00001"), ROUND_DOWN)
        if btc <= 0:
            continue
        is_dex = line.leg.startswith("UNISWAPV3")
        dex_in += line.amount_in if is_dex else 0
        common: dict[str, Any] = {
            "side": "BUY",
            "amount": str(btc),
            "created_at": when,
            "strategy_id": "demo",
            "metadata": {"routed": "demo-route", "route": route.reason, "leg": line.leg},
        }
        if is_dex:
            orders.append(
                Order(
                    operation_id="demo-route-dex",
                    operation="swap",
                    instrument_key=POOL_KEY,
                    venue=POOL_VENUE,
                    source_token="USDT",
                    target_token="BTC",
                    **common,
                )
            )
        else:
            orders.append(
                Order(
                    operation_id="demo-route-cex",
                    operation="trade",
                    instrument_key=CEX_KEY,
                    venue="BYBIT",
                    **common,
                )
            )
    return RoutedDemo(orders, route.reason, Decimal(dex_in) / Decimal(amount_in))


def dex_venue_spec() -> dict[str, Any]:
    """The demo's DEX venue in the backtest spec."""
    return {
        "venue": POOL_VENUE,
        "starting_balances": ["10000000 USDT", "100 BTC"],
        "book_type": "L1_MBP",
        "dex": {"gas_units_v3": GAS_UNITS_V3, "gas_token_price": str(ETH_PRICE_USDT)},
    }


__all__ = ["POOL_KEY", "RoutedDemo", "dex_venue_spec", "load_dex_leg", "route_demo_order"]
