"""
Load DEX pool event logs into a catalog: trades of the pair plus a pool-state snapshot per block.

Logs come from JSON files (:func:`read_log_files`: one log, a list, or an ``eth_getLogs``
response) or from a node (:func:`fetch_logs`, ``eth_getLogs`` over a block range with the
blocks' timestamps and base fees). :class:`PoolTracker` replays them in chain order from the
pool's creation: ``Initialize`` sets the price, ``Mint``/``Burn`` add and remove liquidity at
their ticks (the initialized ticks are rebuilt, never read), ``Swap`` moves the price, tick and
in-range liquidity to the values the event reports, V2 ``Sync`` sets the reserves. After each
block that changed the pool, a :class:`~nautilus_ext.catalogs.custom.DexPoolState` snapshot
holds the complete state, so the pool at any block is the last snapshot at or before it.

Each swap becomes a ``TradeTick`` of the pool's pair: price = the swap's average execution price
in human units (quote per base, token decimals applied), size = the base amount, aggressor BUYER
when base left the pool. Fee growth is not tracked (it does not change swap amounts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.catalogs.onchain_events import PoolEvent
from nautilus_ext.catalogs.onchain_events import PoolEventKind
from nautilus_ext.catalogs.onchain_events import decode_log
from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.uniswap_v3 import V3PoolState
from nautilus_ext.dex.uniswap_v3 import V3Tick
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidData

NS_PER_SEC: Final = 1_000_000_000
V3_TICK_SPACING: Final[dict[int, int]] = {100: 1, 500: 10, 2500: 50, 3000: 60, 10000: 200}


@dataclass(frozen=True)
class PoolSpec:
    """
    A pool to load.

    Parameters
    ----------
    address : str
        Pool address.
    kind : str
        ``"V2"`` or ``"V3"``.
    instrument_id : str
        Nautilus instrument id of the pair (``WETH/USDC-3000.UNISWAPV3``).
    base, quote : str
        Asset codes of the pair.
    decimals0, decimals1 : int
        Token decimals.
    base_is_token0 : bool
        Whether the base asset is token0.
    fee_pips : int
        Fee tier (V2: 3000).
    tick_spacing : int, optional
        V3 tick spacing (default from the fee tier).
    price_precision, size_precision : int
        Precisions of the trades.
    instrument_key : str, optional
        The canonical key (``UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM``), recorded in the
        catalog's key sidecar.
    """

    address: str
    kind: str
    instrument_id: str
    base: str
    quote: str
    decimals0: int
    decimals1: int
    base_is_token0: bool = True
    fee_pips: int = 3000
    tick_spacing: int | None = None
    price_precision: int = 6
    size_precision: int = 6
    instrument_key: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("V2", "V3"):
            raise InvalidConfig(f"pool {self.address}: kind must be V2 or V3, got {self.kind!r}")
        if self.kind == "V3" and self.spacing is None:
            raise InvalidConfig(f"pool {self.address}: no tick spacing for fee tier {self.fee_pips}")
        object.__setattr__(self, "address", self.address.lower())

    @property
    def spacing(self) -> int | None:
        """The V3 tick spacing."""
        return self.tick_spacing if self.tick_spacing is not None else V3_TICK_SPACING.get(self.fee_pips)


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """A block's timestamp (UNIX seconds) and ``baseFeePerGas`` (wei, 0 if pre-London)."""

    timestamp: int
    base_fee_wei: int = 0


def burn(state: V3PoolState, tick_lower: int, tick_upper: int, liquidity: int) -> V3PoolState:
    """``UniswapV3Pool.burn``'s effect on ticks and in-range liquidity (a tick left empty is cleared)."""
    if liquidity == 0:
        return state  # a poke to collect fees
    by_index = {t.index: t for t in state.ticks}
    for index, sign in ((tick_lower, 1), (tick_upper, -1)):
        old = by_index.get(index)
        if old is None or old.liquidity_gross < liquidity:
            raise SwapRefused("LS", f"burn of {liquidity} at tick {index} exceeds its liquidity")
        gross = old.liquidity_gross - liquidity
        if gross == 0:
            del by_index[index]
        else:
            by_index[index] = V3Tick(index, old.liquidity_net - sign * liquidity, gross)
    in_range = tick_lower <= state.tick < tick_upper
    new_liquidity = state.liquidity - liquidity if in_range else state.liquidity
    ticks = tuple(sorted(by_index.values(), key=lambda t: t.index))
    return replace(state, liquidity=new_liquidity, ticks=ticks)


