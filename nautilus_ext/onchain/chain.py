"""
The single boundary between the on-chain module and web3 / the node.

Every contract call, simulation, gas estimate and transaction goes through :class:`ChainGateway`,
which translates web3, eth-tester and transport exceptions into the project's error taxonomy
with ``raise ... from e`` (STYLE.md, "Errors"). Nothing above this module catches a third-party
exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.errors import ExternalError
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.errors import VenueUnavailable
from nautilus_ext.onchain.config import GAS_LIMIT_BUFFER

log = logging.getLogger(__name__)

VENUE: Final[str] = "ONCHAIN"

_REVERT_PREFIXES: Final[tuple[str, ...]] = ("execution reverted: ", "execution reverted")


def revert_reason(exc: BaseException) -> str:
    """Extract the revert reason string a node or eth-tester reported (best effort)."""
    text = str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc.args[0] if exc.args else None, dict):
        text = str(exc.args[0].get("message", text))
    for prefix in _REVERT_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
    return text.strip()


def _tester_exceptions() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """
    eth-tester's revert and validation errors, raised by its in-process chain (the test kit's).

    eth-tester is a dev-only distribution: a plain install has no such chain and none of its
    errors, so both tuples are empty there.
    """
    try:
        from eth_tester.exceptions import TransactionFailed
        from eth_tester.exceptions import ValidationError
    except ImportError:
        return (), ()
    return (TransactionFailed,), (ValidationError,)


def translate_exception(exc: BaseException, *, step: str) -> ExternalError:
    """
    Map a third-party exception to the project's taxonomy.

    Parameters
    ----------
    exc : BaseException
        What web3, eth-tester or the transport raised.
    step : str
        The operation being attempted (recorded in ``details['step']``).

    Returns
    -------
    ExternalError
        ``TransactionReverted`` for reverts, ``InsufficientBalance`` when the sender cannot pay,
        ``VenueUnavailable`` for transport failures, timeouts and any other node error.
    """
    from web3.exceptions import ContractLogicError
    from web3.exceptions import TimeExhausted
    from web3.exceptions import Web3Exception

    tester_reverts, tester_invalid = _tester_exceptions()
    if isinstance(exc, (*tester_reverts, ContractLogicError)):
        reason = revert_reason(exc)
        return TransactionReverted(
            f"{step} reverted: {reason}",
            venue=VENUE,
            details={"step": step, "reason": reason},
        )
    message = str(exc)
    if "insufficient funds" in message.lower():
        return InsufficientBalance(
            f"{step}: sender cannot pay value plus gas ({message})",
            venue=VENUE,
            details={"step": step},
        )
    if isinstance(exc, TimeExhausted):
        return VenueUnavailable(
            f"{step}: timed out waiting for the receipt", venue=VENUE, details={"step": step}
        )
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return VenueUnavailable(
            f"{step}: node unreachable ({type(exc).__name__})", venue=VENUE, details={"step": step}
        )
    if isinstance(exc, (Web3Exception, *tester_invalid, ValueError)):
        return VenueUnavailable(
            f"{step}: node error {type(exc).__name__}: {message}",
            venue=VENUE,
            retryable=False,
            details={"step": step},
        )
    return VenueUnavailable(
        f"{step}: unexpected {type(exc).__name__}: {message}",
        venue=VENUE,
        retryable=False,
        details={"step": step},
    )


def buffered_gas_limit(estimate: int) -> int:
    """Return ``ceil(estimate × 1.2)``, the gas limit sent with every transaction."""
    if estimate <= 0:
        raise ValueError(f"gas estimate {estimate} must be positive")
    return int((Decimal(estimate) * GAS_LIMIT_BUFFER).to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """
    What the module keeps of a mined transaction.

    Parameters
    ----------
    tx_hash : str
        Transaction hash (hex).
    block_number : int
        Block it was mined in.
    gas_used : int
        Gas consumed.
    gas_limit : int
        Gas limit sent (estimate × 1.2).
    effective_gas_price : int
        Wei per gas paid.
    """

    tx_hash: str
    block_number: int
    gas_used: int
    gas_limit: int
    effective_gas_price: int

    @property
    def fee_wei(self) -> int:
        """Gas fee paid in wei."""
        return self.gas_used * self.effective_gas_price


# Chain ids of local stand-ins (eth-tester, Ganache/Hardhat/Anvil defaults): the only chains a
# gateway opened for local setup may write to without a gate release
LOCAL_CHAIN_IDS: Final = frozenset({1337, 31337, 131277322940537})

# the bundle hash the safety gate released for the transaction being sent (set by the executor)
_RELEASE: ContextVar[str | None] = ContextVar("nautilus_ext_onchain_release", default=None)


@contextmanager
def released(bundle_hash: str) -> Iterator[None]:
    """Let this context's transactions through a guarded gateway: the gate released ``bundle_hash``."""
    token = _RELEASE.set(bundle_hash)
    try:
        yield
    finally:
        _RELEASE.reset(token)


