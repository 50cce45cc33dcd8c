"""
Event structures of leverage execution (seed 003, decisions 5 and 22).

A sequential loop emits many events sharing one trigger timestamp, ordered by a global
``order`` and grouped by ``iteration``. An atomic flash bundle emits one wrapper event
(``ATOMIC_TRANSACTION``) and its steps, each pointing to the wrapper through ``parent``.
Live-only fields (``completion_timestamp``, ``tx_hash``, ``confirmation_blocks``) stay ``None``
in backtests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from enum import unique

from nautilus_ext.onchain.calculators.leverage import LoopStep


@unique
class OnchainEventType(StrEnum):
    """Event types written by the on-chain module."""

    ATOMIC_TRANSACTION = "ATOMIC_TRANSACTION"  # wrapper of one atomic bundle
    FLASH_BORROW = "FLASH_BORROW"  # flash loan received
    FLASH_REPAID = "FLASH_REPAID"  # flash loan returned
    STAKE_DEPOSIT = "STAKE_DEPOSIT"  # ETH staked into an LST
    COLLATERAL_SUPPLIED = "COLLATERAL_SUPPLIED"  # asset supplied to AAVE
    COLLATERAL_WITHDRAWN = "COLLATERAL_WITHDRAWN"  # asset withdrawn from AAVE
    LOAN_CREATED = "LOAN_CREATED"  # asset borrowed from AAVE
    LOAN_REPAID = "LOAN_REPAID"  # AAVE debt repaid
    SWAP = "SWAP"  # in-bundle DEX swap
    TRANSFER = "TRANSFER"  # ERC-20 or ETH transfer
    GAS_FEE_PAID = "GAS_FEE_PAID"  # gas paid in ETH
    REWARD_PAYMENT = "REWARD_PAYMENT"  # discrete staking reward payout


@dataclass(frozen=True, slots=True)
class OnchainEvent:
    """
    One logged on-chain event.

    Parameters
    ----------
    timestamp_ns : int
        Trigger time (UNIX nanoseconds); shared by every event of one loop or bundle.
    order : int
        Global sequence number (1, 2, 3, ...).
    event : OnchainEventType
        What happened.
    asset : str, optional
        Token symbol concerned.
    amount : int
        Base units moved (wei for ETH-like tokens); gas events carry the fee in wei.
    iteration : int, optional
        Loop iteration (sequential loops only).
    parent : int, optional
        ``order`` of the wrapper event (atomic bundles only).
    bundle : str, optional
        Bundle kind on the wrapper event (for example ``LEVERAGE_ENTRY``).
    status : str
        ``completed`` in backtests; ``pending``/``completed``/``failed`` live.
    completion_timestamp_ns, tx_hash, confirmation_blocks
        Live-only extensions, ``None`` in backtests.
    """

    timestamp_ns: int
    order: int
    event: OnchainEventType
    asset: str | None = None
    amount: int = 0
    iteration: int | None = None
    parent: int | None = None
    bundle: str | None = None
    status: str = "completed"
    completion_timestamp_ns: int | None = None
    tx_hash: str | None = None
    confirmation_blocks: int | None = None

    def __post_init__(self) -> None:
        if self.iteration is not None and self.parent is not None:
            raise ValueError("an event belongs to a loop iteration or to a bundle, not both")
        if self.order < 1:
            raise ValueError(f"order {self.order} must start at 1")


@dataclass(frozen=True, slots=True)
class BundleStepEvent:
    """
    A step of an atomic bundle, before numbering.

    Parameters
    ----------
    event : OnchainEventType
        Step type.
    asset : str
        Token symbol.
    amount : int
        Base units.
    """

    event: OnchainEventType
    asset: str
    amount: int


def sequential_loop_events(
    steps: Sequence[LoopStep],
    *,
    timestamp_ns: int,
    lst_symbol: str,
    borrow_symbol: str,
    gas_fee_wei_per_tx: int,
    first_order: int = 1,
) -> list[OnchainEvent]:
    """
    Return the events of a sequential loop: per iteration, gas + stake + supply, then gas +
    borrow when the iteration borrows (seed 003, decision 22).
    """
    events: list[OnchainEvent] = []
    order = first_order

    def add(event: OnchainEventType, asset: str, amount: int, iteration: int) -> None:
        nonlocal order
        events.append(
            OnchainEvent(
                timestamp_ns=timestamp_ns,
                order=order,
                event=event,
                asset=asset,
                amount=amount,
                iteration=iteration,
            )
        )
        order += 1

    for step in steps:
        add(OnchainEventType.GAS_FEE_PAID, "ETH", gas_fee_wei_per_tx, step.iteration)
        add(OnchainEventType.STAKE_DEPOSIT, "ETH", step.stake, step.iteration)
        add(OnchainEventType.COLLATERAL_SUPPLIED, lst_symbol, step.stake, step.iteration)
        if step.borrow:
            add(OnchainEventType.GAS_FEE_PAID, "ETH", gas_fee_wei_per_tx, step.iteration)
            add(OnchainEventType.LOAN_CREATED, borrow_symbol, step.borrow, step.iteration)
    return events


def atomic_bundle_events(
    bundle: str,
    steps: Sequence[BundleStepEvent],
    *,
    timestamp_ns: int,
    gas_fee_wei: int,
    first_order: int = 1,
    status: str = "completed",
    tx_hash: str | None = None,
) -> list[OnchainEvent]:
    """
    Return the wrapper event, one event per step (``parent`` = wrapper) and the gas event.
    """
    wrapper = OnchainEvent(
        timestamp_ns=timestamp_ns,
        order=first_order,
        event=OnchainEventType.ATOMIC_TRANSACTION,
        bundle=bundle,
        status=status,
        tx_hash=tx_hash,
    )
    events = [wrapper]
    for offset, step in enumerate(steps, start=1):
        events.append(
            OnchainEvent(
                timestamp_ns=timestamp_ns,
                order=first_order + offset,
                event=step.event,
                asset=step.asset,
                amount=step.amount,
                parent=first_order,
                status=status,
                tx_hash=tx_hash,
            )
        )
    events.append(
        OnchainEvent(
            timestamp_ns=timestamp_ns,
            order=first_order + len(steps) + 1,
            event=OnchainEventType.GAS_FEE_PAID,
            asset="ETH",
            amount=gas_fee_wei,
            parent=first_order,
            status=status,
            tx_hash=tx_hash,
        )
    )
    return events


__all__ = [
    "BundleStepEvent",
    "OnchainEvent",
    "OnchainEventType",
    "atomic_bundle_events",
    "sequential_loop_events",
]
