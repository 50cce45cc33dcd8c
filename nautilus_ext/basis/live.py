"""
The basis engine's live seam: snapshots from live sources in, venue actions out (decision 21).

A backtest feeds the engine :class:`~nautilus_ext.basis.model.Snapshot` objects built from
stored data; the live/DRY_RUN service (:mod:`nautilus_ext.strategies.basis_live`) builds them
from what the venues say now, and turns the engine's events into orders and transactions
instead of simulated fills. This module holds the two pure halves of that seam:

* :func:`chain_inputs` reads the AAVE reserves (normalized income and debt indices at the
  latest block, exactly what ``balanceOf`` uses), the LST oracle rate (AAVE oracle
  ``LST/WETH``) and the gas price from the chain; :func:`live_snapshot` combines them with the
  CEX marks and the funding settlements seen since the last hour.
* :func:`actions_for` maps the engine's events of one hour to :class:`VenueAction` records:
  perpetual trades, spot trades, atomic bundles (leverage entry, deleverage) and transfers.
  The service executes them; the engine's model of each is replaced by what the venue did
  (:meth:`~nautilus_ext.basis.engine.BasisEngine.adopt_aave` after a bundle).

The service's hours are logical: hour ``n`` of a run is ``start + n h`` whatever the wall
clock, so a drill can run hours seconds apart (``hour_secs``) and the engine still sees an
hourly series (decision 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from enum import Enum
from enum import unique
from typing import Any

from nautilus_ext.basis.model import BasisEvent
from nautilus_ext.basis.model import Snapshot
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.onchain.calculators.aave import normalized_debt
from nautilus_ext.onchain.calculators.aave import normalized_income
from nautilus_ext.onchain.planner import OnchainClients

_GWEI = Decimal(10) ** 9


@dataclass(frozen=True, slots=True)
class ChainInputs:
    """What the chain says this hour: reserve indices (ray), LST oracle rates, gas price."""

    liquidity_index: dict[str, int]
    borrow_index: dict[str, int]
    oracle: dict[str, Decimal]
    gas_price_gwei: Decimal
    block_timestamp: int


def chain_inputs(clients: OnchainClients, reserves: Sequence[str], lsts: Sequence[str]) -> ChainInputs:
    """
    Read the AAVE reserves, LST oracle rates and gas price at the latest block.

    Indices are the reserves' normalized income and debt at the latest block's timestamp
    (AAVE's ``getReserveNormalizedIncome``/``...VariableDebt`` math), so an amount the engine
    values with them equals the aToken's or debt token's ``balanceOf`` at that block. Chain
    failures arrive as the gateway's typed errors.
    """
    now = clients.gateway.block_timestamp()
    liquidity: dict[str, int] = {}
    borrow: dict[str, int] = {}
    for symbol in reserves:
        state = clients.aave.reserve(symbol, with_total_debt=False).index_state
        liquidity[symbol] = normalized_income(state, now)
        borrow[symbol] = normalized_debt(state, now)
    weth = Decimal(clients.aave.asset_price("WETH"))
    oracle = {lst: Decimal(clients.aave.asset_price(lst)) / weth for lst in lsts}
    # the oracle rate is a ratio of two 1e8 prices: keep 18 decimals like the backtest's rates
    oracle = {k: v.quantize(Decimal("1e-18")) for k, v in oracle.items()}
    gas_wei = clients.gateway.gas_price_wei()
    return ChainInputs(liquidity, borrow, oracle, Decimal(gas_wei) / _GWEI, now)


@dataclass(frozen=True, slots=True)
class CexInputs:
    """What the CEXs say this hour: spot prices, perp marks, funding settled since last hour."""

    spot: dict[str, Decimal]
    perp_mark: dict[tuple[str, str], Decimal]
    funding_settled: dict[tuple[str, str], Decimal]


def hour_of(start: datetime, index: int) -> datetime:
    """Return the logical hour ``index`` of a run that started at ``start`` (on the hour)."""
    if start.minute or start.second or start.microsecond:
        raise InvalidConfig(f"a live run starts on the hour, got {start.isoformat()}")
    return start + timedelta(hours=index)


def live_snapshot(
    index: int,
    ts: datetime,
    cex: CexInputs,
    chain: ChainInputs | None,
    perps: Sequence[tuple[str, str]],
) -> Snapshot:
    """
    Build the hour's snapshot; a hedge venue without a mark is refused (no stale guess).

    ``funding_rate`` holds a rate only for the venues that settled since the last hour (the
    engine books a payment exactly then, as the backtest's data does at settlement hours).
    """
    missing = [f"{v} {a}" for v, a in perps if (v, a) not in cex.perp_mark]
    if missing:
        raise InvalidConfig(f"no live mark price for {', '.join(missing)}: the hour cannot be priced")
    return Snapshot(
        index=index,
        ts=ts,
        spot=dict(cex.spot),
        perp_mark=dict(cex.perp_mark),
        funding_rate={p: cex.funding_settled.get(p) for p in perps},
        liquidity_index={} if chain is None else dict(chain.liquidity_index),
        borrow_index={} if chain is None else dict(chain.borrow_index),
        oracle={} if chain is None else dict(chain.oracle),
        gas_price_gwei=Decimal(0) if chain is None else chain.gas_price_gwei,
        token_price={},
    )


@unique
class ActionKind(Enum):
    """What the service must make a venue do for one group of engine events."""

    PERP_TRADE = "PERP_TRADE"  # buy (qty > 0) or sell a perpetual on a hedge venue
    SPOT_TRADE = "SPOT_TRADE"  # buy or sell spot on the spot venue
    LEVERAGE_ENTRY = "LEVERAGE_ENTRY"  # atomic flash-loan leverage entry bundle
    DELEVERAGE = "DELEVERAGE"  # atomic flash-loan deleverage bundle (margin support, emergency)
    TRANSFER = "TRANSFER"  # move funds between the wallet and a CEX account (or between CEXs)


@dataclass(frozen=True, slots=True)
class VenueAction:
    """
    One external effect the engine's events ask for.

    Parameters
    ----------
    kind : ActionKind
        The effect.
    venue : str
        The venue code (hedge venue, spot venue, AAVE market, wallet).
    asset : str
        Asset or instrument (``ETH-PERP``, ``ETH``, ``WETH``, ``USDT``).
    amount : Decimal
        Signed quantity for trades (asset units); for bundles the leverage-entry equity or the
        WETH repaid (whole tokens); for transfers the amount moved.
    event_order : int
        ``order`` of the engine event that asked for it (audit lineage).
    detail : dict
        Bundle name, target LTV, transfer direction.
    """

    kind: ActionKind
    venue: str
    asset: str
    amount: Decimal
    event_order: int
    detail: Mapping[str, Any]


_PERP_EVENTS = frozenset({"HEDGE_OPEN", "HEDGE_ADJUST", "HEDGE_REDUCE"})


def actions_for(events: Sequence[BasisEvent], *, target_ltv: Decimal) -> list[VenueAction]:
    """
    Map one hour's engine events to venue actions, in the engine's order.

    An atomic bundle (an ``ATOMIC_TRANSACTION`` wrapper and its children) is one action: the
    leverage entry carries its equity (``STAKE_DEPOSIT - FLASH_BORROW``), a deleverage the WETH
    repaid (``LOAN_REPAID``). Events that only record (gas, funding, flags, liquidations the
    venue itself applies, reconciliations) map to nothing.
    """
    out: list[VenueAction] = []
    children: dict[int, list[BasisEvent]] = {}
    for e in events:
        if e.parent is not None:
            children.setdefault(e.parent, []).append(e)
    for e in events:
        if e.event in _PERP_EVENTS:
            out.append(
                VenueAction(ActionKind.PERP_TRADE, e.venue, e.asset, e.amount, e.order, {"event": e.event})
            )
        elif e.event == "SPOT_TRADE":
            out.append(VenueAction(ActionKind.SPOT_TRADE, e.venue, e.asset, e.amount, e.order, {}))
        elif e.event == "TRANSFER":
            out.append(
                VenueAction(ActionKind.TRANSFER, e.venue, e.asset, e.amount, e.order, {"note": e.note})
            )
        elif e.event == "ATOMIC_TRANSACTION":
            parts = {c.event: c.amount for c in children.get(e.order, [])}
            bundle = e.bundle or ""
            if bundle == "LEVERAGE_ENTRY":
                equity = parts["STAKE_DEPOSIT"] - parts["FLASH_BORROW"]
                out.append(
                    VenueAction(
                        ActionKind.LEVERAGE_ENTRY,
                        e.venue,
                        "WETH",
                        equity,
                        e.order,
                        {"bundle": bundle, "target_ltv": target_ltv},
                    )
                )
            elif "LOAN_REPAID" in parts:
                out.append(
                    VenueAction(
                        ActionKind.DELEVERAGE,
                        e.venue,
                        "WETH",
                        parts["LOAN_REPAID"],
                        e.order,
                        {"bundle": bundle},
                    )
                )
            else:
                raise InvalidConfig(f"engine bundle {bundle!r} (event {e.order}) has no live action")
    return out


__all__ = [
    "ActionKind",
    "CexInputs",
    "ChainInputs",
    "VenueAction",
    "actions_for",
    "chain_inputs",
    "hour_of",
    "live_snapshot",
]
