"""
The stand-in's order book and solver: CoW's order lifecycle over the real ``GPv2Settlement``.

Written from CoW's order-book API description and the GPv2 contracts, independently of the
client in ``nautilus_ext.adapters.cowswap`` (signatures are checked here with ``eth_account``'s
own typed-data encoder; the contract checks them again when it settles).

* **Quote** (sell orders): the network fee is ``network_fee_bps`` of the sell amount (a stand-in
  for gas priced in the sell token); the buy amount is the Uniswap V2 ``getAmountOut`` of the
  rest against the pool's reserves now.
* **Post**: checks the fields, the signature (EIP-712 or eth_sign; the recovered signer must
  equal ``from``), ``feeAmount == 0``, ``validTo`` in the future, balance and allowance to the
  vault relayer, duplicates; computes the UID as the contract does.
* **Auction** (:meth:`OrderBook.run_auction`): expires orders whose ``validTo`` the chain clock
  passed, marks orders invalidated on-chain (``filledAmount == 2**256-1``) as cancelled, and
  settles each open order whose limit the pool meets: one ``settle`` call from the allow-listed
  solver with the user's trade and two interactions (sell-token ``transfer`` to the pair and
  the pair's ``swap`` to the settlement). The fee part of the sell amount stays in the
  settlement contract. A reverted settlement leaves the order open.
* **Cancel**: an EIP-712 ``OrderCancellations`` signed by every order's owner.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Final

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from nautilus_ext_testkit.fake_cow.chain import CowChain

MAX_UINT: Final[int] = 2**256 - 1
_DOMAIN_FIELDS: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ORDER_FIELDS: Final = [
    {"name": n, "type": t}
    for n, t in (
        ("sellToken", "address"),
        ("buyToken", "address"),
        ("receiver", "address"),
        ("sellAmount", "uint256"),
        ("buyAmount", "uint256"),
        ("validTo", "uint32"),
        ("appData", "bytes32"),
        ("feeAmount", "uint256"),
        ("kind", "string"),
        ("partiallyFillable", "bool"),
        ("sellTokenBalance", "string"),
        ("buyTokenBalance", "string"),
    )
]
_ZERO: Final[str] = "0x" + "00" * 20


class ApiError(Exception):
    """An answer in CoW's error shape: HTTP status, ``errorType``, ``description``."""

    def __init__(self, status: int, error_type: str, description: str) -> None:
        super().__init__(f"{status} {error_type}: {description}")
        self.status = status
        self.error_type = error_type
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON body."""
        return {"errorType": self.error_type, "description": self.description}


@dataclass
class StoredOrder:
    """An order in the book (wire fields as posted, plus its state)."""

    uid: str
    owner: str
    fields: dict[str, Any]
    signature: str
    signing_scheme: str
    created: str
    status: str = "open"
    invalidated: bool = False
    executed_sell: int = 0
    executed_buy: int = 0
    executed_fee: int = 0
    settle_failures: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        """The ``Order`` object of ``GET /api/v1/orders/{UID}``."""
        return {
            **self.fields,
            "uid": self.uid,
            "owner": self.owner,
            "creationDate": self.created,
            "status": self.status,
            "class": "limit" if int(self.fields["feeAmount"]) == 0 else "market",
            "signingScheme": self.signing_scheme,
            "signature": self.signature,
            "executedSellAmount": str(self.executed_sell),
            "executedSellAmountBeforeFees": str(self.executed_sell - self.executed_fee),
            "executedBuyAmount": str(self.executed_buy),
            "executedFeeAmount": str(self.executed_fee),
            "invalidated": self.invalidated,
        }


class OrderBook:
    """
    Orders, quotes and the solver over one :class:`CowChain`.

    Parameters
    ----------
    chain : CowChain
        Anvil with the settlement contract and the solver's pool.
    network_fee_bps : int
        The quoted fee, in bps of the sell amount.
    """

    def __init__(self, chain: CowChain, *, network_fee_bps: int = 5) -> None:
        self.chain = chain
        self.fee_bps = network_fee_bps
        self.orders: dict[str, StoredOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.settle_enabled = True
        self.misreport_trades = False  # fault: report each trade's buyAmount one unit high
        self._quote_ids = itertools.count(1)
        w3 = chain.w3
        self._domain = {
            "name": "Gnosis Protocol",
            "version": "v2",
            "chainId": chain.chain_id,
            "verifyingContract": chain.settlement.address,
        }
        self._erc20_abi = chain.tokens["WETH"].abi
        self._w3 = w3

    # -- helpers --------------------------------------------------------------------------

    def now(self) -> int:
        """The chain clock (latest block timestamp)."""
        return int(self._w3.eth.get_block("latest")["timestamp"])

    def _token(self, address: str) -> Any:
        return self._w3.eth.contract(address=self._w3.to_checksum_address(address), abi=self._erc20_abi)

    def _address(self, value: Any, name: str) -> str:
        if not isinstance(value, str) or not self._w3.is_address(value):
            raise ApiError(400, "InvalidAddress", f"{name} {value!r} is not an address")
        return str(self._w3.to_checksum_address(value))

    def _amount(self, value: Any, name: str) -> int:
        try:
            amount = int(str(value), 10)
        except ValueError:
            raise ApiError(400, "InvalidAmount", f"{name} {value!r} is not a decimal integer") from None
        if not 0 <= amount <= MAX_UINT:
            raise ApiError(400, "InvalidAmount", f"{name} {value!r} is out of range")
        return amount

    def _pool_out(self, sell_token: str, buy_token: str, amount_in: int) -> int:
        factory = self.chain.dex.contracts["uniswap_v2_factory"]
        pair_address = factory.functions.getPair(sell_token, buy_token).call()
        if int(pair_address, 16) == 0:
            raise ApiError(404, "NoLiquidity", f"no liquidity for {sell_token} -> {buy_token}")
        pair = self._w3.eth.contract(address=pair_address, abi=self.chain.pair.abi)
        r0, r1, _ = pair.functions.getReserves().call()
        token0 = pair.functions.token0().call()
        reserve_in, reserve_out = (r0, r1) if token0.lower() == sell_token.lower() else (r1, r0)
        # UniswapV2Library.getAmountOut: 0.3 % fee on the input
        with_fee = amount_in * 997
        return int(with_fee * reserve_out // (reserve_in * 1000 + with_fee))

    def _get(self, uid: str) -> StoredOrder:
        order = self.orders.get(uid.lower())
        if order is None:
            raise ApiError(404, "OrderNotFound", f"no order {uid}")
        return order

    # -- quote ----------------------------------------------------------------------------

    def quote(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/quote`` (sell orders with ``sellAmountBeforeFee``)."""
        sell = self._address(body.get("sellToken"), "sellToken")
        buy = self._address(body.get("buyToken"), "buyToken")
        owner = self._address(body.get("from"), "from")
        if sell == buy:
            raise ApiError(400, "SameBuyAndSellToken", "sellToken equals buyToken")
        if body.get("kind") != "sell" or body.get("sellAmountBeforeFee") is None:
            raise ApiError(
                400, "UnsupportedOrderType", "the stand-in quotes sell orders by sellAmountBeforeFee"
            )
        before_fee = self._amount(body["sellAmountBeforeFee"], "sellAmountBeforeFee")
        if before_fee == 0:
            raise ApiError(400, "ZeroAmount", "sellAmountBeforeFee is zero")
        fee = max(1, before_fee * self.fee_bps // 10_000)
        if before_fee <= fee:
            raise ApiError(400, "SellAmountDoesNotCoverFee", f"sell amount {before_fee} <= fee {fee}")
        out = self._pool_out(sell, buy, before_fee - fee)
        valid_to = int(body.get("validTo") or self.now() + 1800)
        return {
            "quote": {
                "sellToken": sell,
                "buyToken": buy,
                "receiver": body.get("receiver"),
                "sellAmount": str(before_fee - fee),
                "buyAmount": str(out),
                "validTo": valid_to,
                "appData": body.get("appData", "0x" + "00" * 32),
                "feeAmount": str(fee),
                "kind": "sell",
                "partiallyFillable": bool(body.get("partiallyFillable", False)),
                "sellTokenBalance": body.get("sellTokenBalance", "erc20"),
                "buyTokenBalance": body.get("buyTokenBalance", "erc20"),
                "signingScheme": body.get("signingScheme", "eip712"),
            },
            "from": owner,
            "expiration": datetime.fromtimestamp(self.now() + 60, UTC).isoformat().replace("+00:00", "Z"),
            "id": next(self._quote_ids),
            "verified": False,
        }

    # -- post -----------------------------------------------------------------------------

    def _message(self, f: dict[str, Any]) -> dict[str, Any]:
        return {
            "sellToken": f["sellToken"],
            "buyToken": f["buyToken"],
            "receiver": f["receiver"],
            "sellAmount": int(f["sellAmount"]),
            "buyAmount": int(f["buyAmount"]),
            "validTo": int(f["validTo"]),
            "appData": bytes.fromhex(f["appData"].removeprefix("0x")),
            "feeAmount": int(f["feeAmount"]),
            "kind": f["kind"],
            "partiallyFillable": bool(f["partiallyFillable"]),
            "sellTokenBalance": f["sellTokenBalance"],
            "buyTokenBalance": f["buyTokenBalance"],
        }

    def _digest(self, f: dict[str, Any]) -> bytes:
        signable = encode_typed_data(
            full_message={
                "types": {"EIP712Domain": _DOMAIN_FIELDS, "Order": _ORDER_FIELDS},
                "primaryType": "Order",
                "domain": self._domain,
                "message": self._message(f),
            }
        )
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def _recover(self, digest: bytes, signature: str, scheme: str) -> str:
        try:
            raw = bytes.fromhex(signature.removeprefix("0x"))
            if len(raw) != 65:
                raise ValueError("not 65 bytes")
            if scheme == "eip712":
                return str(Account._recover_hash(digest, signature=raw))
            return str(Account.recover_message(encode_defunct(primitive=digest), signature=raw))
        except Exception as e:  # any malformed or unrecoverable signature
            raise ApiError(400, "InvalidSignature", f"signature does not recover: {e}") from None

    def post(self, body: dict[str, Any]) -> str:
        """``POST /api/v1/orders``: validate, verify, store; return the UID."""
        f: dict[str, Any] = {}
        f["sellToken"] = self._address(body.get("sellToken"), "sellToken")
        f["buyToken"] = self._address(body.get("buyToken"), "buyToken")
        f["receiver"] = self._address(body.get("receiver") or _ZERO, "receiver")
        for name in ("sellAmount", "buyAmount", "feeAmount"):
            f[name] = str(self._amount(body.get(name), name))
        f["validTo"] = int(body.get("validTo", 0))
        f["appData"] = str(body.get("appData", ""))
        if not _is_hash(f["appData"]):
            raise ApiError(400, "InvalidAppData", "appData must be a 32-byte hex hash")
        f["kind"] = body.get("kind")
        f["partiallyFillable"] = bool(body.get("partiallyFillable", False))
        f["sellTokenBalance"] = body.get("sellTokenBalance", "erc20")
        f["buyTokenBalance"] = body.get("buyTokenBalance", "erc20")
        scheme = body.get("signingScheme")
        if f["kind"] != "sell":
            raise ApiError(400, "UnsupportedOrderType", "the stand-in settles sell orders only")
        if scheme not in ("eip712", "ethsign"):
            raise ApiError(
                400, "IncompatibleSigningScheme", f"signing scheme {scheme!r} is not supported here"
            )
        if f["sellTokenBalance"] != "erc20" or f["buyTokenBalance"] != "erc20":
            raise ApiError(400, "UnsupportedBuyTokenDestination", "only erc20 balances are supported here")
        if f["sellToken"] == f["buyToken"]:
            raise ApiError(400, "SameBuyAndSellToken", "sellToken equals buyToken")
        if int(f["sellAmount"]) == 0 or int(f["buyAmount"]) == 0:
            raise ApiError(400, "ZeroAmount", "sellAmount and buyAmount must be positive")
        if int(f["feeAmount"]) != 0:
            raise ApiError(400, "NonZeroFee", "orders must have feeAmount 0")
        if f["validTo"] <= self.now() + 60:
            raise ApiError(
                400, "InsufficientValidTo", f"validTo {f['validTo']} is not far enough in the future"
            )
        digest = self._digest(f)
        owner = self._recover(digest, str(body.get("signature", "")), scheme)
        claimed = body.get("from")
        if claimed is not None and self._address(claimed, "from") != owner:
            raise ApiError(400, "WrongOwner", f"signature recovers {owner}, not from={claimed}")
        uid = "0x" + (digest + bytes.fromhex(owner[2:]) + f["validTo"].to_bytes(4, "big")).hex()
        if uid in self.orders:
            raise ApiError(400, "DuplicatedOrder", f"order {uid} already exists")
        token = self._token(f["sellToken"])
        need = int(f["sellAmount"])
        if int(token.functions.balanceOf(owner).call()) < need:
            raise ApiError(400, "InsufficientBalance", f"{owner} holds less than {need} of {f['sellToken']}")
        if int(token.functions.allowance(owner, self.chain.vault_relayer).call()) < need:
            raise ApiError(
                400, "InsufficientAllowance", f"{owner} has not approved the vault relayer for {need}"
            )
        self.orders[uid] = StoredOrder(
            uid=uid,
            owner=owner,
            fields=f,
            signature=str(body["signature"]),
            signing_scheme=scheme,
            created=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        )
        return str(uid)

    # -- read -----------------------------------------------------------------------------

    def get(self, uid: str) -> dict[str, Any]:
        """``GET /api/v1/orders/{UID}`` (expiry and on-chain invalidation refreshed first)."""
        order = self._get(uid)
        self._refresh(order, self.now())
        return order.to_api()

    def get_trades(self, owner: str | None, order_uid: str | None) -> list[dict[str, Any]]:
        """``GET /api/v1/trades``."""
        if (owner is None) == (order_uid is None):
            raise ApiError(400, "InvalidTradeQuery", "give exactly one of owner and orderUid")
        if self.misreport_trades:
            return [
                {**t, "buyAmount": str(int(t["buyAmount"]) + 1)}
                for t in self.get_trades_true(owner, order_uid)
            ]
        return self.get_trades_true(owner, order_uid)

    def get_trades_true(self, owner: str | None, order_uid: str | None) -> list[dict[str, Any]]:
        """The trades as settled (without the misreporting fault)."""
        return [
            t
            for t in self.trades
            if (owner is not None and t["owner"].lower() == owner.lower())
            or (order_uid is not None and t["orderUid"] == order_uid.lower())
        ]

    # -- cancel ---------------------------------------------------------------------------

    def cancel(self, body: dict[str, Any]) -> None:
        """``DELETE /api/v1/orders``: an EIP-712 ``OrderCancellations`` signed by the owner(s)."""
        uids = body.get("orderUids")
        if not isinstance(uids, list) or not uids:
            raise ApiError(400, "InvalidCancellation", "orderUids must be a non-empty list")
        orders = [self._get(str(u)) for u in uids]
        signable = encode_typed_data(
            full_message={
                "types": {
                    "EIP712Domain": _DOMAIN_FIELDS,
                    "OrderCancellations": [{"name": "orderUids", "type": "bytes[]"}],
                },
                "primaryType": "OrderCancellations",
                "domain": self._domain,
                "message": {"orderUids": [bytes.fromhex(o.uid[2:]) for o in orders]},
            }
        )
        digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
        signer = self._recover(
            digest, str(body.get("signature", "")), str(body.get("signingScheme", "eip712"))
        )
        now = self.now()
        for order in orders:
            if order.owner != signer:
                raise ApiError(
                    401, "InvalidSignature", f"cancellation signed by {signer}, not the owner of {order.uid}"
                )
            self._refresh(order, now)
            if order.status == "cancelled":
                raise ApiError(400, "AlreadyCancelled", f"order {order.uid} is already cancelled")
            if order.status == "fulfilled":
                raise ApiError(400, "OrderFullyExecuted", f"order {order.uid} is already filled")
            if order.status == "expired":
                raise ApiError(400, "OrderExpired", f"order {order.uid} has expired")
        for order in orders:
            order.status = "cancelled"

    # -- the auction ----------------------------------------------------------------------

    def _refresh(self, order: StoredOrder, now: int) -> None:
        if order.status != "open":
            return
        if int(self.chain.settlement.functions.filledAmount(bytes.fromhex(order.uid[2:])).call()) == MAX_UINT:
            order.status, order.invalidated = "cancelled", True
        elif now > int(order.fields["validTo"]):
            order.status = "expired"

    def run_auction(self) -> int:
        """Refresh states and settle every open order the pool can fill; return how many settled."""
        now = self.now()
        settled = 0
        for order in list(self.orders.values()):
            self._refresh(order, now)
            if order.status == "open" and self.settle_enabled and self._settle(order):
                settled += 1
        return settled

    def _flags(self, order: StoredOrder) -> int:
        # GPv2Trade flags: bit 0 kind (sell 0), bit 1 partially fillable, bits 2-3 sell balance
        # (erc20 00), bit 4 buy balance (erc20 0), bits 5-6 signing scheme (eip712 00, ethsign 01)
        flags = 2 if order.fields["partiallyFillable"] else 0
        if order.signing_scheme == "ethsign":
            flags |= 1 << 5
        return flags

    def _settle(self, order: StoredOrder) -> bool:
        f = order.fields
        sell_amount, limit = int(f["sellAmount"]), int(f["buyAmount"])
        keep = sell_amount * self.fee_bps // 10_000  # the solver's network fee, in the sell token
        swap_in = sell_amount - keep
        out = self._pool_out(f["sellToken"], f["buyToken"], swap_in)
        if out < limit:
            return False  # the limit is not reachable now: the order waits
        settlement, pair = self.chain.settlement, self.chain.pair
        factory = self.chain.dex.contracts["uniswap_v2_factory"]
        pair = self._w3.eth.contract(
            address=factory.functions.getPair(f["sellToken"], f["buyToken"]).call(), abi=pair.abi
        )
        sell_is_0 = pair.functions.token0().call().lower() == f["sellToken"].lower()
        transfer = (
            self._token(f["sellToken"]).functions.transfer(pair.address, swap_in)._encode_transaction_data()
        )
        swap = pair.functions.swap(
            0 if sell_is_0 else out, out if sell_is_0 else 0, settlement.address, b""
        )._encode_transaction_data()
        trade = (
            0,
            1,
            f["receiver"],
            sell_amount,
            limit,
            int(f["validTo"]),
            bytes.fromhex(f["appData"][2:]),
            int(f["feeAmount"]),
            self._flags(order),
            sell_amount,
            bytes.fromhex(order.signature[2:]),
        )
        interactions = [[], [(self._token(f["sellToken"]).address, 0, transfer), (pair.address, 0, swap)], []]
        call = settlement.functions.settle(
            [f["sellToken"], f["buyToken"]], [out, sell_amount], [trade], interactions
        )
        try:
            call.call({"from": self.chain.solver})  # simulate first, as solvers do: a revert names its reason
            tx_hash = call.transact({"from": self.chain.solver, "gas": 1_500_000})
            receipt = self._w3.eth.wait_for_transaction_receipt(tx_hash)
        except Exception as e:  # a revert on estimation: the order stays open
            order.settle_failures.append(f"{type(e).__name__}: {e}")
            return False
        if receipt["status"] != 1:
            order.settle_failures.append("settle reverted")
            return False
        for event in settlement.events.Trade().process_receipt(receipt, errors=DISCARD):
            args = event["args"]
            if "0x" + bytes(args["orderUid"]).hex() != order.uid:
                continue
            order.executed_sell += int(args["sellAmount"])
            order.executed_buy += int(args["buyAmount"])
            order.executed_fee += int(args["feeAmount"])
            self.trades.append(
                {
                    "blockNumber": int(event["blockNumber"]),
                    "logIndex": int(event["logIndex"]),
                    "orderUid": order.uid,
                    "owner": order.owner,
                    "sellToken": str(args["sellToken"]),
                    "buyToken": str(args["buyToken"]),
                    "sellAmount": str(int(args["sellAmount"])),
                    "sellAmountBeforeFees": str(int(args["sellAmount"]) - int(args["feeAmount"])),
                    "buyAmount": str(int(args["buyAmount"])),
                    "txHash": "0x" + bytes(event["transactionHash"]).hex().removeprefix("0x"),
                }
            )
        order.status = "fulfilled"
        return True


__all__ = ["ApiError", "OrderBook", "StoredOrder"]


def _is_hash(text: str) -> bool:
    try:
        return len(bytes.fromhex(text.removeprefix("0x"))) == 32
    except ValueError:
        return False
