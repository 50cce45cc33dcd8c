"""Tardis exchange/symbol mapping to canonical keys and Nautilus ids."""

from __future__ import annotations

import pytest

from nautilus_ext.catalogs.tardis_symbols import resolve_tardis_symbol
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig


@pytest.mark.parametrize(
    ("exchange", "symbol", "key", "instrument_id"),
    [
        ("binance-futures", "BTCUSDT", "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", "BTCUSDT-PERP.BINANCE"),
        (
            "binance-futures",
            "BTCUSDT_240329",
            "BINANCE-FUTURES:FUTURE:BTC-USDT-240329@LIN",
            "BTCUSDT_240329.BINANCE",
        ),
        ("binance", "ETHBTC", "BINANCE-SPOT:SPOT_PAIR:ETH-BTC", "ETHBTC.BINANCE"),
        ("bybit", "BTCUSDT", "BYBIT:PERPETUAL:BTC-USDT@LIN", "BTCUSDT-LINEAR.BYBIT"),
        ("bybit", "BTCUSD", "BYBIT:PERPETUAL:BTC-USD@INV", "BTCUSD-INVERSE.BYBIT"),
        ("bybit-spot", "BTCUSDT", "BYBIT:SPOT_PAIR:BTC-USDT", "BTCUSDT-SPOT.BYBIT"),
        ("okex-swap", "BTC-USDT-SWAP", "OKX:PERPETUAL:BTC-USDT@LIN", "BTC-USDT-SWAP.OKX"),
        ("okex", "BTC-USDT", "OKX:SPOT_PAIR:BTC-USDT", "BTC-USDT.OKX"),
        ("deribit", "BTC-PERPETUAL", "DERIBIT:PERPETUAL:BTC-USD@INV", "BTC-PERPETUAL.DERIBIT"),
        ("bitmex", "XBTUSD", "BITMEX:PERPETUAL:BTC-USD@INV", "XBTUSD.BITMEX"),
        ("huobi-dm-swap", "BTC-USD", "HUOBI-DM-SWAP:PERPETUAL:BTC-USD@INV", "BTC-USD.HUOBI"),
    ],
)
def test_resolve(exchange: str, symbol: str, key: str, instrument_id: str) -> None:
    resolved = resolve_tardis_symbol(exchange, symbol)
    assert str(resolved.key) == key
    assert resolved.instrument_id == instrument_id


def test_inverse_settles_in_base() -> None:
    resolved = resolve_tardis_symbol("deribit", "BTC-PERPETUAL")
    assert resolved.inverse
    assert resolved.settle == "BTC"


@pytest.mark.parametrize(
    ("exchange", "symbol"),
    [("kraken", "XBTUSD"), ("deribit", "BTC-27DEC24"), ("binance", "BTCXYZ"), ("okex", "BTCUSDT")],
)
def test_unsupported_is_a_typed_error(exchange: str, symbol: str) -> None:
    with pytest.raises(InvalidConfig) as err:
        resolve_tardis_symbol(exchange, symbol)
    assert err.value.code is ErrorCode.INVALID_CONFIG
    assert symbol in str(err.value)
