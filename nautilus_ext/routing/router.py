"""
Order -> Route: the decision tree of seed 000 "Strategy -> Execution Flow", as a pure function.

No I/O, no clock, no randomness: the same order and registry always give the same route.

=============================  ==========================  ===================================
order                          family                      venue / candidates
=============================  ==========================  ===================================
trade SPOT_PAIR                CEX, DEX, or None (mixed)   every registered pair and pool for
                                                           BASE/QUOTE (``venue`` restricts them)
trade PERPETUAL/FUTURE/OPTION  the key venue's family      the key's venue (must equal
                                                           ``order.venue``)
trade EQUITY                   TRADFI                      the key's venue
supply/borrow/repay/stake/     ONCHAIN                     the key's protocol venue
unstake/withdraw
swap                           DEX                         the POOL's venue, or every pool for
                                                           the SPOT_PAIR's assets
bet                            BETFAIR                     the key's venue
transfer                       TRANSFER                    source_venue -> target_venue
=============================  ==========================  ===================================

Execution algorithms (names only; ``execution_algos`` implements them) are chosen when
``smart_execution_enabled`` is set, from ``metadata["algorithm"]`` if given, else by the
table in :data:`ALGORITHM_BY_URGENCY`. Orders with take-profit or stop-loss prices also get a
``TPSL`` exit algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NoRouteError
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.enums import DERIVATIVE_TYPES
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.groups import AtomicGroup
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.orders.model import Urgency
from nautilus_ext.orders.model import key_fixes_venue


@unique
class RouteFamily(StrEnum):
    """Which execution path takes the order."""

    CEX = "CEX"  # centralised exchange client (Nautilus native or ccxt)
    DEX = "DEX"  # DEX swap through pools/routers
    ONCHAIN = "ONCHAIN"  # lending/staking protocol call or atomic bundle
    BETFAIR = "BETFAIR"  # betting exchange
    TRADFI = "TRADFI"  # broker (Interactive Brokers) for futures/options/equities
    TRANSFER = "TRANSFER"  # wallet/venue transfer


@unique
class Algorithm(StrEnum):
    """Execution algorithm names (implemented in ``execution_algos``)."""

    TWAP = "TWAP"  # time-weighted slices
    VWAP = "VWAP"  # volume-profile slices
    POV = "POV"  # participation of volume
    IS = "IS"  # implementation shortfall (Almgren-Chriss)
    LIMIT_THEN_MARKET = "LIMIT_THEN_MARKET"  # post inside the touch, then cross
    SOR_CEFI = "SOR_CEFI"  # split across CEX venues by walking their books
    SOR_DEFI = "SOR_DEFI"  # split across DEX pools by simulated price impact
    BEST_VENUE = "BEST_VENUE"  # pick the single cheapest venue/pool (no splitting)
    TPSL = "TPSL"  # take-profit / stop-loss exits
    ATOMIC_LEGS = "ATOMIC_LEGS"  # atomic two-leg execution with neutralisation


_FAMILY_BY_VENUE: Final[dict[VenueFamily, RouteFamily]] = {
    VenueFamily.CEX: RouteFamily.CEX,
    VenueFamily.DEX: RouteFamily.DEX,
    VenueFamily.ONCHAIN: RouteFamily.ONCHAIN,
    VenueFamily.BETFAIR: RouteFamily.BETFAIR,
    VenueFamily.TRADFI: RouteFamily.TRADFI,
}

ALGORITHM_BY_URGENCY: Final[dict[tuple[RouteFamily, Urgency], Algorithm]] = {
    (RouteFamily.CEX, Urgency.LOW): Algorithm.TWAP,
    (RouteFamily.CEX, Urgency.MEDIUM): Algorithm.POV,
    (RouteFamily.CEX, Urgency.HIGH): Algorithm.LIMIT_THEN_MARKET,
    (RouteFamily.TRADFI, Urgency.LOW): Algorithm.VWAP,
    (RouteFamily.TRADFI, Urgency.MEDIUM): Algorithm.POV,
    (RouteFamily.TRADFI, Urgency.HIGH): Algorithm.IS,
}
"""Default algorithm per family and urgency for venue-bound smart orders (README table)."""

_ONCHAIN_OPERATIONS: Final = frozenset(
    {
        Operation.SUPPLY,
        Operation.BORROW,
        Operation.REPAY,
        Operation.STAKE,
        Operation.UNSTAKE,
        Operation.WITHDRAW,
    },
)
_OFFCHAIN_SOLVER_VENUES: Final = frozenset({"COWSWAP-ETH"})


@dataclass(frozen=True, slots=True)
class AlgoSpec:
    """An execution algorithm and its parameters (strings, ints or Decimals only)."""

    name: Algorithm
    params: Mapping[str, str | int | Decimal | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place an order could execute: a registered pair or pool."""

    key: InstrumentKey
    family: RouteFamily

    @property
    def venue(self) -> str:
        """Return the candidate's venue code."""
        return self.key.venue


