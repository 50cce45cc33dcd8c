"""
Send DEX swaps after the safety gate's decision: quote, pre-checks, approval, router call, fill.

See :mod:`nautilus_ext.onchain.swaps` for the gate side. :class:`DexSwapExecutor` cannot be
built without a :class:`~nautilus_ext.onchain.swaps.SwapGate` and a guarded gateway, so no swap
reaches the chain through it without a gate decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from nautilus_ext.adapters.dex.config import DexConfig
from nautilus_ext.adapters.dex.constants import MAX_UINT256
from nautilus_ext.adapters.dex.constants import ApprovalMode
from nautilus_ext.adapters.dex.data import DexPoolStateReader
from nautilus_ext.adapters.dex.data import PoolSnapshot
from nautilus_ext.adapters.dex.errors import InsufficientAllowance
from nautilus_ext.adapters.dex.errors import SwapBelowMinimum
from nautilus_ext.adapters.dex.errors import SwapDeadlineExpired
from nautilus_ext.adapters.dex.errors import classify_swap_revert
from nautilus_ext.adapters.dex.errors import is_allowance_revert
from nautilus_ext.adapters.dex.execution import SwapPlan
from nautilus_ext.adapters.dex.execution import check_oracle
from nautilus_ext.adapters.dex.execution import erc20
from nautilus_ext.adapters.dex.execution import plan_swap
from nautilus_ext.adapters.dex.execution import router_call
from nautilus_ext.adapters.dex.execution import swap_transfers
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import released
from nautilus_ext.onchain.swaps import PriceOracle
from nautilus_ext.onchain.swaps import SwapFill
from nautilus_ext.onchain.swaps import SwapGate
from nautilus_ext.onchain.swaps import SwapRelease
from nautilus_ext.orders import Order

log = logging.getLogger(__name__)


class NonceManager:
    """
    Nonces of one sender: the next is ``max(last sent + 1, the node's pending count)``.

    A transaction that fails before the node took it (:meth:`reset`) makes the next call ask the
    node again, so a gap is never left behind.
    """

    def __init__(self, gateway: ChainGateway, sender: str) -> None:
        self._gateway = gateway
        self._sender = sender
        self._next: int | None = None

    def take(self) -> int:
        """Return the nonce to use now and advance."""
        chain = self._gateway.transaction_count(self._sender)
        nonce = chain if self._next is None else max(self._next, chain)
        self._next = nonce + 1
        return nonce

    def reset(self) -> None:
        """Forget the local count (after a send that may not have reached the node)."""
        self._next = None


class DexSwapExecutor:
    """
    Quote, check, release through the gate, send and verify exact-input swaps.

    Parameters
    ----------
    gate : SwapGate
        The gate every swap passes (the executor cannot be built without one).
    gateway : ChainGateway
        A guarded gateway whose ``max_fee_per_gas_wei`` equals the config's cap.
    config : DexConfig
        Contracts and swap bounds.
    reader : DexPoolStateReader
        Re-reads pool state just before sending.
    oracle : PriceOracle
        Independent prices for the manipulation guard and the gas fee's value.

    Raises
    ------
    InvalidConfig
        The gateway's fee cap is not the config's, or the gateway writes without releases.
    """

    def __init__(
        self,
        gate: SwapGate,
        gateway: ChainGateway,
        config: DexConfig,
        reader: DexPoolStateReader,
        oracle: PriceOracle,
    ) -> None:
        if gateway.max_fee_per_gas_wei != config.max_fee_per_gas_wei:
            raise InvalidConfig(
                f"the gateway's fee cap {gateway.max_fee_per_gas_wei} is not the DEX config's "
                f"max_fee_per_gas_wei {config.max_fee_per_gas_wei}"
            )
        if gateway.local_setup:
            raise InvalidConfig("swaps go through a guarded gateway (local_setup gateways bypass releases)")
        self._gate = gate
        self._gateway = gateway
        self._config = config
        self._reader = reader
        self._oracle = oracle
        self._nonces = NonceManager(gateway, gate.wallet)

    @property
    def gate(self) -> SwapGate:
        """Return the swap gate."""
        return self._gate

    def plan(
        self,
        snapshot: PoolSnapshot,
        token_in: str,
        token_out: str,
        amount_in: int,
        *,
        max_slippage: Decimal | None = None,
    ) -> SwapPlan:
        """Quote a swap against ``snapshot`` with the config's deadline and slippage (or ``max_slippage``)."""
        _, now = self._reader.latest()
        slippage = self._config.max_slippage if max_slippage is None else max_slippage
        return plan_swap(
            snapshot,
            token_in,
            token_out,
            amount_in,
            max_slippage=slippage,
            deadline=now + self._config.deadline_secs,
        )

    def execute(self, plans: SwapPlan | Sequence[SwapPlan], *, parent: Order | None = None) -> list[SwapFill]:
        """
        Send ``plans`` (one swap, or the children of a split) after one gate decision.

        Returns one fill per swap. Raises the typed error of the first failure; swaps already
        mined before it keep their fills in the gate (and audit) and are not undone.
        """
        batch = [plans] if isinstance(plans, SwapPlan) else list(plans)
        if not batch:
            raise InvalidOrder("no swap to execute")
        try:
            self._pre_checks(batch)
        except NautilusExtError as e:
            self._gate.on_refused(batch, e)
            raise
        approvals = self._approvals(batch)
        calls = [router_call(self._gateway.w3, self._config, p, self._gate.wallet) for p in batch]
        release = self._gate.release(batch, [*approvals.values(), *(c for c, _ in calls)], parent)
        try:
            if self._gate.gate.mode is Mode.DRY_RUN:
                fills = [self._simulated(p) for p in batch]
                self._gate.on_simulated(release, fills)
                return fills
            fills = []
            for plan, (call, spender) in zip(batch, calls, strict=True):
                approval = approvals.pop((plan.token_in.symbol, spender), None)
                if approval is not None:
                    self._send(release, plan, approval, f"approve {plan.token_in.symbol}")
                fills.append(self._swap(release, plan, call))
            self._gate.on_executed(release, fills)
            return fills
        finally:
            self._gate.finish(release)

    # -- internals ----------------------------------------------------------------------------

    def _pre_checks(self, batch: Sequence[SwapPlan]) -> None:
        # everything that refuses before the gate: nothing staged is spent, nothing is sent
        needed: dict[str, int] = {}
        for plan in batch:
            needed[plan.token_in.symbol] = needed.get(plan.token_in.symbol, 0) + plan.amount_in
        for symbol, amount in needed.items():
            token = self._config.token(symbol)
            balance = int(
                self._gateway.call(
                    erc20(self._gateway.w3, token).functions.balanceOf(self._gate.wallet),
                    step=f"balanceOf {symbol}",
                )
            )
            if balance < amount:
                raise InsufficientBalance(
                    f"wallet holds {balance} {symbol} base units, the swap needs {amount}; nothing was sent",
                    details={"cause": "INSUFFICIENT_BALANCE", "balance": balance, "needed": amount},
                )
        if self._config.approval is ApprovalMode.NONE:
            for plan in batch:
                _, spender = router_call(self._gateway.w3, self._config, plan, self._gate.wallet)
                allowance = self._allowance(plan, spender)
                if allowance < plan.amount_in:
                    raise InsufficientAllowance(
                        f"allowance of {spender} for {plan.token_in.symbol} is {allowance} < {plan.amount_in}"
                        " and "
                        "approvals are off (approval: NONE); nothing was sent",
                        details={
                            "cause": "INSUFFICIENT_ALLOWANCE",
                            "allowance": allowance,
                            "needed": plan.amount_in,
                        },
                    )
        head, now = self._reader.latest()
        for plan in batch:
            oracle = self._oracle.price(plan.token_in.symbol, plan.token_out.symbol)
            check_oracle(plan, oracle, self._config.max_oracle_deviation)
            if now >= plan.deadline:
                raise SwapDeadlineExpired(
                    f"swap in {plan.pool.key}: deadline {plan.deadline} has passed (block time {now}); "
                    "nothing was sent",
                    details={"cause": "DEADLINE_EXPIRED", "deadline": plan.deadline, "block_timestamp": now},
                )
            fresh = self._reader.read([plan.pool], block=head)[str(plan.pool.key)]
            i, j = plan.pool.index(plan.token_in.symbol), plan.pool.index(plan.token_out.symbol)
            out = fresh.state.quote_exact_input(i, j, plan.amount_in)
            if out < plan.min_out:
                raise SwapBelowMinimum(
                    f"swap in {plan.pool.key} would deliver {out} < amountOutMinimum {plan.min_out} at block "
                    f"{head} (quoted {plan.quote_out} at block {plan.block_number}); nothing was sent",
                    details={"cause": "BELOW_MINIMUM_OUT", "quote_now": out, "min_out": plan.min_out},
                )

    def _allowance(self, plan: SwapPlan, spender: str) -> int:
        fn = erc20(self._gateway.w3, plan.token_in).functions.allowance(self._gate.wallet, spender)
        return int(self._gateway.call(fn, step=f"allowance {plan.token_in.symbol}"))

    def _approvals(self, batch: Sequence[SwapPlan]) -> dict[tuple[str, str], Any]:
        # one approval per (token, spender) whose allowance is short of what the swaps pull
        if self._config.approval is ApprovalMode.NONE:
            return {}
        wanted: dict[tuple[str, str], int] = {}
        plans: dict[tuple[str, str], SwapPlan] = {}
        for plan in batch:
            _, spender = router_call(self._gateway.w3, self._config, plan, self._gate.wallet)
            k = (plan.token_in.symbol, spender)
            wanted[k] = wanted.get(k, 0) + plan.amount_in
            plans.setdefault(k, plan)
        out: dict[tuple[str, str], Any] = {}
        for (symbol, spender), amount in wanted.items():
            if self._allowance(plans[(symbol, spender)], spender) >= amount:
                continue
            value = MAX_UINT256 if self._config.approval is ApprovalMode.UNLIMITED else amount
            token = erc20(self._gateway.w3, self._config.token(symbol))
            out[(symbol, spender)] = token.functions.approve(spender, value)
        return out

    def _send(self, release: SwapRelease, plan: SwapPlan, fn: Any, step: str) -> Any:
        token = release.tokens.get(self._gateway.fingerprint(fn))
        self._gate.on_sending(release, plan, step)
        nonce = self._nonces.take()
        try:
            with released(token):
                return self._gateway.send(fn, step=step, sender=self._gate.wallet, nonce=nonce)
        except TransactionReverted as e:
            self._nonces.reset()
            error = self._classify(plan, e, step)
            self._gate.on_failed(release, plan, error)
            raise error from e
        except NautilusExtError as e:
            self._nonces.reset()
            if e.details.get("rule") in ("not_released", "gas_price_cap"):
                self._gate.on_failed(release, plan, e)
            else:
                self._gate.on_unknown_outcome(release, plan, e)
            raise

    def _swap(self, release: SwapRelease, plan: SwapPlan, call: Any) -> SwapFill:
        receipt = self._send(release, plan, call, f"swap {plan.token_in.symbol}->{plan.token_out.symbol}")
        paid, received = swap_transfers(self._gateway.w3, receipt.tx_hash, plan, self._gate.wallet)
        return SwapFill(
            plan=plan,
            amount_in=paid,
            amount_out=received,
            tx_hash=receipt.tx_hash,
            block_number=receipt.block_number,
            gas_used=receipt.gas_used,
            gas_fee_wei=receipt.fee_wei,
            gas_fee_quote=self._gas_value(plan, receipt.fee_wei),
            simulated=False,
        )

    def _simulated(self, plan: SwapPlan) -> SwapFill:
        # DRY_RUN: the pure-math fill against the live state quoted; nothing signed
        return SwapFill(
            plan=plan,
            amount_in=plan.amount_in,
            amount_out=plan.quote_out,
            tx_hash=None,
            block_number=plan.block_number,
            gas_used=0,
            gas_fee_wei=0,
            gas_fee_quote=Decimal(0),
            simulated=True,
        )

    def _gas_value(self, plan: SwapPlan, fee_wei: int) -> Decimal | None:
        try:
            price = self._oracle.price(self._config.gas_symbol, plan.token_out.symbol)
        except KeyError:
            return None
        return Decimal(fee_wei).scaleb(-18) * price

    def _classify(self, plan: SwapPlan, error: TransactionReverted, step: str) -> NautilusExtError:
        reason = str(error.details.get("reason", ""))
        details = {"step": step, "tx_hash": error.details.get("tx_hash"), "pool": str(plan.pool.key)}
        if step.startswith("swap"):
            _, spender = router_call(self._gateway.w3, self._config, plan, self._gate.wallet)
            if is_allowance_revert(reason) or self._allowance(plan, spender) < plan.amount_in:
                return InsufficientAllowance(
                    f"{step}: the router could not pull {plan.amount_in} {plan.token_in.symbol} ({reason})",
                    details={**details, "cause": "INSUFFICIENT_ALLOWANCE", "reason": reason},
                )
        tx_hash = error.details.get("tx_hash")
        if not reason and isinstance(tx_hash, str) and step.startswith("swap"):
            # mined and reverted (status 0): the node gives no reason; the block time tells a
            # deadline that passed while the transaction waited
            mined_at = self._mined_timestamp(tx_hash)
            if mined_at is not None and mined_at > plan.deadline:
                reason = f"deadline {plan.deadline} < block time {mined_at}"
                return SwapDeadlineExpired(
                    f"{step}: deadline expired before the swap was mined ({reason})",
                    details={**details, "cause": "DEADLINE_EXPIRED", "reason": reason},
                )
        return classify_swap_revert(reason, step, details=details)

    def _mined_timestamp(self, tx_hash: str) -> int | None:
        w3 = self._gateway.w3
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])
        except Exception:  # a diagnosis only: the revert itself is already typed
            log.warning("cannot read the block of reverted swap %s", tx_hash)
            return None


__all__ = ["DexSwapExecutor", "NonceManager"]
