"""
A simulated DEX venue for backtests: fills from the pool math on the pool state at the order's time.

The hook is NautilusTrader's own: a simulated venue's ``FillModel`` may return the order book a
market order fills against (``FillModel.get_orderbook_for_fill_simulation``), and its
``FeeModel`` computes the commission. So a DEX venue is an ordinary simulated venue of the
``BacktestNode`` (same orders-driven path, same safety gate at the ExecEngine chokepoint) whose

- :class:`DexPoolFillModel` rebuilds the pool at the order's time from the catalog's
  :class:`~nautilus_ext.catalogs.custom.DexPoolState` snapshots (the last one at or before it),
  runs the exact swap (:mod:`nautilus_ext.dex`: V2 ``getAmountOut``/``getAmountIn``, V3 across
  initialized ticks) and returns a one-level book holding exactly the order's quantity at the
  swap's average price. The pool it leaves is carried forward: the next order on that pool
  trades against it until the catalog records a newer snapshot (our own price impact).
- :class:`DexGasFeeModel` charges gas as the fill's commission: gas units per swap kind x the
  block's ``baseFeePerGas`` (from the same snapshot), priced in the quote currency (at the fill
  price when the base is ETH/WETH, else at ``gas_token_price``).

A BUY of ``q`` base is an exact-output swap of ``q`` base; a SELL an exact-input swap of ``q``
base. A limit order swaps only when the swap's average price meets its limit. (When the fill
model offers nothing, NautilusTrader 1.231's matching engine falls back to its own fill logic on
the venue's L1 book of pool trades: keep DEX orders at market, as swaps are.) The book level's
price is the exact average rounded to the instrument's price precision;
:attr:`DexPoolSimulator.fills` keeps the exact integer amounts of every swap.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.backtest.config import FeeModelConfig
from nautilus_trader.backtest.config import FillModelConfig
from nautilus_trader.backtest.models import FeeModel
from nautilus_trader.backtest.models import FillModel

from nautilus_ext.errors import InvalidConfig

GAS_TOKENS: Final = frozenset({"ETH", "WETH"})
DEFAULT_GAS_UNITS: Final[dict[str, int]] = {"V2": 110_000, "V3": 140_000}
"""Gas per swap kind (a router exact-input single swap, typical mainnet receipts)."""


class DexVenueConfig(FillModelConfig, frozen=True):
    """
    The DEX venue's pool data and gas.

    Parameters
    ----------
    catalog : str
        The catalog holding the pools' ``DexPoolState`` snapshots.
    gas_units_v2, gas_units_v3 : int
        Gas per swap, by pool kind (gas units).
    gas_token_price : str, optional
        Price of ETH in the quote currency for pairs whose base is not ETH/WETH.
    """

    catalog: str = ""
    gas_units_v2: int = DEFAULT_GAS_UNITS["V2"]
    gas_units_v3: int = DEFAULT_GAS_UNITS["V3"]
    gas_token_price: str | None = None


class DexGasFeeModelConfig(FeeModelConfig, frozen=True):
    """:class:`DexVenueConfig`'s fields for the fee model (same meaning)."""

    catalog: str = ""
    gas_units_v2: int = DEFAULT_GAS_UNITS["V2"]
    gas_units_v3: int = DEFAULT_GAS_UNITS["V3"]
    gas_token_price: str | None = None


@dataclass(frozen=True, slots=True)
class DexFill:
    """One simulated swap, exact."""

    instrument_id: str
    ts: int
    block_number: int
    buy: bool
    base_units: int
    quote_units: int
    price: Decimal
    gas_units: int
    base_fee_wei: int
    carried: bool  # traded against the state our previous fill left


@dataclass
class DexPoolSimulator:
    """Pool snapshots by instrument, and the states our own fills left."""

    snapshots: dict[str, list[Any]]
    gas_units: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_GAS_UNITS))
    fills: list[DexFill] = field(default_factory=list)
    _own: dict[str, tuple[int, Any]] = field(default_factory=dict)

    @classmethod
    def from_catalog(cls, catalog: str, gas_units: dict[str, int] | None = None) -> DexPoolSimulator:
        """Load every ``DexPoolState`` of a catalog."""
        from nautilus_trader.persistence.catalog import ParquetDataCatalog

        from nautilus_ext.catalogs.custom import DexPoolState

        by_iid: dict[str, list[Any]] = {}
        for item in ParquetDataCatalog(catalog).custom_data(DexPoolState):
            snap = item.data if hasattr(item, "data") else item
            by_iid.setdefault(snap.instrument_id.value, []).append(snap)
        for snaps in by_iid.values():
            snaps.sort(key=lambda s: (s.ts_init, s.block_number))
        return cls(by_iid, gas_units=dict(gas_units or DEFAULT_GAS_UNITS))

    def snapshot_at(self, instrument_id: str, ts: int) -> Any:
        """The last snapshot at or before ``ts``."""
        snaps = self.snapshots.get(instrument_id)
        if not snaps:
            raise InvalidConfig(f"no pool-state snapshots for {instrument_id} in the catalog")
        i = bisect.bisect_right([s.ts_init for s in snaps], ts)
        if i == 0:
            raise InvalidConfig(f"{instrument_id}: no pool state at or before {ts} (the pool starts later)")
        return snaps[i - 1]

    def state_at(self, instrument_id: str, ts: int) -> tuple[Any, Any, bool]:
        """(snapshot, pool state, carried): our own last state until a newer snapshot."""
        snap = self.snapshot_at(instrument_id, ts)
        own = self._own.get(instrument_id)
        if own is not None and own[0] == snap.block_number:
            return snap, own[1], True
        return snap, snap.pool_state(), False

    def swap(
        self, instrument_id: str, buy: bool, base_units: int, ts: int, limit: Decimal | None = None
    ) -> DexFill | None:
        """
        Fill ``base_units`` of base (BUY: exact output; SELL: exact input) and carry the pool forward.

        With a ``limit`` price the swap happens only when its average price is at or better than
        the limit (``None`` otherwise, and the pool is left as it was).

        Raises
        ------
        SwapRefused
            If the pool cannot do the swap (not enough liquidity...).
        """
        snap, state, carried = self.state_at(instrument_id, ts)
        base, quote = (0, 1) if snap.base_is_token0 else (1, 0)
        if buy:
            q = state.swap_exact_output(quote, base, base_units)
            quote_units = q.amount_in
        else:
            q = state.swap_exact_input(base, quote, base_units)
            quote_units = q.amount_out
        d_base, d_quote = (
            (snap.decimals0, snap.decimals1) if snap.base_is_token0 else (snap.decimals1, snap.decimals0)
        )
        price = Decimal(quote_units).scaleb(-d_quote) / Decimal(base_units).scaleb(-d_base)
        if limit is not None and (price > limit if buy else price < limit):
            return None
        self._own[instrument_id] = (snap.block_number, q.pool_after)
        fill = DexFill(
            instrument_id,
            ts,
            snap.block_number,
            buy,
            base_units,
            quote_units,
            price,
            self.gas_units[snap.kind],
            snap.base_fee_wei,
            carried,
        )
        self.fills.append(fill)
        return fill

    def base_units(self, instrument_id: str, quantity: Decimal) -> int:
        """Base-token units of a base quantity."""
        snap = self.snapshots[instrument_id][0]
        decimals = snap.decimals0 if snap.base_is_token0 else snap.decimals1
        return int(quantity.scaleb(decimals))


