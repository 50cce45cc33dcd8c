"""
Joint CEX + DEX routing of one spot conversion: one cost, in one unit, across every venue.

Seed 000's routing tree for a ``SPOT_PAIR`` order: "simulate slippage across CEX + DEX pools,
select best venue/pool" -- and split when that pays. Every candidate is a
:class:`~nautilus_ext.dex.split.Leg` turning an exact amount of the input token (integer base
units) into the output token:

- a DEX path (:class:`~nautilus_ext.dex.split.PoolPath`): pool price impact and LP fee from the
  exact pool math, the path's gas priced in the output token as a fixed cost;
- :class:`CexBookLeg`: a walk of one CEX book side with the venue's taker fee;
- :class:`CowQuoteLeg`: a CowSwap quote (its price and its fee, which CoW charges in the sell
  token whatever the size).

:func:`route_conversion` splits the amount with
:func:`~nautilus_ext.dex.split.optimise_split` (equal marginal outputs net of fees, gas as fixed
costs) and breaks the cost of each used leg down against one reference price (the caller's fair
mid): price impact, fee and gas, in output units and bps, which becomes the route's reason.
Pure: no I/O; market state arrives as book levels, pool states and quotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import Decimal
from fractions import Fraction

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.split import Leg
from nautilus_ext.dex.split import PoolPath
from nautilus_ext.dex.split import Split
from nautilus_ext.dex.split import optimise_split
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.routing.cost import BPS
from nautilus_ext.routing.cost import Level


def _units(amount: Decimal, decimals: int) -> int:
    return int((amount * (Decimal(10) ** decimals)).to_integral_value(rounding=ROUND_DOWN))


@dataclass(frozen=True)
class CexBookLeg:
    """
    One CEX book side as a leg: sell the base into the bids, or spend the quote on the asks.

    Parameters
    ----------
    venue : str
        Venue code (``BINANCE``...).
    levels : tuple[tuple[Decimal, Decimal], ...]
        The side a taker walks, best first: bids when selling the base, asks when buying it.
    taker_fee : Decimal
        Fee rate, charged in the asset received.
    sell_base : bool
        True: the input token is the base (out: quote); False: the input is the quote.
    in_decimals, out_decimals : int
        Decimals of the input and output tokens (base units on both sides, as the pools).
    min_size : Decimal
        The venue's minimum order size in base units of the instrument (human units).
    """

    venue: str
    levels: tuple[Level, ...]
    taker_fee: Decimal
    sell_base: bool
    in_decimals: int
    out_decimals: int
    min_size: Decimal = Decimal(0)

    @property
    def name(self) -> str:
        """``CEX:<venue>``."""
        return f"CEX:{self.venue}"

    @property
    def pool_ids(self) -> frozenset[str]:
        """The venue's book (one leg per book)."""
        return frozenset({f"cex:{self.venue}"})

    @property
    def fixed_cost(self) -> int:
        """No fixed cost on a CEX (the fee is proportional)."""
        return 0

    def _walk(self, amount_in: int) -> tuple[Decimal, Decimal, Decimal]:
        """Return (base traded, gross proceeds in the output asset, price of the last level)."""
        remaining = Decimal(amount_in) / (Decimal(10) ** self.in_decimals)
        base = gross = Decimal(0)
        last = self.levels[0][0] if self.levels else Decimal(0)
        for price, size in self.levels:
            if remaining <= 0:
                break
            if size <= 0 or price <= 0:
                continue
            last = price
            if self.sell_base:
                take = min(size, remaining)
                base += take
                gross += take * price
                remaining -= take
            else:
                take = min(size, remaining / price)
                base += take
                gross += take
                remaining -= take * price
        if remaining > 0:
            raise SwapRefused("DEPTH", f"{self.venue}'s book holds less than {amount_in} base units of input")
        return base, gross, last

    def quote(self, amount_in: int) -> int:
        """Output base units for ``amount_in`` after the taker fee; refused below the minimum size."""
        if amount_in <= 0:
            raise SwapRefused("AMOUNT", f"amount {amount_in} must be positive")
        base, gross, _ = self._walk(amount_in)
        if base < self.min_size:
            raise SwapRefused("MIN_SIZE", f"{base} is below {self.venue}'s minimum size {self.min_size}")
        return _units(gross * (1 - self.taker_fee), self.out_decimals)

    def marginal(self, amount_in: int) -> float:
        """Output per input base unit at ``amount_in``: the price of the level being taken."""
        price = self.levels[0][0] if amount_in <= 0 else self._walk(amount_in)[2]
        rate = price if self.sell_base else 1 / price
        scale = Decimal(10) ** (self.out_decimals - self.in_decimals)
        return float(rate * (1 - self.taker_fee) * scale)

    def fee(self, amount_in: int) -> int:
        """The taker fee on ``amount_in``, in output base units."""
        _, gross, _ = self._walk(amount_in)
        return _units(gross * self.taker_fee, self.out_decimals)


