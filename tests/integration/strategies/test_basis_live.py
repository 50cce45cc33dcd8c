"""
``usdt_market_neutral`` as a DRY_RUN service: the basis engine in a TradingNode over three fake
CEXs (Binance USD-M, Bybit, OKX through the ccxt adapter; fills simulated by the node's
sandbox) and the local chain (real AAVE v3 bytecode, EtherFi and Instadapp stand-ins on Anvil),
through entry, a funding payment, a price move that trips the margin trigger and the atomic
deleverage it answers with, then an LST oracle drop that trips the health-factor trigger and its
emergency deleverage. Each step is checked on the engine's balance sheet, the node's
(sandbox) positions, the chain and the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.audit.reports import load_events
from nautilus_ext.basis.model import from_units
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.live.config import load_live_config
from nautilus_ext.onchain.calculators.aave import balance_of_scaled
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.safety.cli import send
from nautilus_ext.strategies.basis_live import BasisLiveStrategy
from nautilus_ext.testing import eventually
from nautilus_ext_testkit.chain.pytest_fixtures import compiled_contracts
from nautilus_ext_testkit.chain.pytest_fixtures import dsa_holdings
from nautilus_ext_testkit.chain.pytest_fixtures import evm_cache_dir
from nautilus_ext_testkit.chain.pytest_fixtures import session_stack
from nautilus_ext_testkit.chain.pytest_fixtures import stack
from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import EvmStack
from nautilus_ext_testkit.fake_exchange import FakeExchange
from nautilus_ext_testkit.fake_exchange.engine import MM_ACCOUNT
from nautilus_ext_testkit.node_harness import NodeHarness
from nautilus_ext_testkit.node_harness import start_live_node

__all__ = ["compiled_contracts", "evm_cache_dir", "session_stack", "stack"]

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
HEDGES = {
    "BINANCE-FUTURES": "ETHUSDT-PERP.BINANCE",
    "BYBIT": "ETHUSDT-LINEAR.BYBIT",
    "OKX": "ETH-USDT-SWAP.OKX",
}
FAKE = {
    "BINANCE-FUTURES": ("binance", "ETHUSDT"),
    "BYBIT": ("bybit", "ETHUSDT"),
    "OKX": ("okx", "ETH-USDT-SWAP"),
}
RATE = Decimal("0.0001")
CAPITAL = "50000"


def _prices(ex: FakeExchange, mark: Decimal) -> None:
    def seed() -> None:
        for venue, symbol in FAKE.values():
            engine = getattr(ex, venue).engine
            engine.cancel_all(MM_ACCOUNT, symbol)  # the market makers requote at the new price
            engine.funding.configure(symbol, rate=RATE, interval_hours=8, mark_price=mark, index_price=mark)
            engine.seed_book(
                symbol,
                bids=[(mark - Decimal("0.1"), Decimal(500))],
                asks=[(mark + Decimal("0.1"), Decimal(500))],
            )

    ex.call(seed)


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    ex = FakeExchange()
    ex.start_in_thread()
    _prices(ex, Decimal(3000))
    yield ex
    ex.stop_thread()


def _yaml(
    tmp_path: Path,
    ex: FakeExchange,
    chain: EvmStack,
    mode: str = "DRY_RUN",
    balance: int = 100_000,
    **strategy: Any,
) -> Path:
    onchain = tmp_path / "onchain.yaml"
    onchain.write_text(yaml.safe_dump(chain.config.model_dump(mode="json")))
    venue: dict[str, Any] = {
        "adapter": "ccxt",
        "market_types": ["linear"],
        "rest_url_override": ex.base_url,
        "ws_url_override": ex.ws_url,
        "enable_rate_limit": False,
        "timeout_ms": 3000,
    }
    data: dict[str, Any] = {
        "mode": mode,
        **({"allow_live_orders": True} if mode == "LIVE" else {}),
        "trader_id": "BASIS-001",
        "log_level": "ERROR",
        "venues": [
            {
                **venue,
                "venue": "BINANCE",
                "exchange_id": "binanceusdm",
                "instrument_ids": [HEDGES["BINANCE-FUTURES"]],
            },
            {**venue, "venue": "BYBIT", "exchange_id": "bybit", "instrument_ids": [HEDGES["BYBIT"]]},
            {
                **venue,
                "venue": "OKX",
                "exchange_id": "okx",
                "market_types": ["swap"],
                "instrument_ids": [HEDGES["OKX"]],
            },
        ],
        **(
            {"dry_run": {"starting_balances": [f"{balance} USDT"], "default_leverage": "5"}}
            if mode == "DRY_RUN"
            else {}
        ),
        "strategies": [
            {
                "strategy_path": "nautilus_ext.strategies.basis_live:BasisLiveStrategy",
                "config_path": "nautilus_ext.strategies.basis_live:BasisLiveConfig",
                "config": {
                    "order_id_tag": "001",
                    "instrument_ids": list(HEDGES.values()),
                    "trade_data": False,
                    "quote_data": True,  # the sandbox fills on top-of-book quotes
                    "basis_mode": "usdt_market_neutral",
                    "share_class": "usdt_stable",
                    "capital": CAPITAL,
                    "hedge_instruments": HEDGES,
                    "auto_hours": False,
                    "onchain_config_path": str(onchain),
                    "rpc_url": chain.node.url,
                    "wallet": chain.user,
                    **strategy,
                },
            }
        ],
        "safety": {
            "config_path": str(REPO / "configs" / "safety" / "basis.yaml"),
            "control_port": 0 if mode == "LIVE" else None,
        },
        "audit": {"root": str(tmp_path / "audit"), "fsync": False},
        "timeout_connection_secs": 20,
    }
    path = tmp_path / "basis_live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _position(h: NodeHarness, strat: BasisLiveStrategy, venue: str) -> Decimal:
    return h.call(lambda: strat.venue_position(venue))


def _await_position(h: NodeHarness, strat: BasisLiveStrategy, venue: str, qty: Decimal) -> None:
    """The node's (sandbox) position on ``venue`` reaches the engine's ``qty``."""
    eventually(
        lambda: _position(h, strat, venue) == qty,
        10,
        message=lambda: (
            f"{venue}: node {_position(h, strat, venue)} engine {qty} "
            f"{[(r.status, r.reference) for r in strat.records if r.action.venue == venue]} "
            f"{[(k, x.status, x.reason) for k, x in strat.results.items()]}"
        ),
    )


def _fund_wallet(chain: EvmStack, wei: int) -> None:
    weth = chain.contracts["weth"]
    chain.tx(weth.functions.deposit(), sender=chain.user, value=wei)
    chain.tx(weth.functions.transfer(chain.config.dsa, wei), sender=chain.user)


def _aave_on_chain(chain: EvmStack) -> tuple[int, int]:
    dsa = chain.config.dsa
    c = chain.contracts
    return c["a_weeth"].functions.balanceOf(dsa).call(), c["debt_weth"].functions.balanceOf(dsa).call()


def _check_aave(strat: BasisLiveStrategy, chain: EvmStack) -> tuple[int, int]:
    """The engine holds the chain's AAVE position: scaled balances to the unit, values to 1e-8."""
    engine = strat.engine
    lg = engine.ledger
    assert lg is not None
    supply_scaled, debt_scaled = strat.chain_scaled()
    assert engine.aave_scaled() == (supply_scaled, debt_scaled)
    a_weeth, debt = _aave_on_chain(chain)
    assert a_weeth > 0
    assert debt > 0
    # the engine values them at the hour's indices (every event of an hour is priced by its
    # snapshot); the chain's balanceOf runs a few blocks later
    snap = engine.seen[-1]
    supplied = balance_of_scaled(supply_scaled["WEETH"], snap.liquidity_index["WEETH"])
    owed = balance_of_scaled(debt_scaled["WETH"], snap.borrow_index["WETH"])
    assert lg.qty("aave.aWEETH") == from_units(supplied)
    assert lg.qty("aave.debtWETH") == -from_units(owed)
    assert abs(supplied - a_weeth) <= a_weeth // 10**8
    assert abs(owed - debt) <= debt // 10**8
    return a_weeth, debt


