"""Orders-driven backtest of a DEX pool: fills by the pool math on the rebuilt state, gas as the fee."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.backtest.config import BacktestSpec
from nautilus_ext.backtest.dex_venue import DexPoolSimulator
from nautilus_ext.backtest.dex_venue import gas_cost_quote
from nautilus_ext.backtest.runner import run_backtest
from nautilus_ext.catalogs.onchain import PoolSpec
from nautilus_ext.catalogs.onchain import fetch_logs
from nautilus_ext.catalogs.onchain import load_events
from nautilus_ext.catalogs.onchain import write_onchain
from nautilus_ext.orders import Order
from nautilus_ext_testkit.chain.dex_history import v3_history
from nautilus_ext_testkit.chain.dex_pools import start_dex_chain

pytestmark = pytest.mark.slow
KEY = "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM"
IID = "ETH-USDT-3000.UNISWAPV3"


@pytest.fixture(scope="module")
def dex_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    chain = start_dex_chain()
    try:
        h = v3_history(chain)
        spec = PoolSpec(h.pool.address, "V3", IID, "ETH", "USDT", 18, 18, fee_pips=3000, instrument_key=KEY)
        logs, blocks = fetch_logs(chain.w3, [spec.address], h.first_block, h.last_block)
        load = load_events(logs, [spec], blocks)
        root = tmp_path_factory.mktemp("dex") / "catalog"
        write_onchain(load, [spec], root)
        yield root, load
    finally:
        chain.close()


def _order(op: str, side: str, amount: str, when: datetime) -> Order:
    return Order(
        operation_id=op,
        operation="swap",
        source_token="USDT" if side == "BUY" else "ETH",
        target_token="ETH" if side == "BUY" else "USDT",
        instrument_key=KEY,
        venue="UNISWAPV3-ETH",
        side=side,
        amount=amount,
        created_at=when,
        expected_deltas={"UNISWAPV3-ETH:SPOT_ASSET:ETH": amount if side == "BUY" else f"-{amount}"},
    )


def test_swap_fills_equal_the_pool_math_with_impact_carried_and_gas(
    dex_catalog: tuple[Path, Any], tmp_path: Path
) -> None:
    root, load = dex_catalog
    last = load.snapshots[-1]
    t_last = datetime.fromtimestamp(last.ts_init / 1e9, tz=UTC)
    spot = Order(  # a SPOT_PAIR order sent to the DEX venue: routed to the pair's pool there
        operation_id="spot-sell",
        operation="trade",
        instrument_key="BINANCE-SPOT:SPOT_PAIR:ETH-USDT",
        venue="UNISWAPV3-ETH",
        side="SELL",
        amount="2",
        created_at=t_last + timedelta(seconds=60),
    )
    orders = [_order("dex-buy", "BUY", "5", t_last), _order("dex-buy-2", "BUY", "5", t_last), spot]
    (tmp_path / "orders.jsonl").write_text("".join(o.to_json() + "\n" for o in orders))
    spec = BacktestSpec.model_validate(
        {
            "kind": "orders",
            "catalog": str(root),
            "start": datetime.fromtimestamp(load.snapshots[0].ts_init / 1e9 - 1, tz=UTC),
            "end": datetime.fromtimestamp(last.ts_init / 1e9 + 120, tz=UTC),
            "instruments": [KEY],
            "data": ["trade_ticks"],
            "venues": [
                {
                    "venue": "UNISWAPV3-ETH",
                    "starting_balances": ["10000000 USDT", "100 ETH"],
                    "account_type": "CASH",
                    "book_type": "L1_MBP",
                    "dex": {"gas_units_v3": 150000},
                }
            ],
            "orders": str(tmp_path / "orders.jsonl"),
            "output_dir": str(tmp_path / "out"),
        }
    )
    outcome = run_backtest(spec)
    res = {r.operation_id: r for r in outcome.results}
    # the same swaps by the pure math on the rebuilt state, the second on the pool the first left
    sim = DexPoolSimulator.from_catalog(str(root))
    fills = [sim.swap(IID, True, 5 * 10**18, last.ts_init + 10**9) for _ in range(2)]
    fills.append(sim.swap(IID, False, 2 * 10**18, last.ts_init + 61 * 10**9))
    expected = [f for f in fills if f is not None]
    assert len(expected) == 3
    assert expected[1].carried
    assert expected[2].carried  # no newer snapshot: the SPOT_PAIR sell meets the pool our buys left
    assert expected[1].price > expected[0].price  # our own impact
    fresh = DexPoolSimulator.from_catalog(str(root)).swap(IID, False, 2 * 10**18, last.ts_init + 61 * 10**9)
    assert fresh is not None
    assert expected[2].price > fresh.price  # the sell is better for our buys' impact, as on chain
    for op, exp in zip(("dex-buy", "dex-buy-2", "spot-sell"), expected, strict=True):
        r = res[op]
        assert r.nautilus_instrument_id == IID
        assert r.filled_quantity == Decimal(exp.base_units).scaleb(-18), r
        assert abs((r.avg_fill_price or Decimal(0)) - exp.price) <= Decimal("0.000001") / 2, (
            r.avg_fill_price,
            exp.price,
        )
        gas = gas_cost_quote(150_000, last.base_fee_wei, "ETH", r.avg_fill_price or Decimal(0), None)
        assert last.base_fee_wei > 0
        assert abs(r.fees - gas) <= Decimal("0.00000001"), (r.fees, gas)  # USDT precision 8
