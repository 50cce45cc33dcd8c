"""
Venue choice: which candidate venue an order goes to, and the market state it is judged on.

:class:`NautilusBookView` is the execution service's one reader of market state in a node: it
implements the cost model's :class:`~nautilus_ext.routing.cost.BookView` seam over the Nautilus
cache (L2 book, else the last quote, else the last trade) and adds what results need (the
arrival mid with the fill model the data allows, the time of the newest data).
:class:`LoadedInstruments` finds which of a route's candidates this node has loaded, and
:func:`choose_venue` (pure over any ``BookView``) picks among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.adapters.symbology import to_instrument_id
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.execution.results import FillModelKind
from nautilus_ext.instruments.registry import InstrumentRegistry
from nautilus_ext.orders.model import Order
from nautilus_ext.routing.cost import BookView
from nautilus_ext.routing.cost import Level
from nautilus_ext.routing.cost import best_venue
from nautilus_ext.routing.cost import estimate_cost
from nautilus_ext.routing.cost import quote_venue
from nautilus_ext.routing.router import Route

BOOK_DEPTH: Final = 50
"""Book levels per side the cost model walks."""


class NautilusBookView:
    """
    The :class:`~nautilus_ext.routing.cost.BookView` of a Nautilus cache.

    Parameters
    ----------
    cache : Cache
        The node's cache (books, quotes, trades).
    depth : int, default 50
        Levels per side handed to the cost model.
    """

    def __init__(self, cache: Any, depth: int = BOOK_DEPTH) -> None:
        self._cache = cache
        self._depth = depth

    def _book(self, iid: InstrumentId) -> Any:
        book = self._cache.order_book(iid)
        if book is not None and book.best_bid_price() is not None and book.best_ask_price() is not None:
            return book
        return None

    def levels(self, instrument_id: str, *, buy: bool) -> tuple[list[Level], Decimal | None]:
        """Return the side a taker walks, best first, and the mid (book, else quote, else trade)."""
        iid = InstrumentId.from_str(instrument_id)
        book = self._book(iid)
        if book is not None:
            side_levels = book.asks() if buy else book.bids()
            levels = [
                (lvl.price.as_decimal(), Decimal(str(lvl.size()))) for lvl in side_levels[: self._depth]
            ]
            mid = (book.best_bid_price().as_decimal() + book.best_ask_price().as_decimal()) / 2
            return levels, mid
        quote = self._cache.quote_tick(iid)
        if quote is not None:
            px = quote.ask_price if buy else quote.bid_price
            size = quote.ask_size if buy else quote.bid_size
            mid = (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2
            return [(px.as_decimal(), size.as_decimal())], mid
        trade = self._cache.trade_tick(iid)
        if trade is not None:
            return [], trade.price.as_decimal()
        return [], None

    def mid(self, instrument_id: str) -> Decimal | None:
        """Return the mid (book, else quote, else the last trade price)."""
        return self.arrival(instrument_id)[0]

    def arrival(self, instrument_id: str) -> tuple[Decimal | None, FillModelKind]:
        """Return the mid now and the fill model the data allows (L2 walk, top of book, prints)."""
        iid = InstrumentId.from_str(instrument_id)
        book = self._book(iid)
        if book is not None:
            mid = (book.best_bid_price().as_decimal() + book.best_ask_price().as_decimal()) / 2
            l1 = book.book_type.name == "L1_MBP"
            return mid, FillModelKind.L1_TOP_OF_BOOK if l1 else FillModelKind.L2_BOOK_WALK
        quote = self._cache.quote_tick(iid)
        if quote is not None:
            mid = (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2
            return mid, FillModelKind.L1_TOP_OF_BOOK
        trade = self._cache.trade_tick(iid)
        if trade is not None:
            return trade.price.as_decimal(), FillModelKind.TRADE_PRINTS
        return None, FillModelKind.TRADE_PRINTS

    def data_ts(self, instrument_id: str) -> int | None:
        """Return the time of the newest market data a decision could use (book, quote, trade)."""
        iid = InstrumentId.from_str(instrument_id)
        book = self._cache.order_book(iid)
        stamps = [book.ts_last if book is not None and book.update_count else None]
        stamps += [
            t.ts_event if t is not None else None
            for t in (self._cache.quote_tick(iid), self._cache.trade_tick(iid))
        ]
        known = [ts for ts in stamps if ts is not None]
        return max(known) if known else None


def choose_venue(
    amount: Decimal,
    candidates: Mapping[str, tuple[str, Decimal]],
    book: BookView,
    *,
    buy: bool,
) -> tuple[str, Decimal | None]:
    """
    Return the venue to send ``amount`` to and its estimated cost (bps, impact + taker fee).

    Parameters
    ----------
    amount : Decimal
        The order amount.
    candidates : Mapping[str, tuple[str, Decimal]]
        Venue -> (Nautilus instrument id, taker fee as a fraction), at least one.
    book : BookView
        The market state.
    buy : bool
        Whether the order buys (walks asks).

    Returns
    -------
    tuple[str, Decimal | None]
        The venue, and the cost in bps (None when the book cannot price it). One candidate is
        taken as is; among several the cheapest able to fill everything wins, and when none can
        the deepest healthy book is taken rather than refusing.
    """
    quotes = [quote_venue(book, venue, iid, fee, buy=buy) for venue, (iid, fee) in sorted(candidates.items())]
    if len(quotes) == 1:
        only = quotes[0]
        if only.mid is None or not only.levels:
            return only.venue, None
        return only.venue, estimate_cost(only, amount, buy=buy).cost_bps
    best = best_venue(quotes, amount, buy=buy)
    if best is None:
        deepest = max(quotes, key=lambda q: (sum((s for _, s in q.levels), Decimal(0)), q.venue))
        return deepest.venue, None
    return best.venue, best.cost_bps


def taker_fee_of(instrument: Any) -> Decimal:
    """Return a Nautilus instrument's taker fee as a Decimal."""
    fee = instrument.taker_fee
    return fee if isinstance(fee, Decimal) else Decimal(str(fee))


