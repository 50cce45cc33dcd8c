"""
Holdings valued in the share-class currency, with an exact P&L attribution (seed 003 #8, #24).

Every position of the strategy is a :class:`Holding`: a quantity times a unit value that is
the product of two market factors, ``u = f1 · f2`` (an LST in USD: ``rate · ETH/USD``; ETH in
USD: ``1 · ETH/USD``; a perpetual: ``1 · mark``; ETH in an ETH class: ``1 · 1``). Over one
hour the value changes by

    q·(f1' − f1)·f2'   (the holding's first market component, e.g. staking yield)
  + q·f1·(f2' − f2)    (its second, e.g. ETH price)
  + Σ Δq · u'          (each quantity change, tagged with the component that caused it:
                        lending, borrow cost, funding, rewards, trading, gas, liquidation)

which telescopes exactly to ``Σ q'·u' − Σ q·u``. Quantities are quantized to their token's
base units and prices carry few digits, so under :data:`CONTEXT` (80 digits) every product
and sum is exact and ``equity_t − equity_0 == Σ components`` holds to the last digit.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

CONTEXT: Final = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])
"""Arithmetic context of the engine: wide enough that products of quantized amounts are exact."""

COMPONENTS: Final[tuple[str, ...]] = (
    "staking_yield",  # LST oracle rate change (negative in a depeg)
    "rewards",  # EIGEN/ETHFI discrete payouts
    "lending",  # AAVE supply interest (liquidity index)
    "borrow_cost",  # AAVE variable debt interest (borrow index)
    "funding",  # perpetual funding settlements
    "price",  # mark-to-market of spot, LST and perpetual exposure to the asset price
    "trading",  # fees, swap costs and rounding of conversions
    "gas",  # on-chain gas fees
    "liquidation",  # protocol or venue liquidation penalties
)
"""P&L components, in the order the outputs list them."""

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)


@dataclass(slots=True)
class Holding:
    """
    One position line.

    Attributes
    ----------
    key : str
        Unique id (``wallet.ETH``, ``aave.aWEETH``, ``BYBIT.perp.ETH`` ...).
    line : str
        Balance-sheet line it belongs to (several holdings may share one, e.g. a perpetual and
        its cost basis form the venue's ``perp P&L`` line).
    side : str
        ``onchain`` or ``cex`` (decision 34 exposure split).
    factors : tuple[str, str]
        Names of the two market factors of its unit value (looked up in the snapshot).
    components : tuple[str, str]
        Components of a change of each factor.
    qty : Decimal
        Quantity (negative for a debt or a short).
    """

    key: str
    line: str
    side: str
    factors: tuple[str, str]
    components: tuple[str, str]
    qty: Decimal = ZERO


class Ledger:
    """
    The strategy's holdings and this hour's P&L by component.

    Parameters
    ----------
    factors : dict[str, Decimal]
        Initial market factors (``one`` is always 1).
    """

    def __init__(self, factors: dict[str, Decimal]) -> None:
        self.holdings: dict[str, Holding] = {}
        self.factors: dict[str, Decimal] = {"one": ONE, **factors}
        self.pnl: dict[str, Decimal] = dict.fromkeys(COMPONENTS, ZERO)

    def open(
        self, key: str, *, line: str, side: str, factors: tuple[str, str], components: tuple[str, str]
    ) -> None:
        """Register a holding (idempotent for the same key)."""
        if key not in self.holdings:
            for f in factors:
                if f not in self.factors:
                    raise KeyError(f"holding {key}: market factor {f!r} is not in the snapshot")
            self.holdings[key] = Holding(key, line, side, factors, components)

    def qty(self, key: str) -> Decimal:
        """Quantity of a holding (0 when never opened)."""
        h = self.holdings.get(key)
        return ZERO if h is None else h.qty

    def unit(self, key: str) -> Decimal:
        """Unit value of a holding in the share-class currency."""
        h = self.holdings[key]
        return CONTEXT.multiply(self.factors[h.factors[0]], self.factors[h.factors[1]])

    def value(self, key: str) -> Decimal:
        """Value of a holding in the share-class currency."""
        return CONTEXT.multiply(self.qty(key), self.unit(key)) if key in self.holdings else ZERO

    def add(self, key: str, delta: Decimal, component: str) -> None:
        """Change a quantity; its value change goes to ``component``."""
        if component not in self.pnl:
            raise KeyError(f"unknown P&L component {component!r}")
        h = self.holdings[key]
        h.qty = CONTEXT.add(h.qty, delta)
        self.pnl[component] = CONTEXT.add(self.pnl[component], CONTEXT.multiply(delta, self.unit(key)))

    def set(self, key: str, qty: Decimal, component: str) -> None:
        """Set a quantity; the value of the change goes to ``component``."""
        self.add(key, CONTEXT.subtract(qty, self.qty(key)), component)

    def move_to(self, factors: dict[str, Decimal]) -> None:
        """Apply a new market snapshot; attribute each holding's revaluation to its components."""
        new = {"one": ONE, **factors}
        with decimal.localcontext(CONTEXT):
            for h in self.holdings.values():
                if not h.qty:
                    continue
                a, b = h.factors
                a0, b0, a1, b1 = self.factors[a], self.factors[b], new[a], new[b]
                if a1 != a0:
                    self._book(h.components[0], h.qty * (a1 - a0) * b1)
                if b1 != b0:
                    self._book(h.components[1], h.qty * a0 * (b1 - b0))
        self.factors = new

    def _book(self, component: str, amount: Decimal) -> None:
        self.pnl[component] = CONTEXT.add(self.pnl[component], CONTEXT.plus(amount))

    def take_pnl(self) -> dict[str, Decimal]:
        """Return this hour's P&L by component and start a new hour."""
        out = self.pnl
        self.pnl = dict.fromkeys(COMPONENTS, ZERO)
        return out

    def equity(self) -> Decimal:
        """Total value of all holdings."""
        total = ZERO
        for key in self.holdings:
            total = CONTEXT.add(total, self.value(key))
        return total

    def lines(self) -> dict[str, Decimal]:
        """Balance-sheet lines: value per line (positive = asset, negative = debt)."""
        out: dict[str, Decimal] = {}
        for h in self.holdings.values():
            out[h.line] = CONTEXT.add(out.get(h.line, ZERO), self.value(h.key))
        return out


__all__ = ["COMPONENTS", "CONTEXT", "Holding", "Ledger"]
