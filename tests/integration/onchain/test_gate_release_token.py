"""
A guarded ChainGateway sends only under a gate decision token (issue 13, item 5).

``released("any-name")`` used to let any transaction through: now the gateway honours only the
very :class:`GateRelease` object a BundleGate minted on an ALLOW decision, for exactly the cast
it covered, once. Every refusal happens before signing: the block number and the sender's nonce
do not move.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_ext.audit.schemas import Mode
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import GateRelease
from nautilus_ext.onchain.chain import outstanding_releases
from nautilus_ext.onchain.chain import released
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack

from .test_gated_executor import LAMBDA
from .test_gated_executor import _gate
from .test_gated_executor import _marks

pytestmark = pytest.mark.slow


def _refused_before_signing(stack: EvmStack, send: object) -> RiskBlocked:
    before = _marks(stack)
    with pytest.raises(RiskBlocked) as caught:
        send()  # type: ignore[operator]
    assert caught.value.details["rule"] == "not_released", caught.value
    assert _marks(stack) == before  # nothing signed: block number and nonce unchanged
    return caught.value


def test_only_an_outstanding_gate_token_for_exactly_this_cast_sends_once(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST)
    guarded = OnchainClients(ChainGateway(stack.w3), stack.config)
    executor = AtomicBundleExecutor(guarded, stack.user, gate=bundle_gate)
    planner = BundlePlanner(clients)
    unwind = planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    other = planner.partial_unwind(2 * ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    spells = executor.prepare(unwind).spells
    other_spells = executor.prepare(other).spells

    def cast(token: object, which: list[object] = spells) -> object:
        with released(token):  # type: ignore[arg-type]
            return guarded.dsa.cast(which, stack.user, step="cast")  # type: ignore[arg-type]

    # the old hole: any name released anything
    _refused_before_signing(stack, lambda: cast("any-name"))
    # a look-alike token naming the right bundle hash is still not a gate decision
    _refused_before_signing(stack, lambda: cast(GateRelease(bundle_hash(unwind))))

    # a real decision for bundle A: foreign to bundle B's cast and to any other write
    release = bundle_gate.release(unwind, sender=stack.user)
    assert release.token is not None
    refused = _refused_before_signing(stack, lambda: cast(release.token, other_spells))
    assert "not this transaction" in refused.message
    # presenting it for the wrong transaction spent it: it cannot be used afterwards either
    _refused_before_signing(stack, lambda: cast(release.token))

    # a fresh decision for A sends A, once
    again = bundle_gate.release(unwind, sender=stack.user)
    before = _marks(stack)
    cast(again.token)
    assert _marks(stack) == (before[0] + 1, before[1] + 1)
    _refused_before_signing(stack, lambda: cast(again.token))  # reused: refused
    # a fresh decision for A does not cover another kind of write (an ERC-20 approval)
    third = bundle_gate.release(unwind, sender=stack.user)
    with released(third.token):
        _refused_before_signing(
            stack, lambda: guarded.erc20.ensure_allowance("WETH", stack.user, stack.config.dsa, 10**30)
        )


def test_a_kill_revokes_releases_not_yet_sent_and_drops_staged_bundles(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST)
    guarded = OnchainClients(ChainGateway(stack.w3), stack.config)
    executor = AtomicBundleExecutor(guarded, stack.user, gate=bundle_gate)
    planner = BundlePlanner(clients)
    unwind = planner.partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    other = planner.partial_unwind(2 * ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    spells = executor.prepare(unwind).spells
    bundle_gate.stage(other)
    outstanding = outstanding_releases()
    release = bundle_gate.release(unwind, sender=stack.user)
    assert outstanding_releases() == outstanding + 1

    report = bundle_gate.gate.kill_and_cancel("ops", reason="drill")
    cancelled = report.cancelled
    assert any(c.startswith(f"released bundle {bundle_hash(unwind)[:16]}") for c in cancelled), cancelled
    assert any(c.startswith(f"staged bundle {bundle_hash(other)[:16]}") for c in cancelled), cancelled
    assert bundle_gate.staged() == []
    assert outstanding_releases() == outstanding

    def cast() -> object:
        with released(release.token):
            return guarded.dsa.cast(spells, stack.user, step="cast")

    _refused_before_signing(stack, cast)  # the decision was taken before the kill: revoked


def test_the_executor_leaves_no_token_behind(
    entered_stack: EvmStack, entered_clients: OnchainClients
) -> None:
    stack, clients = entered_stack, entered_clients
    bundle_gate, _ = _gate(clients, Mode.BACKTEST)
    guarded = OnchainClients(ChainGateway(stack.w3), stack.config)
    executor = AtomicBundleExecutor(guarded, stack.user, gate=bundle_gate)
    unwind = BundlePlanner(clients).partial_unwind(ETHER, LAMBDA, max_slippage=Decimal("0.01"))
    outstanding = outstanding_releases()
    before = _marks(stack)
    executor.execute(unwind, timestamp_ns=0)
    assert _marks(stack) == (before[0] + 1, before[1] + 1)
    assert outstanding_releases() == outstanding  # spent by the cast, nothing left to reuse