@dataclass(frozen=True, slots=True)
class Route:
    """
    Where and how an order executes.

    ``family`` is None only for a SPOT_PAIR whose candidates span CEX and DEX venues: the
    cost model (slippage + fees + gas) picks among ``candidates`` at execution time.
    ``venue`` is set when exactly one venue can take the order.
    """

    operation_id: str
    family: RouteFamily | None
    venue: str | None
    candidates: tuple[Candidate, ...]
    algorithm: AlgoSpec | None = None
    exit_algorithm: AlgoSpec | None = None
    source_venue: str | None = None
    target_venue: str | None = None
    reason: str = ""

    @property
    def families(self) -> frozenset[RouteFamily]:
        """Return every family among the candidates (one unless the route is cross-family)."""
        if self.family is not None:
            return frozenset({self.family})
        return frozenset(c.family for c in self.candidates)


def _family_of(key: InstrumentKey, registry: InstrumentRegistry, order: Order) -> RouteFamily:
    try:
        return _FAMILY_BY_VENUE[registry.family(key)]
    except InvalidInstrumentKey:
        raise NoRouteError(
            f"order {order.operation_id}: venue {key.venue} of {key} is not configured",
            order_id=order.operation_id,
            instrument_key=str(key),
            venue=key.venue,
        ) from None


def _no_route(order: Order, why: str) -> NoRouteError:
    return NoRouteError(
        f"order {order.operation_id}: {why}",
        order_id=order.operation_id,
        instrument_key=str(order.instrument_key),
    )


def _check_venue(order: Order) -> None:
    key = order.instrument_key
    if key_fixes_venue(order) and order.venue is not None and order.venue != key.venue:
        raise InvalidOrder(
            f"order {order.operation_id}: venue {order.venue!r} disagrees with the instrument "
            f"key's venue {key.venue!r}; the instrument executes only on its own venue",
            order_id=order.operation_id,
            instrument_key=str(key),
            venue=order.venue,
        )


def _candidates(
    order: Order,
    registry: InstrumentRegistry,
    base: str,
    quote: str,
    *,
    dex_only: bool,
) -> tuple[Candidate, ...]:
    found = []
    for key in registry.pair_routes(base, quote):
        family = _family_of(key, registry, order)
        if dex_only and family is not RouteFamily.DEX:
            continue
        if order.venue is not None and key.venue != order.venue:
            continue
        found.append(Candidate(key=key, family=family))
    if not found:
        where = f" on venue {order.venue}" if order.venue is not None else ""
        kind = "DEX pool" if dex_only else "pair or pool"
        raise _no_route(order, f"no registered {kind} for {base}/{quote}{where}")
    return tuple(found)


def _explicit_algorithm(order: Order) -> AlgoSpec | None:
    meta = order.metadata or {}
    name = meta.get("algorithm")
    if name is None:
        return None
    if not isinstance(name, str) or name.upper() not in Algorithm.__members__:
        raise InvalidOrder(
            f"order {order.operation_id}: metadata.algorithm {name!r} is not one of "
            f"{', '.join(a.value for a in Algorithm)}",
            order_id=order.operation_id,
        )
    params = meta.get("algo_params", {})
    if not isinstance(params, dict) or not all(
        isinstance(v, str | int | Decimal | bool) and not isinstance(v, float) for v in params.values()
    ):
        raise InvalidOrder(
            f"order {order.operation_id}: metadata.algo_params must map names to strings, "
            "integers, decimals or booleans",
            order_id=order.operation_id,
        )
    return AlgoSpec(name=Algorithm(name.upper()), params=dict(params))


def _base_params(order: Order) -> dict[str, str | int | Decimal | bool]:
    params: dict[str, str | int | Decimal | bool] = {"urgency": str(order.urgency or Urgency.MEDIUM)}
    if order.max_slippage is not None:
        params["max_slippage"] = order.max_slippage
    return params


