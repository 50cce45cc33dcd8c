"""
The perp/perp spread strategy's configuration and the records it keeps of its maker orders and
hedges (the ``hedge:<n>`` strategy state; positions are :class:`~.carry_state.CarryPosition`).
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.execution.config import UnifiedExecutionConfig

_MS = 1_000_000
_BPS = Decimal(10_000)
EXECUTION_MODES = frozenset({"TAKER", "MAKER"})
# the rules' own names -> the config fields a user sets (error messages name the latter)
CONFIG_FIELD_NAMES = {
    "max_position_notional": "max_position_usd",
    "max_symbol_notional": "max_total_usd",
    "max_total_notional": "max_total_usd",
    "max_hold_ns": "max_hold_secs",
    "reprice budget needs limit >= 2": "max_reprices must be >= 2",
    "min_edge": "min_edge_bps",
}


class PerpSpreadConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`PerpSpreadStrategy` (``instrument_ids``: venue A's perpetual, then B's).

    Parameters
    ----------
    db_url : str, optional
        The store (default ``$NAUTILUS_EXT_DB_URL``, else ``./nautilus_ext.db``).
    strategy_name : str, default "perp_spread"
        The name positions, hedges and state are stored under.
    execution : {"TAKER", "MAKER"}, default "TAKER"
        Take both legs on a gap, or rest on venue A and hedge fills on B.
    interval_ms : int, default 500
        The decision cycle, milliseconds.
    quote_usd_prices : dict[str, str]
        USD price of each quote currency (``{"USDT": "1", "USDC": "1"}``); required.
    min_edge_bps : str, default "2"
        The edge a trade must keep after fees and the latency allowance, bps.
    latency_ms : int, default 200
        Order round trip allowed for, milliseconds.
    adverse_bps_per_sec : str, default "5"
        Adverse price move per second of latency: the allowance is ``latency_ms`` times this.
    exit_spread_bps : str, default "0"
        Unwind when the mid spread in the position's favour falls to this (bps; 0: closed).
    max_hold_secs : int, optional
        Unwind after this many seconds.
    max_slippage_bps : str, default "10"
        Depth sizing band and the IOC limits' bound from each leg's mid, bps.
    taker_fee_a, taker_fee_b, maker_fee_a : str, optional
        Fee fractions (default: the instruments' own fees).
    max_positions : int, default 3
        Open spread positions at most.
    max_position_usd, max_total_usd : str
        Notional caps (USD) per position and in total.
    max_inventory : str, default "0.5"
        Largest absolute position per venue, base units.
    neutralise_policy : str, default "CLOSE_EXCESS"
        How ``ATOMIC_LEGS`` removes a leg imbalance (``CLOSE_EXCESS`` or ``COMPLETE_HEDGE``).
    entry_retry_secs : int, default 5
        After an entry that ended with nothing held, wait this long before the next, seconds.
    stale_after_secs : int, default 10
        A leg whose newest market data is older than this is unhealthy (0 disables).
    unhealthy_grace_secs : int, default 5
        Unhealthy legs pause entries and cancel maker orders at once; open positions are
        unwound (``VENUE_UNHEALTHY``) only when the problem lasts this long, seconds.
    maker_quantity : str, default "0.01"
        Size of each resting maker order, base units.
    reprice_tolerance_bps : str, default "2"
        A still-profitable maker order moves to a better price only beyond this, bps of A's mid.
    max_reprices : int, default 3
        Cancels of our maker orders per ``reprice_window_secs`` (keep below the gate's
        ``flipflop_max_cycles``; checked at start).
    reprice_window_secs : int, default 60
        The window ``max_reprices`` counts over.
    max_hedge_attempts : int, default 3
        IOC hedges tried on B for one unhedged quantity before it is traded back on A.
    """

    db_url: str | None = None
    strategy_name: str = "perp_spread"
    execution: str = "TAKER"
    interval_ms: int = 500
    quote_usd_prices: dict[str, str] | None = None
    min_edge_bps: str = "2"
    latency_ms: int = 200
    adverse_bps_per_sec: str = "5"
    exit_spread_bps: str = "0"
    max_hold_secs: int | None = None
    max_slippage_bps: str = "10"
    taker_fee_a: str | None = None
    taker_fee_b: str | None = None
    maker_fee_a: str | None = None
    max_positions: int = 3
    max_position_usd: str = "10000"
    max_total_usd: str = "30000"
    max_inventory: str = "0.5"
    neutralise_policy: str = "CLOSE_EXCESS"
    entry_retry_secs: int = 5
    stale_after_secs: int = 10
    unhealthy_grace_secs: int = 5
    maker_quantity: str = "0.01"
    reprice_tolerance_bps: str = "2"
    max_reprices: int = 3
    reprice_window_secs: int = 60
    max_hedge_attempts: int = 3


@dataclass(slots=True)
class MakerQuote:
    """One resting maker order on venue A."""

    operation_id: str
    buy: bool
    price: Decimal
    quantity: Decimal
    placed_ns: int
    cancelling: bool = False


@dataclass(slots=True)
class HedgeRecord:
    """
    One hedge on venue B of fills on venue A (times in UNIX ns from the node clock).

    ``fill_ns`` is when the strategy handled the (earliest) fill on A the hedge covers;
    ``ack_ns``/``hedge_fill_ns`` when B acknowledged the hedge and first filled it.
    """

    n: int
    operation_id: str
    side: str
    quantity: Decimal
    fill_ns: int
    submit_ns: int
    ack_ns: int | None = None
    hedge_fill_ns: int | None = None
    filled: Decimal = Decimal(0)
    attempt: int = 1
    done: bool = False

    @property
    def time_to_ack_ms(self) -> float | None:
        """Return fill on A to the hedge's acknowledgement on B, milliseconds."""
        return None if self.ack_ns is None else (self.ack_ns - self.fill_ns) / _MS

    @property
    def time_to_fill_ms(self) -> float | None:
        """Return fill on A to the hedge's first fill on B, milliseconds."""
        return None if self.hedge_fill_ns is None else (self.hedge_fill_ns - self.fill_ns) / _MS

    def state(self) -> dict[str, Any]:
        """Return the JSON stored under ``hedge:<n>``."""
        out = {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
        out["time_to_ack_ms"] = self.time_to_ack_ms
        out["time_to_fill_ms"] = self.time_to_fill_ms
        return out


def config_decimal(name: str, text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError as e:
        raise InvalidConfig(f"PerpSpreadConfig.{name} is not a number: {text!r}") from e


__all__ = [
    "CONFIG_FIELD_NAMES",
    "EXECUTION_MODES",
    "HedgeRecord",
    "MakerQuote",
    "PerpSpreadConfig",
    "config_decimal",
]
