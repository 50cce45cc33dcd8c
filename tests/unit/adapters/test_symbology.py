"""Canonical keys <-> NautilusTrader ids and instrument objects, per family and from real data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.adapters.betfair.parsing.core import betting_instruments_from_file
from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import BettingInstrument
from nautilus_trader.model.instruments import CryptoFuture
from nautilus_trader.model.instruments import CryptoOption
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import FuturesContract
from nautilus_trader.model.instruments import IndexInstrument
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.instruments import OptionContract

from nautilus_ext.adapters.symbology import betting_market_key
from nautilus_ext.adapters.symbology import build_instrument
from nautilus_ext.adapters.symbology import build_instruments
from nautilus_ext.adapters.symbology import ccxt_symbol
from nautilus_ext.adapters.symbology import from_instrument_id
from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.nautilus import CANONICAL_KEY_INFO
from nautilus_ext.instruments.registry import InstrumentRegistry

# extra instruments for families the shipped configs do not list
EXTRA: list[dict[str, Any]] = [
    {
        "instrument_key": "OKX:FUTURE:BTC-USD-241227@INV",
        "expiry": "2024-12-27T08:00:00Z",
        "tick_size": "0.1",
        "size_increment": "1",
        "contract_size": "100",
    },
    {
        "instrument_key": "OKX:OPTION:BTC-USD-241227-65000-PUT@INV",
        "expiry": "2024-12-27T08:00:00Z",
        "tick_size": "0.0005",
        "size_increment": "1",
        "contract_size": "0.01",
    },
    {
        "instrument_key": "DERIBIT:PERPETUAL:ETH-USDC@LIN",
        "tick_size": "0.05",
        "size_increment": "0.001",
    },
    {
        "instrument_key": "HYPERLIQUID:SPOT_PAIR:PURR-USDC",
        "tick_size": "0.00001",
        "size_increment": "1",
    },
]

# (key, Nautilus class, Nautilus id) — one or more per family
FAMILIES = [
    ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", CurrencyPair, "BTCUSDT.BINANCE"),
    ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", CryptoPerpetual, "BTCUSDT-PERP.BINANCE"),
    ("BINANCE-FUTURES:FUTURE:BTC-USDT-241227@LIN", CryptoFuture, "BTCUSDT_241227.BINANCE"),
    ("BYBIT:SPOT_PAIR:BTC-USDT", CurrencyPair, "BTCUSDT-SPOT.BYBIT"),
    ("BYBIT:PERPETUAL:BTC-USDT@LIN", CryptoPerpetual, "BTCUSDT-LINEAR.BYBIT"),
    ("BYBIT:PERPETUAL:BTC-USD@INV", CryptoPerpetual, "BTCUSD-INVERSE.BYBIT"),
    ("OKX:SPOT_PAIR:BTC-USDT", CurrencyPair, "BTC-USDT.OKX"),
    ("OKX:PERPETUAL:BTC-USDT@LIN", CryptoPerpetual, "BTC-USDT-SWAP.OKX"),
    ("OKX:FUTURE:BTC-USD-241227@INV", CryptoFuture, "BTC-USD-241227.OKX"),
    ("OKX:OPTION:BTC-USD-241227-65000-PUT@INV", CryptoOption, "BTC-USD-241227-65000-P.OKX"),
    ("DERIBIT:PERPETUAL:BTC-USD@INV", CryptoPerpetual, "BTC-PERPETUAL.DERIBIT"),
    ("DERIBIT:PERPETUAL:ETH-USDC@LIN", CryptoPerpetual, "ETH_USDC-PERPETUAL.DERIBIT"),
    ("DERIBIT:FUTURE:BTC-USD-241227@INV", CryptoFuture, "BTC-27DEC24.DERIBIT"),
    ("DERIBIT:OPTION:BTC-USD-241227-50000-CALL@INV", CryptoOption, "BTC-27DEC24-50000-C.DERIBIT"),
    ("HYPERLIQUID:PERPETUAL:BTC-USDC@LIN", CryptoPerpetual, "BTC-USD-PERP.HYPERLIQUID"),
    ("HYPERLIQUID:SPOT_PAIR:PURR-USDC", CurrencyPair, "PURR-USDC-SPOT.HYPERLIQUID"),
    ("ASTER:PERPETUAL:BTC-USDT@LIN", CryptoPerpetual, "BTC/USDT:USDT.ASTER"),
    ("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", CurrencyPair, "ETH-USDT-3000.UNISWAPV3"),
    ("CURVE-ETH:POOL:STETH-ETH:400@ETHEREUM", CurrencyPair, "STETH-ETH-400.CURVE"),
    ("COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM", CurrencyPair, "ETH-USDT.COWSWAP"),
    ("CME:FUTURE:SP500-USD-241220@LIN", FuturesContract, "ESZ4.XCME"),
    ("CME:FUTURE:NASDAQ100-USD-240920@LIN", FuturesContract, "NQU4.XCME"),
    ("CME:OPTION:SP500-USD-240621-5000-CALL@LIN", OptionContract, "ESM4 C5000.XCME"),
    ("CBOE:INDEX:VIX-USD", IndexInstrument, "VIX.CBOE"),
]
BETTING = [
    "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL@2.5",
    "FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
    "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:GER-BUNDESLIGA:20250316T1430:BAYERN-MUNICH-BORUSSIA-DORTMUND@2.5",
]


def _with_extra(base: InstrumentRegistry, *, explicit_ids: bool) -> InstrumentRegistry:
    attrs = [
        a
        if explicit_ids
        else InstrumentAttributes.model_validate(a.model_dump() | {"nautilus_instrument_id": None})
        for a in base
    ]
    attrs += [InstrumentAttributes.model_validate(e) for e in EXTRA]
    return InstrumentRegistry(base.venues.values(), attrs)


@pytest.fixture(scope="module")
def shipped() -> InstrumentRegistry:
    return InstrumentRegistry.default()


@pytest.fixture(scope="module", params=["explicit_ids", "symbology_only"])
def registry(request: pytest.FixtureRequest, shipped: InstrumentRegistry) -> InstrumentRegistry:
    # the shipped registry pins Nautilus ids; without them the venue symbology rules must agree
    return _with_extra(shipped, explicit_ids=request.param == "explicit_ids")


def _without_info(instrument: Instrument) -> Instrument:
    data = type(instrument).to_dict(instrument)
    data["info"] = None
    return type(instrument).from_dict(data)


def _assert_round_trip(instrument: Instrument, key: InstrumentKey, registry: InstrumentRegistry) -> None:
    assert instrument.info[CANONICAL_KEY_INFO] == str(key)
    assert key_for_instrument(instrument, registry) == key
    bare = _without_info(instrument)
    assert not bare.info
    assert key_for_instrument(bare, registry) == key
    assert from_instrument_id(instrument.id, registry) == key
    assert from_instrument_id(str(instrument.id), registry) == key


@pytest.mark.parametrize(("text", "cls", "nautilus_id"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_round_trip(
    registry: InstrumentRegistry, text: str, cls: type[Instrument], nautilus_id: str
) -> None:
    key = InstrumentKey.parse(text)
    attrs = registry.get(key)
    instrument = build_instrument(attrs, registry)
    assert type(instrument) is cls
    assert str(instrument.id) == nautilus_id
    assert to_instrument_id(key, registry) == instrument.id
    assert to_instrument_id(text, registry) == instrument.id
    _assert_round_trip(instrument, key, registry)
    assert build_instruments(attrs, registry) == [instrument]


@pytest.mark.parametrize("text", BETTING)
def test_betting_markets_round_trip_per_selection(registry: InstrumentRegistry, text: str) -> None:
    key = InstrumentKey.parse(text)
    attrs = registry.get(key)
    built = build_instruments(attrs, registry)
    assert len(built) == len(attrs.selections) >= 2
    for selection, instrument in zip(attrs.selections, built, strict=True):
        assert isinstance(instrument, BettingInstrument)
        assert instrument.selection_id == attrs.selections[selection]
        assert instrument.market_id == attrs.betfair_market_id
        assert to_instrument_id(key, registry, selection=selection.lower()) == instrument.id
        _assert_round_trip(instrument, key, registry)


def test_seed_example_perpetual_maps_both_ways(shipped: InstrumentRegistry) -> None:
    key = InstrumentKey.parse("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    assert to_instrument_id(key, shipped) == InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
    assert from_instrument_id("BTCUSDT-PERP.BINANCE", shipped) == key
    # Binance spot and futures share the Nautilus venue: the instrument type picks the venue
    assert from_instrument_id("BTCUSDT.BINANCE", shipped) == InstrumentKey.parse(
        "BINANCE-SPOT:SPOT_PAIR:BTC-USDT"
    )


def test_symbology_rules_for_unregistered_keys(shipped: InstrumentRegistry) -> None:
    cases = {
        "BINANCE-FUTURES:PERPETUAL:SOL-USDT@LIN": "SOLUSDT-PERP.BINANCE",
        "BINANCE-SPOT:SPOT_PAIR:SOL-FDUSD": "SOLFDUSD.BINANCE",
        "BYBIT:PERPETUAL:ETH-USD@INV": "ETHUSD-INVERSE.BYBIT",
        "OKX:PERPETUAL:ETH-USD@INV": "ETH-USD-SWAP.OKX",
        "DERIBIT:FUTURE:ETH-USD-250307@INV": "ETH-7MAR25.DERIBIT",
        "DERIBIT:OPTION:BTC-USD-250328-0.5-PUT@INV": "BTC-28MAR25-0.5-P.DERIBIT",
        "HYPERLIQUID:PERPETUAL:SOL-USDC@LIN": "SOL-USD-PERP.HYPERLIQUID",
        "ASTER:PERPETUAL:ETH-USDT@LIN": "ETH/USDT:USDT.ASTER",
        "UNISWAPV3-ETH:POOL:WBTC-USDC:500@ETHEREUM": "WBTC-USDC-500.UNISWAPV3",
    }
    for text, nautilus_id in cases.items():
        key = InstrumentKey.parse(text)
        assert str(to_instrument_id(key, shipped)) == nautilus_id, text
        assert from_instrument_id(nautilus_id, shipped) == key, text


def test_cme_future_symbology_uses_root_aliases_and_the_registry(shipped: InstrumentRegistry) -> None:
    key = InstrumentKey.parse("CME:FUTURE:SP500-USD-250321@LIN")
    assert str(to_instrument_id(key, shipped)) == "ESH5.XCME"
    # a one-digit year is ambiguous by decade: only registered contracts map back
    assert from_instrument_id("ESZ4.XCME", shipped) == InstrumentKey.parse("CME:FUTURE:SP500-USD-241220@LIN")
    assert from_instrument_id("ESZ4.GLBX", shipped) == InstrumentKey.parse("CME:FUTURE:SP500-USD-241220@LIN")
    with pytest.raises(InvalidInstrumentKey, match="no registered venue symbology"):
        from_instrument_id("ESH5.XCME", shipped)


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", "BTC/USDT"),
        ("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN", "BTC/USDT:USDT"),
        ("BYBIT:PERPETUAL:BTC-USD@INV", "BTC/USD:BTC"),
        ("DERIBIT:FUTURE:BTC-USD-241227@INV", "BTC/USD:BTC-241227"),
        ("DERIBIT:OPTION:BTC-USD-241227-50000-CALL@INV", "BTC/USD:BTC-241227-50000-C"),
    ],
)
def test_ccxt_symbols_match_the_registry(shipped: InstrumentRegistry, text: str, symbol: str) -> None:
    assert ccxt_symbol(text) == symbol
    attrs = shipped.find(text)
    assert attrs is not None
    assert attrs.ccxt_symbol == symbol


def test_ccxt_symbol_refuses_non_tradable_types() -> None:
    with pytest.raises(InvalidInstrumentKey, match="no ccxt symbol"):
        ccxt_symbol("AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM")


def test_built_instruments_carry_precisions_sizes_and_fees(shipped: InstrumentRegistry) -> None:
    attrs = shipped.get("BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN")
    perp = build_instrument(attrs, shipped, ts_init=123)
    assert isinstance(perp, CryptoPerpetual)
    assert perp.price_precision == 1
    assert perp.size_precision == 3
    assert perp.price_increment.as_decimal() == Decimal("0.1")
    assert perp.size_increment.as_decimal() == Decimal("0.001")
    assert perp.min_quantity is not None
    assert perp.min_quantity.as_decimal() == Decimal("0.001")
    assert perp.maker_fee == Decimal("0.0002")  # the venue default (the instrument has none)
    assert perp.taker_fee == Decimal("0.0005")
    assert not perp.is_inverse
    assert perp.ts_init == 123
    spot = build_instrument(shipped.get("BINANCE-SPOT:SPOT_PAIR:BTC-USDT"), shipped)
    assert spot.min_notional is not None
    assert spot.min_notional.as_decimal() == Decimal(5)
    inverse = build_instrument(shipped.get("DERIBIT:FUTURE:BTC-USD-241227@INV"), shipped)
    assert isinstance(inverse, CryptoFuture)
    assert inverse.is_inverse
    assert inverse.settlement_currency.code == "BTC"
    assert inverse.expiration_ns == 1_735_286_400_000_000_000  # 2024-12-27T08:00Z
    assert inverse.multiplier.as_decimal() == Decimal(10)
    pool = build_instrument(shipped.get("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM"), shipped)
    assert pool.taker_fee == Decimal("0.003")  # the fee tier is the pool fee
    future = build_instrument(shipped.get("CME:FUTURE:SP500-USD-241220@LIN"), shipped)
    assert isinstance(future, FuturesContract)
    assert future.multiplier.as_decimal() == Decimal(50)
    assert future.underlying == "ES"


def test_option_on_a_venue_without_futures(shipped: InstrumentRegistry) -> None:
    # Cboe lists index options but no futures: the option's own type picks the venue
    attrs = InstrumentAttributes(
        instrument_key="CBOE:OPTION:SPX-USD-241220-5000-CALL@LIN",
        exchange_raw_symbol="SPX 241220C05000000",
        expiry="2024-12-20T21:15:00Z",
        tick_size="0.05",
        size_increment="1",
        underlying="SPX",
        contract_size="100",
    )
    registry = InstrumentRegistry(shipped.venues.values(), [*shipped, attrs])
    option = build_instrument(attrs, registry)
    assert isinstance(option, OptionContract)
    assert str(option.id) == "SPX 241220C05000000.CBOE"
    _assert_round_trip(option, attrs.instrument_key, registry)


@pytest.mark.parametrize(
    "attrs",
    [
        {
            "instrument_key": "EQUITY-INDEX:CME:FUTURE:SP500-USD-250321@LIN",
            "exchange_raw_symbol": "ESH5",
            "underlying": "ES",
            "expiry": "2025-03-21T13:30:00Z",
            "tick_size": "0.25",
            "size_increment": "1",
        },
        {"instrument_key": "CEFI:OKX:SPOT_PAIR:ETH-USDT", "tick_size": "0.01", "size_increment": "0.0001"},
    ],
)
def test_registered_asset_class_prefix_is_kept(shipped: InstrumentRegistry, attrs: dict[str, str]) -> None:
    registered = InstrumentAttributes.model_validate(attrs)
    registry = InstrumentRegistry(shipped.venues.values(), [*shipped, registered])
    instrument = build_instrument(registered, registry)
    _assert_round_trip(instrument, registered.instrument_key, registry)


def test_expiry_nanoseconds_are_exact(shipped: InstrumentRegistry) -> None:
    attrs = InstrumentAttributes(
        instrument_key="DERIBIT:FUTURE:BTC-USD-241227@INV",
        expiry="2024-12-27T08:00:00.123457Z",
        tick_size="2.5",
        size_increment="10",
    )
    future = build_instrument(attrs, shipped)
    assert isinstance(future, CryptoFuture)
    assert future.expiration_ns == 1_735_286_400_123_457_000


def test_precision_above_sixteen_is_an_invalid_config(shipped: InstrumentRegistry) -> None:
    registry = _with_extra(shipped, explicit_ids=True)
    ok = InstrumentAttributes(
        instrument_key="UNISWAPV3-ETH:POOL:WBTC-WETH:500@ETHEREUM",
        tick_size=Decimal("1E-16"),
        size_increment=Decimal("0.0000000000000001"),
    )
    assert build_instrument(ok, registry).price_precision == 16
    too_fine = InstrumentAttributes(
        instrument_key="UNISWAPV3-ETH:POOL:WBTC-WETH:500@ETHEREUM",
        tick_size=Decimal("0.01"),
        size_increment=Decimal("0.000000000000000001"),  # wei
    )
    with pytest.raises(InvalidConfig) as info:
        build_instrument(too_fine, registry)
    assert info.value.code is ErrorCode.INVALID_CONFIG
    assert "18 decimals" in info.value.message
    assert "WBTC-WETH" in info.value.message


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"min_size": "0.0000001"}, "min_size: 1E-7 is finer than size_increment 0.1"),
        ({"tick_size": "1E+20"}, "NautilusTrader refuses these attributes"),
    ],
)
def test_attributes_nautilus_cannot_hold_are_invalid_config(
    shipped: InstrumentRegistry, changes: dict[str, str], words: str
) -> None:
    attrs = InstrumentAttributes(
        **{
            "instrument_key": "BINANCE-FUTURES:PERPETUAL:SOL-USDT@LIN",
            "tick_size": "0.01",
            "size_increment": "0.1",
        }
        | changes
    )
    with pytest.raises(InvalidConfig) as info:
        build_instrument(attrs, shipped)
    assert words in info.value.message
    assert "SOL-USDT" in info.value.message


def test_missing_sizes_are_an_invalid_config(shipped: InstrumentRegistry) -> None:
    bare = InstrumentAttributes(instrument_key="BINANCE-SPOT:SPOT_PAIR:SOL-USDT")
    with pytest.raises(InvalidConfig, match="tick_size, size_increment required"):
        build_instrument(bare, shipped)
    future = InstrumentAttributes(
        instrument_key="CME:FUTURE:SP500-USD-250321@LIN",
        expiry="2025-03-21T13:30:00Z",
        tick_size="0.25",
        size_increment="1",
    )
    with pytest.raises(InvalidConfig, match="underlying required"):
        build_instrument(future, shipped)


@pytest.mark.parametrize(
    "text",
    [
        "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
        "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
        "ETHERFI:LST:WEETH@ETHEREUM",
        "BINANCE-SPOT:SPOT_ASSET:BTC",
    ],
)
def test_positions_that_are_not_nautilus_instruments(shipped: InstrumentRegistry, text: str) -> None:
    with pytest.raises(InvalidInstrumentKey) as info:
        to_instrument_id(text, shipped)
    assert info.value.code is ErrorCode.INVALID_INSTRUMENT
    assert info.value.instrument_key == text
    with pytest.raises(InvalidInstrumentKey, match="not NautilusTrader instruments"):
        build_instrument(shipped.get(text), shipped)


def test_mapping_errors(shipped: InstrumentRegistry) -> None:
    with pytest.raises(InvalidInstrumentKey, match="selection is required"):
        to_instrument_id(BETTING[0], shipped)
    with pytest.raises(InvalidInstrumentKey, match="unknown selection 'OVER'"):
        to_instrument_id(BETTING[0], shipped, selection="OVER")
    with pytest.raises(InvalidInstrumentKey, match="betting markets only"):
        to_instrument_id("BINANCE-SPOT:SPOT_PAIR:BTC-USDT", shipped, selection="HOME")
    with pytest.raises(InvalidInstrumentKey, match="betfair_market_id"):
        to_instrument_id("FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250401T1900:A-B", shipped)
    with pytest.raises(InvalidInstrumentKey, match="not in the registry"):
        to_instrument_id("NOWHERE:SPOT_PAIR:BTC-USDT", shipped)
    with pytest.raises(InvalidInstrumentKey, match="no BYBIT symbology rule for FUTURE"):
        to_instrument_id("BYBIT:FUTURE:BTC-USDT-241227@LIN", shipped)
    with pytest.raises(InvalidInstrumentKey, match="no registered venue symbology"):
        from_instrument_id("BTCUSDT.NOWHERE", shipped)
    with pytest.raises(InvalidInstrumentKey, match="no registered venue symbology"):
        from_instrument_id("1-999-1-None.BETFAIR", shipped)
    for text in ("nodot", "", ".BINANCE", "BTCUSDT."):
        with pytest.raises(InvalidInstrumentKey, match="not a NautilusTrader instrument id"):
            from_instrument_id(text, shipped)


# -- real data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def databento_dir(shared_data: Path) -> Path:
    return shared_data / "nautilus_trader" / "tests" / "test_data" / "databento"


def test_databento_es_futures_get_canonical_keys(shipped: InstrumentRegistry, databento_dir: Path) -> None:
    instruments = DatabentoDataLoader().from_dbn_file(databento_dir / "definition-glbx-es-fut.dbn.zst")
    assert instruments
    for instrument in instruments:
        assert isinstance(instrument, FuturesContract)
        assert str(instrument.id) == "ESM3.GLBX"
        key = key_for_instrument(instrument, shipped)
        # ESM3 expires 2023-06-16 13:30 UTC; ES is the S&P 500 root alias of the CME venue
        assert key == InstrumentKey.parse("CME:FUTURE:SP500-USD-230616@LIN")
        assert key.expiry_date is not None
        assert key.expiry_date.isoformat() == "2023-06-16"


def test_databento_es_options_get_canonical_keys(shipped: InstrumentRegistry, databento_dir: Path) -> None:
    instruments = DatabentoDataLoader().from_dbn_file(databento_dir / "definition-glbx-es-opt.dbn.zst")
    keys = {str(i.id): key_for_instrument(i, shipped) for i in instruments}
    assert keys == {
        "ESM4 C4250.GLBX": InstrumentKey.parse("CME:OPTION:SP500-USD-240621-4250-CALL@LIN"),
        "ESM4 C3550.GLBX": InstrumentKey.parse("CME:OPTION:SP500-USD-240621-3550-CALL@LIN"),
    }


def test_databento_spreads_and_unknown_venues_are_refused(
    shipped: InstrumentRegistry, databento_dir: Path
) -> None:
    spreads = DatabentoDataLoader().from_dbn_file(databento_dir / "definition-glbx-es-futspread.dbn.zst")
    assert spreads
    with pytest.raises(InvalidInstrumentKey, match="no canonical instrument type"):
        key_for_instrument(spreads[0], shipped)
    opra = DatabentoDataLoader().from_dbn_file(databento_dir / "definition-opra.dbn.zst")
    assert opra
    with pytest.raises(InvalidInstrumentKey, match="no registered venue") as info:
        key_for_instrument(opra[0], shipped)
    assert info.value.venue == opra[0].id.venue.value


def test_betfair_market_definitions_get_canonical_keys(
    shipped: InstrumentRegistry, shared_data: Path
) -> None:
    path = shared_data / "nautilus_trader" / "tests" / "test_data" / "betfair" / "1-180305278.bz2"
    instruments = betting_instruments_from_file(path, currency="GBP", ts_event=0, ts_init=0)
    assert len(instruments) == 2  # one instrument per selection, one market
    keys = {key_for_instrument(i, shipped) for i in instruments}
    assert keys == {
        InstrumentKey.parse("CRICKET:BETFAIR:MATCH_WINNER:IN-CRICKET:20210309T0330:MUMBAI-SAURASHTRA")
    }
    # registering the market makes its instrument ids map back to the key
    (key,) = keys
    attrs = InstrumentAttributes(
        instrument_key=key,
        betfair_market_id=instruments[0].market_id,
        selections={i.selection_name.upper() or str(i.selection_id): i.selection_id for i in instruments},
        tick_size="0.01",
        size_increment="0.01",
    )
    registry = InstrumentRegistry(shipped.venues.values(), [attrs])
    for instrument in instruments:
        assert from_instrument_id(instrument.id, registry) == key


def test_betting_market_key_from_fields() -> None:
    from datetime import UTC
    from datetime import datetime

    key = betting_market_key(
        event_type_id="1",
        market_type="OVER_UNDER_35",
        country_code="DE",
        competition_name="German Bundesliga",
        event_name="Bayern Munich v Borussia Dortmund",
        market_start_time=datetime(2025, 3, 16, 14, 30, tzinfo=UTC),
    )
    assert str(key) == (
        "FOOTBALL:BETFAIR:TOTAL_GOALS:DE-GERMAN_BUNDESLIGA:20250316T1430:BAYERN-MUNICH-BORUSSIA-DORTMUND@3.5"
    )
    assert key.goal_line == Decimal("3.5")
    accented = betting_market_key(
        event_type_id="1",
        market_type="BOTH_TEAMS_TO_SCORE",
        country_code="ES",
        competition_name="Spanish La Liga",
        event_name="Atlético Madrid v Deportivo Alavés",
        market_start_time=datetime(2025, 3, 16, 20, 0, tzinfo=UTC),
    )
    assert accented.fixture == "ATLETICO-MADRID-DEPORTIVO-ALAVES"
    assert accented.league == "ES-SPANISH_LA_LIGA"
    with pytest.raises(InvalidInstrumentKey, match="no canonical type"):
        betting_market_key(
            event_type_id="1",
            market_type="CORRECT_SCORE",
            country_code="GB",
            competition_name="",
            event_name="A v B",
            market_start_time=datetime(2025, 3, 16, 14, 30, tzinfo=UTC),
        )
    with pytest.raises(InvalidInstrumentKey, match="no canonical sport"):
        betting_market_key(
            event_type_id="999",
            market_type="MATCH_ODDS",
            country_code="GB",
            competition_name="",
            event_name="A v B",
            market_start_time=datetime(2025, 3, 16, 14, 30, tzinfo=UTC),
        )


def test_key_for_instrument_prefers_the_info_entry(shipped: InstrumentRegistry) -> None:
    instrument = build_instrument(shipped.get("OKX:SPOT_PAIR:BTC-USDT"), shipped)
    assert instrument.info[CANONICAL_KEY_INFO] == "OKX:SPOT_PAIR:BTC-USDT"
    assert key_for_instrument(instrument, shipped).instrument_type is InstrumentType.SPOT_PAIR