def _smart_algorithm(
    order: Order, family: RouteFamily | None, candidates: tuple[Candidate, ...]
) -> AlgoSpec | None:
    if not order.smart_execution_enabled:
        if len(candidates) > 1:
            return AlgoSpec(Algorithm.BEST_VENUE, _base_params(order))
        return None
    explicit = _explicit_algorithm(order)
    if explicit is not None:
        return explicit
    params = _base_params(order)
    families = {c.family for c in candidates}
    if order.instrument_key.instrument_type is InstrumentType.SPOT_PAIR or (
        order.operation is Operation.SWAP and len(candidates) > 1
    ):
        if families == {RouteFamily.DEX}:
            return AlgoSpec(Algorithm.SOR_DEFI, params)
        if families == {RouteFamily.CEX} and len({c.venue for c in candidates}) > 1:
            return AlgoSpec(Algorithm.SOR_CEFI, params)
        if len(families) > 1:
            return AlgoSpec(Algorithm.BEST_VENUE, params)
    if family in (RouteFamily.CEX, RouteFamily.TRADFI):
        urgency = order.urgency or Urgency.MEDIUM
        return AlgoSpec(ALGORITHM_BY_URGENCY[(family, urgency)], params)
    return None


def _exit_algorithm(order: Order) -> AlgoSpec | None:
    if order.take_profit_price is None and order.stop_loss_price is None:
        return None
    params: dict[str, str | int | Decimal | bool] = {}
    if order.take_profit_price is not None:
        params["take_profit_price"] = order.take_profit_price
    if order.stop_loss_price is not None:
        params["stop_loss_price"] = order.stop_loss_price
    return AlgoSpec(Algorithm.TPSL, params)


def route(order: Order, registry: InstrumentRegistry) -> Route:
    """
    Route one order.

    Raises
    ------
    InvalidOrder
        If the order is internally inconsistent (e.g. a derivative whose ``venue`` disagrees
        with its key, or an unknown algorithm in metadata).
    NoRouteError
        If no configured venue, pair or pool can take the order.
    """
    _check_venue(order)
    key = order.instrument_key
    t = key.instrument_type
    op = order.operation
    exit_algo = _exit_algorithm(order)

    if op is Operation.TRADE and t is InstrumentType.SPOT_PAIR:
        base, quote = key.base_asset or "", key.quote_asset or ""
        cands = _candidates(order, registry, base, quote, dex_only=False)
        families = {c.family for c in cands}
        family = next(iter(families)) if len(families) == 1 else None
        venues = {c.venue for c in cands}
        return Route(
            operation_id=order.operation_id,
            family=family,
            venue=next(iter(venues)) if len(venues) == 1 else None,
            candidates=cands,
            algorithm=_smart_algorithm(order, family, cands),
            exit_algorithm=exit_algo,
            reason=f"SPOT_PAIR routed across {len(cands)} candidate(s) on {len(venues)} venue(s)",
        )

    if op is Operation.TRADE:
        family = _family_of(key, registry, order)
        if t in DERIVATIVE_TYPES and family not in (RouteFamily.CEX, RouteFamily.TRADFI):
            raise _no_route(order, f"venue {key.venue} ({family}) does not trade {t}")
        if t is InstrumentType.EQUITY and family is not RouteFamily.TRADFI:
            raise _no_route(order, f"venue {key.venue} ({family}) does not trade equities")
        cands = (Candidate(key=key, family=family),)
        return Route(
            operation_id=order.operation_id,
            family=family,
            venue=key.venue,
            candidates=cands,
            algorithm=_smart_algorithm(order, family, cands),
            exit_algorithm=exit_algo,
            reason=f"{t} is venue-bound to {key.venue}",
        )

    if op in _ONCHAIN_OPERATIONS:
        family = _family_of(key, registry, order)
        if family is not RouteFamily.ONCHAIN:
            raise _no_route(order, f"{op} needs a lending/staking protocol venue, {key.venue} is {family}")
        return Route(
            operation_id=order.operation_id,
            family=RouteFamily.ONCHAIN,
            venue=key.venue,
            candidates=(Candidate(key=key, family=family),),
            reason=f"{op} on protocol {key.venue}",
        )

    if op is Operation.SWAP:
        if t is InstrumentType.POOL:
            family = _family_of(key, registry, order)
            if family is not RouteFamily.DEX:
                raise _no_route(order, f"pool venue {key.venue} is not a DEX")
            cands = (Candidate(key=key, family=family),)
        else:
            cands = _candidates(order, registry, key.base_asset or "", key.quote_asset or "", dex_only=True)
        venues = {c.venue for c in cands}
        return Route(
            operation_id=order.operation_id,
            family=RouteFamily.DEX,
            venue=next(iter(venues)) if len(venues) == 1 else None,
            candidates=cands,
            algorithm=_smart_algorithm(order, RouteFamily.DEX, cands),
            reason=f"swap {order.source_token}->{order.target_token} over {len(cands)} pool(s)",
        )

    if op is Operation.BET:
        family = _family_of(key, registry, order)
        if family is not RouteFamily.BETFAIR:
            raise _no_route(order, f"venue {key.venue} is not a betting exchange")
        return Route(
            operation_id=order.operation_id,
            family=RouteFamily.BETFAIR,
            venue=key.venue,
            candidates=(Candidate(key=key, family=family),),
            reason=f"{order.side} {order.selection} at {order.odds}",
        )

    # transfer (the only operation left; Order validation guarantees both venues)
    for venue in (order.source_venue, order.target_venue):
        if venue is not None and venue not in registry.venues:
            raise _no_route(order, f"transfer venue {venue} is not configured")
    return Route(
        operation_id=order.operation_id,
        family=RouteFamily.TRANSFER,
        venue=None,
        candidates=(),
        source_venue=order.source_venue,
        target_venue=order.target_venue,
        reason=f"transfer {key.payload} {order.source_venue} -> {order.target_venue}",
    )