def test_usdt_market_neutral_dry_run_entry_funding_margin_and_deleverage(
    tmp_path: Path, exchange: FakeExchange, stack: EvmStack
) -> None:
    chain = stack
    _fund_wallet(chain, 12 * ETHER)  # the ETH the entry withdraws from the CEX (simulated in DRY_RUN)
    h, _live = start_live_node(load_live_config(_yaml(tmp_path, exchange, chain)))
    try:
        node = h.node
        assert node is not None
        strat: BasisLiveStrategy = h.strategy(BasisLiveStrategy)  # type: ignore[assignment]
        eventually(
            lambda: (
                node.is_running()
                and all(strat.mark_of(v) is not None for v in HEDGES)
                and all(node.cache.quote_tick(InstrumentId.from_str(i)) is not None for i in HEDGES.values())
            ),
            30,
            message="the node never priced and quoted every hedge venue",
        )
        engine = strat.engine

        # -- hour 0: entry -------------------------------------------------------------------------
        events = h.call(strat.run_hour, timeout_secs=60)
        kinds = [e.event for e in events]
        assert kinds.count("HEDGE_OPEN") == 3
        assert "ATOMIC_TRANSACTION" in kinds
        assert [r.status for r in strat.records if r.action.kind.value == "LEVERAGE_ENTRY"] == ["EXECUTED"]
        refused = [r.reference for r in strat.records if r.status == "REFUSED"]
        assert refused == []
        assert strat.errors == []
        lg = engine.ledger
        assert lg is not None
        for venue in HEDGES:
            expected = lg.qty(f"{venue}.perp")
            assert expected < 0
            _await_position(h, strat, venue, expected)
        # 3 margins, the spot venue's cash, the ETH withdrawal: checked against the destination
        assert [r.status for r in strat.transfers] == ["SIMULATED"] * 5
        # nothing reached a venue: DRY_RUN fills in the node's sandbox
        assert exchange.received_orders == []
        # the chain holds what the engine's balance sheet says, to the wei
        a_weeth, debt = _check_aave(strat, chain)
        snap = engine.seen[-1]
        ltv0 = Decimal(debt) / (Decimal(a_weeth) * snap.oracle["WEETH"])
        assert Decimal("0.75") < ltv0 < Decimal("0.85")

        # -- hour 1: Binance settles funding; the short receives it ---------------------------------
        # the venue settles (no account of it holds the position in DRY_RUN: the sandbox does) and
        # publishes its next funding time; the service books the hour's payment on the engine
        assert exchange.call(lambda: exchange.settle_funding("binance", "ETHUSDT")) == []
        eventually(lambda: ("BINANCE-FUTURES", "ETH") in strat._settled, 20, message="settlement never seen")
        short = lg.qty("BINANCE-FUTURES.perp")
        cash_before = lg.qty("BINANCE-FUTURES.USDT")
        events = h.call(strat.run_hour, timeout_secs=60)
        (payment,) = [e for e in events if e.event == "FUNDING_PAYMENT"]
        assert payment.venue == "BINANCE-FUTURES"
        mark = engine.seen[-1].perp_mark[("BINANCE-FUTURES", "ETH")]
        assert payment.amount == (-short * mark * RATE).quantize(Decimal("1e-8"))
        assert payment.amount > 0
        assert lg.qty("BINANCE-FUTURES.USDT") - cash_before == payment.amount
        assert not any(e.event.startswith("REBALANCE") for e in events)

        # -- hour 2: ETH +33%: the shorts' margin falls below the urgent band -----------------------
        _prices(exchange, Decimal(4000))
        eventually(
            lambda: all(strat.mark_of(v) == Decimal(4000) for v in HEDGES), 20, message="marks never moved"
        )
        debt_before = _aave_on_chain(chain)[1]
        shorts_before = {v: lg.qty(f"{v}.perp") for v in HEDGES}
        events = h.call(strat.run_hour, timeout_secs=60)
        kinds = [e.event for e in events]
        assert "MARGIN_URGENT" in kinds
        assert "REBALANCE_MARGIN_SUPPORT" in kinds
        bundles = [e for e in events if e.event == "ATOMIC_TRANSACTION"]
        assert [b.bundle for b in bundles] == ["DELEVERAGE_FOR_MARGIN"]
        assert kinds.count("HEDGE_REDUCE") == 3
        assert [r.status for r in strat.records if r.action.kind.value == "DELEVERAGE"] == ["EXECUTED"]
        # the chain repaid debt (the bundle really ran) and the engine adopted it
        a_after, debt_after = _aave_on_chain(chain)
        assert debt_after < debt_before
        assert _check_aave(strat, chain) == (a_after, debt_after)
        assert a_after < a_weeth
        # shorts reduced on every venue, in the sandbox as in the engine
        for venue in HEDGES:
            after = lg.qty(f"{venue}.perp")
            assert shorts_before[venue] < after < 0
            _await_position(h, strat, venue, after)
        # the margin is restored above the urgent threshold
        assert engine.hourly[-1]["min_margin_ratio"] > engine.mode.rebalancing.margin_urgent_threshold
        assert exchange.received_orders == []
        # the balance sheet identity holds on the live series
        for row in engine.sheet:
            assert row["total_assets_usd"] - row["total_debts_usd"] == row["equity_usd"]

        # -- hour 3: weETH's oracle falls 8 %: health factor below 1.10 -> emergency deleverage ------
        clients = strat.clients
        assert clients is not None
        weeth_price = clients.aave.asset_price("WEETH")
        chain.set_asset_price(chain.config.token("WEETH").address, weeth_price * 92 // 100)
        hf_before = clients.aave.account_data(chain.config.dsa).health_factor
        assert Decimal(hf_before) / 10**18 < Decimal("1.10")
        events = h.call(strat.run_hour, timeout_secs=60)
        kinds = [e.event for e in events]
        assert "REBALANCE_EMERGENCY_DELEVERAGE" in kinds
        assert "EMERGENCY_DELEVERAGE" in [e.bundle for e in events if e.event == "ATOMIC_TRANSACTION"]
        assert [r.status for r in strat.records if r.action.kind.value == "DELEVERAGE"] == ["EXECUTED"] * 2
        account = clients.aave.account_data(chain.config.dsa)
        assert abs(account.current_ltv() - Decimal("0.80")) < Decimal("0.002")
        assert Decimal(account.health_factor) / 10**18 > Decimal("1.10")
        _check_aave(strat, chain)
        for venue in HEDGES:  # the depeg also moved the delta: the hedge follows the engine
            _await_position(h, strat, venue, lg.qty(f"{venue}.perp"))
        assert strat.halted is None

        # -- audit: every order and every bundle are in the log ------------------------------------
        perp_ops = {r.reference for r in strat.records if r.action.kind.value == "PERP_TRADE"}
        strategy_log = [
            e.model_dump_json() for e in load_events(str(tmp_path / "audit" / "strategies" / "0"))
        ]
        for op in perp_ops:  # decision, intent, order and fill records of every perp order
            assert sum(op in line for line in strategy_log) >= 3, op
        fills = [line for line in strategy_log if '"event_type":"FILL"' in line]
        assert len(fills) >= len(perp_ops)
        safety_log = "\n".join(e.model_dump_json() for e in load_events(str(tmp_path / "audit" / "safety")))
        assert len(strat.bundles) == 3
        for result in strat.bundles:  # the gate's decision and the mined outcome of each bundle
            assert bundle_hash(result.bundle) in safety_log
            assert result.receipt.tx_hash in safety_log
    finally:
        h.stop()


def test_cli_basis_live_checks_the_shipped_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nautilus_ext.cli import app

    monkeypatch.chdir(tmp_path)  # the shipped config's audit root is relative to the working directory

    runner = CliRunner()
    shipped = REPO / "configs" / "live" / "basis_usdt_market_neutral.yaml"
    result = runner.invoke(app, ["basis", "live", "--config", str(shipped), "--check"])
    assert result.exit_code == 0, result.output
    assert "mode=DRY_RUN" in result.output
    assert "configuration OK" in result.output
    # a live YAML without the basis service is refused, naming what is missing
    other = REPO / "configs" / "live" / "funding_carry_dry_run.yaml"
    result = runner.invoke(app, ["basis", "live", "--config", str(other), "--check"])
    assert result.exit_code == 2
    assert "no strategy entry runs nautilus_ext.strategies.basis_live:BasisLiveStrategy" in result.output


TOKEN = "b" * 40


def _live_node(
    tmp_path: Path, exchange: FakeExchange, chain: EvmStack, monkeypatch: pytest.MonkeyPatch, *, arm: bool
) -> tuple[NodeHarness, BasisLiveStrategy]:
    for name in ("BYBIT", "BINANCEUSDM", "OKX"):
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_KEY", "fake-key")
        monkeypatch.setenv(f"NAUTILUS_EXT_{name}_API_SECRET", "fake-secret")
    monkeypatch.setenv("NAUTILUS_EXT_OKX_PASSWORD", "fake-passphrase")
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", TOKEN)
    _fund_wallet(chain, 12 * ETHER)
    h, live = start_live_node(load_live_config(_yaml(tmp_path, exchange, chain, mode="LIVE")))
    node = h.node
    assert node is not None
    strat: BasisLiveStrategy = h.strategy(BasisLiveStrategy)  # type: ignore[assignment]
    eventually(
        lambda: (
            node.is_running()
            and all(strat.mark_of(v) is not None for v in HEDGES)
            and all(node.cache.quote_tick(InstrumentId.from_str(i)) is not None for i in HEDGES.values())
        ),
        30,
        message="the node never priced and quoted every hedge venue",
    )
    if arm:
        safety = live.safety
        assert safety is not None
        assert safety.control is not None
        _, armed = send(
            safety.control.url,
            TOKEN,
            {"command": "arm", "ttl_secs": 300, "actor": "alice", "auto_confirm": ["basis"]},
        )
        assert armed["ok"], armed
    return h, strat


def test_usdt_market_neutral_live_armed_enters_on_the_venues_and_the_chain(
    tmp_path: Path, exchange: FakeExchange, stack: EvmStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LIVE against the fakes, armed with the shipped `basis` auto-confirm policy: the entry's
    # shorts reach the venues and the leverage bundle the chain, each confirmed by the policy
    h, strat = _live_node(tmp_path, exchange, stack, monkeypatch, arm=True)
    chain = stack
    try:
        h.call(strat.run_hour, timeout_secs=60)
        refused = [r.reference for r in strat.records if r.status == "REFUSED"]
        assert refused == []
        assert [r.status for r in strat.records if r.action.kind.value == "LEVERAGE_ENTRY"] == ["EXECUTED"]
        lg = strat.engine.ledger
        assert lg is not None
        for venue in HEDGES:
            _await_position(h, strat, venue, lg.qty(f"{venue}.perp"))
            fake, symbol = FAKE[venue]
            engine = getattr(exchange, fake).engine
            multiplier = Decimal("0.1") if venue == "OKX" else Decimal(1)
            eventually(
                lambda e=engine, s=symbol, m=multiplier, v=venue: (
                    exchange.call(lambda: e.position("USER", s).qty) * m == lg.qty(f"{v}.perp")
                ),
                10,
                message=f"{venue}: the venue does not hold the engine's short",
            )
        assert len(exchange.received_orders) == 3
        assert {r.status for r in strat.transfers} == {"PREFUNDED"}  # the operator funds accounts in LIVE
        _check_aave(strat, chain)
        # Binance settles funding on the account: the engine books what the venue paid
        settled = exchange.call(lambda: exchange.settle_funding("binance", "ETHUSDT"))
        (paid,) = [x for x in settled if x.account == "USER"]
        eventually(lambda: ("BINANCE-FUTURES", "ETH") in strat._settled, 20, message="settlement never seen")
        events = h.call(strat.run_hour, timeout_secs=60)
        (payment,) = [e for e in events if e.event == "FUNDING_PAYMENT"]
        assert payment.amount == paid.amount
        assert paid.amount > 0
    finally:
        h.stop()


def test_live_unarmed_sends_nothing_and_halts(
    tmp_path: Path, exchange: FakeExchange, stack: EvmStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LIVE without an arm: the gate refuses the first short; the engine's book no longer matches
    # the venues', so the rest of the hour is not sent and the service halts
    h, strat = _live_node(tmp_path, exchange, stack, monkeypatch, arm=False)
    try:
        before = dsa_holdings(stack)
        h.call(strat.run_hour, timeout_secs=60)
        statuses = {
            (r.action.kind.value, r.status) for r in strat.records if r.action.kind.value != "TRANSFER"
        }
        # the first short is refused: nothing after it (other shorts, the bundle) is sent
        assert statuses == {("PERP_TRADE", "REFUSED"), ("SPOT_TRADE", "SIMULATED")}
        assert len([r for r in strat.records if r.action.kind.value == "PERP_TRADE"]) == 1
        assert all("RISK_BLOCKED" in r.reference for r in strat.records if r.status == "REFUSED")
        assert strat.halted is not None
        assert "PERP_TRADE refused" in strat.halted
        with pytest.raises(RiskBlocked) as blocked:
            h.call(strat.run_hour, timeout_secs=60)
        assert blocked.value.details["rule"] == "basis_book_diverged"
        assert exchange.received_orders == []
        assert dsa_holdings(stack) == before
        assert strat.bundles == []
    finally:
        h.stop()


def test_the_service_steps_itself_on_its_hour_timer(
    tmp_path: Path, exchange: FakeExchange, stack: EvmStack
) -> None:
    # hours 2 s apart: the first ticks may come before the node has every mark (refused, the
    # engine untouched); then the entry and quiet hours follow by themselves
    _fund_wallet(stack, 12 * ETHER)
    path = _yaml(tmp_path, exchange, stack, auto_hours=True, hour_secs=2.0)
    h, _live = start_live_node(load_live_config(path))
    try:
        strat: BasisLiveStrategy = h.strategy(BasisLiveStrategy)  # type: ignore[assignment]
        eventually(lambda: strat.hour >= 2, 30, message=lambda: f"hours {strat.hour} errors {strat.errors}")
        assert all("no live mark price" in e for e in strat.errors), strat.errors
        assert strat.halted is None
        lg = strat.engine.ledger
        assert lg is not None
        for venue in HEDGES:
            _await_position(h, strat, venue, lg.qty(f"{venue}.perp"))
        assert [r.status for r in strat.records if r.action.kind.value == "LEVERAGE_ENTRY"] == ["EXECUTED"]
        assert [s.index for s in strat.engine.seen][:2] == [0, 1]
    finally:
        h.stop()


def test_an_unfunded_cex_account_refuses_the_entry_before_anything_is_sent(
    tmp_path: Path, exchange: FakeExchange, stack: EvmStack
) -> None:
    # each sandbox account holds 1,000 USDT: the first margin transfer the engine books (about
    # 6,600 USDT to Binance) is not there, so nothing of the hour is sent and the service halts
    _fund_wallet(stack, 12 * ETHER)
    before = dsa_holdings(stack)
    h, _live = start_live_node(load_live_config(_yaml(tmp_path, exchange, stack, balance=1000)))
    try:
        node = h.node
        assert node is not None
        strat: BasisLiveStrategy = h.strategy(BasisLiveStrategy)  # type: ignore[assignment]
        eventually(
            lambda: (
                all(strat.mark_of(v) is not None for v in HEDGES)
                and all(node.cache.account_for_venue(InstrumentId.from_str(i).venue) for i in HEDGES.values())
            ),
            30,
        )
        h.call(strat.run_hour, timeout_secs=60)
        (record,) = strat.records
        assert record.action.kind.value == "TRANSFER"
        assert record.status == "REFUSED"
        assert "INSUFFICIENT_BALANCE" in record.reference
        assert "BINANCE-FUTURES has 1000" in record.reference
        assert strat.halted is not None
        assert strat.results == {}
        assert strat.bundles == []
        assert dsa_holdings(stack) == before
    finally:
        h.stop()
