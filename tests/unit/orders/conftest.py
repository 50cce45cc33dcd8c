"""Valid example orders of every operation, for the order tests to mutate."""

from __future__ import annotations

from typing import Any

import pytest

SPOT = "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
PERP = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
MATCH = "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
OU25 = "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL@2.5"
BTTS = "FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"

VALID: dict[str, dict[str, Any]] = {
    "trade_spot": {
        "operation_id": "op-spot",
        "operation": "trade",
        "instrument_key": SPOT,
        "side": "BUY",
        "amount": "0.5",
        "price": "65000.1",
        "expected_deltas": {
            "BINANCE-SPOT:SPOT_ASSET:BTC": "0.5",
            "BINANCE-SPOT:SPOT_ASSET:USDT": "-32500.05",
        },
        "urgency": "low",
        "smart_execution_enabled": True,
        "take_profit_price": "70000",
        "stop_loss_price": "60000",
        "strategy_id": "delta-one",
        "strategy_intent": "entry_full",
    },
    "trade_perp": {
        "operation_id": "op-perp",
        "operation": "trade",
        "instrument_key": PERP,
        "venue": "BINANCE-FUTURES",
        "side": "SELL",
        "amount": "0.010",
        "expected_deltas": {PERP: "-0.010"},
    },
    "trade_option": {
        "operation_id": "op-opt",
        "operation": "trade",
        "instrument_key": "DERIBIT:OPTION:BTC-USD-241225-50000-CALL@INV",
        "venue": "DERIBIT",
        "side": "BUY",
        "amount": "1",
        "price": "0.0125",
    },
    "supply": {
        "operation_id": "op-supply",
        "operation": "supply",
        "instrument_key": "AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM",
        "side": "SUPPLY",
        "amount": "12.5",
        "source_token": "WEETH",
        "contract_address": "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2",
        "function_name": "supply",
        "function_params": {"onBehalfOf": "0x0000000000000000000000000000000000000001", "referralCode": 0},
        "expected_deltas": {"AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM": "12.5"},
        "atomic_group_id": "lev-1",
        "sequence_in_group": 2,
    },
    "borrow": {
        "operation_id": "op-borrow",
        "operation": "borrow",
        "instrument_key": "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
        "side": "BORROW",
        "amount": "8",
        "expected_deltas": {"AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM": "8"},
    },
    "stake": {
        "operation_id": "op-stake",
        "operation": "stake",
        "instrument_key": "ETHERFI:LST:WEETH@ETHEREUM",
        "venue": "ETHERFI",
        "side": "STAKE",
        "amount": "1000000000000000000000000000000",
    },
    "withdraw": {
        "operation_id": "op-wd",
        "operation": "withdraw",
        "instrument_key": "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
        "side": "WITHDRAW",
        "amount": "100",
    },
    "swap": {
        "operation_id": "op-swap",
        "operation": "swap",
        "instrument_key": "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "side": "SELL",
        "amount": "2",
        "source_token": "WETH",
        "target_token": "USDT",
        "max_slippage": "0.001",
    },
    "transfer": {
        "operation_id": "op-xfer",
        "operation": "transfer",
        "instrument_key": "WALLET-ETH:SPOT_ASSET:USDT@ETHEREUM",
        "source_venue": "WALLET-ETH",
        "target_venue": "BINANCE-SPOT",
        "side": "TRANSFER",
        "amount": "5000",
    },
    "bet_match": {
        "operation_id": "op-bet",
        "operation": "bet",
        "instrument_key": MATCH,
        "side": "BACK",
        "amount": "10",
        "odds": "2.06",
        "selection": "HOME",
        "expected_deltas": {MATCH: "10"},
    },
    "bet_ou": {
        "operation_id": "op-ou",
        "operation": "bet",
        "instrument_key": OU25,
        "venue": "BETFAIR",
        "side": "LAY",
        "amount": "4",
        "odds": "1.01",
        "selection": "over",
    },
    "bet_btts": {
        "operation_id": "op-btts",
        "operation": "bet",
        "instrument_key": BTTS,
        "side": "BACK",
        "amount": "4",
        "odds": "1.9",
        "selection": "YES",
    },
}


@pytest.fixture
def valid() -> dict[str, dict[str, Any]]:
    """Return fresh copies of the valid example orders."""
    return {name: dict(data) for name, data in VALID.items()}