@dataclass(frozen=True)
class CowQuoteLeg:
    """
    A CowSwap quote as a leg: ``sell_amount`` (fee included) buys ``buy_amount``.

    CoW charges ``fee_amount`` of the sell token whatever the size, so the leg is priced at the
    quote's rate net of the fee, with the fee as a fixed cost (in output units), and it is offered
    up to the quoted size only (a larger order needs a new quote).
    """

    sell_amount: int
    buy_amount: int
    fee_amount: int

    def __post_init__(self) -> None:
        if self.sell_amount <= self.fee_amount or self.buy_amount <= 0 or self.fee_amount < 0:
            raise InvalidOrder(
                f"CowSwap quote sells {self.sell_amount} (fee {self.fee_amount}) for "
                f"{self.buy_amount}: not usable"
            )

    @property
    def _rate(self) -> Fraction:
        return Fraction(self.buy_amount, self.sell_amount - self.fee_amount)

    @property
    def name(self) -> str:
        """``COWSWAP``."""
        return "COWSWAP"

    @property
    def pool_ids(self) -> frozenset[str]:
        """The batch auction."""
        return frozenset({"cowswap"})

    @property
    def fixed_cost(self) -> int:
        """The quoted fee, valued at the quote's rate, in output base units."""
        return int(self.fee_amount * self._rate)

    def quote(self, amount_in: int) -> int:
        """Gross output at the quote's rate (the fee is the fixed cost)."""
        if not 0 < amount_in <= self.sell_amount:
            raise SwapRefused(
                "QUOTE_SIZE", f"the CowSwap quote covers up to {self.sell_amount}, not {amount_in}"
            )
        return int(amount_in * self._rate)

    def marginal(self, amount_in: int) -> float:
        """The quote's rate (a batch auction has no price impact within the quoted size)."""
        return float(self._rate) if amount_in < self.sell_amount else 0.0


@dataclass(frozen=True)
class CostLine:
    """The cost of one used leg against the reference price, in output base units and bps."""

    leg: str
    amount_in: int
    amount_out: int
    fee: int
    gas: int
    impact: int
    ideal_out: int

    @property
    def cost_bps(self) -> Decimal:
        """Everything lost versus the reference: impact + fee + gas, in bps of the ideal output."""
        if self.ideal_out <= 0:
            return Decimal(0)
        return Decimal(self.impact + self.fee + self.gas) / Decimal(self.ideal_out) * BPS

    def describe(self, total_in: int) -> str:
        """``name share% (impact x bps, fee y bps, gas z bps)``."""

        def bps(value: int) -> str:
            return f"{Decimal(value) / Decimal(self.ideal_out) * BPS:.2f}" if self.ideal_out else "0"

        share = Decimal(self.amount_in) / Decimal(total_in) * 100
        return (
            f"{self.leg} {share:.1f}% (impact {bps(self.impact)} bps, fee {bps(self.fee)} bps, "
            f"gas {bps(self.gas)} bps)"
        )


@dataclass(frozen=True)
class JointRoute:
    """The split and its cost breakdown; :attr:`reason` is what the route reports."""

    split: Split
    lines: tuple[CostLine, ...]
    reference_rate: Fraction

    @property
    def net_out(self) -> int:
        """Output after fees and gas."""
        return self.split.net_out

    @property
    def cost_bps(self) -> Decimal:
        """Total cost versus the reference, in bps of the ideal output."""
        ideal = sum(line.ideal_out for line in self.lines)
        lost = sum(line.impact + line.fee + line.gas for line in self.lines)
        return Decimal(lost) / Decimal(ideal) * BPS if ideal else Decimal(0)

    @property
    def reason(self) -> str:
        """One line: the legs with their shares and costs, and the total."""
        total = sum(self.split.amounts_in)
        legs = " + ".join(line.describe(total) for line in self.lines)
        return f"split {legs}; all-in cost {self.cost_bps:.2f} bps vs reference"


def _leg_fee(leg: Leg, amount_in: int) -> int:
    """The leg's proportional fee on ``amount_in`` in output base units (LP or taker fee)."""
    if isinstance(leg, CexBookLeg):
        return leg.fee(amount_in)
    if isinstance(leg, PoolPath):
        fee_out = Fraction(0)
        amount = amount_in
        for index, hop in enumerate(leg.hops):
            quote = hop.pool.swap_exact_input(hop.token_in, hop.token_out, amount)
            fee = Fraction(quote.fee)
            if quote.fee_token == hop.token_in:
                # an input-side fee is worth what its share of the output would have been
                fee = fee * Fraction(quote.amount_out, max(1, quote.amount_in - quote.fee))
            rest = leg.hops[index + 1 :]
            value = fee
            carried = quote.amount_out
            for nxt in rest:
                # value an intermediate token at the rest of the path's own average rate
                out = nxt.pool.quote_exact_input(nxt.token_in, nxt.token_out, carried)
                value = value * Fraction(out, carried)
                carried = out
            fee_out += value
            amount = quote.amount_out
        return int(fee_out)
    return 0


def route_conversion(legs: Sequence[Leg], amount_in: int, reference_rate: Fraction | Decimal) -> JointRoute:
    """
    Split ``amount_in`` of the input token across CEX books, DEX paths and CowSwap.

    Parameters
    ----------
    legs : Sequence[Leg]
        The candidates (already filtered for health: stale pools, oracle deviation, deny-list).
    amount_in : int
        Input in base units.
    reference_rate : Fraction or Decimal
        Fair output base units per input base unit (the mid), against which costs are measured.

    Raises
    ------
    InvalidOrder
        If the amount or the reference is not positive, or no leg is given.
    SwapRefused
        If the legs together cannot absorb the amount.
    """
    rate = Fraction(reference_rate)
    if rate <= 0:
        raise InvalidOrder(f"reference rate {reference_rate} must be positive")
    split = optimise_split(legs, amount_in)
    lines = []
    for leg, a_in, a_out in zip(split.legs, split.amounts_in, split.amounts_out, strict=True):
        if a_in <= 0:
            continue
        ideal = int(a_in * rate)
        fee = _leg_fee(leg, a_in)
        gas = leg.fixed_cost
        lines.append(CostLine(leg.name, a_in, a_out, fee, gas, ideal - a_out - fee, ideal))
    return JointRoute(split, tuple(lines), rate)


__all__ = ["CexBookLeg", "CostLine", "CowQuoteLeg", "JointRoute", "route_conversion"]
