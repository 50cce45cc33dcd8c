"""
The single boundary between the on-chain module and web3 / the node.

Every contract call, simulation, gas estimate and transaction goes through :class:`ChainGateway`,
which translates web3, eth-tester and transport exceptions into the project's error taxonomy
with ``raise ... from e`` (STYLE.md, "Errors"). Nothing above this module catches a third-party
exception.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_CEILING
from decimal import Decimal
from typing import Any
from typing import Final
from typing import final

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


AAVE_V3_ERROR_CODES: Final[dict[str, str]] = {
    "26": "INVALID_AMOUNT",
    "27": "RESERVE_INACTIVE",
    "28": "RESERVE_FROZEN",
    "29": "RESERVE_PAUSED",
    "30": "BORROWING_NOT_ENABLED",
    "32": "NOT_ENOUGH_AVAILABLE_USER_BALANCE",
    "34": "COLLATERAL_BALANCE_IS_ZERO",
    "35": "HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD",
    "36": "COLLATERAL_CANNOT_COVER_NEW_BORROW",
    "39": "NO_DEBT_OF_SELECTED_TYPE",
    "43": "UNDERLYING_BALANCE_ZERO",
    "50": "BORROW_CAP_EXCEEDED",
    "51": "SUPPLY_CAP_EXCEEDED",
    "57": "LTV_VALIDATION_FAILED",
    "58": "INCONSISTENT_EMODE_CATEGORY",
}
"""AAVE v3 (core-v3 1.19 ``Errors.sol``) reverts with these numeric strings, not the names."""


def describe_revert(reason: str) -> str:
    """A revert reason with AAVE v3's numeric code spelled out (``"36 (COLLATERAL_...)"``)."""
    name = AAVE_V3_ERROR_CODES.get(reason.strip())
    return f"{reason.strip()} ({name})" if name else reason


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
        reason = describe_revert(revert_reason(exc))
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


@final
class GateRelease:
    """
    A safety-gate decision that lets exactly one transaction through a guarded gateway.

    Only :meth:`~nautilus_ext.onchain.gated.BundleGate.release` (a bundle) and
    :meth:`~nautilus_ext.onchain.swaps.SwapGate.release` (a DEX swap's approval and router call)
    mint one, after the :class:`~nautilus_ext.safety.gate.SafetyGate` allowed it; the executor that asked
    holds it. A gateway honours a token only if it is the very object minted (checked by
    identity against the outstanding tokens, not by its fields), the transaction is the one the
    decision covered (the bundle's cast: chain, contract, function and arguments) and the token
    was never presented before: it is spent on first use. A constructed look-alike, a spent or
    revoked token, or a token presented for another transaction is refused with
    ``RISK_BLOCKED`` before anything is signed.

    Parameters
    ----------
    bundle_hash : str
        The content hash of the bundle the gate allowed.
    """

    __slots__ = ("bundle_hash",)

    def __init__(self, bundle_hash: str) -> None:
        self.bundle_hash = bundle_hash

    def __repr__(self) -> str:
        return f"GateRelease(bundle_hash={self.bundle_hash[:16]}...)"


# outstanding gate releases: id(token) -> (token, bundle hash, call fingerprint). Holding the
# token keeps its id unique while it is outstanding; spent and revoked tokens are removed.
_OUTSTANDING: dict[int, tuple[GateRelease, str, str]] = {}
_OUTSTANDING_LOCK = threading.Lock()

# the gate release presented for the transaction being sent (set by the executor)
_RELEASE: ContextVar[object | None] = ContextVar("nautilus_ext_onchain_release", default=None)


def _mint_release(bundle_hash: str, fingerprint: str) -> GateRelease:
    # called by BundleGate.release on an ALLOW decision only (module-private on purpose)
    token = GateRelease(bundle_hash)
    with _OUTSTANDING_LOCK:
        _OUTSTANDING[id(token)] = (token, bundle_hash, fingerprint)
    return token