def candidates_of(instruments: Mapping[str, Any]) -> dict[str, tuple[str, Decimal]]:
    """Return :func:`choose_venue` candidates from loaded Nautilus instruments by venue."""
    return {venue: (str(inst.id), taker_fee_of(inst)) for venue, inst in instruments.items()}


class LoadedInstruments:
    """
    The Nautilus instruments a node has loaded, found by canonical key.

    Parameters
    ----------
    cache : Cache
        The node's cache.
    registry : InstrumentRegistry
        Canonical keys to Nautilus ids.
    """

    def __init__(self, cache: Any, registry: InstrumentRegistry) -> None:
        self._cache = cache
        self._registry = registry
        self._by_key: dict[str, Any] = {}
        self._market_runners: dict[str, list[Any]] = {}  # betting market key -> its runners
        self._keyed_count = -1

    def find(self, order: Order, key_text: str) -> Any:
        """
        Return the loaded instrument of ``key_text`` for ``order`` (its selection), or None.

        A betting market the registry does not list (a backtest over historical Betfair files)
        is found among the loaded runners of the market: the selection picks the runner by the
        market definition's names (:mod:`nautilus_ext.adapters.betfair.markets`).
        """
        selection = order.selection if order.key.is_sports else None
        if selection is not None:
            attrs = self._registry.find(order.key)
            if attrs is None or attrs.betfair_market_id is None:
                return self._runner(key_text, selection)
        try:
            iid = to_instrument_id(key_text, self._registry, selection=selection)
        except NautilusExtError:
            # no symbology rule (a CME option the registry does not list): loaded data may hold it
            if selection is not None:
                raise
            return self._keyed().get(key_text)
        inst = self._cache.instrument(iid)
        if inst is None and selection is None:
            # the data source may name it differently (Databento's ESU4.GLBX for the registry's
            # ESU4.XCME): the canonical key decides, whatever the Nautilus id
            inst = self._keyed().get(key_text)
        return inst

    def candidates(self, order: Order, rt: Route) -> dict[str, Any]:
        """Return the loaded instrument of each of the route's candidate venues that has one."""
        loaded: dict[str, Any] = {}
        for cand in rt.candidates:
            try:
                inst = self.find(order, str(cand.key))
            except NautilusExtError:
                continue
            if inst is not None:
                loaded[cand.venue] = inst
        return loaded

    def _runner(self, key_text: str, selection: str) -> Any:
        from nautilus_ext.adapters.betfair.markets import BetfairRunner
        from nautilus_ext.adapters.betfair.markets import resolve_runner

        self._keyed()
        runners = self._market_runners.get(key_text)
        if not runners:
            return None
        first = runners[0]
        chosen = resolve_runner(
            first.market_type,
            first.event_name,
            [BetfairRunner(selection_id=i.selection_id, name=i.selection_name or None) for i in runners],
            selection,
        )
        return next(i for i in runners if i.selection_id == chosen.selection_id)

    def _keyed(self) -> dict[str, Any]:
        instruments = self._cache.instruments()
        if len(instruments) != self._keyed_count:
            self._by_key = {}
            self._market_runners = {}
            for inst in instruments:
                try:
                    key = str(key_for_instrument(inst, self._registry))
                except NautilusExtError:
                    continue  # instruments without a canonical form are not routable
                self._by_key[key] = inst
                if hasattr(inst, "selection_id"):  # a betting market has one instrument per runner
                    self._market_runners.setdefault(key, []).append(inst)
            self._keyed_count = len(instruments)
        return self._by_key
