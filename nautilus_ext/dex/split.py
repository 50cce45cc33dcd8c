"""
Split one swap across pools and paths so that the output net of fees and gas is largest.

Every candidate is a :class:`Leg`: an exact ``quote(amount_in) -> amount_out`` in integer base
units, the marginal output per unit of input at a size (``marginal(amount_in)``, the derivative
of the quote), and a fixed cost in output units (the gas of using it). A pool path
(:class:`PoolPath`: one or more hops through :class:`~nautilus_ext.dex.pool.SwapPool` states)
is one kind of leg; the router adds CEX book walks as another.

Without fixed costs the problem is concave (each pool's output is concave in its input), so the
optimum equalises marginal outputs across the legs that trade: find the price ``lam`` at which
the legs' inverse marginal curves add up to the amount. :func:`optimise_split` samples each leg
exactly at a few sizes, solves that equation on the sampled curves (bisection on ``lam``, no
grid of percentages), rounds to integers, then polishes with exact marginals (moving input from
the leg with the lowest marginal output to the highest while the exact output grows). Fixed
costs make it a fixed-charge problem: legs whose surplus does not pay their gas are dropped one
at a time and the rest re-solved, keeping the best exact result. Two legs that share a pool are
never used together (each quote assumes it has the pool to itself), as Uniswap's router does.

:func:`grid_split` is the Uniswap auto-router's method for comparison: quotes at 5% steps and
the best combination of at most 7 routes adding up to 100%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Final
from typing import Protocol
from typing import runtime_checkable

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapPool
from nautilus_ext.errors import InvalidOrder

ZOOMS: Final = ((0.85, 1.0, 1.15), (0.98, 1.02))
"""Sizes (as multiples of a leg's share) sampled after each water-fill to refine it."""


@runtime_checkable
class Leg(Protocol):
    """One way to turn the input token into the output token."""

    @property
    def name(self) -> str:
        """A label for reports (pool ids, venue)."""
        ...

    @property
    def pool_ids(self) -> frozenset[str]:
        """Pools this leg trades through (two legs sharing one are never combined)."""
        ...

    @property
    def fixed_cost(self) -> int:
        """What using the leg costs regardless of size (gas), in output base units."""
        ...

    def quote(self, amount_in: int) -> int:
        """Exact output for ``amount_in``; :class:`SwapRefused` beyond the leg's capacity."""
        ...

    def marginal(self, amount_in: int) -> float:
        """Output per unit of input at ``amount_in`` (the quote's derivative)."""
        ...


@dataclass(frozen=True, slots=True)
class Hop:
    """One swap of a path: ``token_in`` to ``token_out`` (pool token indices) in ``pool``."""

    pool: SwapPool
    token_in: int
    token_out: int
    pool_id: str


@dataclass(frozen=True)
class PoolPath:
    """
    A path of one or more hops, used as a :class:`Leg`.

    Parameters
    ----------
    hops : tuple[Hop, ...]
        The swaps in order; each hop's output token is the next hop's input.
    gas_cost : int
        The gas of the path priced in output base units (0 to ignore gas).
    """

    hops: tuple[Hop, ...]
    gas_cost: int = 0

    def __post_init__(self) -> None:
        if not self.hops:
            raise InvalidOrder("a pool path needs at least one hop")
        if self.gas_cost < 0:
            raise InvalidOrder(f"gas cost {self.gas_cost} must not be negative")

    @property
    def name(self) -> str:
        """The pool ids joined by ``>``."""
        return ">".join(h.pool_id for h in self.hops)

    @property
    def pool_ids(self) -> frozenset[str]:
        """The pools of the path."""
        return frozenset(h.pool_id for h in self.hops)

    @property
    def fixed_cost(self) -> int:
        """The path's gas in output units."""
        return self.gas_cost

    def quote(self, amount_in: int) -> int:
        """Chain the hops' exact-input swaps (refused when a pool cannot take its whole input)."""
        return self.quote_with_marginal(amount_in)[0]

    def quote_with_marginal(self, amount_in: int) -> tuple[int, float]:
        """Return the output and the marginal output per unit of input at ``amount_in``."""
        amount, slope = amount_in, 1.0
        for hop in self.hops:
            if amount == 0:
                slope *= float(hop.pool.marginal_price(hop.token_in, hop.token_out))
                continue
            quote = hop.pool.swap_exact_input(hop.token_in, hop.token_out, amount)
            if quote.amount_in != amount:
                # a V3 pool out of liquidity takes only part of the input: past this leg's capacity
                raise SwapRefused("LIQUIDITY", f"{hop.pool_id} absorbs only {quote.amount_in} of {amount}")
            if quote.amount_out <= 0:
                raise SwapRefused("LIQUIDITY", f"{hop.pool_id} pays nothing for {amount}")
            slope *= float(quote.pool_after.marginal_price(hop.token_in, hop.token_out))
            amount = quote.amount_out
        return amount, slope

    def marginal(self, amount_in: int) -> float:
        """The chain rule over the hops: the product of each pool's marginal price after its swap."""
        return self.quote_with_marginal(amount_in)[1]


@dataclass(frozen=True)
class Split:
    """
    An allocation of the input across legs, with its exact outcome.

    Attributes
    ----------
    amounts_in, amounts_out : tuple[int, ...]
        Per leg (in the order given), 0 where the leg is unused.
    fixed_costs : int
        The fixed costs (gas) of the legs used, in output units.
    method : str
        ``marginal`` (this module's optimiser) or ``grid`` (5% steps).
    """

    legs: tuple[Leg, ...]
    amounts_in: tuple[int, ...]
    amounts_out: tuple[int, ...]
    fixed_costs: int
    method: str
    notes: tuple[str, ...] = field(default=())

    @property
    def gross_out(self) -> int:
        """Output before fixed costs."""
        return sum(self.amounts_out)

    @property
    def net_out(self) -> int:
        """Output after fixed costs (gas)."""
        return self.gross_out - self.fixed_costs

    def describe(self) -> str:
        """One line per used leg: share of the input, output, fixed cost."""
        total = sum(self.amounts_in) or 1
        parts = [
            f"{leg.name}: {100 * a / total:.1f}% in -> {o} out (fixed {leg.fixed_cost})"
            for leg, a, o in zip(self.legs, self.amounts_in, self.amounts_out, strict=True)
            if a > 0
        ]
        return "; ".join(parts) + f"; net {self.net_out} ({self.method})"


class _Curve:
    """A leg evaluated exactly at a growing set of sizes (cached): outputs and marginal outputs."""

    def __init__(self, leg: Leg, amount_in: int, samples: int) -> None:
        self.leg = leg
        self.points: dict[int, tuple[int, float]] = {}
        self.capacity = amount_in
        self.m0 = _marginal(leg, 0)
        self._x: list[float] = []
        self._m: list[float] = []
        sizes = sorted({max(1, amount_in * k * k // (samples * samples)) for k in range(1, samples + 1)})
        self.add(sizes)

    def eval(self, size: int) -> tuple[int, float]:
        """Exact output and marginal at ``size`` (cached); :class:`SwapRefused` past capacity."""
        hit = self.points.get(size)
        if hit is None:
            hit = (0, self.m0) if size == 0 else _quote_and_marginal(self.leg, size)
            self.points[size] = hit
        return hit

    def add(self, sizes: Sequence[int]) -> None:
        """Evaluate more sizes (those past the known capacity are skipped)."""
        for size in sorted(sizes):
            if size <= 0 or size > self.capacity or size in self.points:
                continue
            try:
                self.eval(size)
            except SwapRefused:
                ok = max((x for x in self.points if x < size), default=0)
                self.capacity = self._capacity_between(ok, size)
                if self.capacity > 0:
                    self.eval(self.capacity)
                break
        xs = sorted(self.points)
        self._x, self._m, low = [0.0], [self.m0], self.m0
        for x in xs:
            # numerical noise must not make the curve increase (the true one never does)
            low = min(low, self.points[x][1])
            self._x.append(float(x))
            self._m.append(low)

    def _capacity_between(self, ok: int, refused: int, steps: int = 8) -> int:
        # the largest size the leg takes lies between a size it took and one it refused
        for _ in range(steps):
            if refused - ok <= 1:
                break
            mid = (ok + refused) // 2
            try:
                self.eval(mid)
                ok = mid
            except SwapRefused:
                refused = mid
        return ok

    def inverse(self, lam: float) -> float:
        """The input at which the marginal output falls to ``lam`` (0 if it starts below)."""
        x, m = self._x, self._m
        if lam >= m[0]:
            return 0.0
        if lam <= m[-1]:
            return x[-1]
        lo, hi = 0, len(m) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if m[mid] > lam:
                lo = mid
            else:
                hi = mid
        span = m[lo] - m[hi]
        t = 0.0 if span <= 0 else (m[lo] - lam) / span
        return x[lo] + t * (x[hi] - x[lo])


def _quote_and_marginal(leg: Leg, amount_in: int) -> tuple[int, float]:
    if isinstance(leg, PoolPath):
        return leg.quote_with_marginal(amount_in)
    if amount_in == 0:
        return 0, leg.marginal(0)
    return leg.quote(amount_in), leg.marginal(amount_in)


def _marginal(leg: Leg, amount_in: int) -> float:
    try:
        return _quote_and_marginal(leg, amount_in)[1]
    except SwapRefused:
        return 0.0


def _water_fill(curves: Sequence[_Curve], amount_in: int) -> list[int]:
    """Split ``amount_in`` so that the sampled marginal outputs are equal (bisection on lam)."""
    total_capacity = sum(c.capacity for c in curves)
    if total_capacity < amount_in:
        raise SwapRefused("LIQUIDITY", f"the legs absorb at most {total_capacity} of {amount_in}")
    lo, hi = 0.0, max(c.m0 for c in curves)
    for _ in range(64):
        lam = (lo + hi) / 2
        if sum(c.inverse(lam) for c in curves) > amount_in:
            lo = lam
        else:
            hi = lam
    raw = [min(c.inverse(hi), float(c.capacity)) for c in curves]
    return _round_to_total(raw, amount_in, [c.capacity for c in curves])


def _round_to_total(raw: Sequence[float], total: int, caps: Sequence[int]) -> list[int]:
    """Integers close to ``raw`` adding up to exactly ``total``, each within its cap."""
    scale = sum(raw)
    shares = [r * total / scale for r in raw] if scale > 0 else [total / len(raw)] * len(raw)
    # floats carry ~16 digits: the integer sum is corrected exactly below
    out = [min(max(0, int(s)), c) for s, c in zip(shares, caps, strict=True)]
    diff = total - sum(out)
    if diff > 0:
        for j in sorted(range(len(out)), key=lambda i: shares[i] - out[i], reverse=True):
            step = min(caps[j] - out[j], diff)
            out[j] += step
            diff -= step
            if diff == 0:
                break
    elif diff < 0:
        for j in sorted(range(len(out)), key=lambda i: out[i], reverse=True):
            step = min(out[j], -diff)
            out[j] -= step
            diff += step
            if diff == 0:
                break
    return out


def _evaluate(legs: Sequence[Leg], amounts: Sequence[int], method: str) -> Split:
    outs = []
    fixed = 0
    for leg, amount in zip(legs, amounts, strict=True):
        if amount <= 0:
            outs.append(0)
            continue
        outs.append(leg.quote(amount))
        fixed += leg.fixed_cost
    return Split(tuple(legs), tuple(amounts), tuple(outs), fixed, method)


def _net(curves: Sequence[_Curve], amounts: Sequence[int]) -> int | None:
    total = 0
    for curve, amount in zip(curves, amounts, strict=True):
        if amount <= 0:
            continue
        try:
            total += curve.eval(amount)[0] - curve.leg.fixed_cost
        except SwapRefused:
            return None
    return total


def _polish(curves: Sequence[_Curve], amounts: list[int], rounds: int) -> list[int]:
    """Move input from the lowest to the highest exact marginal while the exact output grows."""
    best = _net(curves, amounts)
    if best is None:
        return amounts
    for _ in range(rounds):
        used = [i for i, a in enumerate(amounts) if a > 0]
        margins = {i: curves[i].eval(amounts[i])[1] for i in used}
        idle = [i for i, a in enumerate(amounts) if a == 0 and curves[i].capacity > 0]
        for i in idle:
            margins[i] = curves[i].m0
        give = min(used, key=lambda i: margins[i])
        take = max(margins, key=lambda i: margins[i])
        if take == give or margins[take] <= margins[give]:
            break
        room = curves[take].capacity - amounts[take]
        step = min(amounts[give], room, max(1, amounts[give] // 2))
        improved = False
        while step >= 1:
            trial = list(amounts)
            trial[give] -= step
            trial[take] += step
            value = _net(curves, trial)
            if value is not None and value > best:
                amounts, best, improved = trial, value, True
                break
            step //= 3
        if not improved:
            break
    return amounts


def _solve(
    legs: Sequence[Leg], curves: dict[int, _Curve], active: Sequence[int], amount_in: int, rounds: int
) -> Split:
    chosen = [curves[i] for i in active]
    shares = _water_fill(chosen, amount_in)
    for factors in ZOOMS:
        # zoom: sample each leg around its share, where the equal-marginal point is decided
        for curve, share in zip(chosen, shares, strict=True):
            if share > 0:
                curve.add([int(share * f) for f in factors])
        shares = _water_fill(chosen, amount_in)
    shares = _polish(chosen, shares, rounds)
    amounts = [0] * len(legs)
    for i, share in zip(active, shares, strict=True):
        amounts[i] = share
    outs = [0] * len(legs)
    fixed = 0
    for i, share in zip(active, shares, strict=True):
        if share > 0:
            outs[i] = curves[i].eval(share)[0]
            fixed += legs[i].fixed_cost
    return Split(tuple(legs), tuple(amounts), tuple(outs), fixed, "marginal")


def _disjoint_start(legs: Sequence[Leg]) -> list[int]:
    """Legs by marginal output at zero, best first, skipping any that shares a pool with a kept one."""
    order = sorted(range(len(legs)), key=lambda i: _marginal(legs[i], 0), reverse=True)
    kept: list[int] = []
    seen: set[str] = set()
    for i in order:
        if legs[i].pool_ids & seen:
            continue
        kept.append(i)
        seen |= legs[i].pool_ids
    return kept


def optimise_split(legs: Sequence[Leg], amount_in: int, *, samples: int = 6, polish_rounds: int = 4) -> Split:
    """
    Return the allocation of ``amount_in`` across ``legs`` with the largest net output.

    Raises
    ------
    InvalidOrder
        If the amount is not positive or there is no leg.
    SwapRefused
        If the legs together cannot absorb the amount.
    """
    if amount_in <= 0:
        raise InvalidOrder(f"amount {amount_in} must be positive")
    if not legs:
        raise InvalidOrder("no leg to route through")
    legs = tuple(legs)
    active = _disjoint_start(legs)
    curves: dict[int, _Curve] = {}
    candidates: list[Split] = []
    # the single best legs alone: a split must beat them (and they win when gas dominates)
    for i in active[:3]:
        try:
            candidates.append(
                _evaluate(legs, [amount_in if j == i else 0 for j in range(len(legs))], "marginal")
            )
        except SwapRefused:
            continue
    while active:
        for i in active:
            if i not in curves:
                curves[i] = _Curve(legs[i], amount_in, samples)
        try:
            split = _solve(legs, curves, active, amount_in, polish_rounds)
        except SwapRefused:
            break
        candidates.append(split)
        used = [i for i in active if split.amounts_in[i] > 0]
        # a leg near its capacity or a cliff in its curve can be worth less than its samples say:
        # also solve without each of the two smallest legs (their curves are cached)
        for small in sorted(used, key=lambda i: split.amounts_in[i])[: min(2, len(used) - 1)]:
            try:
                candidates.append(
                    _solve(legs, curves, [i for i in used if i != small], amount_in, polish_rounds)
                )
            except SwapRefused:
                continue
        if len(used) <= 1 or all(legs[i].fixed_cost == 0 for i in used):
            break
        # a leg pays its way when its surplus over the common marginal price covers its gas:
        # drop those that do not (all at once, then the weakest while any remains) and solve again
        lam = min(curves[i].eval(split.amounts_in[i])[1] for i in used)
        surplus = {i: split.amounts_out[i] - lam * split.amounts_in[i] - legs[i].fixed_cost for i in used}
        losing = [i for i in used if surplus[i] < 0]
        if not losing:
            break
        keep = [i for i in used if surplus[i] >= 0]
        active = keep if keep else [max(used, key=lambda i: surplus[i])]
    if not candidates:
        raise SwapRefused("LIQUIDITY", f"no combination of the legs absorbs {amount_in}")
    return max(candidates, key=lambda s: s.net_out)


def grid_split(legs: Sequence[Leg], amount_in: int, *, step_pct: int = 5, max_splits: int = 7) -> Split:
    """
    Uniswap's auto-router method: quote each leg at ``step_pct`` steps, then pick the best
    combination of at most ``max_splits`` pool-disjoint legs whose shares add up to 100%.

    Raises
    ------
    SwapRefused
        If no combination absorbs the amount.
    """
    if amount_in <= 0:
        raise InvalidOrder(f"amount {amount_in} must be positive")
    steps = 100 // step_pct
    legs = tuple(legs)
    quotes: list[list[int | None]] = []
    for leg in legs:
        row: list[int | None] = [0]
        for k in range(1, steps + 1):
            try:
                row.append(leg.quote(amount_in * k // steps) - leg.fixed_cost)
            except SwapRefused:
                row.append(None)
        quotes.append(row)
    # best[(parts, count)] = (value, choice list) over legs considered so far
    neg = -(10**80)
    best: dict[tuple[int, int], tuple[int, tuple[tuple[int, int], ...]]] = {(0, 0): (0, ())}
    for i, row in enumerate(quotes):
        nxt = dict(best)
        for (parts, count), (value, choice) in best.items():
            if count >= max_splits:
                continue
            used_pools = frozenset().union(*(legs[j].pool_ids for j, _ in choice)) if choice else frozenset()
            if legs[i].pool_ids & used_pools:
                continue
            for k in range(1, steps - parts + 1):
                q = row[k]
                if q is None:
                    break
                key = (parts + k, count + 1)
                if value + q > nxt.get(key, (neg, ()))[0]:
                    nxt[key] = (value + q, (*choice, (i, k)))
        best = nxt
    finals = [v for (parts, _), v in best.items() if parts == steps]
    if not finals:
        raise SwapRefused("LIQUIDITY", f"no {step_pct}% combination of the legs absorbs {amount_in}")
    _, choice = max(finals, key=lambda v: v[0])
    amounts = [0] * len(legs)
    for i, k in choice:
        amounts[i] = amount_in * k // steps
    amounts[choice[-1][0]] += amount_in - sum(amounts)  # integer remainder to the last leg
    return _evaluate(legs, amounts, "grid")


__all__ = ["Hop", "Leg", "PoolPath", "Split", "grid_split", "optimise_split"]