def revoke_release(token: object) -> bool:
    """Withdraw an unspent gate release (a kill, a bundle not sent); return whether it was outstanding."""
    with _OUTSTANDING_LOCK:
        entry = _OUTSTANDING.get(id(token))
        if entry is None or entry[0] is not token:
            return False
        del _OUTSTANDING[id(token)]
        return True


def outstanding_releases() -> int:
    """Return how many gate releases are minted and neither spent nor revoked."""
    with _OUTSTANDING_LOCK:
        return len(_OUTSTANDING)


def _spend_release(token: object) -> tuple[str, str] | None:
    # the token's (bundle hash, fingerprint) if it is an outstanding minted token, now spent
    with _OUTSTANDING_LOCK:
        entry = _OUTSTANDING.get(id(token))
        if entry is None or entry[0] is not token:
            return None
        del _OUTSTANDING[id(token)]
        return entry[1], entry[2]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else value
    return value if isinstance(value, int | bool) or value is None else str(value)


@contextmanager
def released(token: GateRelease | None) -> Iterator[None]:
    """
    Present ``token`` for this context's transactions through a guarded gateway.

    Presenting proves nothing by itself: the gateway checks that ``token`` is an outstanding
    release minted on a gate decision and covers the transaction (see :class:`GateRelease`).
    """
    reset = _RELEASE.set(token)
    try:
        yield
    finally:
        _RELEASE.reset(reset)


