"""
Pool state over web3: the contracts' view turned into :mod:`nautilus_ext.dex` pool states.

* Uniswap V2: ``getReserves`` → :class:`~nautilus_ext.dex.V2PoolState`.
* Uniswap V3: ``slot0``, ``liquidity``, ``tickSpacing``, fee growth, then the tick bitmap words
  around the price (``config.v3_tick_words`` each side) and ``ticks(t)`` for every initialized
  tick in them → :class:`~nautilus_ext.dex.V3PoolState` with ``word_range`` set, so a quote
  that would need a word not read is refused rather than mispriced.
* Balancer weighted: Vault ``getPoolTokens``, ``getNormalizedWeights``,
  ``getSwapFeePercentage`` → :class:`~nautilus_ext.dex.WeightedPoolState`.

:meth:`DexPoolStateReader.swaps` reads the pools' ``Swap`` logs (``eth_getLogs``) for
trade ticks of the pair (:func:`~nautilus_ext.adapters.dex.parsing.swap_trade_tick`), and
:meth:`DexPoolStateFeed.state_data` gives the snapshots as Nautilus custom data.

All reads of one refresh are pinned to one block (three JSON-RPC batches at most) and the
snapshot records that block's number and timestamp. :class:`DexPoolStateFeed` re-reads when a
new block appears and says which snapshots are stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.constants import BALANCER_VAULT_ABI
from nautilus_ext.adapters.dex.constants import BALANCER_WEIGHTED_POOL_ABI
from nautilus_ext.adapters.dex.constants import V2_PAIR_ABI
from nautilus_ext.adapters.dex.constants import V3_POOL_ABI
from nautilus_ext.adapters.dex.constants import PoolKind
from nautilus_ext.adapters.dex.parsing import BALANCER_SWAP_TOPIC
from nautilus_ext.adapters.dex.parsing import V2_SWAP_TOPIC
from nautilus_ext.adapters.dex.parsing import V3_SWAP_TOPIC
from nautilus_ext.adapters.dex.parsing import DexPoolStateData
from nautilus_ext.adapters.dex.parsing import SwapEvent
from nautilus_ext.adapters.dex.parsing import parse_swap_log
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.adapters.dex.rpc import batch_call
from nautilus_ext.adapters.dex.rpc import latest_block
from nautilus_ext.adapters.dex.rpc import translate
from nautilus_ext.dex import SwapPool
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import V3Tick
from nautilus_ext.dex import WeightedPoolState


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """
    A pool's state as of one block.

    Parameters
    ----------
    pool : DexPool
        The pool.
    state : SwapPool
        Its pure-math state (token indices as in ``pool.tokens``).
    block_number : int
        The block the state was read at.
    block_timestamp : int
        That block's timestamp (UNIX seconds).
    """

    pool: DexPool
    state: SwapPool
    block_number: int
    block_timestamp: int


def _word(tick: int, spacing: int) -> int:
    # TickBitmap.position: compressed tick floored toward -inf, then its 256-tick word
    return (tick // spacing) >> 8


class DexPoolStateReader:
    """
    Read pool states at one block (see the module docstring).

    Parameters
    ----------
    w3 : web3.Web3
        A connected Web3 instance.
    config : DexConfig
        The adapter's configuration (``v3_tick_words``, ``balancer_vault``).
    """

    def __init__(self, w3: Any, config: DexConfig) -> None:
        self._w3 = w3
        self._config = config

    def _contract(self, address: str, abi: list[dict[str, Any]]) -> Any:
        return self._w3.eth.contract(address=self._w3.to_checksum_address(address), abi=abi)

    def latest(self) -> tuple[int, int]:
        """Return the latest block's number and timestamp."""
        return latest_block(self._w3)

    def read(self, pools: Sequence[DexPool], *, block: int | None = None) -> dict[str, PoolSnapshot]:
        """Return each pool's snapshot keyed by its instrument key text, all at one block (default latest)."""
        number, timestamp = latest_block(self._w3)
        if block is not None and block != number:
            try:
                timestamp = int(self._w3.eth.get_block(block)["timestamp"])
            except Exception as e:
                raise translate(e, step="get_block") from e
            number = block
        rounds = [self._first_round(pool) for pool in pools]
        first = iter(batch_call(self._w3, [c for r in rounds for c in r], number, "pool state"))
        heads: list[list[Any]] = [[next(first) for _ in r] for r in rounds]

        # V3 round 2: the bitmap words around the price
        word_calls: list[Any] = []
        word_meta: list[tuple[int, list[int]]] = []
        for i, pool in enumerate(pools):
            if pool.kind is PoolKind.UNISWAP_V3:
                slot0, _, spacing = heads[i][0], heads[i][1], int(heads[i][2])
                center = _word(int(slot0[1]), spacing)
                words = list(
                    range(center - self._config.v3_tick_words, center + self._config.v3_tick_words + 1)
                )
                contract = self._contract(pool.address, V3_POOL_ABI)
                word_calls.extend(contract.functions.tickBitmap(w) for w in words)
                word_meta.append((i, words))
        bitmaps = iter(batch_call(self._w3, word_calls, number, "v3 tick bitmap") if word_calls else [])
        # V3 round 3: every initialized tick in those words
        tick_calls: list[Any] = []
        tick_meta: list[tuple[int, list[int]]] = []
        for i, words in word_meta:
            spacing = int(heads[i][2])
            indices = []
            for w in words:
                bits = int(next(bitmaps))
                while bits:
                    low = bits & -bits
                    indices.append(((w << 8) + low.bit_length() - 1) * spacing)
                    bits ^= low
            contract = self._contract(pools[i].address, V3_POOL_ABI)
            tick_calls.extend(contract.functions.ticks(t) for t in indices)
            tick_meta.append((i, indices))
        tick_rows = iter(batch_call(self._w3, tick_calls, number, "v3 ticks") if tick_calls else [])
        ticks: dict[int, tuple[tuple[V3Tick, ...], tuple[int, int]]] = {}
        for (i, indices), (_, words) in zip(tick_meta, word_meta, strict=True):
            read = []
            for t in indices:
                row = next(tick_rows)
                read.append(V3Tick(index=t, liquidity_net=int(row[1]), liquidity_gross=int(row[0])))
            ticks[i] = (tuple(read), (words[0], words[-1]))

        out: dict[str, PoolSnapshot] = {}
        for i, pool in enumerate(pools):
            state = self._state(pool, heads[i], ticks.get(i))
            out[str(pool.key)] = PoolSnapshot(
                pool=pool, state=state, block_number=number, block_timestamp=timestamp
            )
        return out

    def _first_round(self, pool: DexPool) -> list[Any]:
        if pool.kind is PoolKind.UNISWAP_V2:
            return [self._contract(pool.address, V2_PAIR_ABI).functions.getReserves()]
        if pool.kind is PoolKind.UNISWAP_V3:
            c = self._contract(pool.address, V3_POOL_ABI).functions
            return [
                c.slot0(),
                c.liquidity(),
                c.tickSpacing(),
                c.fee(),
                c.feeGrowthGlobal0X128(),
                c.feeGrowthGlobal1X128(),
            ]
        assert self._config.balancer_vault is not None
        assert pool.pool_id is not None
        vault = self._contract(self._config.balancer_vault, BALANCER_VAULT_ABI).functions
        weighted = self._contract(pool.address, BALANCER_WEIGHTED_POOL_ABI).functions
        return [
            vault.getPoolTokens(bytes.fromhex(pool.pool_id[2:])),
            weighted.getNormalizedWeights(),
            weighted.getSwapFeePercentage(),
        ]

    @staticmethod
    def _state(
        pool: DexPool, head: list[Any], ticks: tuple[tuple[V3Tick, ...], tuple[int, int]] | None
    ) -> SwapPool:
        if pool.kind is PoolKind.UNISWAP_V2:
            reserves = head[0]
            return V2PoolState(reserve0=int(reserves[0]), reserve1=int(reserves[1]))
        if pool.kind is PoolKind.UNISWAP_V3:
            assert ticks is not None
            slot0 = head[0]
            return V3PoolState(
                sqrt_price_x96=int(slot0[0]),
                tick=int(slot0[1]),
                liquidity=int(head[1]),
                fee_pips=int(head[3]),
                tick_spacing=int(head[2]),
                ticks=ticks[0],
                fee_growth_global0_x128=int(head[4]),
                fee_growth_global1_x128=int(head[5]),
                fee_protocol=int(slot0[5]),
                word_range=ticks[1],
            )
        _, balances, _ = head[0]
        return WeightedPoolState(
            balances=tuple(int(b) for b in balances),
            weights=tuple(int(w) for w in head[1]),
            scaling_factors=tuple(10 ** (18 - t.decimals) for t in pool.tokens),
            swap_fee=int(head[2]),
        )

    def swaps(self, pools: Sequence[DexPool], from_block: int, to_block: int) -> list[SwapEvent]:
        """
        Return the swaps in ``pools`` over blocks ``[from_block, to_block]`` (``eth_getLogs``: the
        pools' own ``Swap`` events, the Vault's for Balancer pools), in chain order.
        """
        addresses = {p.address.lower(): p for p in pools if p.kind is not PoolKind.BALANCER_WEIGHTED}
        balancer = [p for p in pools if p.kind is PoolKind.BALANCER_WEIGHTED]
        queries: list[tuple[list[str], list[str]]] = []
        if addresses:
            queries.append(
                ([self._w3.to_checksum_address(a) for a in addresses], [V2_SWAP_TOPIC, V3_SWAP_TOPIC])
            )
        if balancer:
            assert self._config.balancer_vault is not None
            queries.append(
                ([self._w3.to_checksum_address(self._config.balancer_vault)], [BALANCER_SWAP_TOPIC])
            )
        events: list[SwapEvent] = []
        for address, topics in queries:
            try:
                logs = self._w3.eth.get_logs(
                    {"fromBlock": from_block, "toBlock": to_block, "address": address, "topics": [topics]}
                )
            except Exception as e:
                raise translate(e, step="eth_getLogs swaps") from e
            for log in logs:
                owners = (
                    [addresses[str(log["address"]).lower()]]
                    if str(log["address"]).lower() in addresses
                    else balancer
                )
                for pool in owners:
                    event = parse_swap_log(pool, log)
                    if event is not None:
                        events.append(event)
        return sorted(events, key=lambda e: (e.block_number, e.log_index))


