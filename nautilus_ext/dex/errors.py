"""
Typed errors of the pool math.

A swap the contract would revert is refused with :class:`SwapRefused`, whose ``reason`` is the
contract's own revert string (``"SPL"``, ``"AS"``, ``"BAL#304"``...), so a caller can compare a
refusal with an on-chain revert. A pool state that cannot exist on chain is an
:class:`~nautilus_ext.errors.InvalidConfig`.
"""

from __future__ import annotations

from typing import Any

from nautilus_ext.errors import InvalidOrder


class SwapRefused(InvalidOrder):
    """
    The pool's contract would revert this swap.

    Parameters
    ----------
    reason : str
        The contract's revert reason (``"SPL"``: price limit on the wrong side, ``"AS"``: zero
        amount, ``"LIQUIDITY"``: the pool cannot deliver the requested output...).
    message : str
        What is wrong, naming the offending value.
    """

    def __init__(self, reason: str, message: str, **context: Any) -> None:
        details = dict(context.pop("details", None) or {})
        details["reason"] = reason
        super().__init__(f"{message} [{reason}]", details=details, **context)
        self.reason = reason


__all__ = ["SwapRefused"]
