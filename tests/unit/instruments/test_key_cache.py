"""InstrumentKey.parse hands out the immutable key of a text it parsed before; bad input still fails."""

from __future__ import annotations

import pytest

from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import key as key_module
from nautilus_ext.instruments.key import InstrumentKey

TEXT = "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"


def test_a_parsed_text_gives_the_same_immutable_key() -> None:
    first = InstrumentKey.parse(TEXT)
    again = InstrumentKey.parse(TEXT)
    assert again is first
    assert first == InstrumentKey._parse(TEXT)
    assert str(again) == TEXT
    with pytest.raises(AttributeError):
        first.venue = "OKX"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["BINANCE:SPOT:BTC-USDT", " " + TEXT, "", ["BINANCE"]])
def test_bad_input_fails_every_time(bad: object) -> None:
    for _ in range(2):
        with pytest.raises(InvalidInstrumentKey):
            InstrumentKey.parse(bad)  # type: ignore[arg-type]


def test_the_cache_is_bounded() -> None:
    for i in range(key_module._PARSED_MAX + 10):
        InstrumentKey.parse(f"V{i}:SPOT_ASSET:BTC")
    assert len(key_module._PARSED) <= key_module._PARSED_MAX
    assert InstrumentKey.parse(TEXT) == InstrumentKey._parse(TEXT)
