"""
Typed errors of DEX swap execution, each naming its cause.

Router reverts are classified by their revert reason (:func:`classify_swap_revert`): a swap
that would land below ``amountOutMinimum`` (V2 ``INSUFFICIENT_OUTPUT_AMOUNT``, V3 ``Too little
received``, Balancer ``BAL#507``), an expired deadline (V2 ``EXPIRED``, V3 ``Transaction too
old``, Balancer ``BAL#508``), a missing allowance (V3/V2 ``STF``/``TRANSFER_FROM_FAILED`` with the
allowance short, ERC-20 ``insufficient allowance``, Balancer ``BAL#414``); any other revert stays
a plain :class:`~nautilus_ext.errors.TransactionReverted`.
"""

from __future__ import annotations

from typing import Any

from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import TransactionReverted


class SwapBelowMinimum(TransactionReverted):
    """The swap would deliver less than its ``amountOutMinimum`` (the price moved)."""


class SwapDeadlineExpired(TransactionReverted):
    """The swap's deadline passed before it could be mined."""


class InsufficientAllowance(InsufficientBalance):
    """The router may not pull the input: the wallet's allowance is below the swap's input."""


_BELOW_MIN = ("INSUFFICIENT_OUTPUT_AMOUNT", "Too little received", "BAL#507")
_DEADLINE = ("EXPIRED", "Transaction too old", "BAL#508")
_ALLOWANCE = ("insufficient allowance", "exceeds allowance", "BAL#414")


def classify_swap_revert(reason: str, message: str, **context: Any) -> TransactionReverted:
    """
    Return the typed error for a router revert with ``reason``.

    Parameters
    ----------
    reason : str
        The revert reason string the node reported.
    message : str
        What failed (the error's message).
    """
    details = dict(context.pop("details", None) or {})
    details["reason"] = reason
    if any(m in reason for m in _BELOW_MIN):
        details["cause"] = "BELOW_MINIMUM_OUT"
        return SwapBelowMinimum(
            f"{message}: output below amountOutMinimum ({reason})", details=details, **context
        )
    if any(m in reason for m in _DEADLINE):
        details["cause"] = "DEADLINE_EXPIRED"
        return SwapDeadlineExpired(f"{message}: deadline expired ({reason})", details=details, **context)
    details["cause"] = "REVERTED"
    return TransactionReverted(f"{message}: reverted ({reason})", details=details, **context)


def is_allowance_revert(reason: str) -> bool:
    """Return whether ``reason`` says the router could not pull the input for lack of allowance."""
    return any(m in reason for m in _ALLOWANCE)


__all__ = [
    "InsufficientAllowance",
    "SwapBelowMinimum",
    "SwapDeadlineExpired",
    "classify_swap_revert",
    "is_allowance_revert",
]
