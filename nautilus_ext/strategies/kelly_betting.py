"""
Value betting with fractional Kelly stakes on Betfair markets (seed 000's sports strategy).

For each market the strategy watches (every runner's book), at most once per
``decision_interval_secs`` and only before the market's scheduled start:

1. The market's **implied probability** of each runner is the inverse of its best available
   back price, normalised so the market sums to one (the overround removed).
2. A **model probability** comes from a signal source: a CSV file (``market_id``,
   ``selection``, ``probability``; the selection as canonical name, runner name or selection id)
   or a callable (``"package.module:function"``, called with a :class:`SignalQuery`).
3. When the model exceeds the implied probability by ``edge_threshold`` the strategy BACKs at
   the best back price; when it falls short by as much, it LAYs at the best lay price.
4. The stake is **fractional Kelly**: a BACK at odds ``b`` with probability ``p`` risks the
   fraction ``(p*b - 1) / (b - 1)`` of the bankroll; a LAY at ``l`` risks the liability
   fraction ``1 - p*l``; both times ``kelly_fraction``, then capped per market and per day, and
   skipped below Betfair's minimum stake.

Each bet is a unified ``bet`` Order on the market's canonical key with the runner's canonical
selection, so it passes the safety gate like any other order. Every decision (model and implied
probability, edge, odds, stake) is kept in :attr:`KellyValueBettingStrategy.decisions` and, with
``decisions_path``, written as JSON lines at stop for the report.
"""

from __future__ import annotations

import csv
import importlib
import json
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import ROUND_DOWN
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.model.data import OrderBookDeltas

from nautilus_ext.adapters.betfair.markets import BetfairRunner
from nautilus_ext.adapters.betfair.markets import canonical_selections
from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.strategy import UnifiedExecutionConfig
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.orders import Order

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SignalQuery:
    """What a callable signal source is asked: one runner of one market, now."""

    market_id: str
    selection_id: int
    selection: str
    runner_name: str
    ts_ns: int
    implied_probability: Decimal


@dataclass(frozen=True, slots=True)
class KellyDecision:
    """One bet the strategy decided (for the report: edge against outcome)."""

    ts_ns: int
    operation_id: str
    market_id: str
    instrument_key: str
    selection: str
    selection_id: int
    side: str
    odds: str
    stake: str
    model_probability: str
    implied_probability: str
    edge: str
    kelly_fraction_of_bankroll: str


def back_kelly(p: Decimal, odds: Decimal) -> Decimal:
    """Return the full-Kelly fraction of bankroll to stake on a BACK (0 without an edge)."""
    return max(Decimal(0), (p * odds - 1) / (odds - 1))


def lay_kelly(p: Decimal, odds: Decimal) -> Decimal:
    """Return the full-Kelly fraction of bankroll to risk as liability on a LAY (0 without edge)."""
    return max(Decimal(0), 1 - p * odds)


def implied_probabilities(back_prices: dict[int, Decimal]) -> dict[int, Decimal]:
    """Return each runner's implied probability with the overround removed."""
    raw = {sid: 1 / price for sid, price in back_prices.items()}
    book = sum(raw.values(), Decimal(0))
    return {sid: v / book for sid, v in raw.items()}


def read_signal_file(path: str | Path) -> dict[tuple[str, str], Decimal]:
    """
    Read a CSV of model probabilities: ``market_id,selection,probability`` per line.

    Raises
    ------
    InvalidConfig
        If the file is missing, lacks a column, or holds a probability outside (0, 1).
    """
    out: dict[tuple[str, str], Decimal] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"market_id", "selection", "probability"} - set(reader.fieldnames or ())
            if missing:
                raise InvalidConfig(f"signal file {path}: missing column(s) {', '.join(sorted(missing))}")
            for n, row in enumerate(reader, start=2):
                try:
                    p = Decimal(row["probability"])
                except ArithmeticError:
                    raise InvalidConfig(
                        f"signal file {path}, line {n}: probability {row['probability']!r}"
                    ) from None
                if not 0 < p < 1:
                    raise InvalidConfig(f"signal file {path}, line {n}: probability {p} is not within (0, 1)")
                out[(row["market_id"].strip(), row["selection"].strip().upper())] = p
    except OSError as e:
        raise InvalidConfig(f"signal file {path}: cannot read ({e.strerror or type(e).__name__})") from None
    return out


def load_callable(path: str) -> Callable[[SignalQuery], Decimal | None]:
    """
    Import ``"package.module:function"``.

    Raises
    ------
    InvalidConfig
        If it cannot be imported or is not callable.
    """
    module, _, name = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as e:
        raise InvalidConfig(f"signal callable {path!r} cannot be imported: {e}") from None
    if not callable(fn):
        raise InvalidConfig(f"signal callable {path!r} is not callable")
    return fn  # type: ignore[no-any-return]


