"""Venue choice over the cost model's BookView seam."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_ext.execution.venue_choice import choose_venue
from nautilus_ext.routing.cost import BookView
from nautilus_ext.routing.cost import Level
from nautilus_ext.routing.cost import quote_venue

D = Decimal


@dataclass
class StaticBooks:
    """A BookView over fixed levels: asks and bids per instrument id."""

    asks: dict[str, list[Level]] = field(default_factory=dict)
    bids: dict[str, list[Level]] = field(default_factory=dict)

    def levels(self, instrument_id: str, *, buy: bool) -> tuple[list[Level], Decimal | None]:
        return (self.asks if buy else self.bids).get(instrument_id, []), self.mid(instrument_id)

    def mid(self, instrument_id: str) -> Decimal | None:
        ask, bid = self.asks.get(instrument_id), self.bids.get(instrument_id)
        return None if not ask or not bid else (ask[0][0] + bid[0][0]) / 2


BOOKS = StaticBooks(
    asks={"A.X": [(D("100.5"), D("1"))], "B.X": [(D("100.2"), D("1")), (D("101"), D("5"))]},
    bids={"A.X": [(D("99.5"), D("1"))], "B.X": [(D("99.8"), D("1"))]},
)
FEES = {"A": ("A.X", D("0.0005")), "B": ("B.X", D("0.0005"))}


def test_static_books_satisfy_the_seam() -> None:
    book: BookView = BOOKS
    quote = quote_venue(book, "A", "A.X", D("0.001"), buy=True)
    assert quote.levels == [(D("100.5"), D("1"))]
    assert quote.mid == D("100")
    assert quote.healthy


def test_the_cheaper_book_wins() -> None:
    venue, cost = choose_venue(D("1"), FEES, BOOKS, buy=True)
    assert venue == "B"
    assert cost is not None
    assert cost > 0


def test_nobody_can_fill_it_all_takes_the_deepest_book() -> None:
    venue, cost = choose_venue(D("7"), FEES, BOOKS, buy=True)
    assert (venue, cost) == ("B", None)


def test_one_candidate_without_a_book_is_taken_unpriced() -> None:
    assert choose_venue(D("1"), {"C": ("C.X", D("0"))}, BOOKS, buy=False) == ("C", None)
    venue, cost = choose_venue(D("1"), {"A": FEES["A"]}, BOOKS, buy=False)
    assert venue == "A"
    assert cost == D("55")


def test_an_option_key_without_symbology_is_found_among_loaded_instruments(shared_data: object) -> None:
    # CME options have no symbology rule: a Databento-loaded ESM4 put is found by its canonical key
    import warnings
    from pathlib import Path

    from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader
    from nautilus_trader.cache.cache import Cache

    from nautilus_ext.execution.venue_choice import LoadedInstruments
    from nautilus_ext.instruments.registry import InstrumentRegistry
    from nautilus_ext.orders.model import Order

    assert isinstance(shared_data, Path)
    path = (
        shared_data
        / "nautilus_trader/tests/test_data/databento/options_catalog/databento/options_definition.dbn.zst"
    )
    cache = Cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for inst in DatabentoDataLoader().from_dbn_file(path, as_legacy_cython=True):
            cache.add_instrument(inst)
    key = "CME:OPTION:SP500-USD-240621-5250-PUT@LIN"
    order = Order.model_validate(
        {
            "operation_id": "o",
            "operation": "trade",
            "instrument_key": key,
            "venue": "CME",
            "side": "SELL",
            "amount": "1",
        }
    )
    loaded = LoadedInstruments(cache, InstrumentRegistry.default())
    found = loaded.find(order, key)
    assert found is not None
    assert str(found.id) == "ESM4 P5250.GLBX"
    assert loaded.find(order, "CME:OPTION:SP500-USD-240621-9999-PUT@LIN") is None  # not loaded
