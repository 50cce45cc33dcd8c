"""
Pool discovery: which pools exist for the configured tokens, from the factories and the
instrument registry.

* Uniswap V2: ``getPair`` for every pair of configured tokens, or a scan of ``allPairs``.
* Uniswap V3: ``getPool`` for every pair and configured fee tier.
* Balancer V2: the configured pool ids, through the Vault's ``getPool``/``getPoolTokens``.
* Instrument registry: ``POOL`` keys with a ``pool_address`` (``UNISWAPV3-ETH:POOL:ETH-USDT:3000@
  ETHEREUM``), whose venue names the family; their tokens are read from the pool contract.

Every read is one batched JSON-RPC request per round (no Multicall3 needed on the chain), at one
block. Pools whose tokens are not all configured are skipped: the adapter cannot price them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.config import DexToken
from nautilus_ext.adapters.dex.constants import BALANCER_VAULT_ABI
from nautilus_ext.adapters.dex.constants import KIND_BY_VENUE_PREFIX
from nautilus_ext.adapters.dex.constants import V2_FACTORY_ABI
from nautilus_ext.adapters.dex.constants import V2_FEE_TIER
from nautilus_ext.adapters.dex.constants import V2_PAIR_ABI
from nautilus_ext.adapters.dex.constants import V3_FACTORY_ABI
from nautilus_ext.adapters.dex.constants import V3_POOL_ABI
from nautilus_ext.adapters.dex.constants import VENUE_BY_KIND
from nautilus_ext.adapters.dex.constants import PoolKind
from nautilus_ext.adapters.dex.rpc import batch_call
from nautilus_ext.adapters.dex.rpc import latest_block
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.registry import InstrumentRegistry

_ZERO = "0x" + "0" * 40


@dataclass(frozen=True, slots=True)
class DexPool:
    """
    One discovered pool.

    Parameters
    ----------
    kind : PoolKind
        Its contract family.
    address : str
        Pool (pair) contract address.
    tokens : tuple[DexToken, ...]
        Its tokens in the pool's own order (token0/token1, the Vault's order).
    fee_tier : int, optional
        Fee tier in hundredths of a bip (V2: 3000; V3: the pool's fee; Balancer: ``None``, the
        swap fee is state).
    pool_id : str, optional
        Balancer pool id (0x + 32 bytes).
    key : InstrumentKey
        Its ``POOL`` instrument key.
    """

    kind: PoolKind
    address: str
    tokens: tuple[DexToken, ...]
    fee_tier: int | None
    pool_id: str | None
    key: InstrumentKey

    def index(self, symbol: str) -> int:
        """Return the pool index of token ``symbol`` (``KeyError`` when the pool lacks it)."""
        for i, t in enumerate(self.tokens):
            if t.symbol == symbol:
                return i
        raise KeyError(f"pool {self.key} does not hold {symbol}")

    def holds(self, a: str, b: str) -> bool:
        """Return whether the pool holds both ``a`` and ``b``."""
        symbols = {t.symbol for t in self.tokens}
        return a in symbols and b in symbols


def pool_key(
    config: DexConfig, kind: PoolKind, tokens: Sequence[DexToken], fee_tier: int | None
) -> InstrumentKey:
    """Return the ``POOL`` key of a pool: ``VENUE:POOL:A-B[:FEE]@CHAIN`` in pool token order."""
    assets = "-".join(t.symbol for t in tokens)
    fee = "" if fee_tier is None else f":{fee_tier}"
    return InstrumentKey.parse(f"{VENUE_BY_KIND[kind]}:POOL:{assets}{fee}@{config.chain}")


class DexPoolProvider:
    """
    Discover pools for the configured tokens (see the module docstring).

    Parameters
    ----------
    w3 : web3.Web3
        A connected Web3 instance.
    config : DexConfig
        Tokens and protocol contracts.
    """

    def __init__(self, w3: Any, config: DexConfig) -> None:
        self._w3 = w3
        self._config = config

    def _contract(self, address: str, abi: list[dict[str, Any]]) -> Any:
        return self._w3.eth.contract(address=self._w3.to_checksum_address(address), abi=abi)

    def _token(self, address: str) -> DexToken | None:
        return self._config.token_by_address(address)

    def _pairs(self, pairs: Iterable[tuple[str, str]] | None) -> list[tuple[DexToken, DexToken]]:
        if pairs is None:
            return list(itertools.combinations(self._config.tokens, 2))
        return [(self._config.token(a), self._config.token(b)) for a, b in pairs]

    def discover(self, pairs: Iterable[tuple[str, str]] | None = None) -> list[DexPool]:
        """
        Return the V2 pairs, V3 pools (every configured fee tier) and Balancer pools of the
        configured tokens (``pairs`` of symbols restricts the V2/V3 queries).
        """
        wanted = self._pairs(pairs)
        block = latest_block(self._w3)[0]
        calls: list[Any] = []
        meta: list[tuple[PoolKind, DexToken, DexToken, int]] = []
        if self._config.uniswap_v2_factory is not None:
            v2 = self._contract(self._config.uniswap_v2_factory, V2_FACTORY_ABI)
            for a, b in wanted:
                calls.append(v2.functions.getPair(a.address, b.address))
                meta.append((PoolKind.UNISWAP_V2, a, b, V2_FEE_TIER))
        if self._config.uniswap_v3_factory is not None:
            v3 = self._contract(self._config.uniswap_v3_factory, V3_FACTORY_ABI)
            for (a, b), fee in itertools.product(wanted, self._config.v3_fee_tiers):
                calls.append(v3.functions.getPool(a.address, b.address, fee))
                meta.append((PoolKind.UNISWAP_V3, a, b, fee))
        found: list[DexPool] = []
        for address, (kind, a, b, fee) in zip(
            batch_call(self._w3, calls, block, "discover pools"), meta, strict=True
        ):
            if str(address).lower() == _ZERO:
                continue
            tokens = (a, b) if int(a.address, 16) < int(b.address, 16) else (b, a)  # token0 < token1
            found.append(
                DexPool(
                    kind=kind,
                    address=str(address),
                    tokens=tokens,
                    fee_tier=fee,
                    pool_id=None,
                    key=pool_key(self._config, kind, tokens, fee),
                )
            )
        found.extend(self.balancer_pools(self._config.balancer_pool_ids, block=block))
        return found

    def discover_v2_all(self) -> list[DexPool]:
        """Scan the V2 factory's ``allPairs`` and return the pairs of configured tokens."""
        if self._config.uniswap_v2_factory is None:
            return []
        factory = self._contract(self._config.uniswap_v2_factory, V2_FACTORY_ABI)
        block = latest_block(self._w3)[0]
        (count,) = batch_call(self._w3, [factory.functions.allPairsLength()], block, "allPairsLength")
        addresses = batch_call(
            self._w3, [factory.functions.allPairs(i) for i in range(int(count))], block, "allPairs"
        )
        return self._from_pairs(PoolKind.UNISWAP_V2, [str(a) for a in addresses], block)

    def _from_pairs(self, kind: PoolKind, addresses: Sequence[str], block: int) -> list[DexPool]:
        # read token0/token1 (and the fee of V3 pools) of each address; keep configured tokens
        calls: list[Any] = []
        for address in addresses:
            pool = self._contract(address, V3_POOL_ABI if kind is PoolKind.UNISWAP_V3 else V2_PAIR_ABI)
            calls += [pool.functions.token0(), pool.functions.token1()]
            if kind is PoolKind.UNISWAP_V3:
                calls.append(pool.functions.fee())
        width = 3 if kind is PoolKind.UNISWAP_V3 else 2
        results = batch_call(self._w3, calls, block, "pool tokens")
        found = []
        for i, address in enumerate(addresses):
            row = results[i * width : (i + 1) * width]
            t0, t1 = self._token(str(row[0])), self._token(str(row[1]))
            if t0 is None or t1 is None:
                continue
            fee = int(row[2]) if kind is PoolKind.UNISWAP_V3 else V2_FEE_TIER
            found.append(
                DexPool(
                    kind=kind,
                    address=address,
                    tokens=(t0, t1),
                    fee_tier=fee,
                    pool_id=None,
                    key=pool_key(self._config, kind, (t0, t1), fee),
                )
            )
        return found

    def balancer_pools(self, pool_ids: Sequence[str], *, block: int | None = None) -> list[DexPool]:
        """Return the Balancer pools ``pool_ids`` whose tokens are all configured."""
        if not pool_ids:
            return []
        if self._config.balancer_vault is None:
            raise InvalidConfig("Balancer pools need balancer_vault in the DEX config")
        vault = self._contract(self._config.balancer_vault, BALANCER_VAULT_ABI)
        at = latest_block(self._w3)[0] if block is None else block
        calls: list[Any] = []
        for pid in pool_ids:
            raw = bytes.fromhex(pid[2:])
            calls += [vault.functions.getPool(raw), vault.functions.getPoolTokens(raw)]
        results = batch_call(self._w3, calls, at, "balancer pools")
        found = []
        for i, pid in enumerate(pool_ids):
            (address, _), (token_addresses, _, _) = results[2 * i], results[2 * i + 1]
            tokens = [self._token(str(a)) for a in token_addresses]
            if any(t is None for t in tokens):
                continue
            resolved = tuple(t for t in tokens if t is not None)
            found.append(
                DexPool(
                    kind=PoolKind.BALANCER_WEIGHTED,
                    address=str(address),
                    tokens=resolved,
                    fee_tier=None,
                    pool_id=pid.lower(),
                    key=pool_key(self._config, PoolKind.BALANCER_WEIGHTED, resolved, None),
                )
            )
        return found

    def from_registry(self, registry: InstrumentRegistry) -> list[DexPool]:
        """
        Return the registry's Uniswap ``POOL`` instruments on this chain that carry a
        ``pool_address``, keyed by their registry key, tokens read from the pool contract.
        """
        by_kind: dict[PoolKind, list[tuple[InstrumentKey, str]]] = {}
        for attrs in registry.by_type(InstrumentType.POOL):
            key = attrs.instrument_key
            if key.chain != self._config.chain or attrs.pool_address is None:
                continue
            kind = KIND_BY_VENUE_PREFIX.get(key.venue.split("-")[0])
            if kind in (PoolKind.UNISWAP_V2, PoolKind.UNISWAP_V3):
                by_kind.setdefault(kind, []).append((key, attrs.pool_address))
        block = latest_block(self._w3)[0]
        found = []
        for kind, entries in by_kind.items():
            pools = self._from_pairs(kind, [a for _, a in entries], block)
            keys = {a.lower(): k for k, a in entries}
            for pool in pools:
                found.append(
                    DexPool(
                        kind=pool.kind,
                        address=pool.address,
                        tokens=pool.tokens,
                        fee_tier=pool.fee_tier,
                        pool_id=None,
                        key=keys[pool.address.lower()],
                    )
                )
        return found


__all__ = ["DexPool", "DexPoolProvider", "pool_key"]