class DexPoolStateFeed:
    """
    Pool states refreshed once per block.

    Parameters
    ----------
    reader : DexPoolStateReader
        Reads the states.
    pools : Sequence[DexPool]
        The pools followed.
    stale_after_blocks : int
        A snapshot older than this many blocks is stale.
    """

    def __init__(
        self, reader: DexPoolStateReader, pools: Sequence[DexPool], *, stale_after_blocks: int
    ) -> None:
        self._reader = reader
        self._pools = list(pools)
        self._stale_after = stale_after_blocks
        self._snapshots: dict[str, PoolSnapshot] = {}
        self._block: int | None = None

    @property
    def pools(self) -> list[DexPool]:
        """Return the pools followed."""
        return list(self._pools)

    @property
    def block_number(self) -> int | None:
        """Return the block of the latest refresh (``None`` before the first)."""
        return self._block

    def poll(self, latest: int | None = None) -> bool:
        """Re-read every pool if a new block appeared (``latest``: the caller's head); say if it did."""
        head = latest if latest is not None else self._reader.latest()[0]
        if self._block is not None and head <= self._block:
            return False
        self._snapshots = self._reader.read(self._pools, block=head)
        self._block = head
        return True

    def snapshot(self, key: str) -> PoolSnapshot:
        """Return the latest snapshot of pool ``key`` (``KeyError`` if it is not followed)."""
        if key not in self._snapshots:
            raise KeyError(f"pool {key} has no snapshot (followed: {sorted(self._snapshots)})")
        return self._snapshots[key]

    def snapshots(self) -> dict[str, PoolSnapshot]:
        """Return every latest snapshot by pool key."""
        return dict(self._snapshots)

    def state_data(self, instrument_ids: dict[str, Any], ts_init: int) -> list[DexPoolStateData]:
        """
        Return the latest snapshots as Nautilus custom data, for pools with an instrument id in
        ``instrument_ids`` (pool key -> ``InstrumentId``); ``ts_event`` is the block time.
        """
        return [
            DexPoolStateData(
                instrument_id=instrument_ids[key],
                block_number=snap.block_number,
                state=snap.state,
                ts_event=snap.block_timestamp * 1_000_000_000,
                ts_init=ts_init,
            )
            for key, snap in sorted(self._snapshots.items())
            if key in instrument_ids
        ]

    def stale(self, head: int) -> list[str]:
        """Return the pools whose snapshot is more than ``stale_after_blocks`` behind ``head``."""
        return sorted(k for k, s in self._snapshots.items() if head - s.block_number > self._stale_after)


__all__ = ["DexPoolStateFeed", "DexPoolStateReader", "PoolSnapshot"]