@dataclass
class PoolTracker:
    """The state of one pool, replayed from its events in chain order."""

    spec: PoolSpec
    v3: V3PoolState | None = None
    reserves: tuple[int, int] | None = None
    last: tuple[int, int] = (-1, -1)
    history_missing: bool = False

    def apply(self, event: PoolEvent, where: str) -> None:
        """
        Apply one event.

        Raises
        ------
        InvalidData
            If the event is out of order or does not fit the pool's history (``where`` names it).
        """
        position = (event.block_number, event.log_index)
        if position <= self.last:
            raise InvalidData(f"{where}: event at block {position[0]} log {position[1]} is out of order")
        self.last = position
        k, v = event.kind, event.values
        try:
            if k in (PoolEventKind.V2_SYNC, PoolEventKind.V2_SWAP):
                self._need("V2", k, where)
                if k is PoolEventKind.V2_SYNC:
                    self.reserves = (v["reserve0"], v["reserve1"])
                return
            self._need("V3", k, where)
            if k is PoolEventKind.V3_INITIALIZE:
                self.v3 = initialize(v["sqrt_price_x96"], self.spec.fee_pips, self.spec.spacing or 1)
                return
            if self.v3 is None and k in (PoolEventKind.V3_SWAP, PoolEventKind.V3_SWAP_PANCAKE):
                self.history_missing = True  # a trade, but no state without the pool's history
                return
            if self.v3 is None:
                raise InvalidData(f"{where}: {k.value} before the pool's Initialize (load from its creation)")
            if k is PoolEventKind.V3_MINT:
                self.v3 = mint(self.v3, v["tick_lower"], v["tick_upper"], v["amount"])[0]
            elif k is PoolEventKind.V3_BURN:
                self.v3 = burn(self.v3, v["tick_lower"], v["tick_upper"], v["amount"])
            elif k is PoolEventKind.V3_SET_FEE_PROTOCOL:
                self.v3 = replace(self.v3, fee_protocol=v["fee_protocol"])
            else:
                self.v3 = replace(
                    self.v3, sqrt_price_x96=v["sqrt_price_x96"], tick=v["tick"], liquidity=v["liquidity"]
                )
        except SwapRefused as e:
            raise InvalidData(f"{where}: {k.value} does not fit the pool's history: {e}") from e

    def _need(self, kind: str, event_kind: PoolEventKind, where: str) -> None:
        if self.spec.kind != kind:
            raise InvalidData(
                f"{where}: {event_kind.value} from pool {self.spec.address}, declared {self.spec.kind}"
            )

    def snapshot(self, block: int, info: BlockInfo) -> Any:
        """The :class:`DexPoolState` after ``block`` (``None`` before the pool has a state)."""
        from nautilus_trader.model.identifiers import InstrumentId

        from nautilus_ext.catalogs.custom import DexPoolState

        s = self.spec
        ts = info.timestamp * NS_PER_SEC
        common: dict[str, Any] = {
            "instrument_id": InstrumentId.from_str(s.instrument_id),
            "pool": s.address,
            "kind": s.kind,
            "block_number": block,
            "base_fee_wei": info.base_fee_wei,
            "fee_pips": s.fee_pips,
            "decimals0": s.decimals0,
            "decimals1": s.decimals1,
            "base_is_token0": s.base_is_token0,
            "ts_event": ts,
            "ts_init": ts,
        }
        if s.kind == "V2":
            if self.reserves is None:
                return None
            return DexPoolState(reserve0=str(self.reserves[0]), reserve1=str(self.reserves[1]), **common)
        if self.v3 is None:
            return None
        return DexPoolState(
            sqrt_price_x96=str(self.v3.sqrt_price_x96),
            liquidity=str(self.v3.liquidity),
            tick=self.v3.tick,
            tick_spacing=self.v3.tick_spacing,
            fee_protocol=self.v3.fee_protocol,
            ticks=";".join(f"{t.index}:{t.liquidity_net}:{t.liquidity_gross}" for t in self.v3.ticks),
            **common,
        )