def _without_solvers(r: Route) -> Route:
    candidates = tuple(c for c in r.candidates if c.venue not in _OFFCHAIN_SOLVER_VENUES)
    venues = {c.venue for c in candidates}
    return Route(
        operation_id=r.operation_id,
        family=r.family,
        venue=next(iter(venues)) if len(venues) == 1 else r.venue,
        candidates=candidates,
        algorithm=r.algorithm,
        exit_algorithm=r.exit_algorithm,
        source_venue=r.source_venue,
        target_venue=r.target_venue,
        reason=r.reason,
    )


@dataclass(frozen=True, slots=True)
class GroupRoute:
    """The routes of an atomic group and how the group executes as a whole."""

    group_id: str
    routes: tuple[Route, ...]
    mode: Algorithm | RouteFamily

    @property
    def is_onchain_bundle(self) -> bool:
        """Return whether the group executes as one on-chain transaction."""
        return self.mode is RouteFamily.ONCHAIN


def route_group(group: AtomicGroup, registry: InstrumentRegistry) -> GroupRoute:
    """
    Route an atomic group: one on-chain bundle, or atomic multi-leg execution off-chain.

    On-chain groups (protocol operations and DEX swaps only) become one transaction; groups of
    CEX/TradFi trades become ``ATOMIC_LEGS``. Mixing on-chain steps with off-chain trades, and
    CowSwap inside a bundle (off-chain solvers cannot join an atomic transaction, seed 000
    "CowSwap Limitation"), are refused.

    Raises
    ------
    InvalidOrder
        If the group mixes on-chain and off-chain legs or puts CowSwap in a bundle.
    NoRouteError
        If any member has no route.
    """
    routes = tuple(route(o, registry) for o in group)
    families = {f for r in routes for f in r.families}
    onchain = {RouteFamily.ONCHAIN, RouteFamily.DEX}
    if families <= onchain:
        for r in routes:
            bad = [c.venue for c in r.candidates if c.venue in _OFFCHAIN_SOLVER_VENUES]
            if bad and len(r.candidates) == len(bad):
                raise InvalidOrder(
                    f"atomic group {group.group_id}: order {r.operation_id} swaps on {bad[0]}, whose "
                    "off-chain solvers cannot run inside an atomic transaction; use Uniswap/Curve",
                    order_id=r.operation_id,
                )
        # drop solver venues from mixed candidate sets: a bundle can only use on-chain pools
        cleaned = tuple(_without_solvers(r) for r in routes)
        return GroupRoute(group_id=group.group_id, routes=cleaned, mode=RouteFamily.ONCHAIN)
    if families & onchain:
        raise InvalidOrder(
            f"atomic group {group.group_id}: mixes on-chain steps with off-chain venues "
            f"({', '.join(sorted(families))}); no transaction can make those atomic",
        )
    return GroupRoute(group_id=group.group_id, routes=routes, mode=Algorithm.ATOMIC_LEGS)
