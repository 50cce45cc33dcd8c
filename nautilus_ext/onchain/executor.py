"""
Check, send and verify atomic bundles.

Before sending: refuse CowSwap, re-quote every swap against its oracle bound, check the flash
liquidity, simulate the cast with ``eth_call`` and estimate its gas (limit = estimate × 1.2).
After: read back the health factor and LTV and check them against the bundle's target range.
A revert comes back as :class:`~nautilus_ext.errors.TransactionReverted` naming the failing
step; since a cast is one transaction, nothing of a failed bundle ever happened on chain.

The executor cannot be built without a :class:`~nautilus_ext.onchain.gated.BundleGate`: every
:meth:`AtomicBundleExecutor.execute` first takes the safety gate's decision (in LIVE an arm and
a confirmation of the bundle's hash) and reports the outcome back (fills, audit), so no bundle
reaches the chain through this class without a gate decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import failing_step
from nautilus_ext.onchain.bundles import refuse_cowswap
from nautilus_ext.onchain.calculators.aave import AccountData
from nautilus_ext.onchain.calculators.events import OnchainEvent
from nautilus_ext.onchain.calculators.events import atomic_bundle_events
from nautilus_ext.onchain.calculators.ray_math import WAD
from nautilus_ext.onchain.chain import TxReceipt
from nautilus_ext.onchain.chain import buffered_gas_limit
from nautilus_ext.onchain.chain import released
from nautilus_ext.onchain.clients import AaveV3Client
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.gated import BundleRelease
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import Spell

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedBundle:
    """
    A bundle that passed every pre-send check.

    Parameters
    ----------
    bundle : AtomicBundle
        The bundle.
    spells : list[Spell]
        Top-level spells of the cast.
    gas_estimate : int
        Node estimate for the cast.
    gas_limit : int
        ``ceil(gas_estimate × 1.2)``.
    """

    bundle: AtomicBundle
    spells: list[Spell]
    gas_estimate: int
    gas_limit: int


@dataclass(frozen=True, slots=True)
class BundleResult:
    """
    A mined bundle and the position it left.

    Parameters
    ----------
    bundle : AtomicBundle
        What was executed.
    receipt : TxReceipt
        The cast's receipt.
    account : AccountData
        ``getUserAccountData`` of the DSA after the bundle.
    events : list[OnchainEvent]
        Wrapper, step and gas events (decision 22).
    """

    bundle: AtomicBundle
    receipt: TxReceipt
    account: AccountData
    events: list[OnchainEvent]

    @property
    def ltv(self) -> Decimal:
        """Debt/collateral after the bundle."""
        return self.account.current_ltv()

    @property
    def health_factor(self) -> Decimal | None:
        """Health factor after the bundle (``None`` without debt)."""
        if self.account.total_debt_base == 0:
            return None
        return Decimal(self.account.health_factor) / Decimal(WAD)


class AtomicBundleExecutor:
    """
    Send bundles through the wallet's DSA.

    Parameters
    ----------
    clients : OnchainClients
        Protocol clients.
    sender : str
        The EOA authorised on the DSA (pays gas).
    gate : BundleGate
        The safety gate every bundle passes before it is sent (required).
    """

    def __init__(self, clients: OnchainClients, sender: str, *, gate: BundleGate) -> None:
        if not isinstance(gate, BundleGate):
            raise InvalidConfig("AtomicBundleExecutor needs a BundleGate: no bundle is sent without a gate")
        self._c = clients
        self._sender = sender
        self._gate = gate

    @property
    def gate(self) -> BundleGate:
        """Return the bundle gate."""
        return self._gate

    def _flash_token(self, bundle: AtomicBundle) -> str | None:
        flash = bundle.flash_step
        return None if flash is None else self._c.config.token(flash.asset).address

    def _reverted(self, bundle: AtomicBundle, error: TransactionReverted) -> TransactionReverted:
        reason = str(error.details.get("reason", error.message))
        step, candidates = failing_step(bundle, reason)
        return TransactionReverted(
            f"{bundle.kind} reverted at step {step}: {reason}; nothing was executed",
            venue=error.venue,
            details={
                "step": step,
                "candidates": candidates,
                "reason": reason,
                "bundle": str(bundle.kind),
                **({"tx_hash": error.details["tx_hash"]} if "tx_hash" in error.details else {}),
            },
        )

    def _check_swaps(self, bundle: AtomicBundle) -> None:
        router = self._c.router
        for step in bundle.steps:
            if step.kind is not StepKind.SWAP or step.swap is None:
                continue
            bound = step.swap
            quote = router.quote_out(
                bound.sell_amount,
                self._c.config.token(bound.sell_symbol).address,
                self._c.config.token(bound.buy_symbol).address,
            )
            if quote < bound.min_out:
                raise RiskBlocked(
                    f"swap {bound.sell_amount} {bound.sell_symbol} -> {bound.buy_symbol} now "
                    f"quotes {quote}, below its oracle bound {bound.min_out} "
                    f"(max slippage {bound.max_slippage})",
                    venue=step.venue,
                    details={"rule": "SWAP_SLIPPAGE", "quote_out": quote, "min_out": bound.min_out},
                )

    def prepare(self, bundle: AtomicBundle) -> PreparedBundle:
        """
        Run every pre-send check and return the spells with their gas limit.

        Raises
        ------
        InvalidOrder
            CowSwap inside the bundle, or too many spells.
        RiskBlocked
            A swap quote fell below its oracle bound (``rule = SWAP_SLIPPAGE``).
        InsufficientBalance
            Flash liquidity is short.
        TransactionReverted
            The ``eth_call`` simulation reverted; ``details['step']`` names the step.
        """
        refuse_cowswap(bundle.steps)
        self._check_swaps(bundle)
        flash = bundle.flash_step
        if flash is not None:
            available = self._c.morpho.flash_liquidity(flash.asset)
            if available < flash.amount:
                raise InsufficientBalance(
                    f"Morpho can flash-lend {available} {flash.asset}, bundle needs {flash.amount}",
                    venue="MORPHO",
                    details={"asset": flash.asset, "available": available},
                )
        spells = bundle.spells(self._flash_token(bundle))
        try:
            self._c.dsa.simulate(spells, self._sender, step=f"simulate {bundle.kind}")
            estimate = self._c.dsa.estimate_gas(spells, self._sender, step=f"estimate {bundle.kind}")
        except TransactionReverted as e:
            raise self._reverted(bundle, e) from e
        return PreparedBundle(
            bundle=bundle,
            spells=spells,
            gas_estimate=estimate,
            gas_limit=buffered_gas_limit(estimate),
        )

    def _send(self, bundle: AtomicBundle, release: BundleRelease) -> TxReceipt:
        # prepare and cast under the gate's single-use release of exactly this cast
        try:
            prepared = self.prepare(bundle)
        except TransactionReverted as e:
            self._gate.on_reverted(release, e)
            raise
        except NautilusExtError as e:
            self._gate.on_not_sent(release, e)
            raise
        try:
            with released(release.token):
                return self._c.dsa.cast(
                    prepared.spells,
                    self._sender,
                    step=f"cast {bundle.kind}",
                    gas_limit=prepared.gas_limit,
                )
        except RiskBlocked as e:
            # the gateway refused the release before signing: nothing was sent
            self._gate.on_not_sent(release, e)
            raise
        except TransactionReverted as e:
            reverted = self._reverted(bundle, e)
            self._gate.on_reverted(release, reverted)
            raise reverted from e
        except ExternalError as e:
            # no receipt: the cast may or may not be mined, so the positions are unknown
            self._gate.on_unknown_outcome(release, e)
            raise

    def execute(self, bundle: AtomicBundle, *, timestamp_ns: int) -> BundleResult:
        """
        Take the gate's decision, then prepare, send and verify ``bundle``.

        Parameters
        ----------
        bundle : AtomicBundle
            The bundle to run.
        timestamp_ns : int
            Trigger time recorded on the events (from the caller's clock).

        Raises
        ------
        RiskBlocked, SafeModeActive, OrderRateLimitBreach, MarketDataStale
            The safety gate refused (``details['rule']``); nothing was sent.
        TransactionReverted
            The bundle reverted (simulation or on chain); no step took effect.
        RiskBlocked
            After mining, the position is outside the target range (``rule =
            POST_TRADE_RANGE``); the bundle did execute: ``details['tx_hash']`` names it.
        """
        refuse_cowswap(bundle.steps)  # static: refused before the gate judges anything
        release = self._gate.release(bundle, sender=self._sender)
        try:
            receipt = self._send(bundle, release)
        finally:
            self._gate.finish(release)  # an unspent token never outlives this call
        self._gate.on_executed(release, receipt)
        aave = self._c.aave
        if bundle.post_check_pool is not None:
            aave = AaveV3Client(self._c.gateway, self._c.config, pool=bundle.post_check_pool)
        account = aave.account_data(self._c.config.dsa)
        result = BundleResult(
            bundle=bundle,
            receipt=receipt,
            account=account,
            events=atomic_bundle_events(
                str(bundle.kind),
                bundle.event_steps(),
                timestamp_ns=timestamp_ns,
                gas_fee_wei=receipt.fee_wei,
                tx_hash=receipt.tx_hash,
            ),
        )
        log.info(
            "bundle executed",
            extra={
                "bundle": str(bundle.kind),
                "gas_used": receipt.gas_used,
                "ltv": str(result.ltv),
            },
        )
        if bundle.target is not None:
            problems = bundle.target.violations(result.ltv, result.health_factor)
            if problems:
                self._gate.on_out_of_range(release, receipt, problems)
                raise RiskBlocked(
                    f"{bundle.kind} executed (tx {receipt.tx_hash}) but left the position "
                    f"outside its target range: {'; '.join(problems)}",
                    venue="AAVE_V3",
                    details={
                        "rule": "POST_TRADE_RANGE",
                        "tx_hash": receipt.tx_hash,
                        "ltv": str(result.ltv),
                        "health_factor": str(result.health_factor),
                    },
                )
        return result


__all__ = ["AtomicBundleExecutor", "BundleResult", "PreparedBundle"]