def human_trade(spec: PoolSpec, amount0: int, amount1: int) -> tuple[Decimal, Decimal, bool] | None:
    """
    Return (price quote per base, base size, base bought) of a swap's pool-side amounts, or
    ``None`` when one side is zero.
    """
    if amount0 == 0 or amount1 == 0:
        return None
    a0 = Decimal(abs(amount0)).scaleb(-spec.decimals0)
    a1 = Decimal(abs(amount1)).scaleb(-spec.decimals1)
    if spec.base_is_token0:
        return a1 / a0, a0, amount0 < 0
    return a0 / a1, a1, amount1 < 0


def _trade_tick(spec: PoolSpec, event: PoolEvent, ts: int) -> Any:
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    got = human_trade(spec, event.values["amount0"], event.values["amount1"])
    if got is None:
        return None
    price, size, bought = got
    price = price.quantize(Decimal(1).scaleb(-spec.price_precision), ROUND_HALF_EVEN)
    size = size.quantize(Decimal(1).scaleb(-spec.size_precision), ROUND_HALF_EVEN)
    if price <= 0 or size <= 0:
        return None  # dust below the precisions
    return TradeTick(
        InstrumentId.from_str(spec.instrument_id),
        Price.from_str(str(price)),
        Quantity.from_str(str(size)),
        AggressorSide.BUYER if bought else AggressorSide.SELLER,
        TradeId(f"{event.block_number}-{event.log_index}"),
        ts,
        ts,
    )


# -- sources -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourcedLog:
    """A raw log with where it came from (for error messages)."""

    source: str
    index: int
    log: Any


def read_log_files(paths: Iterable[str | Path]) -> list[SourcedLog]:
    """
    Read logs from JSON files: a log object, a list of logs, or an ``eth_getLogs`` response.

    Raises
    ------
    InvalidData
        If a file is not JSON or holds no log list.
    """
    out: list[SourcedLog] = []
    for path in paths:
        name = str(path)
        try:
            payload = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise InvalidData(f"{name}: cannot read logs: {e}", details={"file": name}) from e
        if isinstance(payload, Mapping) and "result" in payload:
            payload = payload["result"]
        logs = [payload] if isinstance(payload, Mapping) else payload
        if not isinstance(logs, list):
            raise InvalidData(f"{name}: expected a log, a list of logs or an eth_getLogs response")
        out.extend(SourcedLog(name, i, log) for i, log in enumerate(logs))
    return out


def fetch_logs(
    w3: Any, addresses: Sequence[str], from_block: int, to_block: int, *, chunk: int = 2_000
) -> tuple[list[SourcedLog], dict[int, BlockInfo]]:
    """
    ``eth_getLogs`` of the pools over ``[from_block, to_block]`` (in chunks), with each log's
    block timestamp and base fee from ``eth_getBlockByNumber``.
    """
    from web3 import Web3

    addrs = [Web3.to_checksum_address(a) for a in addresses]
    logs: list[SourcedLog] = []
    start = from_block
    while start <= to_block:
        end = min(to_block, start + chunk - 1)
        got = w3.eth.get_logs({"address": addrs, "fromBlock": start, "toBlock": end})
        source = f"eth_getLogs[{start}..{end}]"
        logs.extend(SourcedLog(source, i, dict(log)) for i, log in enumerate(got))
        start = end + 1
    blocks: dict[int, BlockInfo] = {}
    for number in sorted({int(s.log["blockNumber"]) for s in logs}):
        block = w3.eth.get_block(number)
        blocks[number] = BlockInfo(int(block["timestamp"]), int(block.get("baseFeePerGas") or 0))
    return logs, blocks