def seeded_toy_model(query: SignalQuery, seed: int = 7, spread: Decimal = Decimal("0.15")) -> Decimal:
    """
    A seeded toy model: the implied probability scaled by a per-runner random factor.

    It knows nothing the market does not: its "edge" is noise, so its backtest shows what a
    Kelly bettor with a mis-calibrated model loses to the overround and commission. The factor
    is fixed per (seed, market, selection), in ``[1 - spread, 1 + spread]``.
    """
    import random

    rng = random.Random(f"{seed}:{query.market_id}:{query.selection_id}")
    factor = Decimal(1) + spread * Decimal(str(round(rng.uniform(-1, 1), 6)))
    return min(Decimal("0.99"), max(Decimal("0.01"), query.implied_probability * factor))


def toy_model(query: SignalQuery) -> Decimal:
    """:func:`seeded_toy_model` with seed 7 (a callable signal source for configs)."""
    return seeded_toy_model(query)


class KellyValueBettingConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`KellyValueBettingStrategy` (``instrument_ids``: every runner).

    Parameters
    ----------
    signal_path : str, optional
        CSV of model probabilities (``market_id,selection,probability``).
    signal_callable : str, optional
        ``"package.module:function"`` taking a :class:`SignalQuery`, returning a probability or
        ``None`` (exactly one of the two sources).
    edge_threshold : str, default "0.02"
        Model minus implied probability (absolute) that triggers a bet.
    kelly_fraction : str, default "0.25"
        Fraction of the full Kelly stake to bet.
    bankroll : str, default "1000"
        Bankroll the Kelly fractions apply to (account currency).
    max_stake_per_market : str, default "50"
        Total stake per market at most.
    max_stake_per_day : str, default "200"
        Total stake per UTC day at most.
    min_stake : str, default "1"
        Betfair's minimum stake: smaller Kelly stakes are skipped.
    decision_interval_secs : int, default 60
        A market is looked at most this often, seconds.
    decisions_path : str, optional
        Where to write the decisions (JSON lines) at stop.
    """

    signal_path: str | None = None
    signal_callable: str | None = None
    edge_threshold: str = "0.02"
    kelly_fraction: str = "0.25"
    bankroll: str = "1000"
    max_stake_per_market: str = "50"
    max_stake_per_day: str = "200"
    min_stake: str = "1"
    decision_interval_secs: int = 60
    decisions_path: str | None = None


class KellyValueBettingStrategy(UnifiedExecutionStrategy):
    """BACK or LAY where a model disagrees with the market, staked by fractional Kelly."""

    def __init__(self, config: KellyValueBettingConfig) -> None:
        super().__init__(config)
        if (config.signal_path is None) == (config.signal_callable is None):
            raise InvalidConfig(
                "KellyValueBettingConfig: give exactly one of signal_path and signal_callable"
            )
        try:
            self._threshold = Decimal(config.edge_threshold)
            self._fraction = Decimal(config.kelly_fraction)
            self._bankroll = Decimal(config.bankroll)
            self._market_cap = Decimal(config.max_stake_per_market)
            self._day_cap = Decimal(config.max_stake_per_day)
            self._min_stake = Decimal(config.min_stake)
        except ArithmeticError:
            raise InvalidConfig("KellyValueBettingConfig: a number field is not a decimal") from None
        if not 0 < self._fraction <= 1 or self._bankroll <= 0 or self._threshold < 0:
            raise InvalidConfig(
                "KellyValueBettingConfig: kelly_fraction in (0, 1], bankroll > 0, edge_threshold >= 0"
            )
        self._file = read_signal_file(config.signal_path) if config.signal_path else None
        self._callable = load_callable(config.signal_callable) if config.signal_callable else None
        self._interval_ns = config.decision_interval_secs * 1_000_000_000
        self._last_look: dict[str, int] = {}
        self._market_stake: dict[str, Decimal] = {}
        self._day_stake: dict[int, Decimal] = {}
        self._bet_on: set[tuple[str, int]] = set()
        self.decisions: list[KellyDecision] = []
        self._n = 0

    # -- data ---------------------------------------------------------------------------------

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        inst = self.cache.instrument(deltas.instrument_id)
        if inst is None or not hasattr(inst, "market_id"):
            return
        market_id = str(inst.market_id)
        now = deltas.ts_event
        if now - self._last_look.get(market_id, -self._interval_ns) < self._interval_ns:
            return
        if now >= int(inst.market_start_time.timestamp() * 1_000_000_000):
            return  # pre-play only: in play the book moves faster than this example decides
        self._last_look[market_id] = now
        self._look(market_id, now)

    def _runners(self, market_id: str) -> list[Any]:
        return [
            i
            for i in self.cache.instruments()
            if hasattr(i, "market_id") and str(i.market_id) == market_id and str(i.id) in self._subscribed
        ]

    @property
    def _subscribed(self) -> set[str]:
        return {str(i) for i in self.config.instrument_ids}

    def _look(self, market_id: str, now: int) -> None:
        runners = self._runners(market_id)
        if len(runners) < 2:
            return
        backs: dict[int, Decimal] = {}
        lays: dict[int, Decimal] = {}
        for inst in runners:
            bids, _ = self.book_view.levels(str(inst.id), buy=False)
            asks, _ = self.book_view.levels(str(inst.id), buy=True)
            if not bids:
                return  # a runner without a back price: the market cannot be priced
            backs[int(inst.selection_id)] = bids[0][0]
            if asks:
                lays[int(inst.selection_id)] = asks[0][0]
        implied = implied_probabilities(backs)
        first = runners[0]
        names = canonical_selections(
            first.market_type,
            first.event_name,
            [BetfairRunner(int(i.selection_id), name=i.selection_name or None) for i in runners],
        )
        try:
            key = str(key_for_instrument(first, self.registry))
        except NautilusExtError:
            return  # a market without a canonical key is not tradable through Orders
        for inst in runners:
            sid = int(inst.selection_id)
            if (market_id, sid) in self._bet_on:
                continue
            p = self._model(market_id, sid, names[sid], inst, now, implied[sid])
            if p is None:
                continue
            edge = p - implied[sid]
            if edge >= self._threshold and backs[sid] > 1:
                self._bet(key, market_id, sid, names[sid], "BACK", backs[sid], p, implied[sid], edge, now)
            elif -edge >= self._threshold and sid in lays and lays[sid] > 1:
                self._bet(key, market_id, sid, names[sid], "LAY", lays[sid], p, implied[sid], edge, now)

    def _model(
        self, market_id: str, sid: int, selection: str, inst: Any, now: int, implied: Decimal
    ) -> Decimal | None:
        if self._file is not None:
            for name in (selection, str(inst.selection_name or "").upper(), str(sid)):
                if (market_id, name) in self._file:
                    return self._file[(market_id, name)]
            return None
        assert self._callable is not None
        query = SignalQuery(market_id, sid, selection, str(inst.selection_name or ""), now, implied)
        value = self._callable(query)
        return None if value is None else Decimal(str(value))

    def _bet(
        self,
        key: str,
        market_id: str,
        sid: int,
        selection: str,
        side: str,
        odds: Decimal,
        p: Decimal,
        implied: Decimal,
        edge: Decimal,
        now: int,
    ) -> None:
        if side == "BACK":
            fraction = back_kelly(p, odds) * self._fraction
            stake = self._bankroll * fraction
        else:
            fraction = lay_kelly(p, odds) * self._fraction
            stake = self._bankroll * fraction / (odds - 1)
        day = now // 86_400_000_000_000
        room = min(
            self._market_cap - self._market_stake.get(market_id, Decimal(0)),
            self._day_cap - self._day_stake.get(day, Decimal(0)),
        )
        stake = min(stake, room).quantize(_CENT, rounding=ROUND_DOWN)
        if stake < self._min_stake:
            return
        self._n += 1
        op = f"{self.id}-kelly-{self._n}"
        self._bet_on.add((market_id, sid))
        self._market_stake[market_id] = self._market_stake.get(market_id, Decimal(0)) + stake
        self._day_stake[day] = self._day_stake.get(day, Decimal(0)) + stake
        self.decisions.append(
            KellyDecision(
                ts_ns=now,
                operation_id=op,
                market_id=market_id,
                instrument_key=key,
                selection=selection,
                selection_id=sid,
                side=side,
                odds=str(odds),
                stake=str(stake),
                model_probability=str(p),
                implied_probability=str(implied),
                edge=str(edge),
                kelly_fraction_of_bankroll=str(fraction),
            )
        )
        self.submit_unified(
            Order(
                operation_id=op,
                operation="bet",
                instrument_key=key,
                venue="BETFAIR",
                side=side,
                amount=stake,
                odds=odds,
                selection=selection,
                strategy_id=str(self.id),
                strategy_intent="kelly_value",
                created_at=datetime.fromtimestamp(now / 1e9, tz=UTC),
            ),
            rationale=f"model {p:.4f} vs implied {implied:.4f}: edge {edge:+.4f}, {side} at {odds}",
            inputs={"model": p, "implied": implied, "odds": odds, "kelly_fraction": fraction},
        )

    def on_stop(self) -> None:
        super().on_stop()
        if self.config.decisions_path:
            path = Path(self.config.decisions_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(asdict(d)) + "\n" for d in self.decisions), encoding="utf-8")


__all__ = [
    "KellyDecision",
    "KellyValueBettingConfig",
    "KellyValueBettingStrategy",
    "SignalQuery",
    "back_kelly",
    "implied_probabilities",
    "lay_kelly",
    "load_callable",
    "read_signal_file",
    "seeded_toy_model",
    "toy_model",
]
