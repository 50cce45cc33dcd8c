"""
The DEX adapter's one boundary with web3: batched reads and exception translation.

:func:`batch_call` sends many contract reads as one JSON-RPC batch pinned to one block (the
chain kit has no Multicall3, and a batch needs no contract), so a pool state is a consistent
view of that block. Every third-party exception is translated here with ``raise ... from e``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import Final

from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.errors import VenueUnavailable

VENUE: Final[str] = "DEX"
_BATCH_SIZE: Final[int] = 500  # calls per JSON-RPC batch (nodes cap batch sizes)


def translate(exc: BaseException, *, step: str) -> ExternalError:
    """Map a web3 or transport exception to the project's taxonomy (``details['step']`` = ``step``)."""
    from web3.exceptions import ContractLogicError

    if isinstance(exc, ContractLogicError):
        reason = str(exc.message if hasattr(exc, "message") else exc)
        reason = reason.removeprefix("execution reverted: ").removeprefix("execution reverted")
        return TransactionReverted(
            f"{step} reverted: {reason.strip()}",
            venue=VENUE,
            details={"step": step, "reason": reason.strip()},
        )
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return VenueUnavailable(
            f"{step}: node unreachable ({type(exc).__name__})", venue=VENUE, details={"step": step}
        )
    return VenueUnavailable(
        f"{step}: node error {type(exc).__name__}: {exc}",
        venue=VENUE,
        retryable=False,
        details={"step": step},
    )


def batch_call(w3: Any, calls: Sequence[Any], block: int | str, step: str) -> list[Any]:
    """
    Run contract reads ``calls`` (web3 contract functions) at ``block`` in JSON-RPC batches.

    Returns the decoded results in order.

    Raises
    ------
    VenueUnavailable, TransactionReverted
        The node failed or a read reverted.
    """
    out: list[Any] = []
    try:
        for start in range(0, len(calls), _BATCH_SIZE):
            chunk = calls[start : start + _BATCH_SIZE]
            with w3.batch_requests() as batch:
                for fn in chunk:
                    batch.add(fn.call(block_identifier=block))
                out.extend(batch.execute())
    except Exception as e:
        raise translate(e, step=step) from e
    return out


def latest_block(w3: Any) -> tuple[int, int]:
    """Return the latest block's number and timestamp."""
    try:
        block = w3.eth.get_block("latest")
    except Exception as e:
        raise translate(e, step="get_block") from e
    return int(block["number"]), int(block["timestamp"])


__all__ = ["VENUE", "batch_call", "latest_block", "translate"]
