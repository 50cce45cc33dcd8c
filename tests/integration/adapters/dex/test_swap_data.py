"""Pool ``Swap`` logs become TradeTicks of the pair, and snapshots Nautilus custom data, on Anvil."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_ext.adapters.dex import build_dex_clients
from nautilus_ext.adapters.dex.parsing import DexPoolStateData
from nautilus_ext.adapters.dex.parsing import swap_trade_tick
from nautilus_ext_testkit.chain.dex_world import DAI
from nautilus_ext_testkit.chain.dex_world import E18
from nautilus_ext_testkit.chain.dex_world import USDC
from nautilus_ext_testkit.chain.dex_world import WETH
from nautilus_ext_testkit.chain.dex_world import DexWorld

pytestmark = pytest.mark.slow

V2_KEY = "UNISWAPV2-ETH:POOL:WETH-DAI:3000@ETHEREUM"
V3_KEY = "UNISWAPV3-ETH:POOL:WETH-DAI:3000@ETHEREUM"
BAL_KEY = "BALANCER-ETH:POOL:WETH-USDC-DAI@ETHEREUM"


@pytest.fixture
def fresh(world: DexWorld) -> Iterator[DexWorld]:
    snap = world.chain.node.snapshot()
    try:
        yield world
    finally:
        world.chain.node.revert(snap)


def _pair(venue: str) -> CurrencyPair:
    weth = Currency("WETH", 8, 0, "WETH", CurrencyType.CRYPTO)
    dai = Currency("DAI", 8, 0, "DAI", CurrencyType.CRYPTO)
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol("WETH-DAI"), Venue(venue)),
        raw_symbol=Symbol("WETH-DAI"),
        base_currency=weth,
        quote_currency=dai,
        price_precision=6,
        size_precision=8,
        price_increment=Price.from_str("0.000001"),
        size_increment=Quantity.from_str("0.00000001"),
        ts_event=0,
        ts_init=0,
    )


def test_swap_logs_become_trade_ticks_of_the_pair(fresh: DexWorld) -> None:
    chain, c, t = fresh.chain, fresh.chain.contracts, fresh.tokens
    owner = chain.owner
    start = fresh.w3.eth.block_number + 1
    # a V2 sell of WETH, a V3 buy of WETH with DAI, a Balancer WETH->USDC swap (owner, local setup)
    chain.send(t[WETH].functions.approve(c["uniswap_v2_router"].address, E18))
    chain.send(
        c["uniswap_v2_router"].functions.swapExactTokensForTokens(
            E18, 0, [t[WETH].address, t[DAI].address], owner, 2**40
        )
    )
    chain.send(t[DAI].functions.approve(c["uniswap_v3_router"].address, 4000 * E18))
    chain.send(
        c["uniswap_v3_router"].functions.exactInputSingle(
            (t[DAI].address, t[WETH].address, 3000, owner, 2**40, 4000 * E18, 0, 0)
        )
    )
    chain.send(t[WETH].functions.approve(c["balancer_vault"].address, E18))
    chain.send(
        c["balancer_vault"].functions.swap(
            (bytes.fromhex(fresh.balancer_pool_id[2:]), 0, t[WETH].address, t[USDC].address, E18, b""),
            (owner, False, owner, False),
            0,
            2**40,
        )
    )
    clients = build_dex_clients(fresh.w3, fresh.config)
    pools = clients.provider.discover()
    events = clients.reader.swaps(pools, start, fresh.w3.eth.block_number)
    assert [(str(e.pool.key), e.token_in, e.token_out) for e in events] == [
        (V2_KEY, WETH, DAI),
        (V3_KEY, DAI, WETH),
        (BAL_KEY, WETH, USDC),
    ]
    assert [e.amount_in for e in events] == [E18, 4000 * E18, E18]
    # the amounts are what the pools paid: V2 by its formula on the pre-swap reserves
    assert events[0].amount_out == (997 * E18 * 200_000 * E18) // (100 * E18 * 1000 + 997 * E18)

    sell = swap_trade_tick(events[0], _pair("UNISWAPV2-ETH"), WETH, DAI, ts_ns=1)
    assert sell.aggressor_side == AggressorSide.SELLER
    assert sell.size == Quantity.from_str("1.00000000")
    assert sell.price.as_decimal() == round(Decimal(events[0].amount_out).scaleb(-18), 6)
    buy = swap_trade_tick(events[1], _pair("UNISWAPV3-ETH"), WETH, DAI, ts_ns=2)
    assert buy.aggressor_side == AggressorSide.BUYER
    assert buy.size.as_decimal() == round(Decimal(events[1].amount_out).scaleb(-18), 8)
    assert Decimal(1990) < buy.price.as_decimal() < Decimal(2020)
    assert str(buy.trade_id) == f"{events[1].tx_hash[2:30]}-{events[1].log_index}"
    assert events[1].tx_hash == fresh.w3.eth.get_block(events[1].block_number)["transactions"][0].to_0x_hex()


def test_snapshots_are_nautilus_custom_data_with_their_block(fresh: DexWorld) -> None:
    clients = build_dex_clients(fresh.w3, fresh.config)
    feed = clients.feed(clients.provider.discover())
    feed.poll()
    ids = {V2_KEY: _pair("UNISWAPV2-ETH").id}
    (data,) = feed.state_data(ids, ts_init=7)
    assert isinstance(data, DexPoolStateData)
    assert data.block_number == feed.block_number
    assert data.ts_event == feed.snapshot(V2_KEY).block_timestamp * 1_000_000_000
    assert data.state == feed.snapshot(V2_KEY).state
