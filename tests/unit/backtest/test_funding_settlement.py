"""Funding settlement in a real BacktestEngine: a perp held over three 8 h funding periods."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from nautilus_ext.backtest.funding import FundingEvent
from nautilus_ext.backtest.funding import FundingPayment
from nautilus_ext.backtest.funding import FundingSettlementConfig
from nautilus_ext.backtest.funding import FundingSettlementModule
from nautilus_ext.backtest.funding import funding_events_from_tickers
from nautilus_ext.backtest.funding import funding_totals
from nautilus_ext.backtest.funding import read_ledger

HOUR = 3_600_000_000_000
T0 = 1_704_153_600_000_000_000  # 2024-01-02 00:00 UTC
PERP = TestInstrumentProvider.btcusdt_perp_binance()
IID = str(PERP.id)
EVENTS = [  # rates of both signs, distinct marks
    FundingEvent(IID, T0 + 8 * HOUR, Decimal("0.0001"), Decimal("42000.10")),
    FundingEvent(IID, T0 + 16 * HOUR, Decimal("-0.00005"), Decimal("43010.50")),
    FundingEvent(IID, T0 + 24 * HOUR, Decimal("0.000375"), Decimal("41500.00")),
]


class _HoldConfig(StrategyConfig, frozen=True):
    side: str = "BUY"
    close_after_ns: int = 0


class _Hold(Strategy):  # type: ignore[misc]
    """Open 0.5 BTC at the first quote, optionally close it later."""

    def __init__(self, config: _HoldConfig) -> None:
        super().__init__(config)
        self._opened = False
        self._closed = False

    def on_start(self) -> None:
        self.subscribe_quote_ticks(PERP.id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        side = OrderSide.BUY if self.config.side == "BUY" else OrderSide.SELL
        if not self._opened:
            self._opened = True
            self.submit_order(self.order_factory.market(PERP.id, side, Quantity.from_str("0.500")))
        elif self.config.close_after_ns and tick.ts_event >= self.config.close_after_ns and not self._closed:
            self._closed = True
            self.close_all_positions(PERP.id)


def _run(side: str, tmp_path: object, close_after_ns: int = 0) -> tuple[FundingSettlementModule, Money]:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    ledger = f"{tmp_path}/ledger-{side}.jsonl"
    module = FundingSettlementModule(FundingSettlementConfig(ledger_path=ledger), events=EVENTS)
    engine.add_venue(
        Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(1_000_000, USDT)],
        book_type=BookType.L1_MBP,
        modules=[module],
    )
    engine.add_instrument(PERP)
    ticks = [
        QuoteTick(
            PERP.id,
            Price.from_str("42000.0"),
            Price.from_str("42000.1"),
            Quantity.from_str("10.000"),
            Quantity.from_str("10.000"),
            T0 + i * HOUR // 2,
            T0 + i * HOUR // 2,
        )
        for i in range(1, 52)  # 00:30 .. 25:30
    ]
    engine.add_data(ticks)
    engine.add_strategy(_Hold(_HoldConfig(side=side, close_after_ns=close_after_ns)))
    engine.run()
    account = engine.cache.account_for_venue(Venue("BINANCE"))
    balance = account.balance_total(USDT)
    engine.dispose()
    return module, balance


def _expected(size: Decimal) -> list[Decimal]:
    return [(-(size * e.mark * e.rate)).quantize(Decimal("0.00000001")) for e in EVENTS]


@pytest.mark.parametrize(("side", "size"), [("BUY", Decimal("0.500")), ("SELL", Decimal("-0.500"))])
def test_three_funding_periods_settle_exactly(side: str, size: Decimal, tmp_path: object) -> None:
    module, balance = _run(side, tmp_path)
    amounts = [p.amount for p in module.payments]
    assert amounts == _expected(size)
    assert [p.ts_ns for p in module.payments] == [e.ts_ns for e in EVENTS]
    assert all(p.currency == "USDT" and p.size == size for p in module.payments)
    if side == "BUY":  # long pays positive rates, receives the negative one
        assert amounts == [Decimal("-2.10000500"), Decimal("1.07526250"), Decimal("-7.78125000")]
    else:
        assert amounts == [Decimal("2.10000500"), Decimal("-1.07526250"), Decimal("7.78125000")]
    assert read_ledger(f"{tmp_path}/ledger-{side}.jsonl") == module.payments
    # the account moved by exactly the commission of the entry fill plus the funding
    fill_fee = Decimal("0.5") * Decimal("42000.1" if side == "BUY" else "42000.0") * PERP.taker_fee
    expected_balance = Decimal(1_000_000) - fill_fee + sum(amounts, Decimal(0))
    assert balance.as_decimal() == expected_balance.quantize(Decimal("0.00000001"))


def test_no_payment_after_the_position_is_closed(tmp_path: object) -> None:
    module, _ = _run("BUY", tmp_path, close_after_ns=T0 + 12 * HOUR)
    assert [p.ts_ns for p in module.payments] == [EVENTS[0].ts_ns]


def test_events_from_tardis_ticker_rows() -> None:
    f1, f2 = T0 + 8 * HOUR, T0 + 16 * HOUR
    rows = [
        {
            "instrument_id": IID,
            "ts_event": T0,
            "funding_rate": "0.0001",
            "funding_timestamp": f1,
            "mark_price": "100",
        },
        {
            "instrument_id": IID,
            "ts_event": f1 - 1,
            "funding_rate": "0.0002",
            "funding_timestamp": f1,
            "mark_price": "101",
        },
        {
            "instrument_id": IID,
            "ts_event": f1,
            "funding_rate": "0.0003",
            "funding_timestamp": f2,
            "mark_price": "102",
        },
        {
            "instrument_id": IID,
            "ts_event": f1 + 5,
            "funding_rate": "0.0004",
            "funding_timestamp": None,
            "mark_price": None,
        },
    ]
    events, skipped = funding_events_from_tickers(rows)
    # f1 takes the last rate published before it and the mark at or before it
    assert events == [
        FundingEvent(IID, f1, Decimal("0.0002"), Decimal("102")),
        FundingEvent(IID, f2, Decimal("0.0003"), Decimal("102")),
    ]
    assert skipped == 0
    no_mark, skipped = funding_events_from_tickers([{**rows[0], "mark_price": None}])
    assert (no_mark, skipped) == ([], 1)


def test_totals_and_json_round_trip() -> None:
    p = FundingPayment(
        IID, "P-1", 5, Decimal("-0.5"), Decimal("100"), Decimal("0.001"), Decimal("0.05"), "USDT"
    )
    assert FundingPayment.from_json(p.to_json()) == p
    assert funding_totals([p, p]) == {"USDT": Decimal("0.10")}


def test_inverse_perp_settles_in_base_currency() -> None:
    from nautilus_trader.model.currencies import BTC

    inverse = TestInstrumentProvider.xbtusd_bitmex()
    event = FundingEvent(str(inverse.id), T0 + 8 * HOUR, Decimal("0.0001"), Decimal("40000"))

    def run(balances: list[Money]) -> FundingSettlementModule:
        engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
        module = FundingSettlementModule(FundingSettlementConfig(), events=[event])
        engine.add_venue(
            Venue("BITMEX"),
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=balances,
            base_currency=None,
            book_type=BookType.L1_MBP,
            modules=[module],
        )
        engine.add_instrument(inverse)
        engine.add_data(
            [
                QuoteTick(
                    inverse.id,
                    Price.from_str("40000.0"),
                    Price.from_str("40000.5"),
                    Quantity.from_str("100000"),
                    Quantity.from_str("100000"),
                    T0 + i * HOUR,
                    T0 + i * HOUR,
                )
                for i in range(1, 10)
            ]
        )

        class _Buy(Strategy):  # type: ignore[misc]
            def on_start(self) -> None:
                self.subscribe_quote_ticks(inverse.id)

            def on_quote_tick(self, tick: QuoteTick) -> None:
                if not self.cache.orders():
                    self.submit_order(
                        self.order_factory.market(inverse.id, OrderSide.BUY, Quantity.from_int(1000))
                    )

        engine.add_strategy(_Buy())
        try:
            engine.run()
        finally:
            engine.dispose()
        return module

    module = run([Money(1, BTC)])
    # 1000 contracts x 1 USD: -(1000 x 0.0001 / 40000) BTC
    assert [(p.amount, p.currency) for p in module.payments] == [(Decimal("-0.00000250"), "BTC")]