class ChainGateway:
    """
    Calls, simulations and transactions against one node, with exceptions translated.

    Every transaction needs a safety-gate release: :class:`~nautilus_ext.onchain.executor.
    AtomicBundleExecutor` sends a bundle inside :func:`released` with the single-use
    :class:`GateRelease` its gate minted for that bundle's cast, and any other write (a protocol
    client's ``supply``, ``cast``, a forged, spent or foreign token ...) is refused with
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
    max_fee_per_gas_wei : int, optional
        Gas price cap. When the node's current gas price is above it, a write is refused with
        ``RISK_BLOCKED`` (rule ``gas_price_cap``) before anything is signed; otherwise the
        transaction carries ``maxFeePerGas`` = the cap, so it never pays more.

    Raises
    ------
    InvalidConfig
        If ``local_setup`` is asked for on a chain that is not local.
    """

    def __init__(
        self,
        w3: Any,
        *,
        receipt_timeout_secs: float = 120.0,
        local_setup: bool = False,
        max_fee_per_gas_wei: int | None = None,
    ) -> None:
        if max_fee_per_gas_wei is not None and max_fee_per_gas_wei <= 0:
            raise InvalidConfig(f"max_fee_per_gas_wei must be positive, got {max_fee_per_gas_wei}")
        self._max_fee_per_gas_wei = max_fee_per_gas_wei
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
        self._chain_id: int | None = None

    @property
    def local_setup(self) -> bool:
        """Whether writes go through without a gate release (local stand-in chains only)."""
        return self._local_setup

    @property
    def max_fee_per_gas_wei(self) -> int | None:
        """The EIP-1559 ``maxFeePerGas`` cap of every write (``None``: the node's default fees)."""
        return self._max_fee_per_gas_wei

    @property
    def w3(self) -> Any:
        """The underlying Web3 instance (for contract objects; never call it directly)."""
        return self._w3

    def fingerprint(self, fn: Any) -> str:
        """
        Return the SHA-256 of what a transaction calling ``fn`` would do on this node's chain.

        It covers the chain id, the contract address, the function name and every argument: a
        :class:`GateRelease` minted for one call covers no other.
        """
        if self._chain_id is None:
            try:
                self._chain_id = int(self._w3.eth.chain_id)
            except Exception as e:
                raise translate_exception(e, step="chain_id") from e
        payload = [self._chain_id, _jsonable(fn.address), str(fn.fn_name), _jsonable(list(fn.args))]
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

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
        nonce: int | None = None,
    ) -> TxReceipt:
        """
        Send a transaction and wait for its receipt.

        Without ``gas_limit``: simulate with ``eth_call``, estimate gas and send with a 1.2×
        limit. With it (the caller already simulated and estimated): send as is. ``nonce``
        (the caller manages nonces) is sent as given; without it the node picks the next one.

        Raises
        ------
        RiskBlocked
            If no safety-gate release covers the transaction (rule ``not_released``), or the
            gas price is above the cap (rule ``gas_price_cap``).
        TransactionReverted
            If the simulation, the estimate or the mined transaction reverts.
        """
        if not self._local_setup:
            self._check_release(fn, step)
        fees = self._fee_fields(step)
        if gas_limit is None:
            self.call(fn, step=step, sender=sender, value=value)
            gas_limit = buffered_gas_limit(self.estimate_gas(fn, step=step, sender=sender, value=value))
        try:
            tx: dict[str, Any] = {"from": sender, "value": value, "gas": gas_limit, **fees}
            if nonce is not None:
                tx["nonce"] = nonce
            tx_hash = fn.transact(tx)
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

    def _fee_fields(self, step: str) -> dict[str, int]:
        # the gas price cap, checked before signing; the cap bounds what the transaction may pay
        cap = self._max_fee_per_gas_wei
        if cap is None:
            return {}
        try:
            price = int(self._w3.eth.gas_price)
            tip = int(self._w3.eth.max_priority_fee)
        except Exception as e:
            raise translate_exception(e, step=f"{step} gas price") from e
        if price > cap:
            raise RiskBlocked(
                f"{step}: gas price {price} wei is above the cap {cap} wei; nothing was sent",
                venue=VENUE,
                details={
                    "rule": "gas_price_cap",
                    "step": step,
                    "gas_price_wei": price,
                    "max_fee_per_gas_wei": cap,
                },
            )
        return {"maxFeePerGas": cap, "maxPriorityFeePerGas": min(tip, cap)}

    def _check_release(self, fn: Any, step: str) -> None:
        # before anything is signed: an outstanding minted token, spent now, covering this call
        token = _RELEASE.get()
        problem = None
        if token is None:
            problem = "no safety-gate release covers this transaction"
        else:
            spent = _spend_release(token)
            if spent is None:
                problem = (
                    "the release presented is not an outstanding safety-gate decision "
                    "(forged, spent or revoked)"
                )
            elif spent[1] != self.fingerprint(fn):
                problem = (
                    f"the gate released bundle {spent[0][:16]}, not this transaction "
                    "(the release is now spent)"
                )
        if problem is not None:
            raise RiskBlocked(
                f"{step}: {problem}; on-chain writes go through AtomicBundleExecutor (a SafetyGate "
                "decision) and nothing was sent",
                venue=VENUE,
                details={"rule": "not_released", "step": step},
            )

    def block_timestamp(self) -> int:
        """Return the latest block's timestamp."""
        try:
            return int(self._w3.eth.get_block("latest")["timestamp"])
        except Exception as e:
            raise translate_exception(e, step="get_block") from e

    def transaction_count(self, address: str) -> int:
        """Return the next nonce of ``address`` counting pending transactions."""
        try:
            return int(self._w3.eth.get_transaction_count(self._w3.to_checksum_address(address), "pending"))
        except Exception as e:
            raise translate_exception(e, step="get_transaction_count") from e

    def eth_balance(self, address: str) -> int:
        """Return the native balance of ``address`` in wei."""
        try:
            return int(self._w3.eth.get_balance(self._w3.to_checksum_address(address)))
        except Exception as e:
            raise translate_exception(e, step="get_balance") from e


__all__ = [
    "AAVE_V3_ERROR_CODES",
    "VENUE",
    "ChainGateway",
    "GateRelease",
    "TxReceipt",
    "buffered_gas_limit",
    "describe_revert",
    "outstanding_releases",
    "released",
    "revert_reason",
    "revoke_release",
    "translate_exception",
]
