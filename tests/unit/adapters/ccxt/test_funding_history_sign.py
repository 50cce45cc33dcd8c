"""Funding history rows become the account's cash flow: received > 0 on every venue."""

from __future__ import annotations

from decimal import Decimal

from nautilus_ext.adapters.ccxt.parsing.funding import funding_cash_flow


def test_bybit_reports_a_fee_paid_positive_so_its_sign_is_flipped() -> None:
    # what ccxt 4.5.90 returns for the fake Bybit's funding row of a short receiving 1.5 USDT
    row = {"amount": -1.5, "info": {"execType": "Funding", "execFee": "-1.5", "feeRate": "0.0003"}}
    assert funding_cash_flow("bybit", row) == (Decimal("1.5"), Decimal("0.0003"))
    paid = {"amount": 0.25, "info": {"execType": "Funding", "execFee": "0.25", "feeRate": "-0.0001"}}
    assert funding_cash_flow("bybit", paid) == (Decimal("-0.25"), Decimal("-0.0001"))


def test_binance_income_is_already_a_cash_flow() -> None:
    row = {"amount": -0.05, "info": {"incomeType": "FUNDING_FEE", "income": "-0.05000"}}
    assert funding_cash_flow("binanceusdm", row) == (Decimal("-0.05000"), None)


def test_a_row_without_an_amount_is_skipped() -> None:
    assert funding_cash_flow("binanceusdm", {"info": {"income": "x"}, "amount": None}) is None
    assert funding_cash_flow("okx", {"amount": 2}) == (Decimal(2), None)
