"""The Hyperliquid fake recovers the EIP-712 signer of every /exchange action: ccxt's real
signing passes, a wrong key, a tampered action, the wrong chain and a replayed nonce fail."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from eth_account import Account

from nautilus_ext.adapters.ccxt.client import point_urls
from nautilus_ext.adapters.ccxt.errors import ccxt_call
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import NautilusExtError
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.hyperliquid import TEST_WALLET
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import action_hash
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import recover_signer
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import sign_l1_action
from nautilus_ext_testkit.fake_exchange.hyperliquid_signing import sign_user_action

OTHER_KEY = "0x" + "22" * 32
AGENT_KEY = "0x" + "33" * 32


def _client(ex: FakeExchange, key: str, wallet: str = TEST_WALLET, sandbox: bool = False) -> Any:
    client = ccxtpro.hyperliquid(
        {
            "walletAddress": wallet,
            "privateKey": key,
            "enableRateLimit": False,
            "timeout": 2000,
            "options": {"builderFee": False, "approvedBuilderFee": False, "sandboxMode": sandbox},
        }
    )
    client.urls["api"] = point_urls(client.urls["api"], ex.base_url, ex.ws_url)
    return client


def _in_loop(body: Callable[[FakeExchange], Awaitable[None]], **kwargs: Any) -> None:
    async def main() -> None:
        ex = FakeExchange(**kwargs)
        await ex.start()
        ex.hyperliquid.engine.seed_book("BTC", bids=[("49999", "1")], asks=[("50001", "1")])
        try:
            await body(ex)
        finally:
            await ex.stop()

    asyncio.run(main())


async def _order(client: Any) -> Any:
    return await ccxt_call(
        lambda: client.create_order("BTC/USDC:USDC", "limit", "buy", 0.001, 49000),
        venue="HYPERLIQUID",
        operation="create_order",
        timeout_secs=5,
    )


def _post(ex: FakeExchange, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        ex.base_url + "/exchange",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def test_ccxt_signed_order_passes_and_a_wrong_key_fails() -> None:
    async def body(ex: FakeExchange) -> None:
        good = _client(ex, TEST_PRIVATE_KEY)
        bad = _client(ex, OTHER_KEY)  # claims the wallet, signs with another key
        try:
            await good.load_markets()
            order = await _order(good)
            assert order["id"]
            assert len(ex.hyperliquid.engine.open_orders(TEST_WALLET)) == 1
            await bad.load_markets()
            with pytest.raises(NautilusExtError) as refused:
                await _order(bad)
            assert refused.value.code is ErrorCode.ORDER_REJECTED
            impostor = str(Account.from_key(OTHER_KEY).address).lower()
            assert f"User or API Wallet {impostor} does not exist." in refused.value.message
            assert len(ex.hyperliquid.engine.open_orders(TEST_WALLET)) == 1
        finally:
            await good.close()
            await bad.close()

    _in_loop(body)


def test_testnet_signature_is_refused_by_a_mainnet_venue_and_accepted_by_a_testnet_one() -> None:
    async def refused(ex: FakeExchange) -> None:
        client = _client(ex, TEST_PRIVATE_KEY, sandbox=True)  # phantom agent source "b"
        try:
            await client.load_markets()
            with pytest.raises(NautilusExtError, match="does not exist"):
                await _order(client)
        finally:
            await client.close()

    async def accepted(ex: FakeExchange) -> None:
        client = _client(ex, TEST_PRIVATE_KEY, sandbox=True)
        try:
            await client.load_markets()
            assert (await _order(client))["id"]
        finally:
            await client.close()

    _in_loop(refused)
    _in_loop(accepted, hl_mainnet=False)


def _cancel_action() -> dict[str, Any]:
    return {"type": "cancel", "cancels": [{"a": 0, "o": 1}]}


def test_replayed_nonce_and_tampered_action_are_refused() -> None:
    async def body(ex: FakeExchange) -> None:
        nonce = ex.now_ms()
        action = _cancel_action()
        signed = {
            "action": action,
            "nonce": nonce,
            "signature": sign_l1_action(TEST_PRIVATE_KEY, action, nonce, mainnet=True),
        }
        first = await asyncio.to_thread(_post, ex, signed)
        assert first["status"] == "ok"  # authenticated; the cancel itself finds no order
        replay = await asyncio.to_thread(_post, ex, signed)
        assert replay == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
        # the same signature over a different action recovers some other address
        tampered = dict(signed, nonce=nonce + 1, action={"type": "cancel", "cancels": [{"a": 0, "o": 2}]})
        answer = await asyncio.to_thread(_post, ex, tampered)
        assert answer["status"] == "err"
        assert "does not exist" in answer["response"]
        stale = nonce - 3 * 86_400_000
        old = {
            "action": action,
            "nonce": stale,
            "signature": sign_l1_action(TEST_PRIVATE_KEY, action, stale, mainnet=True),
        }
        assert (await asyncio.to_thread(_post, ex, old))["response"].startswith("Invalid nonce")

    _in_loop(body)


def test_approved_agent_may_trade_but_not_withdraw() -> None:
    agent = str(Account.from_key(AGENT_KEY).address).lower()

    async def body(ex: FakeExchange) -> None:
        nonce = ex.now_ms()
        action = _cancel_action()
        as_agent = {
            "action": action,
            "nonce": nonce,
            "signature": sign_l1_action(AGENT_KEY, action, nonce, mainnet=True),
        }
        before = await asyncio.to_thread(_post, ex, as_agent)
        assert before == {"status": "err", "response": f"User or API Wallet {agent} does not exist."}
        approve = {
            "type": "approveAgent",
            "signatureChainId": "0x66eee",
            "hyperliquidChain": "Mainnet",
            "agentAddress": agent,
            "agentName": "bot",
            "nonce": nonce + 1,
        }
        approved = await asyncio.to_thread(
            _post,
            ex,
            {"action": approve, "nonce": nonce + 1, "signature": sign_user_action(TEST_PRIVATE_KEY, approve)},
        )
        assert approved["status"] == "ok"
        as_agent["nonce"] = nonce + 2
        as_agent["signature"] = sign_l1_action(AGENT_KEY, action, nonce + 2, mainnet=True)
        assert (await asyncio.to_thread(_post, ex, as_agent))["status"] == "ok"
        # user-signed actions (withdrawals) need the account's own key, not the agent's
        withdraw = {
            "type": "withdraw3",
            "signatureChainId": "0x66eee",
            "hyperliquidChain": "Mainnet",
            "destination": TEST_WALLET,
            "amount": "10",
            "time": nonce + 3,
        }
        by_agent = await asyncio.to_thread(
            _post,
            ex,
            {"action": withdraw, "nonce": nonce + 3, "signature": sign_user_action(AGENT_KEY, withdraw)},
        )
        assert by_agent["status"] == "err"
        by_owner = await asyncio.to_thread(
            _post,
            ex,
            {
                "action": withdraw,
                "nonce": nonce + 3,
                "signature": sign_user_action(TEST_PRIVATE_KEY, withdraw),
            },
        )
        assert by_owner["status"] == "ok"
        assert ex.hyperliquid.engine.balances[TEST_WALLET] == Decimal(100_000) - 10

    _in_loop(body)


def test_ccxt_withdraw_is_a_user_signed_action_the_fake_verifies() -> None:
    async def body(ex: FakeExchange) -> None:
        client = _client(ex, TEST_PRIVATE_KEY)
        try:
            await client.load_markets()
            await client.withdraw("USDC", 25, TEST_WALLET)
            assert ex.hyperliquid.engine.balances[TEST_WALLET] == Decimal(100_000) - 25
        finally:
            await client.close()

    _in_loop(body)


def test_recover_signer_matches_the_sdk_hash_layout() -> None:
    # connectionId = keccak(msgpack(action) || nonce (8 bytes BE) || 0x00), the SDK's layout
    import msgpack
    from eth_utils import keccak

    action = _cancel_action()
    expected = keccak(msgpack.packb(action) + (1_700_000_000_000).to_bytes(8, "big") + b"\x00")
    assert action_hash(action, 1_700_000_000_000, None, None) == expected
    vault = "0x" + "ab" * 20
    with_vault = keccak(msgpack.packb(action) + (5).to_bytes(8, "big") + b"\x01" + bytes.fromhex("ab" * 20))
    assert action_hash(action, 5, vault, None) == with_vault
    body = {
        "action": action,
        "nonce": 5,
        "signature": sign_l1_action(TEST_PRIVATE_KEY, action, 5, mainnet=False),
    }
    assert recover_signer(body, mainnet=False).signer == TEST_WALLET
    assert recover_signer(body, mainnet=True).signer != TEST_WALLET
