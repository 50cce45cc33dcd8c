"""
The execution service for DEX ``swap`` Orders: Order → Route → pool allocation → gated swaps.

:class:`DexSwapService` is the one place a unified ``swap`` Order becomes router transactions
(ARCHITECTURE.md: "the execution service is the only place that turns a Route into ...
on-chain transactions"). It is the ``SOR_DEFI`` ExecAlgorithm-equivalent and runs the same code
in DRY_RUN and LIVE; only the gate's mode differs:

1. :func:`~nautilus_ext.routing.router.route` names the candidate pools (the ``POOL`` key, or
   every registered pool of the ``SPOT_PAIR``'s assets) and the algorithm (``SOR_DEFI`` for a
   smart order over several pools, ``BEST_VENUE`` otherwise).
2. Candidates are priced against live pool state (:class:`~nautilus_ext.adapters.dex.
   DexPoolStateFeed`, refreshed per block); a candidate without state, with stale state (more
   than ``stale_after_blocks`` behind the head) or not holding both tokens is excluded with its
   reason.
3. The input (``order.amount`` of ``source_token``, exact input) is allocated: ``SOR_DEFI``
   uses the injected ``allocator`` (the split optimiser), otherwise, and by default, the single
   pool paying the most.
4. Each allocation is quoted with the pure math (``amountOutMinimum`` from the order's
   ``max_slippage``) and all of them go through one :class:`~nautilus_ext.onchain.swaps.
   SwapGate` decision (LIVE: :meth:`DexSwapService.stage`, then a human confirms the staged
   hash, then :meth:`DexSwapService.submit` sends exactly the staged swaps), then to
   :class:`~nautilus_ext.onchain.swap_executor.DexSwapExecutor`. DRY_RUN fills from the pure
   math against the live state and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_ext.adapters.dex.data import DexPoolStateFeed
from nautilus_ext.adapters.dex.data import PoolSnapshot
from nautilus_ext.adapters.dex.execution import SwapPlan
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import NoRouteError
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.onchain.swap_executor import DexSwapExecutor
from nautilus_ext.onchain.swaps import StagedSwaps
from nautilus_ext.onchain.swaps import SwapFill
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Order
from nautilus_ext.routing.router import Algorithm
from nautilus_ext.routing.router import Route
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route


def best_single_pool(
    snapshots: Sequence[PoolSnapshot], token_in: str, token_out: str, amount_in: int
) -> list[tuple[PoolSnapshot, int]]:
    """
    Allocate everything to the pool whose pure-math quote pays the most (ties: first listed).

    Pools that would revert the swap are skipped; none left raises :class:`NoRouteError`.
    """
    best: tuple[int, PoolSnapshot] | None = None
    for snap in snapshots:
        i, j = snap.pool.index(token_in), snap.pool.index(token_out)
        try:
            out = snap.state.quote_exact_input(i, j, amount_in)
        except NautilusExtError:
            continue
        if best is None or out > best[0]:
            best = (out, snap)
    if best is None:
        raise NoRouteError(f"no candidate pool can swap {amount_in} {token_in} for {token_out}")
    return [(best[1], amount_in)]


SplitAllocator = Callable[[Sequence[PoolSnapshot], str, str, int], list[tuple[PoolSnapshot, int]]]
"""``(snapshots, token_in, token_out, amount_in) -> [(snapshot, amount_in)]``: a split optimiser."""


@dataclass(slots=True)
class DexSwapResult:
    """
    What a swap Order did.

    Parameters
    ----------
    operation_id : str
        The order.
    route : Route
        Its route.
    algorithm : str
        ``SOR_DEFI`` or ``BEST_VENUE``.
    plans : list[SwapPlan]
        The swaps sent (or simulated).
    fills : list[SwapFill]
        One per swap.
    excluded : dict[str, str]
        Candidate pools left out and why.
    """

    operation_id: str
    route: Route
    algorithm: str
    plans: list[SwapPlan] = field(default_factory=list)
    fills: list[SwapFill] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def amount_in(self) -> Decimal:
        """Input paid, whole tokens."""
        return sum((f.amount_in_tokens for f in self.fills), Decimal(0))

    @property
    def amount_out(self) -> Decimal:
        """Output received, whole tokens."""
        return sum((f.amount_out_tokens for f in self.fills), Decimal(0))


class DexSwapService:
    """
    Execute ``swap`` Orders (see the module docstring).

    Parameters
    ----------
    registry : InstrumentRegistry
        Instruments and venues for routing (pools are ``POOL`` keys of DEX venues).
    feed : DexPoolStateFeed
        Live pool states; its pool keys must be the registry's.
    executor : DexSwapExecutor
        Sends through the swap gate.
    allocator : SplitAllocator, optional
        The ``SOR_DEFI`` split (default :func:`best_single_pool`).
    """

    def __init__(
        self,
        registry: InstrumentRegistry,
        feed: DexPoolStateFeed,
        executor: DexSwapExecutor,
        *,
        allocator: SplitAllocator = best_single_pool,
    ) -> None:
        self._registry = registry
        self._feed = feed
        self._executor = executor
        self._allocator = allocator
        self._staged: dict[str, tuple[list[SwapPlan], StagedSwaps, DexSwapResult]] = {}

    def prepare(self, order: Order) -> DexSwapResult:
        """Route, price and allocate ``order`` against the pool state now; nothing is judged or sent."""
        if order.operation is not Operation.SWAP:
            raise InvalidOrder(
                f"order {order.operation_id}: {order.operation} is not a swap", order_id=order.operation_id
            )
        rt = route(order, self._registry)
        if rt.family is not RouteFamily.DEX:
            raise NoRouteError(f"order {order.operation_id}: swap routed to {rt.family}, not a DEX")
        sor = rt.algorithm is not None and rt.algorithm.name is Algorithm.SOR_DEFI
        result = DexSwapResult(
            operation_id=order.operation_id, route=rt, algorithm="SOR_DEFI" if sor else "BEST_VENUE"
        )
        token_in, token_out = order.source_token or "", order.target_token or ""
        self._feed.poll()
        head = self._feed.block_number or 0
        stale = set(self._feed.stale(head))
        snapshots = self._feed.snapshots()
        usable: list[PoolSnapshot] = []
        for candidate in rt.candidates:
            key = str(candidate.key)
            snap = snapshots.get(key)
            if snap is None:
                result.excluded[key] = "NO_POOL_STATE"
            elif key in stale:
                result.excluded[key] = f"STALE_POOL_STATE (block {snap.block_number}, head {head})"
            elif not snap.pool.holds(token_in, token_out):
                result.excluded[key] = f"POOL_LACKS_TOKEN ({token_in}/{token_out})"
            else:
                usable.append(snap)
        if not usable:
            raise NoRouteError(
                f"order {order.operation_id}: no candidate pool has live state for {token_in}->{token_out} "
                f"(excluded: {result.excluded})",
                order_id=order.operation_id,
            )
        decimals = usable[0].pool.tokens[usable[0].pool.index(token_in)].decimals
        units = order.amount.scaleb(decimals)
        if units != units.to_integral_value():
            raise InvalidOrder(
                f"order {order.operation_id}: amount {order.amount} {token_in} has more than "
                f"{decimals} decimals",
                order_id=order.operation_id,
            )
        allocate = self._allocator if sor else best_single_pool
        allocation = [(s, a) for s, a in allocate(usable, token_in, token_out, int(units)) if a > 0]
        if sum(a for _, a in allocation) != int(units):
            raise InvalidOrder(
                f"order {order.operation_id}: the allocation does not sum to the order's input"
            )
        result.plans = [
            self._executor.plan(snap, token_in, token_out, amount, max_slippage=order.max_slippage)
            for snap, amount in allocation
        ]
        return result

    def stage(self, order: Order) -> StagedSwaps:
        """Prepare ``order`` and stage its swaps for LIVE confirmation (returns the hash to confirm)."""
        result = self.prepare(order)
        staged = self._executor.gate.stage(result.plans, order)
        self._staged[order.operation_id] = (result.plans, staged, result)
        return staged

    def submit(self, order: Order) -> DexSwapResult:
        """
        Execute ``order``: the swaps staged for it (LIVE), else freshly prepared ones.

        Raises the typed error of the gate or the chain; a refused order records no fill.
        """
        staged = self._staged.pop(order.operation_id, None)
        result = staged[2] if staged is not None else self.prepare(order)
        result.fills = self._executor.execute(result.plans, parent=order)
        return result


__all__ = ["DexSwapResult", "DexSwapService", "SplitAllocator", "best_single_pool"]