def gas_cost_quote(
    gas_units: int, base_fee_wei: int, base_code: str, fill_price: Decimal, gas_token_price: str | None
) -> Decimal:
    """Gas in the quote currency: units x base fee (wei) in ETH, at the ETH price in quote."""
    eth = Decimal(gas_units * base_fee_wei).scaleb(-18)
    if base_code.upper() in GAS_TOKENS:
        return eth * fill_price
    if gas_token_price is None:
        raise InvalidConfig(f"gas_token_price is needed to price gas for a {base_code} pair")
    return eth * Decimal(gas_token_price)


def _order_time(order: Any) -> int:
    # the order's latest event (submitted/accepted at the venue): the pool state it meets
    return max(int(order.ts_init), int(order.ts_last))


class DexPoolFillModel(FillModel):  # type: ignore[misc]
    """Fill market orders of a DEX venue with the pool math (see the module docstring)."""

    def __init__(self, config: DexVenueConfig) -> None:
        super().__init__()
        if not config.catalog:
            raise InvalidConfig("the DEX venue's fill model needs the catalog")
        self.sim = DexPoolSimulator.from_catalog(
            config.catalog, {"V2": config.gas_units_v2, "V3": config.gas_units_v3}
        )

    def get_orderbook_for_fill_simulation(
        self, instrument: Any, order: Any, best_bid: Any, best_ask: Any
    ) -> Any:
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder
        from nautilus_trader.model.enums import BookType
        from nautilus_trader.model.enums import OrderSide
        from nautilus_trader.model.enums import OrderType
        from nautilus_trader.model.objects import Price

        iid = instrument.id.value
        buy = order.side == OrderSide.BUY
        units = self.sim.base_units(iid, order.quantity.as_decimal())
        limit = None if order.order_type == OrderType.MARKET else order.price.as_decimal()
        fill = self.sim.swap(iid, buy, units, _order_time(order), limit)
        if fill is None:  # a limit the pool cannot meet: an empty book, nothing to take
            return OrderBook(instrument.id, BookType.L2_MBP)
        prec = instrument.price_precision
        price = fill.price.quantize(Decimal(1).scaleb(-prec), ROUND_HALF_EVEN)
        book = OrderBook(instrument.id, BookType.L2_MBP)
        side = OrderSide.SELL if buy else OrderSide.BUY  # the resting side the order takes
        book.add(BookOrder(side, Price(price, prec), order.quantity, 1), 0, 0)
        return book


class DexGasFeeModel(FeeModel):  # type: ignore[misc]
    """Charge each DEX fill its gas, in the quote currency (see the module docstring)."""

    def __init__(self, config: DexGasFeeModelConfig) -> None:
        super().__init__()
        if not config.catalog:
            raise InvalidConfig("the DEX venue's fee model needs the catalog")
        self.sim = DexPoolSimulator.from_catalog(config.catalog)
        self.gas_units = {"V2": config.gas_units_v2, "V3": config.gas_units_v3}
        self.gas_token_price = config.gas_token_price

    def get_commission(self, order: Any, fill_qty: Any, fill_px: Any, instrument: Any) -> Any:
        from nautilus_trader.model.objects import Money

        snap = self.sim.snapshot_at(instrument.id.value, _order_time(order))
        cost = gas_cost_quote(
            self.gas_units[snap.kind],
            snap.base_fee_wei,
            instrument.base_currency.code,
            fill_px.as_decimal(),
            self.gas_token_price,
        )
        return Money(cost, instrument.quote_currency)


__all__ = [
    "DEFAULT_GAS_UNITS",
    "DexFill",
    "DexGasFeeModel",
    "DexGasFeeModelConfig",
    "DexPoolFillModel",
    "DexPoolSimulator",
    "DexVenueConfig",
    "gas_cost_quote",
]
