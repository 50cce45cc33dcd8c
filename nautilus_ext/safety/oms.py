"""
OMS flip-flop safeguards (seed 001, section 4.7) as a pure state machine.

- 4.7.1 Running sum of fills per asset (BUY +, SELL -), deduplicated by ``(venue, fill_id)``;
  a venue fill sequence that skips a number, or goes backwards with a new fill id, enters SAFE
  mode (FILL_SEQ_GAP). The fill still counts: the running sum is the best internal truth. A
  gap an adapter detects by other means (:meth:`OmsSafeguards.on_fill_gap`) does the same.
- 4.7.2 A fill marks its asset dirty: new orders on it are blocked (cancels pass) until a WS
  position update or a REST snapshot agrees within threshold. Dirty beyond
  ``dirty_max_age_ms`` enters SAFE mode.
- 4.7.3 A snapshot that disagrees is not a mismatch within ``reconcile_grace_ms`` of the last
  fill (venue pipelines lag); outside it, a mismatch lasting ``mismatch_persist_ms`` enters
  SAFE mode (POSITION_MISMATCH).
- 4.7.4 Market data older than ``market_data_max_age_ms`` (MARKET_DATA_STALE) or a venue
  WebSocket silent or disconnected (WS_STALE) blocks new orders until healthy again. Feeds
  never seen count as stale: fail closed.
- 4.7.5 More than ``order_rate_limit`` new orders per asset within ``order_rate_window_ms``
  (ORDER_RATE_LIMIT_BREACH), or ``flipflop_max_cycles`` place-then-cancel cycles within
  ``flipflop_window_ms`` (FLIPFLOP_DETECTED), enter SAFE mode.

Time-based transitions (dirty age, persistent mismatch) are evaluated by :meth:`tick`, which
the gate calls before every decision; a driver may also call it on a timer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import SafeguardKind
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import MarketDataStale
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import OrderRateLimitBreach
from nautilus_ext.errors import WsStale
from nautilus_ext.safety.config import OmsConfig
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.halts import HaltState

_MS = 1_000_000
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fill:
    """
    One execution as the venue reported it.

    Parameters
    ----------
    fill_id : str
        The venue's fill (trade) id; repeated ids are ignored.
    venue : str
        The venue (the scope of ``fill_id`` and ``seq``).
    asset : str
        The position key (canonical instrument key text).
    quantity : Decimal
        Signed quantity: positive for BUY, negative for SELL (non-zero).
    seq : int, optional
        The venue's strictly increasing fill sequence number, if it has one.
    """

    fill_id: str
    venue: str
    asset: str
    quantity: Decimal
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.quantity == 0 or not self.quantity.is_finite():
            raise ValueError(f"fill {self.fill_id}: quantity must be a finite non-zero Decimal")


class OmsSafeguards:
    """
    Running sum, dirty flags, reconciliation, feed health and order spam controls.

    Parameters
    ----------
    config : OmsConfig
        The thresholds.
    clock : Clock
        The injected clock.
    halts : HaltState
        Where SAFE mode is entered.
    sink : EventSink
        Receives every transition.
    ws_gating : bool
        Whether venue WebSocket health gates orders (LIVE and DRY_RUN; not BACKTEST or REPLAY,
        which have no WebSocket).
    """

    def __init__(
        self, config: OmsConfig, clock: Clock, halts: HaltState, sink: EventSink, *, ws_gating: bool
    ) -> None:
        self._config = config
        self._clock = clock
        self._halts = halts
        self._sink = sink
        self._ws_gating = ws_gating
        self._positions: dict[str, Decimal] = {}
        self._seen_fills: set[tuple[str, str]] = set()
        self._last_seq: dict[str, int] = {}
        self._last_fill_ns: dict[str, int] = {}
        self._dirty_since: dict[str, int] = {}
        self._mismatch_since: dict[str, int] = {}
        self._matched_ns: dict[str, int] = {}
        self._snapshot_ns: dict[str, int] = {}
        self._market_data_ns: dict[str, int] = {}
        self._ws_ns: dict[str, int] = {}
        self._ws_down: set[str] = set()
        self._stale_reported: set[str] = set()
        self._places: dict[str, deque[int]] = {}
        self._open_places: dict[tuple[str, str], int] = {}
        self._cycles: dict[str, deque[int]] = {}

    # -- 4.7.1 running sum --------------------------------------------------------------------

    def position(self, asset: str) -> Decimal:
        """Return the internal signed position of ``asset`` (sum of fills)."""
        return self._positions.get(asset, _ZERO)

    @property
    def positions(self) -> dict[str, Decimal]:
        """Return every internal position."""
        return dict(self._positions)

    def on_fill(self, fill: Fill) -> bool:
        """
        Apply ``fill`` to the running sum; return ``False`` for a duplicate (ignored).

        A sequence gap or a backwards sequence enters SAFE mode (the fill is still applied).
        """
        key = (fill.venue, fill.fill_id)
        if key in self._seen_fills:
            return False
        self._seen_fills.add(key)
        now = self._clock.timestamp_ns()
        if fill.seq is not None:
            last = self._last_seq.get(fill.venue)
            if last is not None and fill.seq != last + 1:
                what = "skipped" if fill.seq > last + 1 else "went backwards"
                self.on_fill_gap(
                    fill.venue,
                    fill.asset,
                    f"fill sequence on {fill.venue} {what}: {last} then {fill.seq} (fill {fill.fill_id})",
                )
            self._last_seq[fill.venue] = fill.seq if last is None else max(last, fill.seq)
        self._positions[fill.asset] = self.position(fill.asset) + fill.quantity
        self._last_fill_ns[fill.asset] = now
        if fill.asset not in self._dirty_since:
            self._dirty_since[fill.asset] = now
            self._emit(SafeguardKind.DIRTY, f"{fill.asset} dirty after fill {fill.fill_id}", asset=fill.asset)
        return True

    def on_fill_gap(self, venue: str, asset: str, message: str) -> None:
        """
        Enter SAFE mode (FILL_SEQ_GAP): ``venue`` reported fills on ``asset`` that never arrived.

        For venues without a per-account fill sequence, an adapter detects the gap itself (for
        example, an order the venue reports filled beyond the fills it can list) and calls this.
        """
        self._emit(SafeguardKind.FILL_SEQ_GAP, message, asset=asset, venue=venue)
        self._halts.enter_safe(ErrorCode.FILL_SEQ_GAP, Rule.FILL_SEQ_GAP, message, asset=asset, venue=venue)

    # -- 4.7.2 / 4.7.3 dirty flags and reconciliation -----------------------------------------

    def dirty_since(self, asset: str) -> int | None:
        """Return when ``asset`` became dirty (UNIX ns), or ``None`` when clean."""
        return self._dirty_since.get(asset)

    def on_position_update(self, asset: str, quantity: Decimal) -> bool:
        """Compare a WS position event with the running sum; return whether it matched."""
        return self._compare(asset, quantity, "position update")

    def on_snapshot(self, asset: str, quantity: Decimal) -> bool:
        """Compare a REST position snapshot with the running sum; return whether it matched."""
        self._snapshot_ns[asset] = self._clock.timestamp_ns()
        return self._compare(asset, quantity, "REST snapshot")

    def resync(self, asset: str, quantity: Decimal, actor: str) -> None:
        """Adopt the venue's position as the running sum (operator command after an incident)."""
        self._positions[asset] = quantity
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.SET_MODE,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                asset=asset,
                message=f"running sum of {asset} set to the venue position {quantity}",
                details={"quantity": quantity},
            ),
        )

    def due_for_reconciliation(self) -> list[str]:
        """Return the assets whose last REST snapshot is older than ``reconcile_interval_ms``."""
        now = self._clock.timestamp_ns()
        bound = self._config.reconcile_interval_ms * _MS
        assets = set(self._positions) | set(self._snapshot_ns)
        return sorted(a for a in assets if now - self._snapshot_ns.get(a, -bound - 1) > bound)

    def _matches(self, internal: Decimal, venue: Decimal) -> bool:
        diff = abs(internal - venue)
        allowed = max(
            self._config.mismatch_abs_tolerance,
            self._config.mismatch_rel_threshold * max(abs(internal), abs(venue)),
        )
        return diff <= allowed

    def _compare(self, asset: str, quantity: Decimal, source: str) -> bool:
        now = self._clock.timestamp_ns()
        internal = self.position(asset)
        details: dict[str, str | int | bool | Decimal | None] = {"internal": internal, "venue_qty": quantity}
        if self._matches(internal, quantity):
            self._mismatch_since.pop(asset, None)
            self._matched_ns[asset] = now
            self._emit(
                SafeguardKind.RECONCILE_OK,
                f"{source} of {asset} matches {internal}",
                asset=asset,
                details=details,
            )
            if self._dirty_since.pop(asset, None) is not None:
                self._emit(SafeguardKind.CLEAN, f"{asset} clean: {source} confirmed {internal}", asset=asset)
            return True
        in_grace = now - self._last_fill_ns.get(asset, -(10**30)) < self._config.reconcile_grace_ms * _MS
        details["in_grace"] = in_grace
        self._emit(
            SafeguardKind.RECONCILE_MISMATCH,
            f"{source} of {asset} says {quantity}, running sum {internal}",
            asset=asset,
            details=details,
        )
        if not in_grace:
            self._mismatch_since.setdefault(asset, now)
            self._check_mismatch(asset, now)
        return False

    def _check_mismatch(self, asset: str, now: int) -> None:
        since = self._mismatch_since.get(asset)
        if since is not None and now - since >= self._config.mismatch_persist_ms * _MS:
            self._halts.enter_safe(
                ErrorCode.POSITION_MISMATCH,
                Rule.POSITION_MISMATCH,
                f"position of {asset} disagrees with the venue for {(now - since) // _MS}ms",
                asset=asset,
            )

    def tick(self) -> None:
        """Evaluate time-based transitions: dirty beyond max age and persistent mismatches."""
        now = self._clock.timestamp_ns()
        for asset, since in sorted(self._dirty_since.items()):
            if now - since > self._config.dirty_max_age_ms * _MS:
                self._halts.enter_safe(
                    ErrorCode.SAFE_MODE,
                    Rule.DIRTY_POSITION,
                    f"{asset} dirty for {(now - since) // _MS}ms (> {self._config.dirty_max_age_ms}ms)",
                    asset=asset,
                )
        for asset in sorted(self._mismatch_since):
            self._check_mismatch(asset, now)

    # -- 4.7.4 feed health --------------------------------------------------------------------

    def on_market_data(self, asset: str, ts_ns: int | None = None) -> None:
        """Record market data for ``asset`` (at ``ts_ns``, default now)."""
        self._market_data_ns[asset] = self._clock.timestamp_ns() if ts_ns is None else ts_ns
        self._healthy(f"md:{asset}", asset=asset)

    def on_ws_message(self, venue: str) -> None:
        """Record a message (or heartbeat) on ``venue``'s WebSocket."""
        self._ws_ns[venue] = self._clock.timestamp_ns()
        self._ws_down.discard(venue)
        self._healthy(f"ws:{venue}", venue=venue)

    def on_ws_disconnect(self, venue: str) -> None:
        """Record that ``venue``'s WebSocket disconnected (stale until the next message)."""
        self._ws_down.add(venue)

    def feed_block(
        self, asset: str, venue: str | None, market_data_ts_ns: int | None
    ) -> NautilusExtError | None:
        """
        Return why feeds block a new order on ``asset``/``venue``, or ``None``.

        Parameters
        ----------
        asset : str
            The asset.
        venue : str, optional
            The venue (WebSocket gating).
        market_data_ts_ns : int, optional
            Time of the latest market data the caller used, UNIX ns (else the recorded one).
        """
        now = self._clock.timestamp_ns()
        md_ts = market_data_ts_ns if market_data_ts_ns is not None else self._market_data_ns.get(asset)
        bound = self._config.market_data_max_age_ms * _MS
        if md_ts is None or now - md_ts > bound:
            age = "never seen" if md_ts is None else f"{(now - md_ts) // _MS}ms old"
            return self._stale(
                MarketDataStale,
                f"md:{asset}",
                Rule.MARKET_DATA_STALE,
                f"market data for {asset} is {age} (bound {self._config.market_data_max_age_ms}ms)",
                asset=asset,
            )
        if self._ws_gating and venue is not None:
            ws_ts = self._ws_ns.get(venue)
            ws_bound = self._config.ws_max_age_ms * _MS
            if venue in self._ws_down or ws_ts is None or now - ws_ts > ws_bound:
                what = (
                    "disconnected"
                    if venue in self._ws_down
                    else "silent"
                    if ws_ts is not None
                    else "never seen"
                )
                return self._stale(
                    WsStale,
                    f"ws:{venue}",
                    Rule.WS_STALE,
                    f"WebSocket of {venue} is {what} (bound {self._config.ws_max_age_ms}ms)",
                    venue=venue,
                )
        return None

    def feed_problems(self) -> list[str]:
        """Return every stale known feed (empty when all are fresh and at least one is known)."""
        now = self._clock.timestamp_ns()
        problems = [
            f"market data for {a} is stale"
            for a, ts in sorted(self._market_data_ns.items())
            if now - ts > self._config.market_data_max_age_ms * _MS
        ]
        if self._ws_gating:
            problems += [
                f"WebSocket of {v} is stale"
                for v, ts in sorted(self._ws_ns.items())
                if v in self._ws_down or now - ts > self._config.ws_max_age_ms * _MS
            ]
            problems += [
                f"WebSocket of {v} never connected" for v in sorted(self._ws_down - set(self._ws_ns))
            ]
        if not self._market_data_ns:
            problems.append("no market data has been received")
        return problems

    def feed_ages_ns(self) -> dict[str, int]:
        """Return the age of every known feed, ns: ``md:<asset>`` market data, ``ws:<venue>`` WebSockets."""
        now = self._clock.timestamp_ns()
        ages = {f"md:{a}": max(0, now - ts) for a, ts in self._market_data_ns.items()}
        ages |= {f"ws:{v}": max(0, now - ts) for v, ts in self._ws_ns.items()}
        return ages

    def reconciliation_problems(self, since_ns: int) -> list[str]:
        """Return the assets not reconciled by a matching snapshot or update at or after ``since_ns``."""
        problems = [f"{a} is dirty" for a in sorted(self._dirty_since)]
        problems += [f"{a} disagrees with the venue" for a in sorted(self._mismatch_since)]
        for asset in sorted(set(self._positions) | set(self._last_fill_ns)):
            if self._matched_ns.get(asset, -1) < since_ns:
                problems.append(f"{asset} has no matching venue snapshot since SAFE mode began")
        return problems

    def _stale(
        self,
        error: type[NautilusExtError],
        key: str,
        rule: Rule,
        message: str,
        *,
        asset: str | None = None,
        venue: str | None = None,
    ) -> NautilusExtError:
        if key not in self._stale_reported:
            self._stale_reported.add(key)
            self._emit(SafeguardKind.FEED_STALE, message, rule=rule, asset=asset, venue=venue)
        return error(message, details={"rule": str(rule)}, venue=venue, instrument_key=asset)

    def _healthy(self, key: str, *, asset: str | None = None, venue: str | None = None) -> None:
        if key in self._stale_reported:
            self._stale_reported.discard(key)
            self._emit(SafeguardKind.FEED_HEALTHY, f"{key} healthy again", asset=asset, venue=venue)

    # -- 4.7.5 order spam ---------------------------------------------------------------------

    def rate_block(self, asset: str) -> NautilusExtError | None:
        """Return the breach if one more order on ``asset`` now would exceed the rate limit (enters SAFE)."""
        now = self._clock.timestamp_ns()
        window = self._trim(self._places.get(asset), now, self._config.order_rate_window_ms)
        if window is not None and len(window) >= self._config.order_rate_limit:
            message = (
                f"{asset}: more than {self._config.order_rate_limit} orders in "
                f"{self._config.order_rate_window_ms}ms"
            )
            self._emit(SafeguardKind.RATE_LIMIT_BREACH, message, asset=asset, rule=Rule.ORDER_RATE_LIMIT)
            self._halts.enter_safe(
                ErrorCode.ORDER_RATE_LIMIT_BREACH, Rule.ORDER_RATE_LIMIT, message, asset=asset
            )
            return OrderRateLimitBreach(
                message, instrument_key=asset, details={"rule": str(Rule.ORDER_RATE_LIMIT)}
            )
        return None

    def record_place(self, asset: str, order_id: str) -> None:
        """Record that an order on ``asset`` was released to a venue."""
        now = self._clock.timestamp_ns()
        self._places.setdefault(asset, deque()).append(now)
        self._open_places[(asset, order_id)] = now

    def record_cancel(self, asset: str, order_id: str) -> None:
        """Record a cancel; a cancel of an order placed within the window is a flip-flop cycle."""
        now = self._clock.timestamp_ns()
        placed = self._open_places.pop((asset, order_id), None)
        if placed is None or now - placed > self._config.flipflop_window_ms * _MS:
            return
        cycles = self._cycles.setdefault(asset, deque())
        cycles.append(now)
        self._trim(cycles, now, self._config.flipflop_window_ms)
        if len(cycles) >= self._config.flipflop_max_cycles:
            message = f"{asset}: {len(cycles)} place/cancel cycles within {self._config.flipflop_window_ms}ms"
            self._emit(SafeguardKind.FLIPFLOP_DETECTED, message, asset=asset, rule=Rule.FLIPFLOP)
            self._halts.enter_safe(ErrorCode.FLIPFLOP_DETECTED, Rule.FLIPFLOP, message, asset=asset)

    @staticmethod
    def _trim(times: deque[int] | None, now: int, window_ms: int) -> deque[int] | None:
        if times is not None:
            while times and now - times[0] >= window_ms * _MS:
                times.popleft()
        return times

    # -- internals ----------------------------------------------------------------------------

    def _emit(
        self,
        kind: SafeguardKind,
        message: str,
        *,
        asset: str | None = None,
        venue: str | None = None,
        rule: Rule | None = None,
        details: dict[str, str | int | bool | Decimal | None] | None = None,
    ) -> None:
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                safeguard=kind,
                asset=asset,
                venue=venue,
                rule=None if rule is None else str(rule),
                message=message,
                details=details or {},
            ),
        )


__all__ = ["Fill", "OmsSafeguards"]
