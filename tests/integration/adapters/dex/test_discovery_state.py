"""Pool discovery and pool state over web3 equal the contracts' own view, on Anvil."""

from __future__ import annotations

import pytest

from nautilus_ext.adapters.dex import PoolKind
from nautilus_ext.adapters.dex import build_dex_clients
from nautilus_ext.adapters.dex.constants import V3_POOL_ABI
from nautilus_ext.dex import V2PoolState
from nautilus_ext.dex import V3PoolState
from nautilus_ext.dex import WeightedPoolState
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext_testkit.chain.dex_world import DAI
from nautilus_ext_testkit.chain.dex_world import E18
from nautilus_ext_testkit.chain.dex_world import WETH
from nautilus_ext_testkit.chain.dex_world import DexWorld

pytestmark = pytest.mark.slow

V2_KEY = "UNISWAPV2-ETH:POOL:WETH-DAI:3000@ETHEREUM"
V3_KEY = "UNISWAPV3-ETH:POOL:WETH-DAI:3000@ETHEREUM"
V3_500_KEY = "UNISWAPV3-ETH:POOL:WETH-DAI:500@ETHEREUM"
BAL_KEY = "BALANCER-ETH:POOL:WETH-USDC-DAI@ETHEREUM"


def test_discovery_finds_every_pool_the_factories_know(world: DexWorld) -> None:
    clients = build_dex_clients(world.w3, world.config)
    pools = {str(p.key): p for p in clients.provider.discover()}
    assert set(pools) == {V2_KEY, V3_KEY, V3_500_KEY, BAL_KEY}
    assert pools[V2_KEY].address == world.v2_pair.address
    assert pools[V3_KEY].address == world.v3_pools[3000].address
    assert pools[V3_500_KEY].address == world.v3_pools[500].address
    assert pools[BAL_KEY].pool_id == world.balancer_pool_id
    # token order is the pool's own (token0 < token1 for Uniswap, the Vault's order for Balancer)
    assert [t.address for t in pools[V3_KEY].tokens] == [
        world.v3_pools[3000].functions.token0().call(),
        world.v3_pools[3000].functions.token1().call(),
    ]
    # a scan of allPairs finds the one V2 pair of configured tokens
    assert [str(p.key) for p in clients.provider.discover_v2_all()] == [V2_KEY]
    # restricting the pairs asked restricts the V2/V3 answer
    assert {str(p.key) for p in clients.provider.discover([(WETH, "USDC")])} == {BAL_KEY}


def test_registry_pool_keys_resolve_to_their_contracts(world: DexWorld) -> None:
    default = InstrumentRegistry.default()
    registry = InstrumentRegistry(
        venues=[default.venue("UNISWAPV3-ETH"), default.venue("UNISWAPV2-ETH")],
        instruments=[
            InstrumentAttributes(
                instrument_key="UNISWAPV3-ETH:POOL:ETH-DAI:3000@ETHEREUM",
                pool_address=world.v3_pools[3000].address,
                tick_size="0.000001",
                size_increment="0.00000001",
            ),
            InstrumentAttributes(
                instrument_key="UNISWAPV2-ETH:POOL:ETH-DAI:3000@ETHEREUM",
                pool_address=world.v2_pair.address,
                tick_size="0.000001",
                size_increment="0.00000001",
            ),
        ],
    )
    clients = build_dex_clients(world.w3, world.config)
    found = {str(p.key): p for p in clients.provider.from_registry(registry)}
    assert set(found) == {
        "UNISWAPV3-ETH:POOL:ETH-DAI:3000@ETHEREUM",
        "UNISWAPV2-ETH:POOL:ETH-DAI:3000@ETHEREUM",
    }
    v3 = found["UNISWAPV3-ETH:POOL:ETH-DAI:3000@ETHEREUM"]
    assert (v3.kind, v3.fee_tier, [t.symbol for t in v3.tokens]) == (PoolKind.UNISWAP_V3, 3000, [WETH, DAI])


def test_state_equals_the_contracts_view_and_quotes_to_the_wei(world: DexWorld) -> None:
    clients = build_dex_clients(world.w3, world.config)
    pools = clients.provider.discover()
    snaps = clients.reader.read(pools)
    block = world.w3.eth.block_number
    assert {s.block_number for s in snaps.values()} == {block}

    v2 = snaps[V2_KEY].state
    assert isinstance(v2, V2PoolState)
    r0, r1, _ = world.v2_pair.functions.getReserves().call()
    assert (v2.reserve0, v2.reserve1) == (r0, r1)

    quoter = world.chain.contracts["uniswap_v3_quoter"]
    for fee, key in ((3000, V3_KEY), (500, V3_500_KEY)):
        state = snaps[key].state
        assert isinstance(state, V3PoolState)
        pool = world.v3_pools[fee]
        slot0 = pool.functions.slot0().call()
        assert (state.sqrt_price_x96, state.tick, state.liquidity) == (
            slot0[0],
            slot0[1],
            pool.functions.liquidity().call(),
        )
        # every initialized tick of the positions (wide and narrow, both sides) was found, as stored
        assert len(state.ticks) == 4
        raw = world.w3.eth.contract(address=pool.address, abi=V3_POOL_ABI)
        for t in state.ticks:
            gross, net, *_rest, initialized = raw.functions.ticks(t.index).call()
            assert (t.liquidity_gross, t.liquidity_net, initialized) == (gross, net, True)
        # quotes across ticks equal QuoterV2's, both directions
        weth, dai = world.tokens[WETH].address, world.tokens[DAI].address
        for token_in, token_out, amount in ((weth, dai, 30 * E18), (dai, weth, 90_000 * E18)):
            i = 0 if int(token_in, 16) < int(token_out, 16) else 1
            ours = state.quote_exact_input(i, 1 - i, amount)
            theirs = quoter.functions.quoteExactInputSingle((token_in, token_out, amount, fee, 0)).call()[0]
            assert ours == theirs

    bal = snaps[BAL_KEY].state
    assert isinstance(bal, WeightedPoolState)
    vault = world.chain.contracts["balancer_vault"]
    _, balances, _ = vault.functions.getPoolTokens(bytes.fromhex(world.balancer_pool_id[2:])).call()
    assert list(bal.balances) == list(balances)
    assert sum(bal.weights) == E18

    router = world.chain.contracts["uniswap_v2_router"]
    weth, dai = world.tokens[WETH].address, world.tokens[DAI].address
    assert (
        v2.quote_exact_input(0, 1, 5 * E18) == router.functions.getAmountsOut(5 * E18, [weth, dai]).call()[1]
    )


def test_the_feed_refreshes_once_per_block_and_names_stale_pools(world: DexWorld) -> None:
    clients = build_dex_clients(world.w3, world.config)
    feed = clients.feed(clients.provider.discover())
    assert feed.poll() is True
    first = feed.block_number
    assert feed.poll() is False  # same block: nothing re-read
    world.chain.node.mine(1)
    assert feed.poll() is True
    assert feed.block_number == first + 1
    assert feed.snapshot(V2_KEY).block_number == first + 1
    assert feed.stale(first + 1 + world.config.stale_after_blocks) == []
    assert feed.stale(first + 2 + world.config.stale_after_blocks) == sorted(feed.snapshots())


def test_a_node_on_another_chain_is_refused(world: DexWorld) -> None:
    other = world.config.model_copy(update={"chain_id": 1})
    with pytest.raises(InvalidConfig, match="chain 1"):
        build_dex_clients(world.w3, other)
