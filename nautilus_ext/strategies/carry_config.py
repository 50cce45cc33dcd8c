"""
Configuration of the funding carry strategy (:class:`FundingCarryConfig`).

Kept apart from :mod:`~nautilus_ext.strategies.funding_carry` (which re-exports it, so YAML
files name ``nautilus_ext.strategies.funding_carry:FundingCarryConfig`` as before).
"""

from __future__ import annotations

from nautilus_ext.execution.config import UnifiedExecutionConfig


class FundingCarryConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`FundingCarryStrategy` (``instrument_ids``: the perpetuals to trade).

    Parameters
    ----------
    db_url : str, optional
        The store (default ``$NAUTILUS_EXT_DB_URL``, else ``./nautilus_ext.db``).
    strategy_name : str, default "funding_carry"
        The name positions and state are stored under (one per running instance).
    interval_secs : int, default 60
        The monitor/exit/scan cycle, seconds.
    min_net_apr : str, default "0.05"
        Enter only opportunities whose net APR after costs reaches this fraction.
    holding_hours : str, default "168"
        The horizon the finder nets costs over, hours.
    exit_min_divergence_apr : str, default "0.01"
        Exit when the divergence (annualised) falls below this fraction (0 disables).
    profit_target : str, optional
        Exit when PnL including funding reaches this fraction of the notional.
    stop_loss : str, optional, default "0.02"
        Exit when PnL including funding falls to minus this fraction of the notional.
    max_hold_hours : str, optional
        Exit after this many hours.
    max_slippage_bps : str, default "10"
        Depth sizing: the size both books absorb within this many bps of their mids.
    max_positions : int, default 3
        Open carry positions at most.
    max_position_usd, max_symbol_usd, max_total_usd : str
        Notional caps in the quote currency: per position, per base asset, in total.
    neutralise_policy : str, default "CLOSE_EXCESS"
        How ``ATOMIC_LEGS`` removes a leg imbalance (``CLOSE_EXCESS`` or ``COMPLETE_HEDGE``).
    stale_after_secs : int, default 120
        A leg whose newest market data (book, quote, trade) is older than this is unhealthy
        (the position exits with ``VENUE_UNHEALTHY``); 0 disables the check.
    quote_usd_prices : dict[str, str]
        USD price of each quote currency traded (``{"USDT": "1"}``): the finder charges the
        stablecoin basis between legs quoted differently and refuses to guess (required).
    entry_retry_secs : int, default 300
        After an entry that ended with nothing held (a leg refused, neutralised), the same
        pair is not tried again for this long, seconds.
    on_forced_reduction : str, default "UNWIND_AND_STOP"
        The answer to a leg the venue reduced (ADL, liquidation, a manual change; see
        :mod:`~nautilus_ext.strategies.carry_guard`): ``UNWIND_AND_STOP`` closes every leg of
        the position at once and stops the strategy, ``STOP`` only stops it.
    unwind_max_slippage_bps : str, default "50"
        The IOC band of those closing orders, bps from the mid.
    guard_confirm_ms : int, default 1000
        A venue position smaller than the leg counts as reduced once it persists this long
        (snapshots lag fills); a venue ADL or liquidation message counts at once.
    margin_warning_ratio, margin_urgent_ratio : str, default "0.20", "0.15"
        Seed 003's margin ratio thresholds (equity over position notional, per venue, from
        the venue's own account data): below the warning ratio an alert and no new entries;
        below the urgent ratio an alert and the riskiest position is closed, one at a time,
        until the venue is above it again (:mod:`~nautilus_ext.strategies.margin_guard`).
    max_symbol_qty : dict[str, str], optional
        Position caps per base asset in base units (``{"BTC": "0.5"}``): the quantity held per
        leg across positions on that base never exceeds it.
    max_oi_share : str, optional
        Open-interest cap: each leg holds at most this share of its venue's open interest in the
        symbol (``"0.01"``: 1%): the sample's open interest, else the newest the funding collector
        stored in the strategy's ``db_url`` database (run the collector into the same store).
        With the cap set, an entry whose open interest is unknown is skipped, with a warning.
    """

    db_url: str | None = None
    strategy_name: str = "funding_carry"
    interval_secs: int = 60
    min_net_apr: str = "0.05"
    holding_hours: str = "168"
    exit_min_divergence_apr: str = "0.01"
    profit_target: str | None = None
    stop_loss: str | None = "0.02"
    max_hold_hours: str | None = None
    max_slippage_bps: str = "10"
    max_positions: int = 3
    max_position_usd: str = "10000"
    max_symbol_usd: str = "20000"
    max_total_usd: str = "50000"
    neutralise_policy: str = "CLOSE_EXCESS"
    entry_retry_secs: int = 300
    stale_after_secs: int = 120
    quote_usd_prices: dict[str, str] | None = None
    on_forced_reduction: str = "UNWIND_AND_STOP"
    unwind_max_slippage_bps: str = "50"
    guard_confirm_ms: int = 1000
    margin_warning_ratio: str = "0.20"
    margin_urgent_ratio: str = "0.15"
    max_symbol_qty: dict[str, str] | None = None
    max_oi_share: str | None = None


__all__ = ["FundingCarryConfig"]
