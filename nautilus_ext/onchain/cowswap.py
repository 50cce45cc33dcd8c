"""
CowSwap intents through the safety gate.

A non-atomic ``swap`` :class:`~nautilus_ext.orders.Order` whose key or venue is CowSwap
(``COWSWAP-ETH``) reaches CoW's order book only through :class:`CowSwapGate`:

* **Intent.** :meth:`CowSwapGate.prepare` quotes the swap and builds the exact order to sign
  (fee folded into the sell amount, buy limit = quote x (1 - ``max_slippage``)). The gate
  judges it as two legs on ``SPOT_ASSET`` position keys of the owner's wallet (for example
  ``COWSWAP-ETH:SPOT_ASSET:WETH@ETHEREUM``): a SELL of the sell amount and a BUY of the
  minimum buy amount, both carrying the CoW order UID (which commits to every signed field),
  the quote and the limit in ``metadata``; the first leg names the second's intent hash, so
  one confirmation covers exactly this order.
* **Decision.** :meth:`~nautilus_ext.safety.gate.SafetyGate.check_group` over both legs: mode,
  dirty positions, SAFE mode and kills, the risk matrix (the buy leg's slippage is the
  order's ``max_slippage``), rate limits; in LIVE an unexpired arm and a confirmation of the
  first leg's intent hash (:meth:`CowSwapGate.stage`, :meth:`CowSwapGate.confirm`). Non-LIVE
  gates refuse public chains (:data:`~nautilus_ext.onchain.gated.PUBLIC_CHAIN_IDS`).
* **Audit.** The gate writes its decision; then ``cowswap_posting`` is written before the
  order is signed and posted, and ``cowswap_posted`` / ``cowswap_not_posted`` /
  ``cowswap_filled`` / ``cowswap_expired`` / ``cowswap_cancelled`` / ``cowswap_pending``
  after, with the UID.
* **Fills.** Only a settled order's fills (the order book's trades, each matched to the
  settlement contract's ``Trade`` event) move positions: the sell key down by what left the
  wallet, the buy key up by what arrived. The keys stay dirty until :meth:`reconcile` reads
  the wallet's balances back from chain (run at once by default). An expired, cancelled or
  refused order records nothing as filled and raises its typed error. An order whose outcome
  cannot be established (the order book unreachable while following it, or its trades
  disagreeing with the chain's ``Trade`` events) records nothing and enters SAFE mode.
* **Cancels** (:meth:`CowSwapGate.cancel`) pass :meth:`~nautilus_ext.safety.gate.SafetyGate.check_cancel`
  (always allowed, audited), then go off-chain (signed ``DELETE``) or on-chain
  (``invalidateOrder``); a settlement that won the race is still recorded as a fill.

* **Kill switch.** A global kill or a kill of the gate's strategy drops staged intents and
  cancels every open order with a signed off-chain cancellation (reported in the kill report).

CowSwap inside an atomic bundle is refused here as in routing and the bundle executor:
off-chain solvers cannot join one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.adapters.cowswap.enums import CowOrderStatus
from nautilus_ext.adapters.cowswap.execution import CowOrderOutcome
from nautilus_ext.adapters.cowswap.execution import CowSwapExecution
from nautilus_ext.adapters.cowswap.http.client import CowSwapHttpClient
from nautilus_ext.adapters.cowswap.schemas import CowQuoteResponse
from nautilus_ext.adapters.cowswap.signing import CowOrderData
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.gated import PUBLIC_CHAIN_IDS
from nautilus_ext.onchain.gated import confirm_staged
from nautilus_ext.orders import Order
from nautilus_ext.orders.model import Operation
from nautilus_ext.orders.model import Side
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route
from nautilus_ext.safety.arming import intent_hash
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.oms import Fill

log = logging.getLogger(__name__)

_BPS: Final[Decimal] = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class CowToken:
    """A token the owner swaps: its symbol in position keys, address and decimals."""

    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True, slots=True)
class CowIntent:
    """
    A quoted swap ready for the gate.

    Parameters
    ----------
    order : Order
        The unified swap order.
    quote : CowQuoteResponse
        The order book's quote.
    cow_order : CowOrderData
        The exact order that will be signed.
    uid : str
        Its UID (digest ++ owner ++ validTo).
    legs : tuple[Order, Order]
        The sell and buy legs the gate judges.
    assets : tuple[str, str]
        Their position keys (sell, buy).
    """

    order: Order
    quote: CowQuoteResponse
    cow_order: CowOrderData
    uid: str
    legs: tuple[Order, Order]
    assets: tuple[str, str]

    @property
    def intent_hash(self) -> str:
        """The hash a human confirms in LIVE (the sell leg's, which names the buy leg)."""
        return intent_hash(self.legs[0])


@dataclass(frozen=True, slots=True)
class CowSwapResult:
    """What a gated CowSwap order did: its UID, final (or last) status and recorded fills."""

    uid: str
    status: CowOrderStatus
    outcome: CowOrderOutcome
    sold: Decimal
    bought: Decimal


def refuse_in_bundle(order: Order) -> None:
    """Raise if ``order`` belongs to an atomic group (CoW's solvers cannot join one transaction)."""
    if order.atomic_group_id is not None:
        raise InvalidOrder(
            f"order {order.operation_id} swaps on CowSwap inside atomic group {order.atomic_group_id}: "
            "off-chain solvers cannot run inside an atomic transaction; use Uniswap/Curve",
            venue=COWSWAP_VENUE,
            order_id=order.operation_id,
            details={"rule": "COWSWAP_IN_ATOMIC_BUNDLE"},
        )


class CowSwapGate:
    """
    Judge CowSwap orders at the safety gate, post them, and feed outcomes back (module docstring).

    Parameters
    ----------
    gate : SafetyGate
        The safety gate (its sink is the audit log).
    execution : CowSwapExecution
        The CoW order flow for the owner.
    tokens : Sequence[CowToken]
        Tokens by symbol (the Order's ``source_token``/``target_token``).
    strategy_id : str
        Strategy the legs belong to.
    chain : str
        Chain name in position keys (``ETHEREUM``).
    holding_venue : str
        Venue of the wallet's ``SPOT_ASSET`` position keys.
    reconcile_after_fill : bool
        Read the wallet's balances back right after a fill (default ``True``).
    registry : InstrumentRegistry, optional
        When given, each order is routed (:func:`~nautilus_ext.routing.router.route`) and must
        route to CowSwap; without it the order's key or venue must name CowSwap.
    """

    def __init__(
        self,
        gate: SafetyGate,
        execution: CowSwapExecution,
        tokens: Sequence[CowToken],
        *,
        strategy_id: str,
        chain: str = "ETHEREUM",
        holding_venue: str = COWSWAP_VENUE,
        reconcile_after_fill: bool = True,
        registry: InstrumentRegistry | None = None,
    ) -> None:
        if not strategy_id:
            raise InvalidOrder("a CowSwap gate needs a strategy id")
        self._gate = gate
        self._ex = execution
        self._tokens = {t.symbol.upper(): t for t in tokens}
        self._strategy_id = strategy_id
        self._chain = chain
        self._venue = holding_venue
        self._reconcile_after = reconcile_after_fill
        self._registry = registry
        self._staged: dict[str, CowIntent] = {}
        self._open: dict[str, CowIntent] = {}  # posted, not yet final: a kill cancels them
        for symbol in self._tokens:
            InstrumentKey.parse(self.key(symbol))
        gate.add_kill_listener(self, self._on_kill)

    @property
    def gate(self) -> SafetyGate:
        """The safety gate."""
        return self._gate

    def key(self, symbol: str) -> str:
        """The wallet position key of ``symbol``."""
        return f"{self._venue}:{InstrumentType.SPOT_ASSET}:{symbol.upper()}@{self._chain}"

    def _token(self, symbol: str | None, field: str, order: Order) -> CowToken:
        token = self._tokens.get((symbol or "").upper())
        if token is None:
            raise InvalidOrder(
                f"{field} {symbol!r} is not a configured CowSwap token ({', '.join(sorted(self._tokens))})",
                order_id=order.operation_id,
                venue=COWSWAP_VENUE,
            )
        return token

    def _validate(self, order: Order) -> tuple[CowToken, CowToken]:
        if order.operation is not Operation.SWAP:
            raise InvalidOrder(
                f"CowSwap takes swap orders, not {order.operation}", order_id=order.operation_id
            )
        refuse_in_bundle(order)
        if self._registry is not None:
            routed = route(order, self._registry)
            if routed.family is not RouteFamily.DEX or routed.venue != COWSWAP_VENUE:
                raise InvalidOrder(
                    f"order {order.operation_id} routes to {routed.venue or 'several venues'} "
                    f"({routed.reason}), not to {COWSWAP_VENUE}",
                    order_id=order.operation_id,
                )
        elif COWSWAP_VENUE not in (order.instrument_key.venue, order.venue):
            raise InvalidOrder(
                f"order {order.operation_id} is not routed to {COWSWAP_VENUE} "
                f"(key venue {order.instrument_key.venue}, venue {order.venue})",
                order_id=order.operation_id,
            )
        if order.side is not Side.SELL:
            raise InvalidOrder(
                f"CowSwap orders here are sell orders (amount in source_token); got side {order.side}",
                order_id=order.operation_id,
                venue=COWSWAP_VENUE,
            )
        return self._token(order.source_token, "source_token", order), self._token(
            order.target_token, "target_token", order
        )

    # -- intents ------------------------------------------------------------------------------

    async def prepare(self, order: Order) -> CowIntent:
        """Quote ``order`` and build the CoW order and the gate legs (nothing staged or posted)."""
        sell, buy = self._validate(order)
        amount = order.amount.scaleb(sell.decimals)
        if amount != amount.to_integral_value():
            raise InvalidOrder(
                f"amount {order.amount} has more than {sell.decimals} decimals of {sell.symbol}",
                order_id=order.operation_id,
            )
        quote = await self._ex.quote_sell(sell.address, buy.address, int(amount))
        bps = None if order.max_slippage is None else int(order.max_slippage * _BPS)
        cow_order = self._ex.order_from_quote(quote, bps)
        uid = self._ex.uid_of(cow_order)
        quoted_buy = int(quote.quote.buy_amount)
        metadata: dict[str, Any] = {
            "cow_order_uid": uid,
            "quote_id": quote.id,
            "quoted_buy_base_units": str(quoted_buy),
            "limit_buy_base_units": str(cow_order.buy_amount),
            "sell_base_units": str(cow_order.sell_amount),
            "valid_to": cow_order.valid_to,
        }
        sold = Decimal(cow_order.sell_amount).scaleb(-sell.decimals)
        minimum = Decimal(cow_order.buy_amount).scaleb(-buy.decimals)
        price = minimum / sold
        buy_leg = order.model_copy(
            update={
                "operation_id": f"{order.operation_id}~buy",
                "side": Side.BUY,
                "amount": minimum,
                "metadata": {**metadata, "leg": "buy", "limit_price": str(price)},
            }
        )
        sell_leg = order.model_copy(
            update={
                "operation_id": f"{order.operation_id}~sell",
                "amount": sold,
                "metadata": {
                    **metadata,
                    "leg": "sell",
                    "limit_price": str(price),
                    "group_intents": [intent_hash(buy_leg)],
                    "legs": 2,
                },
            }
        )
        return CowIntent(
            order=order,
            quote=quote,
            cow_order=cow_order,
            uid=uid,
            legs=(sell_leg, buy_leg),
            assets=(self.key(sell.symbol), self.key(buy.symbol)),
        )

    def stage(self, intent: CowIntent) -> CowIntent:
        """Stage ``intent`` for LIVE confirmation; confirm its :attr:`CowIntent.intent_hash`."""
        self._gate.stage(intent.legs[0])
        self._staged[intent.intent_hash] = intent
        return intent

    def confirm(self, digest: str, actor: str) -> CowIntent:
        """Confirm a staged intent (by its intent hash or its CoW order UID) as ``actor``."""
        return confirm_staged(
            self._gate, self._staged, digest, actor, what="CowSwap order", alias=lambda i: i.uid
        )

    # -- the decision and the order's life ----------------------------------------------------

    def _refuse_public_chain(self, intent: CowIntent) -> None:
        chain_id = self._ex.config.chain_id
        if self._gate.mode is Mode.LIVE:
            return
        node = self._ex.chain.chain_id()
        public = sorted({chain_id, node} & PUBLIC_CHAIN_IDS)
        if public:
            error = RiskBlocked(
                f"{self._gate.mode} gate refuses to post CoW order {intent.uid[:18]}… for public chain "
                f"{public[0]}: only LIVE (armed and confirmed) reaches a public chain",
                details={"rule": "LIVE_ONLY_CHAIN", "chain_id": public[0]},
            )
            self._event(RiskAction.BLOCK, "LIVE_ONLY_CHAIN", intent, error.message, error=error)
            raise error

    def release(self, intent: CowIntent) -> str | None:
        """
        Judge posting ``intent`` now; return the spent confirmation (LIVE) or raise the refusal.

        Raises
        ------
        RiskBlocked, SafeModeActive, OrderRateLimitBreach, MarketDataStale
            The gate refused (``details["rule"]`` names the rule); nothing is posted.
        """
        self._refuse_public_chain(intent)
        self._ex.chain.block_timestamp()  # the chain answers: its state is the feed
        now = self._gate.clock.timestamp_ns()
        slippage = intent.order.max_slippage
        contexts = []
        for leg, asset in zip(intent.legs, intent.assets, strict=True):
            self._gate.on_ws_message(COWSWAP_VENUE)
            contexts.append(
                (
                    leg,
                    GateContext(
                        asset=asset,
                        venue=COWSWAP_VENUE,
                        market_data_ts_ns=now,
                        estimated_slippage=slippage if leg is intent.legs[1] else None,
                    ),
                )
            )
        decision = self._gate.check_group(contexts)
        if not decision.allowed:
            assert decision.error is not None
            decision.error.details.setdefault("cow_order_uid", intent.uid)
            raise decision.error
        self._staged.pop(intent.intent_hash, None)
        return decision.intent_hash

    async def submit(
        self, order: Order, *, intent: CowIntent | None = None, timeout_secs: float = 60.0
    ) -> CowSwapResult:
        """
        Gate, sign, post and follow ``order`` until it is final (or ``timeout_secs`` pass).

        Raises
        ------
        InvalidOrder
            Not a CowSwap sell swap, or inside an atomic group.
        RiskBlocked, SafeModeActive, ...
            The gate refused; nothing was posted.
        CowOrderExpired, CowOrderCancelled
            The order ended unfilled; nothing was recorded as filled.
        NautilusExtError
            The order book refused the order or could not be reached (audited, nothing filled).
        """
        intent = intent or await self.prepare(order)
        if intent.order != order:
            raise InvalidOrder("the intent was prepared for another order", order_id=order.operation_id)
        confirmed = self.release(intent)
        self._event(RiskAction.ALLOW, "cowswap_posting", intent, "posting", confirmed=confirmed)
        try:
            uid = await self._ex.post(intent.cow_order, quote_id=intent.quote.id)
        except NautilusExtError as e:
            self._event(RiskAction.BLOCK, "cowswap_not_posted", intent, "not posted", error=e)
            raise
        self._open[uid] = intent
        self._event(RiskAction.ALLOW, "cowswap_posted", intent, "posted", confirmed=confirmed)
        return await self.follow(intent, uid, timeout_secs=timeout_secs)

    async def follow(self, intent: CowIntent, uid: str, *, timeout_secs: float = 60.0) -> CowSwapResult:
        """Poll a posted order to its end, record fills and outcome, raise for an unfilled end."""
        try:
            outcome = await self._ex.wait_final(uid, timeout_secs=timeout_secs)
        except NautilusExtError as e:
            # the order may have settled: positions are unknown until read back from chain
            self._event(RiskAction.HALT, "cowswap_outcome_unknown", intent, "outcome unknown", error=e)
            self._gate.halts.enter_safe(
                ErrorCode.SAFE_MODE,
                Rule.DIRTY_POSITION,
                f"CoW order {uid[:18]}… outcome unknown ({e.code}): positions must be read back "
                "from chain before new risk",
            )
            raise
        return self._record(intent, outcome)

    def _record(self, intent: CowIntent, outcome: CowOrderOutcome) -> CowSwapResult:
        sell, buy = self._tokens_of(intent)
        sold = Decimal(outcome.executed_sell).scaleb(-sell.decimals)
        bought = Decimal(outcome.executed_buy).scaleb(-buy.decimals)
        for fill in outcome.fills:
            fill_id = f"{fill.tx_hash}:{fill.log_index}"
            self._gate.on_fill(
                Fill(
                    fill_id=f"{fill_id}:sell",
                    venue=COWSWAP_VENUE,
                    asset=intent.assets[0],
                    quantity=-Decimal(fill.sell_amount).scaleb(-sell.decimals),
                )
            )
            self._gate.on_fill(
                Fill(
                    fill_id=f"{fill_id}:buy",
                    venue=COWSWAP_VENUE,
                    asset=intent.assets[1],
                    quantity=Decimal(fill.buy_amount).scaleb(-buy.decimals),
                )
            )
        status = outcome.status
        if status.is_final:
            self._open.pop(outcome.uid, None)
        details: dict[str, Any] = {
            "status": str(status),
            "sold": sold,
            "bought": bought,
            "fills": len(outcome.fills),
            "tx_hash": outcome.fills[0].tx_hash if outcome.fills else None,
            "block_number": outcome.fills[0].block_number if outcome.fills else None,
        }
        if outcome.fills:
            self._event(RiskAction.ALLOW, "cowswap_filled", intent, f"{status}", extra=details)
            if self._reconcile_after:
                self.reconcile([sell.symbol, buy.symbol])
        elif status.is_final:
            rule = "cowswap_expired" if status is CowOrderStatus.EXPIRED else "cowswap_cancelled"
            self._event(RiskAction.BLOCK, rule, intent, f"{status} unfilled", extra=details)
        else:
            self._event(RiskAction.DELAY, "cowswap_pending", intent, f"still {status}", extra=details)
        outcome.raise_for_status()
        return CowSwapResult(uid=outcome.uid, status=status, outcome=outcome, sold=sold, bought=bought)

    async def cancel(
        self, intent: CowIntent, *, on_chain: bool = False, timeout_secs: float = 30.0
    ) -> CowSwapResult:
        """
        Cancel a posted order: signed off-chain (``DELETE``) or ``invalidateOrder`` on-chain.

        The cancel passes the gate's cancel check (audited) first. A settlement that lands first
        is recorded as a fill; otherwise the typed cancellation error is raised.
        """
        self._gate.check_cancel(intent.assets[0], intent.uid, self._strategy_id)
        how = "invalidateOrder" if on_chain else "signed cancel"
        try:
            if on_chain:
                receipt = self._ex.invalidate_on_chain(intent.uid)
                tx = receipt.get("transactionHash")
                extra = {
                    "how": how,
                    "tx_hash": None if tx is None else "0x" + bytes(tx).hex().removeprefix("0x"),
                }
            else:
                await self._ex.cancel([intent.uid])
                extra = {"how": how}
        except NautilusExtError as e:
            self._event(RiskAction.BLOCK, "cowswap_cancel_failed", intent, f"{how} failed", error=e)
            raise
        self._event(RiskAction.ALLOW, "cowswap_cancel_sent", intent, how, extra=extra)
        return await self.follow(intent, intent.uid, timeout_secs=timeout_secs)

    def open_orders(self) -> list[str]:
        """UIDs posted through this gate and not yet final."""
        return list(self._open)

    def _on_kill(self, strategy_id: str | None) -> tuple[list[str], list[str]]:
        # a global kill or a kill of this strategy: drop staged intents (their confirmations
        # cannot release them any more) and cancel every open order off-chain, signed
        if strategy_id is not None and strategy_id != self._strategy_id:
            return [], []
        done = [f"staged CoW order {i.uid[:18]}…" for i in self._staged.values()]
        for intent in self._staged.values():
            self._gate.arming.consume(intent.intent_hash)
        self._staged.clear()
        uids = list(self._open)
        if not uids:
            return done, []
        errors: list[str] = []

        async def cancel() -> None:
            # a fresh session on this thread's loop: the caller's loop may be busy or absent
            http = CowSwapHttpClient(self._ex.config.base_url, self._ex.config.timeout_secs)
            try:
                await self._ex.cancel(uids, http=http)
            except NautilusExtError as e:
                errors.append(f"CoW orders {', '.join(u[:18] for u in uids)}: {e.message}")
            finally:
                await http.close()

        worker = threading.Thread(target=lambda: asyncio.run(cancel()), name="cowswap-kill-cancel")
        worker.start()
        worker.join(self._ex.config.timeout_secs + 5)
        if worker.is_alive():
            errors.append(f"CoW cancel of {len(uids)} order(s) did not answer in time")
        if errors:
            return done, errors
        return done + [f"CoW order {u[:18]}… (signed cancel)" for u in uids], []

    # -- positions ----------------------------------------------------------------------------

    def balances(self, symbols: Sequence[str] | None = None) -> dict[str, Decimal]:
        """The owner's wallet balances read from chain, by position key, in whole tokens."""
        wanted = [self._tokens[s.upper()] for s in (symbols or sorted(self._tokens))]
        return {
            self.key(t.symbol): Decimal(self._ex.chain.balance_of(t.address, self._ex.owner)).scaleb(
                -t.decimals
            )
            for t in wanted
        }

    def adopt_wallet_balances(self, actor: str, symbols: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Set the gate's running sums to the wallet's balances (an audited operator command)."""
        read = self.balances(symbols)
        for key, quantity in read.items():
            self._gate.oms.resync(key, quantity, actor)
        return read

    def reconcile(self, symbols: Sequence[str] | None = None) -> dict[str, bool]:
        """Compare the wallet's balances with the running sums; a match clears the dirty flag."""
        return {key: self._gate.on_snapshot(key, qty) for key, qty in self.balances(symbols).items()}

    # -- internals ----------------------------------------------------------------------------

    def _tokens_of(self, intent: CowIntent) -> tuple[CowToken, CowToken]:
        order = intent.order
        return self._token(order.source_token, "source_token", order), self._token(
            order.target_token, "target_token", order
        )

    def _event(
        self,
        action: RiskAction,
        rule: str,
        intent: CowIntent,
        what: str,
        *,
        error: NautilusExtError | None = None,
        confirmed: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "cow_order_uid": intent.uid,
            "operation_id": intent.order.operation_id,
            "sell_base_units": str(intent.cow_order.sell_amount),
            "limit_buy_base_units": str(intent.cow_order.buy_amount),
            "valid_to": intent.cow_order.valid_to,
            **(extra or {}),
        }
        if error is not None:
            details["error_type"] = error.details.get("error_type")
        message = f"CoW order {intent.uid[:18]}… {what}"
        if error is not None:
            message += f": {error.message}"
        self._gate.record(
            SafetyEvent(
                ts_ns=self._gate.clock.timestamp_ns(),
                risk_action=action,
                rule=rule,
                code=None if error is None else str(error.code),
                strategy_id=self._strategy_id,
                asset=intent.assets[0],
                venue=COWSWAP_VENUE,
                intent_hash=confirmed,
                message=message,
                details=details,
            )
        )


__all__ = ["CowIntent", "CowSwapGate", "CowSwapResult", "CowToken", "refuse_in_bundle"]
