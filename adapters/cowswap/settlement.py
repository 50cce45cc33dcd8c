"""
Read and write CoW's ``GPv2Settlement`` over web3: the domain separator, the vault relayer,
``filledAmount``, ``Trade`` and ``OrderInvalidated`` events, ERC-20 balances and allowances,
and the owner's on-chain ``invalidateOrder``.

Transactions are signed locally with the owner's key (``eth_account``): gas from
``eth_estimateGas`` x 1.2, EIP-1559 fees capped by ``max_fee_per_gas_wei``. Every web3 failure
leaves as a typed error (:class:`~nautilus_ext.errors.VenueUnavailable` for the node,
:class:`~nautilus_ext.errors.TransactionReverted` for a revert).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Final

from eth_account import Account

from nautilus_ext.adapters.cowswap.constants import COWSWAP_VENUE
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.errors import VenueUnavailable

SETTLEMENT_ABI: Final[list[dict[str, Any]]] = [
    {"type": "function", "name": "domainSeparator", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "bytes32"}]},
    {"type": "function", "name": "vaultRelayer", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "address"}]},
    {"type": "function", "name": "filledAmount", "stateMutability": "view",
     "inputs": [{"name": "", "type": "bytes"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "invalidateOrder", "stateMutability": "nonpayable",
     "inputs": [{"name": "orderUid", "type": "bytes"}], "outputs": []},
    {"type": "event", "name": "Trade", "anonymous": False, "inputs": [
        {"name": "owner", "type": "address", "indexed": True},
        {"name": "sellToken", "type": "address", "indexed": False},
        {"name": "buyToken", "type": "address", "indexed": False},
        {"name": "sellAmount", "type": "uint256", "indexed": False},
        {"name": "buyAmount", "type": "uint256", "indexed": False},
        {"name": "feeAmount", "type": "uint256", "indexed": False},
        {"name": "orderUid", "type": "bytes", "indexed": False}]},
    {"type": "event", "name": "OrderInvalidated", "anonymous": False, "inputs": [
        {"name": "owner", "type": "address", "indexed": True},
        {"name": "orderUid", "type": "bytes", "indexed": False}]},
]  # fmt: skip
"""The part of ``GPv2Settlement``'s ABI this adapter uses (from ``@cowprotocol/contracts``)."""
ERC20_ABI: Final[list[dict[str, Any]]] = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "", "type": "address"}, {"name": "", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]  # fmt: skip
_GAS_MARGIN_NUM: Final[int] = 12
_GAS_MARGIN_DEN: Final[int] = 10


@dataclass(frozen=True, slots=True)
class CowTradeEvent:
    """One ``Trade`` event of the settlement contract (amounts in base units; sell includes the fee)."""

    order_uid: str
    owner: str
    sell_token: str
    buy_token: str
    sell_amount: int
    buy_amount: int
    fee_amount: int
    tx_hash: str
    block_number: int
    log_index: int


