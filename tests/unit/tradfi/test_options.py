"""Option chains from real Databento GLBX.MDP3 definitions (ES quarterlies and a weekly)."""

from __future__ import annotations

import warnings
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nautilus_ext.instruments.enums import OptionKind
from nautilus_ext.instruments.key import InstrumentKey
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.front import InstrumentContractProvider
from nautilus_ext.tradfi.options import front_chains
from nautilus_ext.tradfi.options import option_chains
from nautilus_ext.tradfi.rolls import RollCalendar

D = Decimal


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def instruments(shared_data: Path) -> list[Any]:
    from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader

    root = shared_data / "nautilus_trader" / "tests" / "test_data" / "databento"
    files = [
        "definition-glbx-es-opt.dbn.zst",
        "options_catalog/databento/options_definition.dbn.zst",
        "options_catalog/databento/futures_definition.dbn.zst",
        "options_exercise/databento/options_definition.dbn.zst",
        "options_exercise/databento/futures_definition.dbn.zst",
    ]
    out: list[Any] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for f in files:
            out.extend(DatabentoDataLoader().from_dbn_file(root / f, as_legacy_cython=True))
    return out


def test_chains_from_real_definitions(instruments: list[Any]) -> None:
    cal = RollCalendar.default()
    chains = option_chains(instruments, cal)
    assert [(c.underlying, c.expiry) for c in chains] == [
        ("ESM4", date(2024, 6, 21)),
        ("ESH6", date(2026, 1, 9)),
    ]
    esm4, weekly = chains
    assert esm4.underlying_key == InstrumentKey.parse("CME:FUTURE:SP500-USD-240621@LIN")
    assert esm4.strikes == (D(3550), D(4250), D(5230), D(5250))
    assert [e.raw_symbol for e in esm4.calls] == ["ESM4 C3550", "ESM4 C4250"]
    assert [e.raw_symbol for e in esm4.puts] == ["ESM4 P5230", "ESM4 P5250"]
    put = esm4.get(D(5250), OptionKind.PUT)
    assert put is not None
    assert str(put.key) == "CME:OPTION:SP500-USD-240621-5250-PUT@LIN"
    assert (put.instrument_id, put.multiplier) == ("ESM4 P5250.GLBX", D(50))
    near = esm4.nearest(D(5240), OptionKind.PUT)
    assert near is not None
    assert near.strike == D(5230)  # a tie goes to the lower strike
    assert esm4.nearest(D(5000), OptionKind.CALL).raw_symbol == "ESM4 C4250"  # type: ignore[union-attr]
    assert esm4.get(D(9999), OptionKind.CALL) is None
    # the weekly EW2F6 sits on ESH6 (listed in the same definitions): its key has its own expiry
    assert weekly.underlying_key == InstrumentKey.parse("CME:FUTURE:SP500-USD-260320@LIN")
    assert [str(e.key) for e in weekly.entries] == ["CME:OPTION:SP500-USD-260109-7000-CALL@LIN"]


def test_keys_agree_with_the_registry(instruments: list[Any]) -> None:
    # the registry's hand-written ESM4 5000 call would be keyed the same way
    reg_key = InstrumentKey.parse("CME:OPTION:SP500-USD-240621-5000-CALL@LIN")
    attrs = InstrumentRegistry.default().get(reg_key)
    assert attrs.exchange_raw_symbol == "ESM4 C5000"
    (esm4, _) = option_chains(instruments, RollCalendar.default())
    assert {str(e.key).rsplit("-", 2)[0] for e in esm4.entries} == {str(reg_key).rsplit("-", 2)[0]}


def test_front_chains_follow_the_front_month(instruments: list[Any]) -> None:
    cal = RollCalendar.default()
    chains = option_chains(instruments, cal)
    resolver = FrontMonthResolver(cal, InstrumentContractProvider(cal, instruments))
    front = InstrumentKey.parse("CME:FUTURE:SP500-USD-FRONT@LIN")
    (on_esm4,) = front_chains(chains, resolver, front, _ns("2024-05-09T10:00:00"))
    assert on_esm4.underlying == "ESM4"
    (on_esh6,) = front_chains(chains, resolver, front, _ns("2026-01-05T15:00:00"))
    assert on_esh6.underlying == "ESH6"
    assert front_chains(chains, resolver, front, _ns("2026-01-12T15:00:00")) == []  # the weekly expired


def _option(underlying: str, symbol: str, strike: str, call: bool, expiry: str) -> Any:
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AssetClass
    from nautilus_trader.model.enums import OptionKind as NautilusOptionKind
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import Symbol
    from nautilus_trader.model.instruments import OptionContract
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    return OptionContract(
        instrument_id=InstrumentId.from_str(f"{symbol}.XCME"),
        raw_symbol=Symbol(symbol),
        asset_class=AssetClass.COMMODITY,
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.01"),
        multiplier=Quantity.from_int(1000),
        lot_size=Quantity.from_int(1),
        underlying=underlying,
        option_kind=NautilusOptionKind.CALL if call else NautilusOptionKind.PUT,
        strike_price=Price.from_str(strike),
        activation_ns=0,
        expiration_ns=_ns(expiry),
        ts_event=0,
        ts_init=0,
        exchange="XCME",
    )


def test_underlying_without_a_definition_uses_the_rules() -> None:
    opts = [
        _option("CLZ4", "LOZ4 C7500", "75.00", True, "2024-11-15T19:30:00"),
        _option("CLZ4", "LOZ4 P70.5", "70.50", False, "2024-11-15T19:30:00"),
        _option("GCZ4", "OGZ4 C2700", "2700.00", True, "2024-11-25T18:30:00"),  # no rules for GC
    ]
    (chain,) = option_chains(opts, RollCalendar.default())
    assert chain.underlying_key == InstrumentKey.parse("CME:FUTURE:WTI-USD-241120@LIN")  # CLZ4 by the rule
    assert [str(e.key) for e in chain.entries] == [
        "CME:OPTION:WTI-USD-241115-70.5-PUT@LIN",
        "CME:OPTION:WTI-USD-241115-75-CALL@LIN",
    ]
    assert chain.entries[0].multiplier == D(1000)
