"""The instrument registry and attributes: shipped configs load, bad YAML names file and field."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.attributes import OFF_CHAIN
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.registry import CONFIG_DIR_ENV
from nautilus_ext.instruments.registry import DEFAULT_CONFIG_DIR
from nautilus_ext.instruments.registry import InstrumentRegistry

VENUES = """\
venues:
  - {code: BINANCE-SPOT, family: CEX, nautilus_venue: BINANCE, symbology: BINANCE, adapter: native,
     instrument_types: [SPOT_PAIR, SPOT_ASSET]}
  - {code: UNISWAPV3-ETH, family: DEX, nautilus_venue: UNISWAPV3-ETH, symbology: POOL, adapter: none,
     chain: ETHEREUM, instrument_types: [POOL]}
"""
GOOD = """\
instruments:
  - {instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", tick_size: "0.01", size_increment: "0.00001"}
"""


def _config(tmp_path: Path, instruments: str = GOOD, venues: str = VENUES) -> Path:
    (tmp_path / "venues").mkdir(parents=True)
    (tmp_path / "instruments").mkdir()
    (tmp_path / "venues" / "v.yaml").write_text(textwrap.dedent(venues))
    (tmp_path / "instruments" / "i.yaml").write_text(textwrap.dedent(instruments))
    return tmp_path


def _fails(tmp_path: Path, *words: str, instruments: str = GOOD, venues: str = VENUES) -> InvalidConfig:
    root = _config(tmp_path, instruments, venues)
    with pytest.raises(InvalidConfig) as info:
        InstrumentRegistry.from_directory(root)
    err = info.value
    assert err.code is ErrorCode.INVALID_CONFIG
    assert isinstance(err, ValueError)
    for w in words:
        assert w in err.message, err.message
    return err


# -- shipped configs ------------------------------------------------------------------------


def test_shipped_configs_load_every_family() -> None:
    registry = InstrumentRegistry.default()
    assert len(registry) >= 40
    families = {v.family for v in registry.venues.values()}
    assert families == set(VenueFamily)
    types = {a.instrument_key.instrument_type for a in registry}
    for t in ("SPOT_PAIR", "SPOT_ASSET", "PERPETUAL", "FUTURE", "OPTION", "POOL", "LST", "A_TOKEN"):
        assert InstrumentType(t) in types
    for t in ("DEBT_TOKEN", "INDEX", "MATCH_WINNER", "TOTAL_GOALS_OU_2_5", "BTTS"):
        assert InstrumentType(t) in types
    for attrs in registry:
        spec = registry.venue(attrs.instrument_key.venue)
        assert attrs.instrument_key.instrument_type in spec.instrument_types, attrs.instrument_key
    # the seed examples that name registered instruments
    for text in (
        "BINANCE-SPOT:SPOT_PAIR:BTC-USDT",
        "BINANCE-FUTURES:PERPETUAL:ETH-USDT@LIN",
        "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "AAVE_V3_ETH:A_TOKEN:AUSDT@ETHEREUM",
        "AAVE_V3_ETH:DEBT_TOKEN:DEBTWETH@ETHEREUM",
        "ETHERFI:LST:WEETH@ETHEREUM",
        "CBOE:INDEX:VIX-USD",
        "FOOTBALL:BETFAIR:MATCH_WINNER:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL",
        "FOOTBALL:BETFAIR:TOTAL_GOALS_OU_2_5:GER-BUNDESLIGA:20250316T1430:BAYERN-MUNICH-BORUSSIA-DORTMUND@2.5",
    ):
        assert text in {str(a.instrument_key) for a in registry}


def test_yml_files_are_read_too(tmp_path: Path) -> None:
    root = _config(tmp_path)
    (root / "instruments" / "more.yml").write_text(
        'instruments:\n  - {instrument_key: "BINANCE-SPOT:SPOT_ASSET:BTC"}\n'
    )
    registry = InstrumentRegistry.from_directory(root)
    assert "BINANCE-SPOT:SPOT_ASSET:BTC" in registry
    assert len(registry) == 2


def test_default_honours_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (DEFAULT_CONFIG_DIR / "venues").is_dir()
    monkeypatch.setenv(CONFIG_DIR_ENV, str(_config(tmp_path)))
    assert len(InstrumentRegistry.default()) == 1


def test_attributes_are_derived_from_the_key() -> None:
    registry = InstrumentRegistry.default()
    perp = registry.get("DERIBIT:PERPETUAL:BTC-USD@INV")
    assert (perp.venue, perp.instrument_type) == ("DERIBIT", InstrumentType.PERPETUAL)
    assert (perp.base_asset, perp.quote_asset, perp.settle_asset) == ("BTC", "USD", "BTC")
    assert perp.inverse is True
    assert perp.chain == OFF_CHAIN
    option = registry.get("DERIBIT:OPTION:BTC-USD-241227-50000-CALL@INV")
    assert option.strike == Decimal(50000)
    assert option.option_type == "CALL"
    assert option.expiry is not None
    assert option.expiry.isoformat() == "2024-12-27T08:00:00+00:00"
    pool = registry.get("UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM")
    assert (pool.pool_fee_tier, pool.chain, pool.chain_id) == (3000, "ETHEREUM", 1)
    assert pool.key is pool.instrument_key


def test_registry_queries() -> None:
    registry = InstrumentRegistry.default()
    key = InstrumentKey.parse("BINANCE-SPOT:SPOT_PAIR:BTC-USDT")
    assert key in registry
    assert str(key) in registry
    assert "OKX:SPOT_PAIR:SOL-USDT" not in registry
    assert "not a key" not in registry
    assert 42 not in registry
    assert registry.find(key) is registry.get(str(key))
    assert registry.find("OKX:SPOT_PAIR:SOL-USDT") is None
    with pytest.raises(InvalidInstrumentKey, match="not in the registry"):
        registry.get("OKX:SPOT_PAIR:SOL-USDT")
    with pytest.raises(InvalidInstrumentKey):
        registry.find("not a key")
    with pytest.raises(InvalidInstrumentKey, match="'NOWHERE' is not in the registry") as info:
        registry.venue("NOWHERE")
    assert info.value.venue == "NOWHERE"
    assert registry.key_for_nautilus_id("BTCUSDT-PERP.BINANCE") == InstrumentKey.parse(
        "BINANCE-FUTURES:PERPETUAL:BTC-USDT@LIN"
    )
    assert registry.key_for_betfair_market("1.240000003") == InstrumentKey.parse(
        "FOOTBALL:BETFAIR:BTTS:ENG-PREMIER_LEAGUE:20250315T1500:ARSENAL-LIVERPOOL"
    )
    assert registry.key_for_betfair_market("1.1") is None
    routes = [str(k) for k in registry.pair_routes("ETH", "USDT")]
    assert routes == [
        "BINANCE-SPOT:SPOT_PAIR:ETH-USDT",
        "COWSWAP-ETH:POOL:ETH-USDT@ETHEREUM",
        "UNISWAPV2-ETH:POOL:ETH-USDT:3000@ETHEREUM",
        "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM",
    ]
    lsts = [str(a.instrument_key) for a in registry.by_type(InstrumentType.LST)]
    assert lsts == sorted(lsts)
    assert len(lsts) == 4
    venues = registry.venues
    venues.clear()
    assert registry.venues  # a copy


# -- bad configs ----------------------------------------------------------------------------


def test_unknown_field_names_file_entry_and_field(tmp_path: Path) -> None:
    bad = GOOD + '  - {instrument_key: "BINANCE-SPOT:SPOT_ASSET:BTC", tick_szie: "0.01"}\n'
    err = _fails(
        tmp_path, "i.yaml", "entry 1", "tick_szie", "Extra inputs are not permitted", instruments=bad
    )
    assert str(tmp_path) in err.message


def test_instrument_on_an_unknown_venue(tmp_path: Path) -> None:
    bad = GOOD + '  - {instrument_key: "OKX:SPOT_PAIR:BTC-USDT"}\n'
    _fails(tmp_path, "i.yaml", "entry 1", "venue OKX is not defined", instruments=bad)


def test_instrument_type_the_venue_does_not_list(tmp_path: Path) -> None:
    bad = GOOD + '  - {instrument_key: "BINANCE-SPOT:PERPETUAL:BTC-USDT@LIN"}\n'
    _fails(
        tmp_path,
        "i.yaml",
        "entry 1",
        "instrument_type: venue BINANCE-SPOT does not list PERPETUAL",
        instruments=bad,
    )


def test_instrument_on_another_chain_than_its_venue(tmp_path: Path) -> None:
    bad = GOOD + '  - {instrument_key: "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ARBITRUM"}\n'
    _fails(
        tmp_path,
        "i.yaml",
        "entry 1",
        "chain: ARBITRUM is not the chain of venue UNISWAPV3-ETH",
        instruments=bad,
    )


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ('{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", venue: OKX}', "venue", "disagrees"),
        (
            '{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", instrument_type: SPOT_ASSET}',
            "instrument_type",
            "",
        ),
        ('{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", base_asset: ETH}', "base_asset", "disagrees"),
        (
            '{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", quote_asset: USDC}',
            "quote_asset",
            "disagrees",
        ),
        (
            '{instrument_key: "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", pool_fee_tier: 500}',
            "pool_fee_tier",
            "disagrees",
        ),
        (
            '{instrument_key: "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", chain: ARBITRUM}',
            "chain",
            "disagrees",
        ),
        (
            '{instrument_key: "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", chain_id: 137}',
            "chain_id",
            "disagrees",
        ),
        (
            '{instrument_key: "UNISWAPV3-ETH:POOL:ETH-USDT:3000@ETHEREUM", pool_address: "0x12"}',
            "pool_address",
            "20-byte hex address",
        ),
        (
            '{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", tick_size: "0"}',
            "tick_size",
            "greater than 0",
        ),
        ('{instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", maker_fee: "1"}', "maker_fee", "less than 1"),
        ('{instrument_key: "binance:SPOT_PAIR:BTC-USDT"}', "instrument_key", "must be upper-case"),
        ('{tick_size: "0.01"}', "instrument_key", "Field required"),
    ],
)
def test_attributes_disagreeing_with_the_key(tmp_path: Path, entry: str, field: str, words: str) -> None:
    _fails(tmp_path, "i.yaml", "entry 0", field, words, instruments=f"instruments:\n  - {entry}\n")


def test_dated_contract_attributes_must_agree(tmp_path: Path) -> None:
    venues = VENUES + (
        "  - {code: DERIBIT, family: CEX, nautilus_venue: DERIBIT, symbology: DERIBIT, adapter: native,\n"
        "     instrument_types: [FUTURE, OPTION]}\n"
    )
    key = "DERIBIT:OPTION:BTC-USD-241227-50000-CALL@INV"
    cases = [
        (f'{{instrument_key: "{key}"}}', "expiry: required"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-28T08:00:00Z"}}', "not on the key's date"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-27T08:00:00Z", strike: "60000"}}', "strike"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-27T08:00:00Z", option_type: PUT}}', "option_type"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-27T08:00:00Z", inverse: false}}', "inverse"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-27T08:00:00Z", settle_asset: USD}}', "settle_asset"),
        (f'{{instrument_key: "{key}", expiry: "2024-12-27T08:00:00"}}', "timezone"),
    ]
    for i, (entry, words) in enumerate(cases):
        root = tmp_path / str(i)
        root.mkdir()
        _fails(root, "entry 0", words, instruments=f"instruments:\n  - {entry}\n", venues=venues)
    # a non-UTC expiry on the right UTC date is fine
    ok = InstrumentAttributes(instrument_key=key, expiry="2024-12-27T09:00:00+01:00")
    assert ok.expiry is not None


def test_duplicate_instrument_and_nautilus_id(tmp_path: Path) -> None:
    _fails(tmp_path / "a", "i.yaml", "entry 1", "defined twice", instruments=GOOD + GOOD.split("\n", 1)[1])
    dup_id = (
        "instruments:\n"
        '  - {instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", nautilus_instrument_id: BTCUSDT.BINANCE}\n'
        '  - {instrument_key: "BINANCE-SPOT:SPOT_PAIR:ETH-USDT", nautilus_instrument_id: BTCUSDT.BINANCE}\n'
    )
    _fails(
        tmp_path / "b", "entry 1", "already belongs to BINANCE-SPOT:SPOT_PAIR:BTC-USDT", instruments=dup_id
    )


def test_duplicate_venue(tmp_path: Path) -> None:
    venues = VENUES + VENUES.split("\n", 1)[1]
    _fails(tmp_path, "v.yaml", "entry 2", "code", "venue BINANCE-SPOT is defined twice", venues=venues)


def test_repeated_yaml_keys_are_refused(tmp_path: Path) -> None:
    # PyYAML would silently keep the last value: a fee written twice is an error, not a guess
    bad = (
        "instruments:\n"
        '  - {instrument_key: "BINANCE-SPOT:SPOT_PAIR:BTC-USDT", taker_fee: "0.001", taker_fee: "0.0001"}\n'
    )
    _fails(tmp_path / "a", "i.yaml", "cannot read YAML", "'taker_fee' is repeated", instruments=bad)
    _fails(tmp_path / "b", "v.yaml", "cannot read YAML", "'venues' is repeated", venues=VENUES + VENUES)
    unhashable = "instruments:\n  - {? [a, b] : 1}\n"
    _fails(tmp_path / "c", "i.yaml", "cannot read YAML", instruments=unhashable)


@pytest.mark.parametrize(
    ("venue", "words"),
    [
        (
            "{code: X, family: CEX, symbology: BINANCE, adapter: native, instrument_types: [SPOT_PAIR]}",
            "nautilus_venue",
        ),
        (
            "{code: X, family: CEX, nautilus_venue: X, symbology: CCXT, adapter: ccxt, "
            "instrument_types: [PERPETUAL]}",
            "ccxt_id is required",
        ),
        (
            "{code: X, family: CEX, nautilus_venue: X, symbology: BINANCE, adapter: native}",
            "instrument_types",
        ),
        (
            "{code: X, family: DEX, nautilus_venue: X, symbology: POOL, adapter: none, "
            "instrument_types: [POOL]}",
            "chain",
        ),
        ("{code: x, family: CEX, symbology: NONE, adapter: none, instrument_types: [SPOT_ASSET]}", "code"),
        ("{code: X, family: CEX, symbology: NONE, adapter: rest, instrument_types: [SPOT_ASSET]}", "adapter"),
        ("{code: X, family: BANK, symbology: NONE, adapter: none, instrument_types: [SPOT_ASSET]}", "family"),
        (
            "{code: X, family: CEX, symbology: NONE, adapter: none, instrument_types: [SPOT_ASSET], fee: 1}",
            "fee",
        ),
    ],
)
def test_bad_venue_entries(tmp_path: Path, venue: str, words: str) -> None:
    _fails(tmp_path, "v.yaml", "entry 2", words, venues=VENUES + f"  - {venue}\n")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("instruments: [\n", "cannot read YAML"),
        ("[]\n", "single top-level 'instruments:' list"),
        ("instruments: []\nvenues: []\n", "single top-level"),
        ("instruments: {a: 1}\n", "must be a list"),
        ("instruments:\n  - just a string\n", "entry 0"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, words: str) -> None:
    _fails(tmp_path, "i.yaml", words, instruments=text)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig, match="does not exist"):
        InstrumentRegistry.from_directory(tmp_path / "nope")


def test_direct_construction_validates_too() -> None:
    venue = VenueSpec(
        code="OKX",
        family=VenueFamily.CEX,
        nautilus_venue="OKX",
        symbology="OKX",
        adapter="native",
        instrument_types=frozenset({InstrumentType.SPOT_PAIR}),
    )
    attrs = InstrumentAttributes(instrument_key="OKX:SPOT_PAIR:BTC-USDT")
    registry = InstrumentRegistry([venue], [attrs])
    assert len(registry) == 1
    assert list(registry) == [attrs]
    assert registry.family(attrs.instrument_key) is VenueFamily.CEX
    with pytest.raises(InvalidConfig, match="defined twice"):
        registry.add(attrs)
    with pytest.raises(InvalidConfig, match="defined twice"):
        registry.add_venue(venue)
    with pytest.raises(ValidationError):
        InstrumentAttributes(instrument_key="OKX:SPOT_PAIR:BTC-USDT", base_asset="ETH")
    with pytest.raises(ValidationError):
        InstrumentAttributes.model_validate({"instrument_key": 5})
    with pytest.raises(ValidationError, match="frozen"):
        attrs.tick_size = Decimal(1)  # type: ignore[misc]