class CowSettlementChain:
    """
    The settlement contract and ERC-20 tokens on one chain.

    Parameters
    ----------
    w3 : web3.Web3
        A connected web3 instance.
    settlement : str
        ``GPv2Settlement`` address.
    max_fee_per_gas_wei : int
        Cap on the EIP-1559 ``maxFeePerGas`` of transactions sent here.
    """

    def __init__(self, w3: Any, settlement: str, *, max_fee_per_gas_wei: int = 500 * 10**9) -> None:
        self._w3 = w3
        self.contract = w3.eth.contract(address=w3.to_checksum_address(settlement), abi=SETTLEMENT_ABI)
        self._max_fee = max_fee_per_gas_wei

    @property
    def address(self) -> str:
        """The settlement address."""
        return str(self.contract.address)

    def _call(self, what: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as e:
            raise VenueUnavailable(
                f"chain read {what} failed: {type(e).__name__}: {e}", venue=COWSWAP_VENUE
            ) from e

    def chain_id(self) -> int:
        """The node's chain id."""
        return int(self._call("eth_chainId", lambda: self._w3.eth.chain_id))

    def block_timestamp(self) -> int:
        """Timestamp of the latest block (the clock ``validTo`` is judged by)."""
        return int(self._call("latest block", lambda: self._w3.eth.get_block("latest")["timestamp"]))

    def block_number(self) -> int:
        """Number of the latest block."""
        return int(self._call("eth_blockNumber", lambda: self._w3.eth.block_number))

    def domain_separator(self) -> bytes:
        """``domainSeparator()``."""
        return bytes(self._call("domainSeparator", self.contract.functions.domainSeparator().call))

    def vault_relayer(self) -> str:
        """``vaultRelayer()``: the spender an owner approves."""
        return str(self._call("vaultRelayer", self.contract.functions.vaultRelayer().call))

    def filled_amount(self, uid: str) -> int:
        """``filledAmount(uid)`` (``2**256 - 1`` once invalidated on-chain)."""
        raw = bytes.fromhex(uid.removeprefix("0x"))
        return int(self._call("filledAmount", self.contract.functions.filledAmount(raw).call))

    def _token(self, token: str) -> Any:
        return self._w3.eth.contract(address=self._w3.to_checksum_address(token), abi=ERC20_ABI)

    def balance_of(self, token: str, owner: str) -> int:
        """ERC-20 ``balanceOf(owner)``."""
        fn = self._token(token).functions.balanceOf(self._w3.to_checksum_address(owner))
        return int(self._call("balanceOf", fn.call))

    def allowance(self, token: str, owner: str, spender: str) -> int:
        """ERC-20 ``allowance(owner, spender)``."""
        w3 = self._w3
        fn = self._token(token).functions.allowance(
            w3.to_checksum_address(owner), w3.to_checksum_address(spender)
        )
        return int(self._call("allowance", fn.call))

    def trade_events(
        self, *, order_uid: str | None = None, owner: str | None = None, from_block: int = 0
    ) -> list[CowTradeEvent]:
        """``Trade`` events from ``from_block``, filtered by order UID and/or owner."""

        def fetch() -> Any:
            return self.contract.events.Trade().get_logs(from_block=from_block, to_block="latest")

        out = []
        for log in self._call("Trade logs", fetch):
            args = log["args"]
            uid = "0x" + bytes(args["orderUid"]).hex()
            if order_uid is not None and uid != order_uid.lower():
                continue
            if owner is not None and args["owner"].lower() != owner.lower():
                continue
            out.append(
                CowTradeEvent(
                    order_uid=uid,
                    owner=str(args["owner"]),
                    sell_token=str(args["sellToken"]),
                    buy_token=str(args["buyToken"]),
                    sell_amount=int(args["sellAmount"]),
                    buy_amount=int(args["buyAmount"]),
                    fee_amount=int(args["feeAmount"]),
                    tx_hash="0x" + bytes(log["transactionHash"]).hex().removeprefix("0x"),
                    block_number=int(log["blockNumber"]),
                    log_index=int(log["logIndex"]),
                )
            )
        return out

    def invalidated(self, uid: str, from_block: int = 0) -> bool:
        """Whether an ``OrderInvalidated`` event names ``uid``."""

        def fetch() -> Any:
            return self.contract.events.OrderInvalidated().get_logs(from_block=from_block, to_block="latest")

        return any(
            "0x" + bytes(log["args"]["orderUid"]).hex() == uid.lower() for log in self._call("logs", fetch)
        )

    def send(self, fn: Any, private_key: str, *, what: str) -> dict[str, Any]:
        """Sign ``fn`` locally with ``private_key``, send it, wait for the receipt; raise on revert."""
        account = Account.from_key(private_key)
        w3 = self._w3
        try:
            tx = fn.build_transaction(
                {
                    "from": account.address,
                    "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                    "chainId": w3.eth.chain_id,
                }
            )
            gas = w3.eth.estimate_gas(tx)
            base = int(w3.eth.get_block("latest")["baseFeePerGas"])
            tip = min(10**9, self._max_fee)
            tx.update(
                {
                    "gas": gas * _GAS_MARGIN_NUM // _GAS_MARGIN_DEN,
                    "maxPriorityFeePerGas": tip,
                    "maxFeePerGas": min(self._max_fee, 2 * base + tip),
                }
            )
            tx.pop("gasPrice", None)
            signed = account.sign_transaction(tx)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        except Exception as e:
            text = f"{type(e).__name__}: {e}"
            if "revert" in text.lower():
                raise TransactionReverted(
                    f"{what} reverted: {text}", venue=COWSWAP_VENUE, details={"step": what}
                ) from e
            raise VenueUnavailable(f"{what} not sent: {text}", venue=COWSWAP_VENUE) from e
        if receipt["status"] != 1:
            raise TransactionReverted(
                f"{what} reverted on chain",
                venue=COWSWAP_VENUE,
                details={
                    "step": what,
                    "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x"),
                },
            )
        return dict(receipt)

    def invalidate_order(self, uid: str, private_key: str) -> dict[str, Any]:
        """The owner's ``invalidateOrder(uid)``: no solver can settle it afterwards."""
        raw = bytes.fromhex(uid.removeprefix("0x"))
        return self.send(self.contract.functions.invalidateOrder(raw), private_key, what="invalidateOrder")

    def approve(self, token: str, spender: str, amount: int, private_key: str) -> dict[str, Any]:
        """ERC-20 ``approve(spender, amount)`` from the key's address (exact amounts by default)."""
        fn = self._token(token).functions.approve(self._w3.to_checksum_address(spender), amount)
        return self.send(fn, private_key, what="approve")


__all__ = ["ERC20_ABI", "SETTLEMENT_ABI", "CowSettlementChain", "CowTradeEvent"]