class ChainGateway:
    """
    Calls, simulations and transactions against one node, with exceptions translated.

    Every transaction needs a safety-gate release: :class:`~nautilus_ext.onchain.executor.
    AtomicBundleExecutor` sends a bundle inside :func:`released` once its gate allowed it, and
    any other write (a protocol client's ``supply``, ``cast``, ...) is refused with
    ``RISK_BLOCKED`` (rule ``not_released``) before anything is signed (seed 001: nothing may
    reach a chain except through the safety layer). Reads and simulations are free.

    Parameters
    ----------
    w3 : web3.Web3
        A connected Web3 instance.
    receipt_timeout_secs : float
        Wait bound for a receipt.
    local_setup : bool
        Allow writes without a release, for setting up a local stand-in chain (deploying and
        funding contracts in tests and demos): refused unless the node's chain id is a local
        one (:data:`LOCAL_CHAIN_IDS`).

    Raises
    ------
    InvalidConfig
        If ``local_setup`` is asked for on a chain that is not local.
    """

    def __init__(self, w3: Any, *, receipt_timeout_secs: float = 120.0, local_setup: bool = False) -> None:
        self._w3 = w3
        self._receipt_timeout_secs = receipt_timeout_secs
        if local_setup:
            chain_id = int(w3.eth.chain_id)
            if chain_id not in LOCAL_CHAIN_IDS:
                raise InvalidConfig(
                    f"local_setup gateways write without a safety-gate release and are only for "
                    f"local stand-in chains {sorted(LOCAL_CHAIN_IDS)}; this node is chain {chain_id}"
                )
        self._local_setup = local_setup

    @property
    def local_setup(self) -> bool:
        """Whether writes go through without a gate release (local stand-in chains only)."""
        return self._local_setup

    @property
    def w3(self) -> Any:
        """The underlying Web3 instance (for contract objects; never call it directly)."""
        return self._w3

    def contract(self, address: str, abi: list[dict[str, Any]]) -> Any:
        """Return a web3 contract object for ``address``."""
        return self._w3.eth.contract(address=self._w3.to_checksum_address(address), abi=abi)

    def call(self, fn: Any, *, step: str, sender: str | None = None, value: int = 0) -> Any:
        """Run a read-only call (or a simulation of a write) and return its decoded result."""
        tx: dict[str, Any] = {"value": value}
        if sender is not None:
            tx["from"] = sender
        try:
            return fn.call(tx)
        except Exception as e:
            raise translate_exception(e, step=step) from e

    def estimate_gas(self, fn: Any, *, step: str, sender: str, value: int = 0) -> int:
        """Return the node's gas estimate for a write (reverts surface as errors)."""
        try:
            return int(fn.estimate_gas({"from": sender, "value": value}))
        except Exception as e:
            raise translate_exception(e, step=step) from e

    def send(
        self,
        fn: Any,
        *,
        step: str,
        sender: str,
        value: int = 0,
        gas_limit: int | None = None,
    ) -> TxReceipt:
        """
        Send a transaction and wait for its receipt.

        Without ``gas_limit``: simulate with ``eth_call``, estimate gas and send with a 1.2×
        limit. With it (the caller already simulated and estimated): send as is.

        Raises
        ------
        RiskBlocked
            If no safety-gate release covers the transaction (rule ``not_released``).
        TransactionReverted
            If the simulation, the estimate or the mined transaction reverts.
        """
        if not self._local_setup and _RELEASE.get() is None:
            raise RiskBlocked(
                f"{step}: no safety-gate release covers this transaction; on-chain writes go "
                "through AtomicBundleExecutor (a SafetyGate decision) and nothing was sent",
                venue=VENUE,
                details={"rule": "not_released", "step": step},
            )
        if gas_limit is None:
            self.call(fn, step=step, sender=sender, value=value)
            gas_limit = buffered_gas_limit(self.estimate_gas(fn, step=step, sender=sender, value=value))
        try:
            tx_hash = fn.transact({"from": sender, "value": value, "gas": gas_limit})
            receipt = self._w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self._receipt_timeout_secs)
        except Exception as e:
            raise translate_exception(e, step=step) from e
        if receipt["status"] != 1:
            raise TransactionReverted(
                f"{step} reverted on chain (tx {receipt['transactionHash'].hex()})",
                venue=VENUE,
                details={"step": step, "tx_hash": receipt["transactionHash"].hex()},
            )
        log.info(
            "onchain tx mined",
            extra={"step": step, "gas_used": receipt["gasUsed"], "block": receipt["blockNumber"]},
        )
        return TxReceipt(
            tx_hash=receipt["transactionHash"].hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            gas_limit=gas_limit,
            effective_gas_price=int(receipt.get("effectiveGasPrice", 0)),
        )

    def block_timestamp(self) -> int:
        """Return the latest block's timestamp."""
        try:
            return int(self._w3.eth.get_block("latest")["timestamp"])
        except Exception as e:
            raise translate_exception(e, step="get_block") from e

    def eth_balance(self, address: str) -> int:
        """Return the native balance of ``address`` in wei."""
        try:
            return int(self._w3.eth.get_balance(self._w3.to_checksum_address(address)))
        except Exception as e:
            raise translate_exception(e, step="get_balance") from e


__all__ = [
    "VENUE",
    "ChainGateway",
    "TxReceipt",
    "buffered_gas_limit",
    "revert_reason",
    "translate_exception",
]
