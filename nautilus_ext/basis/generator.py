"""
Seeded, realistic hourly data for the basis engine, with a stress window.

Normal regime: ETH and BTC follow correlated geometric random walks (about 60 % and 50 %
annual volatility), perpetual marks sit a few basis points from spot, funding settles every
8 hours around +0.01 %, AAVE indices grow at noisy supply/borrow rates through the protocol's
own interest math, weETH/wstETH oracle rates grow at about 3 % a year, gas hovers near 15-25
gwei, EIGEN pays weekly and ETHFI pays one seasonal drop.

Stress window (``stress_start`` .. ``+ stress_days``): ETH rallies about 40 % over the first
three days (shorts lose margin), funding flips negative on every venue from day 1, weETH's
oracle rate depegs by ``depeg`` over days 4-6 and recovers by day 10, Bybit's and OKX's
marks diverge from Binance's (flags at 0.5 %, alerts
at 1 %), WETH borrow rates and gas spike. The generator returns the tables of
:mod:`nautilus_ext.basis.data`, so generated and imported data go through the same checks.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Final

from nautilus_ext.basis.data import HOUR
from nautilus_ext.basis.data import Rows
from nautilus_ext.basis.data import hour_grid
from nautilus_ext.onchain.calculators.ray_math import RAY
from nautilus_ext.onchain.calculators.ray_math import calculate_compounded_interest
from nautilus_ext.onchain.calculators.ray_math import calculate_linear_interest
from nautilus_ext.onchain.calculators.ray_math import ray_mul

HEDGE_VENUES: Final = ("BINANCE-FUTURES", "BYBIT", "OKX")
_SECS_PER_HOUR: Final = 3600
_HOURS_PER_YEAR: Final = 8760


def _q(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places))


def _ray(apr: float) -> int:
    return int(Decimal(repr(max(apr, 0.0))) * RAY)


def generate(
    start: datetime,
    end: datetime,
    *,
    seed: int = 3,
    stress: bool = True,
    stress_start: datetime | None = None,
    stress_days: int = 10,
    depeg: float = 0.09,
    rally: float = 0.40,
) -> dict[str, Rows]:
    """
    Generate every table for ``[start, end)``.

    Parameters
    ----------
    start, end : datetime
        Period (UTC, on the hour).
    seed : int
        Random seed (same seed, same data).
    stress : bool
        Include the stress window.
    stress_start : datetime, optional
        Start of the stress window (default: 60 % into the period; ``None`` and a period
        shorter than 20 days means no stress window).
    stress_days : int
        Stress window length.
    depeg : float
        Largest weETH oracle drop (fraction) in the window.
    rally : float
        ETH rally over the window's first three days (fraction).
    """
    rng = random.Random(seed)
    hours = hour_grid(start, end)
    n = len(hours)
    if not stress:
        stress_start = None
    elif stress_start is None and n >= 20 * 24:
        stress_start = hours[int(n * 0.6)].replace(hour=0)
    s0 = -1 if stress_start is None else max(0, int((stress_start - start) / HOUR))
    s_len = stress_days * 24
    eth = 3000.0
    btc = 60000.0
    weeth = 1.03
    wsteth = 1.17
    eigen = 3.5
    ethfi = 2.5
    sigma_eth = 0.60 / math.sqrt(_HOURS_PER_YEAR)
    sigma_btc = 0.50 / math.sqrt(_HOURS_PER_YEAR)
    indices = {
        "USDT": [RAY * 105 // 100, RAY * 110 // 100],
        "WETH": [RAY * 103 // 100, RAY * 106 // 100],
        "WEETH": [RAY * 1001 // 1000, RAY * 1002 // 1000],
        "WSTETH": [RAY * 1001 // 1000, RAY * 1002 // 1000],
    }
    supply_apr = {"USDT": 0.065, "WETH": 0.018, "WEETH": 0.0005, "WSTETH": 0.0005}
    borrow_apr = {"USDT": 0.085, "WETH": 0.026, "WEETH": 0.005, "WSTETH": 0.005}
    funding_base = {"BINANCE-FUTURES": 0.00010, "BYBIT": 0.00011, "OKX": 0.00009}
    tables: dict[str, Rows] = {k: [] for k in ("spot", "perp", "aave", "oracle", "gas", "token_price")}
    gas = 20.0
    for i, ts in enumerate(hours):
        k = i - s0 if s0 >= 0 else -1
        stressed = 0 <= k < s_len
        if i:
            z = rng.gauss(0, 1)
            z_btc = 0.8 * z + 0.6 * rng.gauss(0, 1)
            drift = math.log(1 + rally) / 72 if stressed and k < 72 else 0.0
            eth *= math.exp(sigma_eth * z + drift - sigma_eth**2 / 2)
            btc *= math.exp(sigma_btc * z_btc + (drift / 2) - sigma_btc**2 / 2)
            weeth *= 1 + 0.031 / _HOURS_PER_YEAR
            wsteth *= 1 + 0.028 / _HOURS_PER_YEAR
            eigen *= math.exp(0.9 / math.sqrt(_HOURS_PER_YEAR) * rng.gauss(0, 1))
            ethfi *= math.exp(0.9 / math.sqrt(_HOURS_PER_YEAR) * rng.gauss(0, 1))
            gas = min(max(gas * math.exp(0.08 * rng.gauss(0, 1)) * (20.0 / gas) ** 0.05, 4.0), 400.0)
        # weETH depeg after the rally: down over 2 days (day 4-6), back over 4 (day 6-10)
        peg = 1.0
        if stressed and 96 <= k < 144:
            peg = 1 - depeg * (k - 96) / 48
        elif stressed and 144 <= k < 240:
            peg = 1 - depeg * max(0.0, 1 - (k - 144) / 96)
        tables["spot"].append({"ts": ts, "asset": "ETH", "price": _q(eth, 2)})
        tables["spot"].append({"ts": ts, "asset": "BTC", "price": _q(btc, 2)})
        tables["oracle"].append({"ts": ts, "lst": "WEETH", "rate": _q(weeth * peg, 18)})
        tables["oracle"].append({"ts": ts, "lst": "WSTETH", "rate": _q(wsteth, 18)})
        tables["gas"].append({"ts": ts, "gas_price_gwei": _q(gas * (3.0 if stressed and k < 72 else 1.0), 3)})
        tables["token_price"].append({"ts": ts, "token": "EIGEN", "price": _q(eigen, 4)})
        tables["token_price"].append({"ts": ts, "token": "ETHFI", "price": _q(ethfi, 4)})
        settles = ts.hour % 8 == 0
        for venue in HEDGE_VENUES:
            for asset, spot in (("ETH", eth), ("BTC", btc)):
                basis = rng.gauss(0.0002, 0.0003)
                if stressed and 40 <= k < 46 and venue == "BYBIT":
                    basis += 0.007  # > 0.5 %: data-quality flag
                if stressed and k == 50 and venue == "OKX":
                    basis += 0.012  # > 1 %: arbitrage alert
                rate = None
                if settles:
                    base = funding_base[venue] * (0.5 if asset == "BTC" else 1.0)
                    value = -0.00025 if stressed and k >= 24 else rng.gauss(base, 0.00006)
                    rate = _q(value, 8)
                tables["perp"].append(
                    {
                        "ts": ts,
                        "venue": venue,
                        "asset": asset,
                        "mark_price": _q(spot * (1 + basis), 2 if asset == "ETH" else 1),  # the tick
                        "funding_rate": rate,
                    }
                )
        for reserve, (li, bi) in indices.items():
            tables["aave"].append(
                {"ts": ts, "reserve": reserve, "liquidity_index": li, "variable_borrow_index": bi}
            )
            spike = 2.5 if stressed and reserve == "WETH" else 1.0
            s_apr = supply_apr[reserve] * spike * (1 + 0.15 * rng.gauss(0, 1))
            b_apr = borrow_apr[reserve] * spike * (1 + 0.10 * rng.gauss(0, 1))
            indices[reserve] = [
                ray_mul(calculate_linear_interest(_ray(s_apr), _SECS_PER_HOUR), li),
                ray_mul(calculate_compounded_interest(_ray(b_apr), _SECS_PER_HOUR), bi),
            ]
    tables["distributions"] = _distributions(start, end, eth_usd=3000.0)
    return tables


def _distributions(start: datetime, end: datetime, *, eth_usd: float) -> Rows:
    rows: Rows = []
    # EIGEN: weekly, paid Thursdays 16:00 UTC for the week ending at the payout (~1.2 % APR)
    first = start + timedelta(days=(3 - start.weekday()) % 7)
    payout = first.replace(hour=16, minute=0, second=0, microsecond=0)
    weekly = 0.012 / 52 * eth_usd / 3.5
    while payout < end + timedelta(days=8):
        rows.append(
            {
                "payout_ts": payout,
                "token": "EIGEN",
                "period_start": payout - timedelta(days=7),
                "period_end": payout,
                "rate_per_lst": _q(weekly, 8),
            }
        )
        payout += timedelta(days=7)
    # ETHFI: seasonal drops every 60 days, each for the 60 days before (~0.8 % APR)
    season = timedelta(days=60)
    drop = start + season
    while drop < end + season:
        rows.append(
            {
                "payout_ts": drop.replace(hour=12),
                "token": "ETHFI",
                "period_start": drop - season,
                "period_end": drop,
                "rate_per_lst": _q(0.008 * 60 / 365 * eth_usd / 2.5, 8),
            }
        )
        drop += season
    return rows


__all__ = ["HEDGE_VENUES", "generate"]
