"""
The risk policy matrix (seed 001, section 12) as a pure state machine.

=====================  ============  =================================================
Policy                 Scope         Action here
=====================  ============  =================================================
Max position           per asset     block orders that grow ``|position|`` past the limit
Loss kill-switch       per strategy  kill the strategy + alert (human release)
Portfolio loss limit   global        SAFE mode (halt all)
Drawdown throttle      per strategy  max trade size times ``drawdown_size_factor``
Latency breach         per venue     block new orders to the venue while above bound
Max daily loss         global        block + global kill (SAFE mode)
Max trade size         per order     block
Slippage               per order     block
Cooldown               per strategy  delay: block for ``cooldown_secs`` after a drawdown starts
=====================  ============  =================================================

PnL is fed in, not computed here: :meth:`RiskPolicies.update_pnl` takes a strategy's cumulative
PnL (realized plus unrealized, quote currency) from the portfolio. Losses count from a
baseline that only :meth:`RiskPolicies.reset_baselines` (a logged human command) moves; the
daily loss counts from the PnL at the start of the UTC day of the injected clock.

The drawdown throttle does not rewrite orders (that would change a confirmed intent's hash):
it lowers the size limit and the block's ``details["max_amount"]`` tells the strategy the size
it may resubmit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_ext.audit.context import Clock
from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import CommandOutcome
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.orders.model import Order
from nautilus_ext.safety.config import RiskConfig
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked
from nautilus_ext.safety.events import EventSink
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.halts import HaltState

_DAY_NS = 86_400 * 1_000_000_000
_NS = 1_000_000_000
_ZERO = Decimal(0)


@dataclass(slots=True)
class _StrategyBook:
    pnl: Decimal = _ZERO
    baseline: Decimal = _ZERO  # losses count from here
    day_start: Decimal = _ZERO  # daily loss counts from here
    peak: Decimal = _ZERO  # drawdown counts from here
    drawdown_since_ns: int | None = None


class RiskPolicies:
    """
    Evaluate the risk matrix for orders and react to PnL and latency updates.

    Parameters
    ----------
    config : RiskConfig
        The thresholds.
    clock : Clock
        The injected clock.
    halts : HaltState
        Where kills and SAFE mode are recorded.
    sink : EventSink
        Receives every block, halt, throttle and reset.
    """

    def __init__(self, config: RiskConfig, clock: Clock, halts: HaltState, sink: EventSink) -> None:
        self._config = config
        self._clock = clock
        self._halts = halts
        self._sink = sink
        self._books: dict[str, _StrategyBook] = {}
        self._latency_ms: dict[str, int] = {}
        self._day: int | None = None

    @property
    def config(self) -> RiskConfig:
        """Return the thresholds in force."""
        return self._config

    # -- inputs -------------------------------------------------------------------------------

    def update_pnl(self, strategy_id: str, pnl: Decimal) -> None:
        """
        Record ``strategy_id``'s cumulative PnL and fire loss, drawdown and daily-loss policies.

        Parameters
        ----------
        strategy_id : str
            The strategy.
        pnl : Decimal
            Its cumulative PnL (realized plus unrealized), quote currency.
        """
        self._roll_day()
        book = self._books.setdefault(strategy_id, _StrategyBook())
        book.pnl = pnl
        now = self._clock.timestamp_ns()
        if pnl > book.peak:
            book.peak = pnl
        in_drawdown = book.peak - pnl >= self._config.drawdown_throttle
        if in_drawdown and book.drawdown_since_ns is None:
            book.drawdown_since_ns = now
            self._event(
                RiskAction.REDUCE,
                Rule.DRAWDOWN_THROTTLE,
                f"strategy {strategy_id} drawdown {book.peak - pnl} >= {self._config.drawdown_throttle}: "
                f"size x{self._config.drawdown_size_factor}, cooldown {self._config.cooldown_secs}s",
                strategy_id=strategy_id,
            )
        elif not in_drawdown and book.drawdown_since_ns is not None:
            book.drawdown_since_ns = None
            self._event(
                RiskAction.ALLOW, Rule.DRAWDOWN_THROTTLE, f"strategy {strategy_id} recovered from drawdown"
            )
        breached = pnl - book.baseline <= -self._config.strategy_loss_limit
        if breached and self._halts.killed(strategy_id) is None:
            self._halts.kill(
                "system",
                strategy_id,
                f"strategy {strategy_id} loss {book.baseline - pnl} reached the limit "
                f"{self._config.strategy_loss_limit}",
                rule=Rule.LOSS_KILL_SWITCH,
            )
        already = {h.rule for h in self._halts.safe_causes}
        for rule, message in self.global_breaches():
            code = ErrorCode.RISK_BLOCKED
            if rule in already:
                continue
            if rule is Rule.MAX_DAILY_LOSS:
                self._halts.kill("system", None, message, rule=rule)
            else:
                self._halts.enter_safe(code, rule, message)

    def record_latency(self, venue: str, latency_ms: int) -> None:
        """Record the latest measured round-trip latency of ``venue``, ms."""
        previous = self._latency_ms.get(venue)
        self._latency_ms[venue] = latency_ms
        limit = self._config.latency_limit_ms(venue)
        was_breached = previous is not None and previous > limit
        if latency_ms > limit and not was_breached:
            self._event(
                RiskAction.BLOCK,
                Rule.LATENCY_BREACH,
                f"venue {venue} latency {latency_ms}ms > {limit}ms: new orders blocked",
                venue=venue,
            )
        elif latency_ms <= limit and was_breached:
            self._event(
                RiskAction.ALLOW, Rule.LATENCY_BREACH, f"venue {venue} latency back to {latency_ms}ms"
            )

    def reset_baselines(self, actor: str) -> None:
        """Start loss, daily-loss and drawdown counting afresh from current PnL (human command)."""
        for book in self._books.values():
            book.baseline = book.pnl
            book.day_start = book.pnl
            book.peak = book.pnl
            book.drawdown_since_ns = None
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                command=CommandKind.RESUME,
                outcome=CommandOutcome.ACCEPTED,
                actor=actor,
                message="risk loss baselines reset to current PnL",
            ),
        )

    # -- queries ------------------------------------------------------------------------------

    def strategy_breach(self, strategy_id: str) -> str | None:
        """Return why ``strategy_id``'s loss is still at its kill limit, or ``None``."""
        book = self._books.get(strategy_id)
        if book is None or book.pnl - book.baseline > -self._config.strategy_loss_limit:
            return None
        return (
            f"strategy {strategy_id} loss {book.baseline - book.pnl} is still at the limit "
            f"{self._config.strategy_loss_limit} (reset the risk baselines after review)"
        )

    def headroom(self, positions: dict[str, Decimal]) -> dict[str, Any]:
        """
        Return how far each limit is from biting (JSON-friendly strings; the operator's matrix).

        ``positions``: the gate's signed positions per asset. Per asset: position, limit and
        headroom ``limit - |position|``; per strategy: PnL since its baseline, loss limit and
        loss headroom, drawdown from peak; portfolio and daily loss against their limits.
        """
        cfg = self._config
        assets = {
            asset: {
                "position": str(q),
                "limit": str(limit),
                "headroom": str(limit - abs(q)),
            }
            for asset, q in sorted(positions.items())
            for limit in [cfg.max_position_by_asset.get(asset, cfg.max_position)]
        }
        strategies = {
            sid: {
                "pnl": str(book.pnl - book.baseline),
                "loss_limit": str(cfg.strategy_loss_limit),
                "headroom": str(cfg.strategy_loss_limit + book.pnl - book.baseline),
                "drawdown": str(book.peak - book.pnl),
            }
            for sid, book in sorted(self._books.items())
        }
        loss = sum((b.baseline - b.pnl for b in self._books.values()), _ZERO)
        daily = sum((b.day_start - b.pnl for b in self._books.values()), _ZERO)
        return {
            "assets": assets,
            "strategies": strategies,
            "portfolio": {
                "loss": str(loss),
                "limit": str(cfg.portfolio_loss_limit),
                "headroom": str(cfg.portfolio_loss_limit - loss),
            },
            "daily": {
                "loss": str(daily),
                "limit": str(cfg.max_daily_loss),
                "headroom": str(cfg.max_daily_loss - daily),
            },
        }

    def global_breaches(self) -> list[tuple[Rule, str]]:
        """Return the global limits breached now (portfolio loss, daily loss) with messages."""
        self._roll_day()
        breaches: list[tuple[Rule, str]] = []
        loss = sum((b.baseline - b.pnl for b in self._books.values()), _ZERO)
        if loss >= self._config.portfolio_loss_limit:
            breaches.append(
                (
                    Rule.PORTFOLIO_LOSS_LIMIT,
                    f"portfolio loss {loss} reached the limit {self._config.portfolio_loss_limit}",
                )
            )
        daily = sum((b.day_start - b.pnl for b in self._books.values()), _ZERO)
        if daily >= self._config.max_daily_loss:
            breaches.append(
                (Rule.MAX_DAILY_LOSS, f"daily loss {daily} reached the limit {self._config.max_daily_loss}")
            )
        return breaches

    def check(
        self,
        order: Order,
        *,
        asset: str,
        position: Decimal,
        venue: str | None,
        estimated_slippage: Decimal | None,
        position_limit: bool = True,
    ) -> RiskBlocked | None:
        """
        Return the first policy that blocks ``order``, or ``None``.

        Parameters
        ----------
        order : Order
            The order.
        asset : str
            Its position key (canonical instrument key text).
        position : Decimal
            The current signed position of ``asset`` (the OMS running sum).
        venue : str, optional
            The venue it would go to (latency policy).
        estimated_slippage : Decimal, optional
            Pre-trade slippage estimate, a fraction of the arrival price.
        position_limit : bool, default True
            Whether the net position limit applies (bets are limited by liability instead).
        """
        return self._check(order, asset, position, venue, estimated_slippage, position_limit)

    def _check(
        self,
        order: Order,
        asset: str,
        position: Decimal,
        venue: str | None,
        estimated_slippage: Decimal | None,
        position_limit: bool = True,
    ) -> RiskBlocked | None:
        cfg = self._config
        if venue is not None:
            venue_block = _venue_block(cfg, order, asset, venue)
            if venue_block is not None:  # before anything else: reducing does not matter here
                return venue_block
        sid = order.strategy_id
        book = self._books.get(sid) if sid is not None else None
        after = position + order.signed_amount
        # an order that shrinks |position| without flipping is a hedge: loss halts let it through
        reduces = abs(after) < abs(position) and (after == 0 or (after > 0) == (position > 0))
        if not reduces:
            for rule, message in self.global_breaches():
                return risk_blocked(rule, message)
        if book is not None and book.pnl - book.baseline <= -cfg.strategy_loss_limit and not reduces:
            return risk_blocked(Rule.LOSS_KILL_SWITCH, f"strategy {sid} reached its loss limit")
        now = self._clock.timestamp_ns()
        size_limit = cfg.trade_size_limit(asset)
        if book is not None and book.drawdown_since_ns is not None and not reduces:
            retry_at = book.drawdown_since_ns + cfg.cooldown_secs * _NS
            if now < retry_at:
                return risk_blocked(
                    Rule.COOLDOWN,
                    f"strategy {sid} is cooling down after a drawdown until {retry_at} ns",
                    retry_at_ns=retry_at,
                )
            throttled = size_limit * cfg.drawdown_size_factor
            if order.amount > throttled:
                return risk_blocked(
                    Rule.DRAWDOWN_THROTTLE,
                    f"order {order.operation_id} amount {order.amount} exceeds the drawdown-reduced "
                    f"size {throttled} for strategy {sid}",
                    max_amount=str(throttled),
                )
        if order.amount > size_limit:
            return risk_blocked(
                Rule.MAX_TRADE_SIZE,
                f"order {order.operation_id} amount {order.amount} exceeds max trade size {size_limit}",
                max_amount=str(size_limit),
            )
        limit = cfg.position_limit(asset)
        if position_limit and abs(after) > limit and not reduces:
            return risk_blocked(
                Rule.MAX_POSITION,
                f"order {order.operation_id} would take {asset} to {after}, beyond the limit {limit}",
            )
        for name, value in (("max_slippage", order.max_slippage), ("estimated slippage", estimated_slippage)):
            if value is not None and value > cfg.max_slippage:
                return risk_blocked(
                    Rule.SLIPPAGE,
                    f"order {order.operation_id} {name} {value} exceeds the limit {cfg.max_slippage}",
                )
        if venue is not None:
            latency = self._latency_ms.get(venue)
            bound = cfg.latency_limit_ms(venue)
            if latency is not None and latency > bound:
                return risk_blocked(
                    Rule.LATENCY_BREACH, f"venue {venue} latency {latency}ms exceeds {bound}ms"
                )
        return None

    # -- internals ----------------------------------------------------------------------------

    def _roll_day(self) -> None:
        day = self._clock.timestamp_ns() // _DAY_NS
        if self._day is not None and day != self._day:
            for book in self._books.values():
                book.day_start = book.pnl
        self._day = day

    def _event(
        self,
        action: RiskAction,
        rule: Rule,
        message: str,
        *,
        strategy_id: str | None = None,
        asset: str | None = None,
        venue: str | None = None,
    ) -> None:
        self._sink(
            SafetyEvent(
                ts_ns=self._clock.timestamp_ns(),
                risk_action=action,
                rule=str(rule),
                code=None if action is RiskAction.ALLOW else str(ErrorCode.RISK_BLOCKED),
                strategy_id=strategy_id,
                asset=asset,
                venue=venue,
                message=message,
            ),
        )


def _venue_block(cfg: RiskConfig, order: Order, asset: str, venue: str) -> RiskBlocked | None:
    # seed 001, section 15: read-only keys never trade; only allowlisted assets per venue
    if venue in cfg.read_only_venues:
        return risk_blocked(
            Rule.READ_ONLY_VENUE,
            f"order {order.operation_id}: venue {venue} is configured with read-only keys",
        )
    if cfg.allowed_assets_by_venue and not cfg.asset_allowed(venue, asset):
        return risk_blocked(
            Rule.ASSET_NOT_ALLOWED,
            f"order {order.operation_id}: {asset} is not in the allowlist of venue {venue}",
        )
    return None


__all__ = ["RiskPolicies"]