def read_recording(path: str | Path) -> tuple[dict[str, Any], list[SourcedLog], dict[int, BlockInfo]]:
    """
    Read a recording ``{"pool": {...}, "logs": [...], "blocks": {"N": {"timestamp", "baseFeePerGas"}}}``.

    Raises
    ------
    InvalidData
        If the file is not such a recording.
    """
    name = str(path)
    try:
        payload = json.loads(Path(path).read_text())
        pool = dict(payload["pool"])
        logs = [SourcedLog(name, i, log) for i, log in enumerate(payload["logs"])]
        blocks = {
            int(n): BlockInfo(int(b["timestamp"]), int(b.get("baseFeePerGas") or 0))
            for n, b in payload["blocks"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidData(f"{name}: not a pool recording: {e}", details={"file": name}) from e
    return pool, logs, blocks


# -- the build ---------------------------------------------------------------------------------


@dataclass
class OnchainLoad:
    """What a load produced: trades, snapshots and counts."""

    trades: list[Any] = field(default_factory=list)
    snapshots: list[Any] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    skipped_logs: int = 0
    notes: list[str] = field(default_factory=list)


def load_events(
    logs: Sequence[SourcedLog], pools: Sequence[PoolSpec], blocks: Mapping[int, BlockInfo] | None = None
) -> OnchainLoad:
    """
    Decode and replay logs of the given pools into trades and per-block snapshots.

    A log's block time is its ``blockTimestamp`` or the one in ``blocks``; logs of other
    addresses and untracked events are skipped (counted).

    Raises
    ------
    InvalidData
        A malformed log, an event out of order or not fitting the pool, or a block without time.
    """
    by_address = {p.address: PoolTracker(p) for p in pools}
    blocks = dict(blocks or {})
    decoded: list[tuple[PoolEvent, str]] = []
    out = OnchainLoad()
    for item in logs:
        where = f"{item.source} log #{item.index}"
        event = decode_log(item.log, source=item.source, index=item.index)
        if event is None or event.pool not in by_address:
            out.skipped_logs += 1
            continue
        if event.block_number not in blocks:
            if event.block_timestamp is None:
                raise InvalidData(f"{where}: no block timestamp for block {event.block_number}")
            blocks[event.block_number] = BlockInfo(event.block_timestamp)
        decoded.append((event, where))
    decoded.sort(key=lambda e: (e[0].block_number, e[0].log_index))
    for i, (event, where) in enumerate(decoded):
        tracker = by_address[event.pool]
        tracker.apply(event, where)
        out.events[event.kind.value] = out.events.get(event.kind.value, 0) + 1
        info = blocks[event.block_number]
        if event.kind in (PoolEventKind.V3_SWAP, PoolEventKind.V3_SWAP_PANCAKE, PoolEventKind.V2_SWAP):
            tick = _trade_tick(tracker.spec, event, info.timestamp * NS_PER_SEC)
            if tick is not None:
                out.trades.append(tick)
        following = decoded[i + 1][0] if i + 1 < len(decoded) else None
        if following is None or following.block_number != event.block_number:
            for t in by_address.values():  # every pool changed in this block gets its snapshot
                if t.last[0] == event.block_number:
                    snap = t.snapshot(event.block_number, info)
                    if snap is not None:
                        out.snapshots.append(snap)
    out.notes = [
        f"pool {t.spec.address}: swaps without its Initialize: trades written, no state snapshots"
        for t in by_address.values()
        if t.history_missing
    ]
    return out


def pool_instrument(spec: PoolSpec, venue_fee: Decimal | None = None) -> Any:
    """A ``CurrencyPair`` for the pool's pair (taker fee = the pool's LP fee)."""
    from nautilus_trader.model.enums import CurrencyType
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import Symbol
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.objects import Currency
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    def currency(code: str) -> Any:
        known = Currency.from_str(code, strict=True)
        return known if known is not None else Currency(code, 8, 0, code, CurrencyType.CRYPTO)

    iid = InstrumentId.from_str(spec.instrument_id)
    fee = venue_fee if venue_fee is not None else Decimal(spec.fee_pips) / Decimal(1_000_000)
    return CurrencyPair(
        instrument_id=iid,
        raw_symbol=Symbol(spec.address),
        base_currency=currency(spec.base),
        quote_currency=currency(spec.quote),
        price_precision=spec.price_precision,
        size_precision=spec.size_precision,
        price_increment=Price(Decimal(1).scaleb(-spec.price_precision), spec.price_precision),
        size_increment=Quantity(Decimal(1).scaleb(-spec.size_precision), spec.size_precision),
        ts_event=0,
        ts_init=0,
        maker_fee=fee,
        taker_fee=fee,
    )


def write_onchain(load: OnchainLoad, pools: Sequence[PoolSpec], target: str | Path) -> dict[str, int]:
    """
    Write a load's trades, snapshots and the pools' instruments into a catalog (day-chunked).

    Returns rows written per data type folder.
    """
    from nautilus_ext.catalogs.build import _Sink
    from nautilus_ext.catalogs.keys import upsert_keys
    from nautilus_ext.catalogs.target import parse_target
    from nautilus_ext.catalogs.writer import DayChunkWriter

    tgt = parse_target(str(target))
    writer = DayChunkWriter(tgt)
    sink = _Sink(writer)
    sink.add_objects([pool_instrument(p) for p in pools])
    sink.add_objects(load.trades)
    sink.add_objects(load.snapshots)
    sink.flush()
    rows = [
        {
            "instrument_id": p.instrument_id,
            "instrument_key": p.instrument_key,
            "instrument_class": "CurrencyPair",
            "source": "onchain",
            "note": f"{p.kind} pool {p.address}",
        }
        for p in pools
        if p.instrument_key is not None
    ]
    if rows:
        upsert_keys(tgt, rows)
    return dict(writer.stats.rows)


def parse_pool_spec(text: str) -> PoolSpec:
    """
    Parse ``ADDRESS,KIND,INSTRUMENT_ID,BASE,QUOTE,DEC0,DEC1[,FEE_PIPS][,base=token1][,key=KEY]``.

    Raises
    ------
    InvalidConfig
        On a malformed spec.
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 7:
        raise InvalidConfig(f"pool spec {text!r}: need ADDRESS,KIND,INSTRUMENT_ID,BASE,QUOTE,DEC0,DEC1[,FEE]")
    options = {k: v for k, _, v in (p.partition("=") for p in parts[7:] if "=" in p)}
    plain = [p for p in parts[7:] if "=" not in p]
    unknown = set(options) - {"base", "key"}
    if unknown or len(plain) > 1 or options.get("base", "token0") not in ("token0", "token1"):
        raise InvalidConfig(
            f"pool spec {text!r}: options are FEE_PIPS, base=token0|token1, key=CANONICAL_KEY"
        )
    try:
        return PoolSpec(
            address=parts[0],
            kind=parts[1].upper(),
            instrument_id=parts[2],
            base=parts[3],
            quote=parts[4],
            decimals0=int(parts[5]),
            decimals1=int(parts[6]),
            fee_pips=int(plain[0]) if plain else 3000,
            base_is_token0=options.get("base", "token0") == "token0",
            instrument_key=options.get("key"),
        )
    except ValueError as e:
        raise InvalidConfig(f"pool spec {text!r}: {e}") from e


__all__ = [
    "BlockInfo",
    "OnchainLoad",
    "PoolSpec",
    "PoolTracker",
    "SourcedLog",
    "burn",
    "fetch_logs",
    "human_trade",
    "load_events",
    "parse_pool_spec",
    "pool_instrument",
    "read_log_files",
    "read_recording",
    "write_onchain",
]
