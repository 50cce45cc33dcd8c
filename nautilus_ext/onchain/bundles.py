"""
Atomic bundles: ordered steps that become one Instadapp cast (optionally inside a flash loan).

A bundle is data: its steps, the spells they encode, the flash leg and the range the position
must land in. :mod:`nautilus_ext.onchain.planner` builds bundles from chain state and the
calculators; :mod:`nautilus_ext.onchain.executor` checks, sends and verifies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from nautilus_ext.errors import InvalidOrder
from nautilus_ext.onchain.calculators.events import BundleStepEvent
from nautilus_ext.onchain.calculators.events import OnchainEventType
from nautilus_ext.onchain.chain import AAVE_V3_ERROR_CODES
from nautilus_ext.onchain.chain import describe_revert
from nautilus_ext.onchain.spells import Spell
from nautilus_ext.onchain.spells import flash_borrow_and_cast

COWSWAP_VENUE: Final[str] = "COWSWAP"


@unique
class BundleKind(StrEnum):
    """Supported atomic operations (seed 000, "Supported Atomic Operations")."""

    LEVERAGED_STAKING_ENTRY = "LEVERAGED_STAKING_ENTRY"  # flash → stake → supply → borrow → repay
    LEVERAGED_LENDING_ENTRY = "LEVERAGED_LENDING_ENTRY"  # flash → supply → borrow → repay
    PARTIAL_UNWIND = "PARTIAL_UNWIND"  # flash → repay → withdraw R/λ → swap → repay
    FULL_UNWIND = "FULL_UNWIND"  # flash → repay all → withdraw all → swap → repay
    LTV_ADJUSTMENT = "LTV_ADJUSTMENT"  # move the position to a new target LTV
    PROTOCOL_MIGRATION = "PROTOCOL_MIGRATION"  # flash → repay old → supply new → borrow → repay
    ORDER_GROUP = "ORDER_GROUP"  # unified orders sharing an atomic_group_id


@unique
class StepKind(StrEnum):
    """What one bundle step does."""

    SET_EMODE = "SET_EMODE"  # AAVE setUserEMode
    FLASH_BORROW = "FLASH_BORROW"  # flash loan received (the wrapping spell)
    FLASH_REPAY = "FLASH_REPAY"  # flash loan returned
    UNWRAP_WETH = "UNWRAP_WETH"  # WETH → ETH
    WRAP_WETH = "WRAP_WETH"  # ETH → WETH
    STAKE = "STAKE"  # ETH → rebasing LST
    WRAP_LST = "WRAP_LST"  # rebasing LST → wrapped LST
    UNWRAP_LST = "UNWRAP_LST"  # wrapped LST → rebasing LST
    SUPPLY = "SUPPLY"  # AAVE supply
    WITHDRAW = "WITHDRAW"  # AAVE withdraw
    BORROW = "BORROW"  # AAVE borrow
    REPAY = "REPAY"  # AAVE repay
    SWAP = "SWAP"  # in-bundle DEX swap
    TRANSFER = "TRANSFER"  # send tokens out of the DSA
    DEPOSIT = "DEPOSIT"  # pull tokens from the wallet into the DSA


_EVENT_OF_STEP: Final[dict[StepKind, OnchainEventType]] = {
    StepKind.FLASH_BORROW: OnchainEventType.FLASH_BORROW,
    StepKind.FLASH_REPAY: OnchainEventType.FLASH_REPAID,
    StepKind.STAKE: OnchainEventType.STAKE_DEPOSIT,
    StepKind.SUPPLY: OnchainEventType.COLLATERAL_SUPPLIED,
    StepKind.WITHDRAW: OnchainEventType.COLLATERAL_WITHDRAWN,
    StepKind.BORROW: OnchainEventType.LOAN_CREATED,
    StepKind.REPAY: OnchainEventType.LOAN_REPAID,
    StepKind.SWAP: OnchainEventType.SWAP,
    StepKind.TRANSFER: OnchainEventType.TRANSFER,
    StepKind.DEPOSIT: OnchainEventType.TRANSFER,
}


@dataclass(frozen=True, slots=True)
class SwapBound:
    """
    The oracle-validated slippage bound of an in-bundle swap.

    Parameters
    ----------
    sell_symbol, buy_symbol : str
        Tokens sold and bought.
    sell_amount : int
        Base units sold.
    oracle_out : int
        What ``sell_amount`` is worth in the bought token at oracle prices.
    min_out : int
        Least output accepted on chain: ``oracle_out × (1 - max_slippage)``, rounded up.
    quote_out : int
        The pool's quote when the bundle was planned.
    max_slippage : Decimal
        Tolerance versus the oracle value.
    """

    sell_symbol: str
    buy_symbol: str
    sell_amount: int
    oracle_out: int
    min_out: int
    quote_out: int
    max_slippage: Decimal


@dataclass(frozen=True, slots=True)
class BundleStep:
    """
    One step of an atomic bundle.

    Parameters
    ----------
    kind : StepKind
        What the step does.
    asset : str
        Token symbol concerned.
    amount : int
        Base units (``2**256 - 1`` means everything).
    spell : Spell, optional
        The connector call (``None`` for the flash borrow, which is the wrapping spell).
    venue : str
        Protocol or DEX executing the step (``AAVE_V3``, ``ETHERFI``, ``UNISWAP-V2``...).
    swap : SwapBound, optional
        Slippage bound for swap steps.
    """

    kind: StepKind
    asset: str
    amount: int
    spell: Spell | None
    venue: str
    swap: SwapBound | None = None

    def __post_init__(self) -> None:
        if self.kind is StepKind.SWAP and self.swap is None and self.venue.upper() != COWSWAP_VENUE:
            raise InvalidOrder("a swap step needs a slippage bound")
        if self.kind is not StepKind.FLASH_BORROW and self.spell is None:
            raise InvalidOrder(f"step {self.kind} needs a spell")


@dataclass(frozen=True, slots=True)
class TargetRange:
    """
    Where the position must land after the bundle (checked before and after sending).

    Parameters
    ----------
    min_ltv, max_ltv : Decimal
        Bounds on debt/collateral.
    min_health_factor : Decimal
        Least health factor accepted.
    """

    min_ltv: Decimal
    max_ltv: Decimal
    min_health_factor: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.min_ltv <= self.max_ltv < Decimal(1):
            raise InvalidOrder(f"LTV range [{self.min_ltv}, {self.max_ltv}] is not within [0, 1)")
        if self.min_health_factor < Decimal(1):
            raise InvalidOrder(f"min health factor {self.min_health_factor} must be at least 1")

    def violations(self, ltv: Decimal, health_factor: Decimal | None) -> list[str]:
        """Return the rules the given state breaks (empty when inside the range)."""
        problems: list[str] = []
        if not self.min_ltv <= ltv <= self.max_ltv:
            problems.append(f"LTV {ltv:.6f} outside [{self.min_ltv}, {self.max_ltv}]")
        if health_factor is not None and health_factor < self.min_health_factor:
            problems.append(f"health factor {health_factor:.6f} below {self.min_health_factor}")
        return problems


@dataclass(frozen=True, slots=True)
class AtomicBundle:
    """
    An ordered set of steps executed in one transaction.

    Parameters
    ----------
    kind : BundleKind
        Which atomic operation.
    steps : tuple[BundleStep, ...]
        Steps in execution order. With a flash loan the first flash step is
        ``FLASH_BORROW`` and the last is ``FLASH_REPAY``; steps before it (e-mode) run first.
    flash_connector : str, optional
        Connector of the flash loan (``INSTAPOOL-C``).
    flash_route : int
        Aggregator route.
    target : TargetRange, optional
        Range the position must land in (``None`` when the bundle has no AAVE position).
    predicted_ltv : Decimal, optional
        The calculators' LTV after the bundle, at planning time.
    predicted_health_factor : Decimal, optional
        The calculators' health factor after the bundle (``None`` without debt).
    post_check_pool : str, optional
        Pool whose account data the post-check reads (default: the configured AAVE pool;
        a migration checks the market it moved to).
    """

    kind: BundleKind
    steps: tuple[BundleStep, ...]
    flash_connector: str | None = None
    flash_route: int = 0
    target: TargetRange | None = None
    predicted_ltv: Decimal | None = None
    predicted_health_factor: Decimal | None = None
    post_check_pool: str | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidOrder("a bundle needs at least one step")
        kinds = [s.kind for s in self.steps]
        borrows = kinds.count(StepKind.FLASH_BORROW)
        repays = kinds.count(StepKind.FLASH_REPAY)
        if borrows > 1 or borrows != repays:
            raise InvalidOrder("a bundle holds at most one flash loan, borrowed and repaid")
        if borrows:
            if self.flash_connector is None:
                raise InvalidOrder("a flash bundle needs its flash connector")
            if kinds[-1] is not StepKind.FLASH_REPAY:
                raise InvalidOrder("the flash repayment must be the last step")
            flash = self.steps[kinds.index(StepKind.FLASH_BORROW)]
            repay = self.steps[-1]
            if flash.asset != repay.asset or repay.amount < flash.amount:
                raise InvalidOrder("the flash loan must be repaid in full in the same asset")

    @property
    def flash_step(self) -> BundleStep | None:
        """The flash borrow step, if any."""
        for step in self.steps:
            if step.kind is StepKind.FLASH_BORROW:
                return step
        return None

    def labels(self) -> list[str]:
        """Human labels ``"<n>:<KIND> <ASSET>"`` of the steps, 1-based."""
        return [f"{i}:{s.kind} {s.asset}" for i, s in enumerate(self.steps, start=1)]

    def spells(self, flash_token_address: str | None = None) -> list[Spell]:
        """
        Return the top-level spells of the cast.

        Without a flash loan, one spell per step. With one, the steps before the flash borrow,
        then ``flashBorrowAndCast`` wrapping every later step.
        """
        flash = self.flash_step
        if flash is None:
            return [s.spell for s in self.steps if s.spell is not None]
        if flash_token_address is None or self.flash_connector is None:
            raise InvalidOrder("a flash bundle needs the flash token address")
        position = self.steps.index(flash)
        prelude = [s.spell for s in self.steps[:position] if s.spell is not None]
        inner = [s.spell for s in self.steps[position + 1 :] if s.spell is not None]
        wrapper = flash_borrow_and_cast(
            self.flash_connector, flash_token_address, flash.amount, self.flash_route, inner
        )
        return [*prelude, wrapper]

    def event_steps(self) -> list[BundleStepEvent]:
        """The steps as event records (decision 22 structure) for logging."""
        return [
            BundleStepEvent(event=_EVENT_OF_STEP[s.kind], asset=s.asset, amount=s.amount)
            for s in self.steps
            if s.kind in _EVENT_OF_STEP
        ]


# Revert reasons of the protocols, by the step kinds that raise them (AAVE v3 error names as
# reported by the stand-ins; Uniswap V2 router and Instadapp connector messages verbatim).
_REASON_STEPS: Final[tuple[tuple[str, tuple[StepKind, ...]], ...]] = (
    ("COLLATERAL_CANNOT_COVER_NEW_BORROW", (StepKind.BORROW,)),
    ("COLLATERAL_BALANCE_IS_ZERO", (StepKind.BORROW,)),
    ("LTV_VALIDATION_FAILED", (StepKind.BORROW, StepKind.WITHDRAW)),
    ("BORROWING_NOT_ENABLED", (StepKind.BORROW,)),
    ("BORROW_CAP_EXCEEDED", (StepKind.BORROW,)),
    ("SUPPLY_CAP_EXCEEDED", (StepKind.SUPPLY,)),
    ("INCONSISTENT_EMODE_CATEGORY", (StepKind.BORROW, StepKind.SET_EMODE)),
    ("HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD", (StepKind.WITHDRAW, StepKind.BORROW)),
    ("NOT_ENOUGH_AVAILABLE_USER_BALANCE", (StepKind.WITHDRAW,)),
    ("NO_DEBT_OF_SELECTED_TYPE", (StepKind.REPAY,)),
    ("Too much slippage", (StepKind.SWAP,)),
    ("INSUFFICIENT_OUTPUT_AMOUNT", (StepKind.SWAP,)),
    ("amount-paid-less", (StepKind.FLASH_REPAY,)),
    ("ZERO_DEPOSIT", (StepKind.STAKE,)),
    ("wrap zero", (StepKind.WRAP_LST,)),
)


def failing_step(bundle: AtomicBundle, reason: str) -> tuple[str, list[str]]:
    """
    Name the step a revert reason points at.

    ``reason`` may be a protocol's error name or message, or AAVE v3's numeric error code.

    Returns
    -------
    tuple[str, list[str]]
        The most likely step label (``"unknown"`` when the reason matches no known protocol
        error) and every candidate label of the matching kinds.
    """
    labels = bundle.labels()
    reason = AAVE_V3_ERROR_CODES.get(reason.strip(), reason)
    for needle, kinds in _REASON_STEPS:
        if needle.lower() in reason.lower():
            for kind in kinds:
                candidates = [labels[i] for i, step in enumerate(bundle.steps) if step.kind is kind]
                if candidates:
                    return candidates[0], candidates
    return "unknown", []


def refuse_cowswap(steps: Sequence[BundleStep]) -> None:
    """
    Refuse CowSwap inside an atomic bundle (seed 000, "CowSwap Limitation").

    Raises
    ------
    InvalidOrder
        If any step would route through CowSwap: its off-chain solvers settle in their own
        transaction, which cannot be part of a flash-loan bundle. Use an on-chain DEX.
    """
    for step in steps:
        if step.venue.upper() == COWSWAP_VENUE:
            raise InvalidOrder(
                "CowSwap cannot execute inside an atomic bundle: its solvers settle off-chain "
                "in a separate transaction; route the swap through an on-chain DEX "
                "(Uniswap, Curve, 1inch)",
                venue=COWSWAP_VENUE,
                details={"rule": "COWSWAP_IN_ATOMIC_BUNDLE"},
            )


__all__ = [
    "COWSWAP_VENUE",
    "AtomicBundle",
    "BundleKind",
    "BundleStep",
    "StepKind",
    "SwapBound",
    "TargetRange",
    "describe_revert",
    "failing_step",
    "refuse_cowswap",
]
