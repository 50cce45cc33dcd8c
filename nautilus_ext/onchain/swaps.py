"""
DEX swaps through the safety gate: a swap is a position change on the wallet's ``SPOT_ASSET`` keys.

:class:`SwapGate` turns one or more exact-input swaps (a plain swap, or the children of a
``SOR_DEFI`` split) into gate intents and decides, exactly as
:class:`~nautilus_ext.onchain.gated.BundleGate` does for bundles:

* **Intent.** Two legs, netted over the swaps: a ``SELL`` of the input on
  ``WALLET-ETH:SPOT_ASSET:<IN>@ETHEREUM`` (the whole input) and a ``BUY`` of the output on
  ``...:<OUT>@...`` (the quoted output), each a unified ``swap`` Order on the pool key whose
  :class:`~nautilus_ext.safety.gate.GateContext` names the position key. The first leg carries
  the swaps' content hash (:func:`swaps_hash`: pools, amounts, minimum outputs, deadlines,
  wallet) and names the second leg's intent hash, so confirming it confirms exactly these swaps.
* **Decision.** :meth:`SwapGate.release` judges both legs with
  :meth:`~nautilus_ext.safety.gate.SafetyGate.check_group`: dirty positions, SAFE mode and
  kills, the risk matrix (max position per key, max trade size, ``max_slippage`` and the
  estimated price impact against the slippage limit, loss limits), rate limits, and in LIVE an
  unexpired arm plus a confirmation of the staged hash, spent once. Refused: nothing is sent.
* **Release.** An allowed decision mints one single-use
  :class:`~nautilus_ext.onchain.chain.GateRelease` per transaction it covers (the approval, if
  one is needed, and each router call), bound to that exact call; the guarded
  :class:`~nautilus_ext.onchain.chain.ChainGateway` sends nothing else.

:class:`~nautilus_ext.onchain.swap_executor.DexSwapExecutor` quotes with the pure math against live pool state
(:mod:`nautilus_ext.adapters.dex`), refuses before the gate what cannot succeed (oracle
deviation, balance, allowance when approvals are off, deadline, a fresh re-quote below the
minimum), then after the release sends the approval (the exact input by default; unlimited
only when configured) and the router call, with managed nonces, gas limit = ``eth_estimateGas``
× 1.2 and EIP-1559 fees capped by the config. A mined swap's ``Transfer`` logs become a
:class:`SwapFill` (gas as a fee in ETH and its quote-currency value); both legs are fed to the
gate as fills (positions dirty) and the outcome is audited; :meth:`SwapGate.reconcile` reads the
wallet's balances back and clears the dirty flags on a match. A revert, a swap below its
minimum, an expired deadline, a missing allowance or balance raises its typed error
(:mod:`nautilus_ext.adapters.dex.errors`), is audited, and records no fill.

In DRY_RUN the same code runs up to the gate decision and then fills from the pure-math quote
against the live pool state: no transaction is signed, the gate's positions do not move (the
chain would never confirm them), and the simulated fill is audited. Gas paid in native ETH is
reported on the fill, not tracked as a position.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Protocol

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.execution import SwapPlan
from nautilus_ext.adapters.dex.execution import erc20
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import GateRelease
from nautilus_ext.onchain.chain import _mint_release
from nautilus_ext.onchain.chain import revoke_release
from nautilus_ext.onchain.gated import PUBLIC_CHAIN_IDS
from nautilus_ext.onchain.gated import confirm_staged
from nautilus_ext.orders import Order
from nautilus_ext.safety.arming import intent_hash
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.oms import Fill

log = logging.getLogger(__name__)


class PriceOracle(Protocol):
    """An independent price source: whole ``quote`` per whole ``base``."""

    def price(self, base: str, quote: str) -> Decimal:
        """Return the price of one ``base`` in ``quote`` (``KeyError`` when unknown)."""
        ...


@dataclass(frozen=True, slots=True)
class FixedPriceOracle:
    """
    Prices given up front (a feed snapshot, a test): ``prices[(base, quote)]``; the inverse pair
    is derived, and a symbol prices at 1 in itself.
    """

    prices: Mapping[tuple[str, str], Decimal]

    def price(self, base: str, quote: str) -> Decimal:
        """Return the price of one ``base`` in ``quote``."""
        if base == quote:
            return Decimal(1)
        if (base, quote) in self.prices:
            return self.prices[(base, quote)]
        if (quote, base) in self.prices:
            return 1 / self.prices[(quote, base)]
        raise KeyError(f"no oracle price for {base}/{quote}")


def swaps_hash(plans: Sequence[SwapPlan], wallet: str) -> str:
    """Return the SHA-256 of the swaps' canonical JSON (pool, tokens, amounts, minimum, deadline, wallet)."""
    payload = {
        "wallet": wallet.lower(),
        "swaps": [
            {
                "pool": str(p.pool.key),
                "address": p.pool.address.lower(),
                "in": p.token_in.address.lower(),
                "out": p.token_out.address.lower(),
                "amount_in": str(p.amount_in),
                "min_out": str(p.min_out),
                "deadline": p.deadline,
            }
            for p in plans
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StagedSwaps:
    """
    Swaps' gate intent: the plans and their two legs (sell input, buy output).

    Parameters
    ----------
    plans : tuple[SwapPlan, ...]
        The swaps (one pair of tokens).
    digest : str
        Their content hash (:func:`swaps_hash`).
    orders : tuple[Order, Order]
        The legs; the first one's intent hash releases the swaps in LIVE.
    assets : tuple[str, str]
        The legs' position keys (input, output).
    """

    plans: tuple[SwapPlan, ...]
    digest: str
    orders: tuple[Order, Order]
    assets: tuple[str, str]

    @property
    def intent_hash(self) -> str:
        """The hash a human confirms (the first leg's, which names the second)."""
        return intent_hash(self.orders[0])


@dataclass(frozen=True, slots=True)
class SwapRelease:
    """
    A gate decision that let swaps go to the chain.

    Parameters
    ----------
    staged : StagedSwaps
        The swaps and legs judged.
    intent_hash : str, optional
        The confirmation spent (LIVE), else ``None``.
    decided_at_ns : int
        When the gate allowed it (gate clock).
    tokens : dict[str, GateRelease]
        One single-use release per covered transaction, by the call's fingerprint.
    """

    staged: StagedSwaps
    intent_hash: str | None
    decided_at_ns: int
    tokens: dict[str, GateRelease] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SwapFill:
    """
    What one swap did (mined, or simulated in DRY_RUN).

    Parameters
    ----------
    plan : SwapPlan
        The swap planned.
    amount_in, amount_out : int
        Input paid and output received, base units (from the ``Transfer`` logs; the quote when
        simulated).
    tx_hash : str, optional
        Transaction hash (``None`` when simulated).
    block_number : int
        Block mined in (the quoted block when simulated).
    gas_used : int
        Gas consumed (0 when simulated).
    gas_fee_wei : int
        Gas fee paid, wei.
    gas_fee_quote : Decimal, optional
        The gas fee's value in the output token (oracle price of the gas asset), if priced.
    simulated : bool
        ``True`` in DRY_RUN: nothing was sent.
    """

    plan: SwapPlan
    amount_in: int
    amount_out: int
    tx_hash: str | None
    block_number: int
    gas_used: int
    gas_fee_wei: int
    gas_fee_quote: Decimal | None
    simulated: bool

    @property
    def amount_in_tokens(self) -> Decimal:
        """Input in whole tokens."""
        return Decimal(self.amount_in).scaleb(-self.plan.token_in.decimals)

    @property
    def amount_out_tokens(self) -> Decimal:
        """Output in whole tokens."""
        return Decimal(self.amount_out).scaleb(-self.plan.token_out.decimals)

    @property
    def gas_fee_eth(self) -> Decimal:
        """Gas fee in ETH."""
        return Decimal(self.gas_fee_wei).scaleb(-18)

    @property
    def price(self) -> Decimal:
        """Execution price: output per input, whole tokens."""
        return self.amount_out_tokens / self.amount_in_tokens


class SwapGate:
    """
    Turn swaps into gate intents, decide, and feed outcomes back (see the module docstring).

    Parameters
    ----------
    gate : SafetyGate
        The gate (its mode decides arming and whether anything is sent).
    gateway : ChainGateway
        The node (balances for reconciliation, chain id, call fingerprints).
    config : DexConfig
        Tokens and the wallet venue of the position keys.
    strategy_id : str
        The strategy the legs belong to.
    wallet : str
        The address that swaps (and holds the positions).
    reconcile_after_execution : bool
        Read the balances back right after a mined swap (default ``False``: they stay dirty
        until :meth:`reconcile`).
    """

    def __init__(
        self,
        gate: SafetyGate,
        gateway: ChainGateway,
        config: DexConfig,
        *,
        strategy_id: str,
        wallet: str,
        reconcile_after_execution: bool = False,
    ) -> None:
        if not strategy_id:
            raise InvalidOrder("a swap gate needs a strategy id")
        self._gate = gate
        self._gateway = gateway
        self._config = config
        self._strategy_id = strategy_id
        self._wallet = wallet
        self._reconcile_after = reconcile_after_execution
        self._staged: dict[str, StagedSwaps] = {}
        self._outstanding: set[GateRelease] = set()
        gate.add_kill_listener(self, self._on_kill)

    @property
    def gate(self) -> SafetyGate:
        """Return the safety gate."""
        return self._gate

    @property
    def wallet(self) -> str:
        """Return the swapping address."""
        return self._wallet

    # -- intents ------------------------------------------------------------------------------

    def intent(self, plans: Sequence[SwapPlan], parent: Order | None = None) -> StagedSwaps:
        """
        Return the legs of ``plans`` (nothing is staged).

        Raises
        ------
        InvalidOrder
            No swap, or the swaps do not share one input and one output token.
        """
        if not plans:
            raise InvalidOrder("no swap to judge")
        first = plans[0]
        if any(
            (p.token_in.symbol, p.token_out.symbol) != (first.token_in.symbol, first.token_out.symbol)
            for p in plans
        ):
            raise InvalidOrder("swaps judged together must sell one token for one other token")
        digest = swaps_hash(plans, self._wallet)
        amount_in = sum(p.amount_in for p in plans)
        quote_out = sum(p.quote_out for p in plans)
        min_out = sum(p.min_out for p in plans)
        t_in, t_out = first.token_in, first.token_out
        assets = (self._config.spot_asset_key(t_in.symbol), self._config.spot_asset_key(t_out.symbol))
        impact = max(p.price_impact for p in plans)
        operation = parent.operation_id if parent is not None else f"swap-{digest[:16]}"
        common: dict[str, Any] = {
            "operation": "swap",
            # one pool: its key; a split: the parent order's key (its pair or pool)
            "instrument_key": str(
                first.pool.key if parent is None or len(plans) == 1 else parent.instrument_key
            ),
            "source_token": t_in.symbol,
            "target_token": t_out.symbol,
            "max_slippage": max(p.max_slippage for p in plans),
            "strategy_id": self._strategy_id,
            "strategy_intent": None if parent is None else parent.strategy_intent,
            "atomic_group_id": digest,
        }
        meta: dict[str, Any] = {
            "swaps_hash": digest,
            "pools": [str(p.pool.key) for p in plans],
            "amount_in_base_units": str(amount_in),
            "quote_out_base_units": str(quote_out),
            "min_out_base_units": str(min_out),
            "deadline": max(p.deadline for p in plans),
            "block_number": max(p.block_number for p in plans),
            "price_impact": str(impact),
        }
        buy = Order(
            operation_id=f"{operation}-out",
            side="BUY",
            amount=Decimal(quote_out).scaleb(-t_out.decimals),
            sequence_in_group=1,
            metadata={**meta, "position_key": assets[1]},
            **common,
        )
        sell = Order(
            operation_id=f"{operation}-in",
            side="SELL",
            amount=Decimal(amount_in).scaleb(-t_in.decimals),
            sequence_in_group=0,
            metadata={**meta, "position_key": assets[0], "group_intents": [intent_hash(buy)], "legs": 2},
            **common,
        )
        return StagedSwaps(plans=tuple(plans), digest=digest, orders=(sell, buy), assets=assets)

    def stage(self, plans: Sequence[SwapPlan], parent: Order | None = None) -> StagedSwaps:
        """Stage ``plans`` for LIVE confirmation; return them with the hash to confirm."""
        digest = swaps_hash(plans, self._wallet)
        live = {i.intent_hash for i in self._gate.arming.staged()}
        self._staged = {d: s for d, s in self._staged.items() if s.intent_hash in live}
        staged = self._staged.get(digest)
        if staged is None:
            staged = self.intent(plans, parent)
            self._staged[digest] = staged
        self._gate.stage(staged.orders[0])
        return staged

    def confirm(self, digest: str, actor: str) -> StagedSwaps:
        """
        Confirm staged swaps by their intent hash (or their swaps hash) as ``actor``.

        Raises
        ------
        RiskBlocked
            Not armed, or no staged swaps have this hash (``rule = arm_command``).
        """
        return confirm_staged(self._gate, self._staged, digest, actor, what="swap")

    # -- the decision -------------------------------------------------------------------------

    def release(
        self, plans: Sequence[SwapPlan], calls: Sequence[Any], parent: Order | None = None
    ) -> SwapRelease:
        """
        Judge sending ``plans`` (as the transactions ``calls``) now; return the release or raise.

        Raises
        ------
        RiskBlocked, SafeModeActive, OrderRateLimitBreach, MarketDataStale
            The gate refused; ``details["rule"]`` names the rule. Nothing is sent.
        """
        digest = swaps_hash(plans, self._wallet)
        self._refuse_public_chain(digest)
        staged = self._staged.get(digest) or self.intent(plans, parent)
        fingerprints = [self._gateway.fingerprint(c) for c in calls]
        self._gateway.block_timestamp()  # the chain is the feed: a node that answers is live
        now = self._gate.clock.timestamp_ns()
        impact = max(p.price_impact for p in plans)
        contexts = []
        for order, asset in zip(staged.orders, staged.assets, strict=True):
            venue = order.instrument_key.venue
            self._gate.on_ws_message(venue)
            contexts.append(
                (
                    order,
                    GateContext(venue=venue, asset=asset, market_data_ts_ns=now, estimated_slippage=impact),
                )
            )
        decision = self._gate.check_group(contexts)
        if not decision.allowed:
            assert decision.error is not None
            decision.error.details.setdefault("swaps_hash", digest)
            raise decision.error
        self._staged.pop(digest, None)
        tokens = {f: _mint_release(digest, f) for f in fingerprints}
        self._outstanding.update(tokens.values())
        return SwapRelease(staged=staged, intent_hash=decision.intent_hash, decided_at_ns=now, tokens=tokens)

    def finish(self, release: SwapRelease) -> None:
        """Withdraw ``release``'s unspent tokens (the executor is done with it)."""
        for token in release.tokens.values():
            revoke_release(token)
            self._outstanding.discard(token)

    def cancel_pending(self) -> tuple[list[str], list[str]]:
        """Drop staged swaps and revoke releases not yet presented (a kill); return what was dropped."""
        dropped = [f"staged swaps {d[:16]}" for d in self._staged]
        for staged in self._staged.values():
            for order in staged.orders:
                self._gate.arming.consume(intent_hash(order))
        self._staged.clear()
        for token in list(self._outstanding):
            if revoke_release(token):
                dropped.append(f"released swap {token.bundle_hash[:16]} (not yet sent)")
        self._outstanding.clear()
        return dropped, []

    def _on_kill(self, strategy_id: str | None) -> tuple[list[str], list[str]]:
        if strategy_id is not None and strategy_id != self._strategy_id:
            return [], []
        return self.cancel_pending()

    # -- outcomes -----------------------------------------------------------------------------

    def on_sending(self, release: SwapRelease, plan: SwapPlan, step: str) -> None:
        """Audit a transaction about to be signed (before it exists)."""
        self._outcome(release, RiskAction.ALLOW, "swap_sending", None, f"sending {step}", plan=plan)

    def on_executed(self, release: SwapRelease, fills: Sequence[SwapFill]) -> None:
        """Record mined swaps: both legs become fills (dirty positions) and they are audited."""
        for fill in fills:
            self._outcome(
                release, RiskAction.ALLOW, "swap_executed", None, "executed", plan=fill.plan, fill=fill
            )
        if not fills or fills[0].simulated:
            return
        paid = sum(f.amount_in for f in fills)
        got = sum(f.amount_out for f in fills)
        plan = fills[0].plan
        tx = fills[-1].tx_hash
        for asset, units, decimals in (
            (release.staged.assets[0], -paid, plan.token_in.decimals),
            (release.staged.assets[1], got, plan.token_out.decimals),
        ):
            self._gate.on_fill(
                Fill(
                    fill_id=f"{tx}:{asset}",
                    venue=self._config.wallet_venue,
                    asset=asset,
                    quantity=Decimal(units).scaleb(-decimals),
                )
            )
        if self._reconcile_after:
            self.reconcile(release.staged.assets)

    def on_simulated(self, release: SwapRelease, fills: Sequence[SwapFill]) -> None:
        """Record DRY_RUN swaps (audited; no position changes)."""
        for fill in fills:
            self._outcome(
                release, RiskAction.ALLOW, "swap_simulated", None, "simulated", plan=fill.plan, fill=fill
            )

    def on_failed(self, release: SwapRelease, plan: SwapPlan, error: NautilusExtError) -> None:
        """Record a swap that reverted or was stopped after the decision: audited, no fill."""
        self._outcome(release, RiskAction.BLOCK, "swap_failed", error, "failed", plan=plan)

    def on_unknown_outcome(self, release: SwapRelease, plan: SwapPlan, error: NautilusExtError) -> None:
        """Record a swap whose outcome is unknown (no receipt) and enter SAFE mode."""
        self._outcome(release, RiskAction.HALT, "swap_outcome_unknown", error, "unknown", plan=plan)
        self._gate.halts.enter_safe(
            ErrorCode.SAFE_MODE,
            Rule.DIRTY_POSITION,
            f"swaps {release.staged.digest[:16]} outcome unknown ({error.code}): balances must be read "
            "back from chain before new risk",
        )

    def on_refused(self, plans: Sequence[SwapPlan], error: NautilusExtError) -> None:
        """Record swaps refused before the gate (oracle, balance, allowance, deadline, quote)."""
        digest = swaps_hash(plans, self._wallet)
        self._gate.record(
            SafetyEvent(
                ts_ns=self._gate.clock.timestamp_ns(),
                risk_action=RiskAction.BLOCK,
                rule="swap_not_sent",
                code=str(error.code),
                strategy_id=self._strategy_id,
                asset=self._config.spot_asset_key(plans[0].token_in.symbol),
                venue=self._config.wallet_venue,
                message=f"swaps {digest[:16]} not sent: {error.message}",
                details={"swaps_hash": digest, "pool": str(plans[0].pool.key)},
            )
        )

    # -- positions ----------------------------------------------------------------------------

    def chain_balances(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        """Return the wallet's balances of ``symbols`` read from chain, whole tokens, by position key."""
        out = {}
        for symbol in symbols:
            token = self._config.token(symbol)
            units = self._gateway.call(
                erc20(self._gateway.w3, token).functions.balanceOf(self._wallet), step=f"balanceOf {symbol}"
            )
            out[self._config.spot_asset_key(symbol)] = Decimal(int(units)).scaleb(-token.decimals)
        return out

    def adopt_chain_balances(self, actor: str, symbols: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Set the gate's running sums to the wallet's balances (start-up or recovery; audited)."""
        wanted = symbols if symbols is not None else [t.symbol for t in self._config.tokens]
        balances = self.chain_balances(wanted)
        for key, quantity in balances.items():
            self._gate.oms.resync(key, quantity, actor)
        return balances

    def reconcile(self, keys: Sequence[str] | None = None) -> dict[str, bool]:
        """
        Read the wallet's balances and compare them with the gate's running sums.

        Returns whether each key matched (a match clears its dirty flag; a lasting mismatch
        enters SAFE mode through the OMS).
        """
        prefix = f"{self._config.wallet_venue}:SPOT_ASSET:"
        wanted = (
            list(keys)
            if keys is not None
            else [k for k in sorted(self._gate.oms.positions) if k.startswith(prefix)]
        )
        symbols = [k.removeprefix(prefix).split("@")[0] for k in wanted]
        balances = self.chain_balances(symbols)
        return {key: self._gate.on_snapshot(key, balances[key]) for key in wanted}

    # -- internals ----------------------------------------------------------------------------

    def _refuse_public_chain(self, digest: str) -> None:
        # only LIVE sends to a public chain; DRY_RUN sends nothing at all
        if self._gate.mode in (Mode.LIVE, Mode.DRY_RUN):
            return
        node = int(self._gateway.w3.eth.chain_id)
        public = sorted({node, self._config.chain_id} & PUBLIC_CHAIN_IDS)
        if public:
            raise RiskBlocked(
                f"{self._gate.mode} gate refuses to send swaps {digest[:16]} to public chain {public[0]}: "
                "only LIVE (armed and confirmed) reaches a public chain",
                details={"rule": "LIVE_ONLY_CHAIN", "chain_id": public[0], "swaps_hash": digest},
            )

    def _outcome(
        self,
        release: SwapRelease,
        action: RiskAction,
        rule: str,
        error: NautilusExtError | None,
        outcome: str,
        *,
        plan: SwapPlan,
        fill: SwapFill | None = None,
    ) -> None:
        details: dict[str, str | int | bool | Decimal | None] = {
            "swaps_hash": release.staged.digest,
            "pool": str(plan.pool.key),
            "amount_in": plan.amount_in,
            "quote_out": plan.quote_out,
            "min_out": plan.min_out,
            "deadline": plan.deadline,
            "outcome": outcome,
        }
        if fill is not None:
            details |= {
                "tx_hash": fill.tx_hash,
                "filled_in": fill.amount_in,
                "filled_out": fill.amount_out,
                "block_number": fill.block_number,
                "gas_used": fill.gas_used,
                "fee_wei": fill.gas_fee_wei,
                "fee_quote": fill.gas_fee_quote,
                "simulated": fill.simulated,
            }
        if error is not None:
            for name in ("tx_hash", "step", "reason", "cause"):
                value = error.details.get(name)
                if isinstance(value, str | int):
                    details[name] = value
        message = f"swap {plan.token_in.symbol}->{plan.token_out.symbol} in {plan.pool.key} {outcome}"
        if error is not None:
            message += f": {error.message}"
        self._gate.record(
            SafetyEvent(
                ts_ns=self._gate.clock.timestamp_ns(),
                risk_action=action,
                rule=rule,
                code=None if error is None else str(error.code),
                strategy_id=self._strategy_id,
                asset=release.staged.assets[0],
                venue=self._config.wallet_venue,
                intent_hash=release.intent_hash,
                message=message,
                details=details,
            )
        )


__all__ = [
    "FixedPriceOracle",
    "PriceOracle",
    "StagedSwaps",
    "SwapFill",
    "SwapGate",
    "SwapRelease",
    "swaps_hash",
]
