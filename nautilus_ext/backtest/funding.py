"""
Funding-aware backtests: settle perpetual funding as account cash flows.

NautilusTrader 1.231's backtest engine does not settle funding. :class:`FundingSettlementModule`
is a ``SimulationModule`` (the hook FX rollover interest uses) configured per simulated venue:
at each funding timestamp of the venue's perpetuals it pays or charges every open position

    payment = -(signed size x multiplier x mark x rate)        (linear, settlement currency)
    payment = -(signed size x multiplier x rate / mark)        (inverse, base currency)

so a long pays and a short receives when the rate is positive, and books the payment with
``SimulatedExchange.adjust_account`` (a balance change, not trading PnL). Every payment is kept in
:attr:`FundingSettlementModule.payments` and, when the config names one, appended to a JSON-lines
ledger that the runner reads back for the report.

Funding events come from the catalog's Tardis ``derivative_ticker`` rows
(:class:`~nautilus_ext.catalogs.custom.TardisDerivativeTicker`): ``funding_timestamp`` is the next
funding time and ``funding_rate`` the rate that applies then, so the event at time ``T`` uses the
last rate published for ``T`` before ``T`` and the last mark price at or before ``T``
(:func:`funding_events_from_tickers`). Rows without a funding timestamp cannot be placed and are
skipped; a funding time with no mark price before it is skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.config import SimulationModuleConfig
from nautilus_trader.backtest.modules import SimulationModule

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.funding.model import funding_payment
from nautilus_ext.reports.pnl import FundingPayment
from nautilus_ext.reports.pnl import funding_totals


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """One funding settlement of one instrument: time (UNIX ns), rate per interval, mark price."""

    instrument_id: str
    ts_ns: int
    rate: Decimal
    mark: Decimal


def funding_events_from_tickers(rows: Iterable[dict[str, Any]]) -> tuple[list[FundingEvent], int]:
    """
    Derive settlement events from derivative-ticker rows of one or more instruments.

    Each row needs ``instrument_id``, ``ts_event`` (ns) and may carry ``funding_rate``,
    ``funding_timestamp`` (ns) and ``mark_price`` (decimal text or ``Decimal``).

    Returns
    -------
    tuple[list[FundingEvent], int]
        Events sorted by time, and the number of funding times skipped for lack of a mark price.
    """
    ordered = sorted(rows, key=lambda r: (str(r["instrument_id"]), int(r["ts_event"])))
    rates: dict[tuple[str, int], Decimal] = {}
    marks: dict[str, list[tuple[int, Decimal]]] = {}
    for row in ordered:
        iid, ts = str(row["instrument_id"]), int(row["ts_event"])
        if row.get("mark_price") not in (None, ""):
            marks.setdefault(iid, []).append((ts, Decimal(str(row["mark_price"]))))
        funding_ts, rate = row.get("funding_timestamp"), row.get("funding_rate")
        if funding_ts is None or rate in (None, "") or ts >= int(funding_ts):
            continue  # not placeable, or published at/after the time it refers to
        rates[(iid, int(funding_ts))] = Decimal(str(rate))  # the last one before the time wins
    events: list[FundingEvent] = []
    skipped = 0
    for (iid, funding_ts), rate in rates.items():
        mark = None
        for ts, price in marks.get(iid, ()):
            if ts > funding_ts:
                break
            mark = price
        if mark is None:
            skipped += 1
            continue
        events.append(FundingEvent(iid, funding_ts, rate, mark))
    events.sort(key=lambda e: (e.ts_ns, e.instrument_id))
    return events, skipped


def read_catalog_funding_events(
    catalog: str, instrument_ids: Iterable[str], start_ns: int, end_ns: int
) -> tuple[list[FundingEvent], int]:
    """
    Read the ``derivative_ticker`` rows of ``instrument_ids`` from a local catalog and derive events.

    Only events with ``start_ns < ts <= end_ns`` are returned; instruments without ticker data
    yield none.
    """
    import pyarrow.dataset as ds

    from nautilus_ext.catalogs.build import _folder
    from nautilus_ext.catalogs.custom import TardisDerivativeTicker

    root = Path(catalog) / "data" / _folder(TardisDerivativeTicker)
    rows: list[dict[str, Any]] = []
    for iid in instrument_ids:
        folder = root / iid
        if not folder.is_dir():
            continue
        cols = ["instrument_id", "ts_event", "funding_rate", "funding_timestamp", "mark_price"]
        table = ds.dataset(str(folder), format="parquet").to_table(columns=cols)
        rows.extend(table.to_pylist())
    events, skipped = funding_events_from_tickers(rows)
    return [e for e in events if start_ns < e.ts_ns <= end_ns], skipped


_NEVER = 2**64


class FundingSettlementConfig(SimulationModuleConfig, frozen=True):
    """
    Configuration of :class:`FundingSettlementModule`.

    Parameters
    ----------
    catalog_path : str, optional
        Local catalog holding the ``derivative_ticker`` data (events are read when the venue
        registers the module); omit when the module is given its events directly.
    instrument_ids : list[str]
        Nautilus instrument ids whose funding to settle.
    start_ns, end_ns : int
        The backtest window; funding times outside ``(start_ns, end_ns]`` are ignored.
    ledger_path : str, optional
        JSON-lines file every payment is appended to (the runner reads it for the report).
    """

    catalog_path: str | None = None
    instrument_ids: tuple[str, ...] = ()
    start_ns: int = 0
    end_ns: int = 2**63 - 1
    ledger_path: str | None = None


class FundingSettlementModule(SimulationModule):  # type: ignore[misc]
    """
    Settle perpetual funding on open positions of one simulated venue at each funding time.

    Parameters
    ----------
    config : FundingSettlementConfig
        The configuration.
    events : list[FundingEvent], optional
        Funding events to settle; by default they are read from ``config.catalog_path``.
    """

    def __init__(self, config: FundingSettlementConfig, events: list[FundingEvent] | None = None) -> None:
        super().__init__(config)
        self._config = config
        self._given = events
        self._events: list[FundingEvent] = []
        self._next = 0
        self._due_ns = _NEVER  # time of the next unsettled event: the per-data check is one compare
        self.payments: list[FundingPayment] = []
        self.skipped_no_mark = 0
        self.skipped_no_instrument = 0

    def register_venue(self, exchange: Any) -> None:
        """Attach to ``exchange`` and load its funding events."""
        super().register_venue(exchange)
        cfg = self._config
        if self._given is not None:
            events = [e for e in self._given if cfg.start_ns < e.ts_ns <= cfg.end_ns]
        elif cfg.catalog_path is not None:
            events, self.skipped_no_mark = read_catalog_funding_events(
                cfg.catalog_path, cfg.instrument_ids, cfg.start_ns, cfg.end_ns
            )
        else:
            raise InvalidConfig("funding settlement: give catalog_path or the events")
        wanted = set(cfg.instrument_ids) if cfg.instrument_ids else None
        self._events = sorted(
            (e for e in events if wanted is None or e.instrument_id in wanted),
            key=lambda e: (e.ts_ns, e.instrument_id),
        )
        self._next = 0
        self._due_ns = self._events[0].ts_ns if self._events else _NEVER

    @property
    def events(self) -> list[FundingEvent]:
        """The funding events this module settles (sorted by time)."""
        return list(self._events)

    def pre_process(self, data: Any) -> None:
        """Settle funding due before ``data`` changes the book (and can trigger fills)."""
        if data.ts_init >= self._due_ns:
            self._settle_due(int(data.ts_init))

    def process(self, ts_now: int) -> None:
        """Settle every funding time at or before ``ts_now`` not yet settled."""
        if ts_now >= self._due_ns:
            self._settle_due(int(ts_now))

    def _settle_due(self, ts_now: int) -> None:
        while self._next < len(self._events) and self._events[self._next].ts_ns <= ts_now:
            self._settle(self._events[self._next])
            self._next += 1
        self._due_ns = self._events[self._next].ts_ns if self._next < len(self._events) else _NEVER

    def _settle(self, event: FundingEvent) -> None:
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Money

        iid = InstrumentId.from_str(event.instrument_id)
        instrument = self.exchange.instruments.get(iid)
        if instrument is None:
            self.skipped_no_instrument += 1
            return
        multiplier = instrument.multiplier.as_decimal()
        for position in self.exchange.cache.positions_open(instrument_id=iid):
            size = position.quantity.as_decimal() * multiplier
            if position.is_short:
                size = -size
            if instrument.is_inverse:
                currency = instrument.base_currency
                raw = -(size * event.rate / event.mark)
            else:
                currency = instrument.settlement_currency
                raw = funding_payment(size, event.mark, event.rate)
            amount = raw.quantize(Decimal(1).scaleb(-currency.precision), rounding=ROUND_HALF_EVEN)
            payment = FundingPayment(
                instrument_id=event.instrument_id,
                position_id=str(position.id),
                ts_ns=event.ts_ns,
                size=size,
                mark=event.mark,
                rate=event.rate,
                amount=amount,
                currency=currency.code,
            )
            account = self.exchange.cache.account_for_venue(self.exchange.id)
            if amount != 0 and (account is None or account.balance(currency) is None):
                # adjust_account would log and drop it: the run would show a payment it never booked
                raise InvalidConfig(
                    f"funding settlement: venue {self.exchange.id} has no {currency.code} balance "
                    f"to settle {event.instrument_id} funding in; add one to starting_balances"
                )
            self.payments.append(payment)
            if self._config.ledger_path is not None:
                with open(self._config.ledger_path, "a", encoding="utf-8") as ledger:
                    ledger.write(payment.to_json() + "\n")
            if amount != 0:
                self.exchange.adjust_account(Money(amount, currency))

    def log_diagnostics(self, logger: Any) -> None:
        """Log the funding totals per currency."""
        totals = funding_totals(self.payments)
        logger.info("Funding (totals): " + (", ".join(f"{v} {c}" for c, v in totals.items()) or "none"))

    def reset(self) -> None:
        """Forget settled payments and start again from the first event."""
        self._next = 0
        self._due_ns = self._events[0].ts_ns if self._events else _NEVER
        self.payments = []


def read_ledger(path: str | Path) -> list[FundingPayment]:
    """Read the payments a module appended to ``path`` (none if the file does not exist)."""
    file = Path(path)
    if not file.is_file():
        return []
    return [FundingPayment.from_json(line) for line in file.read_text(encoding="utf-8").splitlines() if line]


def funding_modules(spec: Any, instrument_ids: list[str], ledger_path: str) -> dict[str, list[Any]]:
    """
    Return the settlement modules per simulated venue name for a backtest spec.

    A venue gets a module when the spec's (local) catalog holds ``derivative_ticker`` data for
    at least one of its instruments; the spec's ``settle_funding: false`` turns this off.
    """
    if not getattr(spec, "settle_funding", True) or "://" in spec.catalog:
        return {}
    from nautilus_ext.catalogs.build import _folder
    from nautilus_ext.catalogs.custom import TardisDerivativeTicker

    root = Path(spec.catalog) / "data" / _folder(TardisDerivativeTicker)
    by_venue: dict[str, list[str]] = {}
    for iid in instrument_ids:
        if (root / iid).is_dir():
            by_venue.setdefault(iid.rsplit(".", 1)[1], []).append(iid)
    start_ns, end_ns = (
        int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000 for t in (spec.start, spec.end)
    )
    return {
        venue: [module_config(spec.catalog, iids, start_ns, end_ns, ledger_path)]
        for venue, iids in by_venue.items()
    }


def module_config(
    catalog: str, instrument_ids: list[str], start_ns: int, end_ns: int, ledger_path: str
) -> Any:
    """Return the ``ImportableActorConfig`` that loads the module into one simulated venue."""
    from nautilus_trader.common.config import ImportableActorConfig

    return ImportableActorConfig(
        actor_path="nautilus_ext.backtest.funding:FundingSettlementModule",
        config_path="nautilus_ext.backtest.funding:FundingSettlementConfig",
        config={
            "catalog_path": catalog,
            "instrument_ids": instrument_ids,
            "start_ns": start_ns,
            "end_ns": end_ns,
            "ledger_path": ledger_path,
        },
    )


__all__ = [
    "FundingEvent",
    "FundingPayment",
    "FundingSettlementConfig",
    "FundingSettlementModule",
    "funding_events_from_tickers",
    "funding_modules",
    "funding_totals",
    "module_config",
    "read_catalog_funding_events",
    "read_ledger",
]
