"""
Decode Uniswap V2/V3 (and PancakeSwap V3) pool event logs, from JSON-RPC or HyperSync shapes.

A log is a mapping as ``eth_getLogs`` returns it (``logIndex``, ``blockNumber``, ``topics``,
``data``, hex strings or, from web3, ints and bytes) or as HyperSync returns it (``log_index``,
``block_number``...). :func:`decode_log` turns one into a :class:`PoolEvent` with integer fields,
or ``None`` for an event this module does not track; a malformed log raises
:class:`~nautilus_ext.errors.InvalidData` naming its source (file or RPC range) and index.

Events (ABI of ``UniswapV3Pool``/``UniswapV2Pair``; PancakeSwap V3 adds the protocol fees to
``Swap``)::

    V3 Initialize(uint160 sqrtPriceX96, int24 tick)
    V3 Mint(address sender, address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,
            uint128 amount, uint256 amount0, uint256 amount1)
    V3 Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper,
            uint128 amount, uint256 amount0, uint256 amount1)
    V3 Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1,
            uint160 sqrtPriceX96, uint128 liquidity, int24 tick
            [, uint128 protocolFeesToken0, uint128 protocolFeesToken1])      # PancakeSwap V3
    V3 SetFeeProtocol(uint8 old0, uint8 old1, uint8 new0, uint8 new1)
    V2 Sync(uint112 reserve0, uint112 reserve1)
    V2 Swap(address indexed sender, uint amount0In, uint amount1In, uint amount0Out,
            uint amount1Out, address indexed to)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from enum import Enum
from enum import unique
from typing import Any
from typing import Final

from eth_utils.crypto import keccak

from nautilus_ext.errors import InvalidData


@unique
class PoolEventKind(Enum):
    """Kinds of pool events the catalog loader tracks."""

    V3_INITIALIZE = "V3_INITIALIZE"  # pool price set once, at creation
    V3_MINT = "V3_MINT"  # liquidity added to a tick range
    V3_BURN = "V3_BURN"  # liquidity removed from a tick range (0 = fee poke)
    V3_SWAP = "V3_SWAP"  # Uniswap V3 swap (post-swap price, tick, liquidity)
    V3_SWAP_PANCAKE = "V3_SWAP_PANCAKE"  # PancakeSwap V3 swap (plus protocol fees)
    V3_SET_FEE_PROTOCOL = "V3_SET_FEE_PROTOCOL"  # protocol fee share changed
    V2_SYNC = "V2_SYNC"  # V2 reserves after any change
    V2_SWAP = "V2_SWAP"  # V2 swap amounts in and out


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


TOPICS: Final[dict[str, PoolEventKind]] = {
    _topic("Initialize(uint160,int24)"): PoolEventKind.V3_INITIALIZE,
    _topic("Mint(address,address,int24,int24,uint128,uint256,uint256)"): PoolEventKind.V3_MINT,
    _topic("Burn(address,int24,int24,uint128,uint256,uint256)"): PoolEventKind.V3_BURN,
    _topic("Swap(address,address,int256,int256,uint160,uint128,int24)"): PoolEventKind.V3_SWAP,
    _topic("Swap(address,address,int256,int256,uint160,uint128,int24,uint128,uint128)"): (
        PoolEventKind.V3_SWAP_PANCAKE
    ),
    _topic("SetFeeProtocol(uint8,uint8,uint8,uint8)"): PoolEventKind.V3_SET_FEE_PROTOCOL,
    _topic("Sync(uint112,uint112)"): PoolEventKind.V2_SYNC,
    _topic("Swap(address,uint256,uint256,uint256,uint256,address)"): PoolEventKind.V2_SWAP,
}
"""topic0 -> event kind."""

# (data words, indexed topics after topic0) per kind
_SHAPE: Final[dict[PoolEventKind, tuple[int, int]]] = {
    PoolEventKind.V3_INITIALIZE: (2, 0),
    PoolEventKind.V3_MINT: (4, 3),
    PoolEventKind.V3_BURN: (3, 3),
    PoolEventKind.V3_SWAP: (5, 2),
    PoolEventKind.V3_SWAP_PANCAKE: (7, 2),
    PoolEventKind.V3_SET_FEE_PROTOCOL: (4, 0),
    PoolEventKind.V2_SYNC: (2, 0),
    PoolEventKind.V2_SWAP: (4, 2),
}


@dataclass(frozen=True, slots=True)
class PoolEvent:
    """
    One decoded pool event.

    Attributes
    ----------
    kind : PoolEventKind
        What happened.
    pool : str
        The emitting pool's address (lower case).
    block_number, log_index : int
        Position in the chain (events apply in this order).
    transaction_hash : str
        The transaction (``0x`` hex, lower case).
    block_timestamp : int | None
        Block time in UNIX seconds when the log carries it (``blockTimestamp``).
    values : dict[str, int]
        The event's integer fields (``amount0``, ``sqrt_price_x96``, ``tick_lower``...).
    """

    kind: PoolEventKind
    pool: str
    block_number: int
    log_index: int
    transaction_hash: str
    block_timestamp: int | None
    values: dict[str, int] = field(default_factory=dict)


def _get(log: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in log and log[name] is not None:
            return log[name]
    return None


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray)):
        return int.from_bytes(value, "big")
    if isinstance(value, str):
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    raise ValueError(f"{value!r} is not a number")


def _as_hex(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        text = value.lower()
        return text if text.startswith("0x") else "0x" + text
    raise ValueError(f"{value!r} is not hex")


def _signed(word: int, bits: int = 256) -> int:
    return word - (1 << bits) if word >> (bits - 1) else word


def _words(data: str) -> list[int]:
    body = data[2:]
    if len(body) % 64:
        raise ValueError(f"data length {len(body) // 2} bytes is not a multiple of 32")
    return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]


def decode_log(log: Mapping[str, Any], *, source: str, index: int) -> PoolEvent | None:
    """
    Decode one log; ``None`` for an event the loader does not track.

    Parameters
    ----------
    log : Mapping
        A JSON-RPC (camelCase) or HyperSync (snake_case) log.
    source : str
        Where the log came from (file name or RPC range), for error messages.
    index : int
        Position of the log in its source, for error messages.

    Raises
    ------
    InvalidData
        A missing field, bad hex, or data/topics not matching the event's ABI.
    """
    where = f"{source} log #{index}"
    try:
        if not isinstance(log, Mapping):
            raise ValueError("a log must be a JSON object")
        if _get(log, "removed") is True:
            return None  # reorged out
        topics_raw = _get(log, "topics")
        if not topics_raw:
            raise ValueError("no topics")
        if not isinstance(topics_raw, (list, tuple)):
            raise ValueError("topics must be a list")
        topics = [_as_hex(t) for t in topics_raw]
        if any(len(t) != 66 for t in topics):
            raise ValueError("each topic must be 32 bytes of hex")
        kind = TOPICS.get(topics[0])
        if kind is None:
            return None
        for name, keys in (
            ("address", ("address",)),
            ("blockNumber", ("blockNumber", "block_number")),
            ("logIndex", ("logIndex", "log_index")),
            ("data", ("data",)),
        ):
            if _get(log, *keys) is None:
                raise ValueError(f"missing {name}")
        data = _as_hex(_get(log, "data"))
        words = _words(data)
        n_words, n_indexed = _SHAPE[kind]
        if len(words) != n_words or len(topics) != 1 + n_indexed:
            raise ValueError(
                f"{kind.value} needs {n_words} data words and {1 + n_indexed} topics, "
                f"got {len(words)} and {len(topics)}"
            )
        values = _values(kind, words, [int(t, 16) for t in topics[1:]])
        ts = _get(log, "blockTimestamp", "block_timestamp", "timestamp")
        return PoolEvent(
            kind=kind,
            pool=_as_hex(_get(log, "address")),
            block_number=_as_int(_get(log, "blockNumber", "block_number")),
            log_index=_as_int(_get(log, "logIndex", "log_index")),
            transaction_hash=_as_hex(_get(log, "transactionHash", "transaction_hash") or b""),
            block_timestamp=None if ts is None else _as_int(ts),
            values=values,
        )
    except (ValueError, TypeError) as e:
        raise InvalidData(f"{where}: {e}") from e


def _values(kind: PoolEventKind, w: list[int], t: list[int]) -> dict[str, int]:
    if kind is PoolEventKind.V3_INITIALIZE:
        return {"sqrt_price_x96": w[0], "tick": _signed(w[1])}
    if kind in (PoolEventKind.V3_MINT, PoolEventKind.V3_BURN):
        amounts = w[1:] if kind is PoolEventKind.V3_MINT else w
        return {
            "tick_lower": _signed(t[1]),
            "tick_upper": _signed(t[2]),
            "amount": amounts[0],
            "amount0": amounts[1],
            "amount1": amounts[2],
        }
    if kind in (PoolEventKind.V3_SWAP, PoolEventKind.V3_SWAP_PANCAKE):
        out = {
            "amount0": _signed(w[0]),
            "amount1": _signed(w[1]),
            "sqrt_price_x96": w[2],
            "liquidity": w[3],
            "tick": _signed(w[4]),
        }
        if kind is PoolEventKind.V3_SWAP_PANCAKE:
            out["protocol_fees_token0"] = w[5]
            out["protocol_fees_token1"] = w[6]
        return out
    if kind is PoolEventKind.V3_SET_FEE_PROTOCOL:
        return {"fee_protocol": w[2] + (w[3] << 4)}
    if kind is PoolEventKind.V2_SYNC:
        return {"reserve0": w[0], "reserve1": w[1]}
    # V2 swap: amounts into the pool positive, out negative (as V3's sign convention)
    return {"amount0": w[0] - w[2], "amount1": w[1] - w[3]}


__all__ = ["TOPICS", "PoolEvent", "PoolEventKind", "decode_log"]
