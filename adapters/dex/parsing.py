"""
Pure wire-to-domain conversion of pool events, and their Nautilus form.

* :func:`parse_swap_log` decodes one ``Swap`` log of a Uniswap V2 pair
  (``Swap(address,uint256,uint256,uint256,uint256,address)``), a Uniswap V3 pool
  (``Swap(address,address,int256,int256,uint160,uint128,int24)``) or the Balancer Vault
  (``Swap(bytes32,address,address,uint256,uint256)``) into a :class:`SwapEvent` in token base
  units.
* :func:`swap_trade_tick` turns a swap into a Nautilus ``TradeTick`` of the pair: price in
  quote per base, size in base, the aggressor the side that bought the base (``BUYER``) or sold
  it (``SELLER``), trade id ``<tx hash prefix>-<log index>`` (:func:`trade_id`).
* :class:`DexPoolStateData` is a pool state as Nautilus custom data (block number recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

from nautilus_ext.adapters.dex.constants import PoolKind
from nautilus_ext.adapters.dex.providers import DexPool
from nautilus_ext.dex import SwapPool
from nautilus_ext.errors import InvalidOrder

V2_SWAP_TOPIC: Final[str] = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
"""keccak256("Swap(address,uint256,uint256,uint256,uint256,address)")."""
V3_SWAP_TOPIC: Final[str] = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
"""keccak256("Swap(address,address,int256,int256,uint160,uint128,int24)")."""
BALANCER_SWAP_TOPIC: Final[str] = "0x2170c741c41531aec20e7c107c24eecfdd15e69c9bb0a8dd37b1840b9e0b207b"
"""keccak256("Swap(bytes32,address,address,uint256,uint256)") (the Vault's event)."""


@dataclass(frozen=True, slots=True)
class SwapEvent:
    """
    One swap in a pool, in token base units.

    Parameters
    ----------
    pool : DexPool
        The pool.
    token_in, token_out : str
        Symbols paid into and out of the pool.
    amount_in, amount_out : int
        Amounts, base units.
    block_number : int
        Block of the log.
    tx_hash : str
        Transaction hash (hex).
    log_index : int
        Position of the log in its block.
    """

    pool: DexPool
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    block_number: int
    tx_hash: str
    log_index: int


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def _words(data: Any) -> list[int]:
    raw = bytes.fromhex(_hex(data)[2:])
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


def _signed(word: int) -> int:
    return word - (1 << 256) if word >> 255 else word


def parse_swap_log(pool: DexPool, log: Any) -> SwapEvent | None:
    """Return the swap a log of ``pool`` (or of the Vault, for a Balancer pool) records, else ``None``."""
    topics = [_hex(t) for t in log["topics"]]
    if not topics:
        return None
    words = _words(log["data"])
    t0, t1 = pool.tokens[0].symbol, pool.tokens[-1].symbol
    if pool.kind is PoolKind.UNISWAP_V2 and topics[0] == V2_SWAP_TOPIC:
        in0, in1, out0, out1 = words[:4]
        token_in, amount_in, token_out, amount_out = (t0, in0, t1, out1) if in0 > 0 else (t1, in1, t0, out0)
    elif pool.kind is PoolKind.UNISWAP_V3 and topics[0] == V3_SWAP_TOPIC:
        amount0, amount1 = _signed(words[0]), _signed(words[1])
        if amount0 > 0:
            token_in, amount_in, token_out, amount_out = t0, amount0, t1, -amount1
        else:
            token_in, amount_in, token_out, amount_out = t1, amount1, t0, -amount0
    elif pool.kind is PoolKind.BALANCER_WEIGHTED and topics[0] == BALANCER_SWAP_TOPIC:
        if pool.pool_id is None or topics[1] != pool.pool_id.lower():
            return None
        addr_in, addr_out = "0x" + topics[2][-40:], "0x" + topics[3][-40:]
        by_address = {t.address.lower(): t.symbol for t in pool.tokens}
        if addr_in not in by_address or addr_out not in by_address:
            return None
        token_in, token_out = by_address[addr_in], by_address[addr_out]
        amount_in, amount_out = words[0], words[1]
    else:
        return None
    return SwapEvent(
        pool=pool,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
        amount_out=amount_out,
        block_number=int(log["blockNumber"]),
        tx_hash=_hex(log["transactionHash"]),
        log_index=int(log["logIndex"]),
    )


def trade_id(event: SwapEvent) -> str:
    """Return the swap's trade id: 28 hex digits of its tx hash, its log index (ids cap at 36)."""
    return f"{event.tx_hash[2:30]}-{event.log_index}"


def swap_trade_tick(event: SwapEvent, instrument: Instrument, base: str, quote: str, ts_ns: int) -> TradeTick:
    """
    Return ``event`` as a ``TradeTick`` of ``instrument`` (the ``base``/``quote`` pair).

    Raises
    ------
    InvalidOrder
        The swap is not between ``base`` and ``quote``, or moved no base.
    """
    decimals = {t.symbol: t.decimals for t in event.pool.tokens}
    if {event.token_in, event.token_out} != {base, quote}:
        raise InvalidOrder(f"swap {event.token_in}->{event.token_out} is not a {base}/{quote} trade")
    buyer = event.token_out == base  # the taker bought the base from the pool
    base_units, quote_units = (
        (event.amount_out, event.amount_in) if buyer else (event.amount_in, event.amount_out)
    )
    size = Decimal(base_units).scaleb(-decimals[base])
    if size <= 0:
        raise InvalidOrder(f"swap {event.tx_hash} moved no {base}")
    price = Decimal(quote_units).scaleb(-decimals[quote]) / size
    return TradeTick(
        instrument_id=instrument.id,
        price=instrument.make_price(price),
        size=instrument.make_qty(size),
        aggressor_side=AggressorSide.BUYER if buyer else AggressorSide.SELLER,
        trade_id=TradeId(trade_id(event)),
        ts_event=ts_ns,
        ts_init=ts_ns,
    )


class DexPoolStateData(Data):  # type: ignore[misc]
    """
    A pool's state at one block as Nautilus custom data.

    Parameters
    ----------
    instrument_id : InstrumentId
        The pool's Nautilus instrument.
    block_number : int
        The block the state was read at.
    state : SwapPool
        The pure-math pool state.
    ts_event, ts_init : int
        Block time and receipt time, UNIX ns.
    """

    def __init__(
        self, instrument_id: InstrumentId, block_number: int, state: SwapPool, ts_event: int, ts_init: int
    ):
        self.instrument_id = instrument_id
        self.block_number = block_number
        self.state = state
        self._ts_event = ts_event
        self._ts_init = ts_init

    @property
    def ts_event(self) -> int:
        """Block time, UNIX ns."""
        return self._ts_event

    @property
    def ts_init(self) -> int:
        """When the state was read, UNIX ns."""
        return self._ts_init

    def __repr__(self) -> str:
        return (
            f"DexPoolStateData({self.instrument_id}, block={self.block_number}, {type(self.state).__name__})"
        )


__all__ = [
    "BALANCER_SWAP_TOPIC",
    "V2_SWAP_TOPIC",
    "V3_SWAP_TOPIC",
    "DexPoolStateData",
    "SwapEvent",
    "parse_swap_log",
    "swap_trade_tick",
    "trade_id",
]
