"""
CoW intents end to end on Anvil: the client against the order-book stand-in, whose solver
settles through the real ``GPv2Settlement`` (published bytecode).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from nautilus_ext.adapters.cowswap import CowOrderCancelled
from nautilus_ext.adapters.cowswap import CowOrderExpired
from nautilus_ext.adapters.cowswap import CowOrderRejected
from nautilus_ext.adapters.cowswap import CowOrderStatus
from nautilus_ext.adapters.cowswap import CowSwapExecution
from nautilus_ext.adapters.cowswap.signing import domain_separator
from nautilus_ext.adapters.cowswap.signing import sign_order
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InsufficientBalance
from tests.integration.adapters.cowswap.conftest import CowWorld

pytestmark = pytest.mark.slow


def _run(ex: CowSwapExecution, coro: Any) -> Any:
    # one event loop per call: the client's session is closed before the loop ends
    async def main() -> Any:
        try:
            return await coro
        finally:
            await ex.http.close()

    return asyncio.run(main())


async def _sell(
    world: CowWorld, ex: CowSwapExecution, amount: int, *, limit_factor: int = 1
) -> tuple[str, Any]:
    q = await ex.quote_sell(world.chain.tokens["WETH"].address, world.chain.tokens["USDC"].address, amount)
    order = ex.order_from_quote(q)
    if limit_factor != 1:  # a limit the pool cannot meet: the order stays open
        from dataclasses import replace

        order = replace(order, buy_amount=order.buy_amount * limit_factor)
    return await ex.post(order, quote_id=q.id), order


def test_contract_domain_separator_is_ours(world: CowWorld) -> None:
    onchain = world.chain.settlement.functions.domainSeparator().call()
    assert onchain == domain_separator(world.chain.chain_id, world.chain.settlement.address)


def test_quote_sign_post_settle_fill_equals_trade_event_and_balances(world: CowWorld) -> None:
    owner, ex = world.user(weth=2 * 10**18)
    usdc_before = world.chain.balance("USDC", owner)

    async def flow() -> Any:
        uid, order = await _sell(world, ex, 10**18)
        outcome = await ex.wait_final(uid, timeout_secs=15)
        return uid, order, outcome

    uid, order, outcome = _run(ex, flow())
    assert outcome.status is CowOrderStatus.FULFILLED
    (fill,) = outcome.fills
    events = world.chain.settlement.events.Trade().get_logs(from_block=0)
    (event,) = [e for e in events if "0x" + bytes(e["args"]["orderUid"]).hex() == uid]
    assert (fill.sell_amount, fill.buy_amount) == (event["args"]["sellAmount"], event["args"]["buyAmount"])
    assert fill.sell_amount == order.sell_amount
    assert fill.buy_amount >= order.buy_amount
    assert world.chain.balance("WETH", owner) == 2 * 10**18 - fill.sell_amount
    assert world.chain.balance("USDC", owner) - usdc_before == fill.buy_amount
    assert int(outcome.order.executed_buy_amount) == fill.buy_amount
    assert ex.chain.filled_amount(uid) == order.sell_amount


def _post_raw(world: CowWorld, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        world.server.base_url + "/api/v1/orders",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_bad_signature_is_rejected_in_cows_error_shape_and_nothing_fills(world: CowWorld) -> None:
    owner, ex = world.user()

    async def flow() -> Any:
        q = await ex.quote_sell(
            world.chain.tokens["WETH"].address, world.chain.tokens["USDC"].address, 10**17
        )
        return ex.order_from_quote(q)

    order = _run(ex, flow())
    other_key = "0x" + "22" * 32
    message = order.message()
    body = {
        **{k: (str(v) if isinstance(v, int) and k != "validTo" else v) for k, v in message.items()},
        "appData": order.app_data,
        "signingScheme": "eip712",
        "signature": sign_order(order, ex.config.chain_id, ex.config.settlement, other_key),
        "from": owner,
    }
    status, reply = _post_raw(world, body)
    assert status == 400
    assert reply["errorType"] == "WrongOwner"
    assert reply["description"]
    status, reply = _post_raw(world, {**body, "signature": "0x" + "00" * 65})
    assert status == 400
    assert reply["errorType"] == "InvalidSignature"
    # the client sees the same refusal as a typed error
    with pytest.raises(CowOrderRejected) as info:
        _run(ex, ex.http.post_order(_creation(body)))
    assert info.value.error_type == "InvalidSignature"
    assert info.value.code is ErrorCode.ORDER_REJECTED
    assert world.book.get_trades(owner, None) == []
    assert world.chain.balance("WETH", owner) == 10**18


def _creation(body: dict[str, Any]) -> Any:
    from nautilus_ext.adapters.cowswap.schemas import CowOrderCreation

    return CowOrderCreation(
        sell_token=body["sellToken"],
        buy_token=body["buyToken"],
        receiver=body["receiver"],
        sell_amount=body["sellAmount"],
        buy_amount=body["buyAmount"],
        valid_to=body["validTo"],
        app_data=body["appData"],
        fee_amount=body["feeAmount"],
        kind=body["kind"],
        partially_fillable=body["partiallyFillable"],
        signing_scheme="eip712",
        signature="0x" + "00" * 65,
    )


def test_insufficient_allowance_is_a_typed_error(world: CowWorld) -> None:
    _, ex = world.user(weth=10**18, approve=10**15)
    with pytest.raises(InsufficientBalance) as info:
        _run(ex, _sell(world, ex, 10**18))
    assert info.value.details["error_type"] == "InsufficientAllowance"


def test_signed_off_chain_cancel(world: CowWorld) -> None:
    owner, ex = world.user()

    async def flow() -> Any:
        uid, _ = await _sell(world, ex, 10**17, limit_factor=2)
        assert (await ex.http.get_order(uid)).status == "open"
        await ex.cancel([uid])
        outcome = await ex.wait_final(uid, timeout_secs=10)
        with pytest.raises(CowOrderCancelled):
            await ex.cancel([uid])  # AlreadyCancelled
        return outcome

    outcome = _run(ex, flow())
    assert outcome.status is CowOrderStatus.CANCELLED
    assert not outcome.order.invalidated
    assert outcome.fills == ()
    with pytest.raises(CowOrderCancelled):
        outcome.raise_for_status()
    assert world.chain.balance("WETH", owner) == 10**18


def test_on_chain_invalidate_order_stops_the_solver(world: CowWorld) -> None:
    owner, ex = world.user()
    world.set_settling(False)

    async def post() -> str:
        uid, _ = await _sell(world, ex, 10**17)
        return uid

    uid = _run(ex, post())
    receipt = ex.invalidate_on_chain(uid)
    assert receipt["status"] == 1
    assert ex.chain.filled_amount(uid) == 2**256 - 1
    assert ex.chain.invalidated(uid)
    # the contract itself refuses it: a settlement forced past the book's own check reverts
    stored = world.book.orders[uid]
    assert world.server.call(lambda: world.book._settle(stored)) is False
    # invalidateOrder sets filledAmount to 2**256-1, so the contract's SafeMath add overflows
    assert "execution reverted: SafeMath: addition overflow" in stored.settle_failures[-1]
    world.set_settling(True)

    async def wait() -> Any:
        outcome = await ex.wait_final(uid, timeout_secs=10)
        return outcome

    outcome = _run(ex, wait())
    assert outcome.status is CowOrderStatus.CANCELLED
    assert outcome.order.invalidated
    assert outcome.fills == ()
    assert ex.chain.trade_events(order_uid=uid) == []
    assert world.chain.balance("WETH", owner) == 10**18


def test_expiry_is_a_final_state_and_a_typed_error(world: CowWorld) -> None:
    owner, ex = world.user()

    async def post() -> str:
        uid, _ = await _sell(world, ex, 10**17, limit_factor=2)
        return uid

    uid = _run(ex, post())
    world.chain.dex.node.increase_time(ex.config.valid_for_secs + 10)

    async def wait() -> Any:
        outcome = await ex.wait_final(uid, timeout_secs=10)
        return outcome

    outcome = _run(ex, wait())
    assert outcome.status is CowOrderStatus.EXPIRED
    assert outcome.fills == ()
    with pytest.raises(CowOrderExpired) as info:
        outcome.raise_for_status()
    assert info.value.details["rule"] == "ORDER_EXPIRED"
    assert world.chain.balance("WETH", owner) == 10**18
