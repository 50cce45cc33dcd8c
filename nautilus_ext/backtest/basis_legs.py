"""
Replay the CEX legs of a basis backtest as NautilusTrader positions.

The basis engine (:mod:`nautilus_ext.basis`) accounts for its perpetual shorts itself. This
module runs the same trades in a :class:`~nautilus_trader.backtest.engine.BacktestEngine`: one
simulated venue per hedge venue (NETTING, MARGIN, the registry's instrument with its contract
size and fees), the engine's hourly marks as zero-spread quotes, every hedge trade of the event
log as a market order at its hour, and the engine's settlement rates through the project's
:class:`~nautilus_ext.backtest.funding.FundingSettlementModule`. :func:`replay_cex_legs`
returns Nautilus's positions, funding and P&L next to the engine's, so a test (or a user) can
check that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

import typer

if TYPE_CHECKING:
    from nautilus_ext.basis.backtest import BacktestResult

TRADE_EVENTS = ("HEDGE_OPEN", "HEDGE_ADJUST", "HEDGE_REDUCE", "CEX_LIQUIDATION")
_QUOTE_SIZE = "1000000"


@dataclass(slots=True)
class LegComparison:
    """Nautilus's view of one hedge venue next to the basis engine's."""

    venue: str
    instrument_id: str
    nautilus_position: Decimal
    engine_position: Decimal
    nautilus_funding: Decimal
    engine_funding: Decimal
    nautilus_pnl: Decimal  # realized + unrealized, before commissions
    engine_pnl: Decimal  # perpetual line of the balance sheet (mark-to-market since entry)
    nautilus_commissions: Decimal
    engine_commissions: Decimal
    orders: int


@dataclass(slots=True)
class CexLegReplay:
    """The replay's comparison for every hedge venue."""

    legs: list[LegComparison] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        """JSON-ready rows (decimals as strings)."""
        return [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in vars_(leg).items()} for leg in self.legs
        ]


def vars_(leg: LegComparison) -> dict[str, Any]:
    """Return a dataclass's fields as a dict (slots dataclasses have no ``__dict__``)."""
    return {name: getattr(leg, name) for name in leg.__dataclass_fields__}


def replay_cex_legs(result: BacktestResult) -> CexLegReplay:
    """
    Run the basis backtest's CEX trades in a Nautilus BacktestEngine and compare.

    Raises
    ------
    InvalidConfig
        If the run has no CEX legs.
    """
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.models import MakerTakerFeeModel
    from nautilus_trader.config import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import StrategyConfig
    from nautilus_trader.model.currencies import USDT
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.enums import TimeInForce
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Money
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    from nautilus_ext.adapters.symbology import build_instrument
    from nautilus_ext.backtest.funding import FundingEvent
    from nautilus_ext.backtest.funding import FundingSettlementConfig
    from nautilus_ext.backtest.funding import FundingSettlementModule
    from nautilus_ext.basis.data import to_ns
    from nautilus_ext.errors import InvalidConfig
    from nautilus_ext.instruments.registry import InstrumentRegistry

    engine = result.engine
    cfg = result.config
    if not engine.legs:
        raise InvalidConfig(f"mode {cfg.mode.mode} has no CEX legs to replay")
    registry = InstrumentRegistry.default()
    hours = [row["timestamp"] for row in engine.hourly]
    start_ns = to_ns(hours[0])
    bt = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False))
    instruments: dict[str, Any] = {}
    modules: dict[str, Any] = {}
    plan: dict[int, list[tuple[str, Decimal]]] = {}
    data: list[Any] = []
    marks = _marks(result)
    for leg in engine.legs:
        row = cfg.venues[leg.venue]
        inst = build_instrument(registry.get(row["instrument_key"]), registry)
        iid = str(inst.id)
        instruments[leg.venue] = inst
        contract = Decimal(row["contract_size"])
        events = [
            FundingEvent(iid, to_ns(ts), rate, mark)
            for ts, mark, rate in marks[leg.venue]
            if rate is not None and to_ns(ts) > start_ns
        ]
        module = FundingSettlementModule(
            FundingSettlementConfig(instrument_ids=(iid,), start_ns=start_ns - 1, end_ns=to_ns(hours[-1])),
            events=events,
        )
        modules[leg.venue] = module
        bt.add_venue(
            inst.id.venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=[Money(100_000_000, USDT)],
            base_currency=None,
            book_type=BookType.L1_MBP,
            fee_model=MakerTakerFeeModel(),
            modules=[module],
        )
        bt.add_instrument(inst)
        for ts, mark, _ in marks[leg.venue]:
            ns = to_ns(ts)
            price = Price(mark, inst.price_precision)
            size = Quantity(Decimal(_QUOTE_SIZE), inst.size_precision)
            data.append(QuoteTick(inst.id, price, price, size, size, ns, ns))
        for e in engine.events:
            if e.event in TRADE_EVENTS and e.venue == leg.venue:
                plan.setdefault(to_ns(e.timestamp), []).append((iid, e.amount / contract))

    class _Config(StrategyConfig, frozen=True):
        instrument_ids: tuple[str, ...] = ()

    class _Replay(Strategy):  # type: ignore[misc]
        def on_start(self) -> None:
            for iid in self.config.instrument_ids:
                self.subscribe_quote_ticks(InstrumentId.from_str(iid))

        def on_quote_tick(self, tick: QuoteTick) -> None:
            iid = str(tick.instrument_id)
            todo = plan.get(tick.ts_event, [])
            for item in [t for t in todo if t[0] == iid]:
                todo.remove(item)
                qty = item[1]
                order = self.order_factory.market(
                    tick.instrument_id,
                    OrderSide.BUY if qty > 0 else OrderSide.SELL,
                    Quantity(abs(qty), instruments_by_id[iid].size_precision),
                    time_in_force=TimeInForce.IOC,
                )
                self.submit_order(order)

    instruments_by_id = {str(i.id): i for i in instruments.values()}
    bt.add_data(sorted(data, key=lambda d: d.ts_init))
    bt.add_strategy(_Replay(_Config(instrument_ids=tuple(instruments_by_id))))
    try:
        bt.run()
        replay = CexLegReplay()
        for leg in engine.legs:
            inst = instruments[leg.venue]
            contract = Decimal(cfg.venues[leg.venue]["contract_size"])
            positions = bt.cache.positions(instrument_id=inst.id)
            signed = Decimal(0)
            realized = Decimal(0)
            commissions = Decimal(0)
            last_mark = marks[leg.venue][-1][1]
            unrealized = Decimal(0)
            for p in positions:
                realized += p.realized_pnl.as_decimal() if p.realized_pnl is not None else Decimal(0)
                commissions += sum((c.as_decimal() for c in p.commissions()), Decimal(0))
                if p.is_open:
                    qty = p.quantity.as_decimal()
                    signed += -qty if p.is_short else qty
                    unrealized += p.unrealized_pnl(Price(last_mark, inst.price_precision)).as_decimal()
            orders = list(bt.cache.orders(instrument_id=inst.id))
            lg = engine.ledger
            assert lg is not None
            engine_funding = sum(
                (e.amount for e in engine.events if e.event == "FUNDING_PAYMENT" and e.venue == leg.venue),
                Decimal(0),
            )
            replay.legs.append(
                LegComparison(
                    venue=leg.venue,
                    instrument_id=str(inst.id),
                    nautilus_position=signed * contract,
                    engine_position=lg.qty(f"{leg.venue}.perp"),
                    nautilus_funding=sum((p.amount for p in modules[leg.venue].payments), Decimal(0)),
                    engine_funding=engine_funding,
                    nautilus_pnl=realized + commissions + unrealized,
                    engine_pnl=lg.value(f"{leg.venue}.perp") + lg.value(f"{leg.venue}.perp_cost"),
                    nautilus_commissions=commissions,
                    engine_commissions=-sum(
                        (
                            e.value
                            for e in engine.events
                            if e.event in TRADE_EVENTS[:3] and e.venue == leg.venue
                        ),
                        Decimal(0),
                    ),
                    orders=len(orders),
                )
            )
        return replay
    finally:
        bt.dispose()


def _marks(result: BacktestResult) -> dict[str, list[tuple[Any, Decimal, Decimal | None]]]:
    """Per hedge venue: (hour, mark, funding rate settled that hour) as the engine saw them."""
    engine = result.engine
    out: dict[str, list[tuple[Any, Decimal, Decimal | None]]] = {}
    for leg in engine.legs:
        out[leg.venue] = [
            (s.ts, s.perp_mark[(leg.venue, engine.asset)], s.funding_rate[(leg.venue, engine.asset)])
            for s in engine.seen
        ]
    return out


def replay_cex_command(
    mode: Annotated[str, typer.Option(help="A mode with CEX legs (btc_basis, usdt_market_neutral...)")],
    share_class: Annotated[str, typer.Option(help="usdt_stable")],
    capital: Annotated[str, typer.Option(help="Initial capital (USD)")],
    start: Annotated[str, typer.Option(help="First day (UTC, YYYY-MM-DD)")],
    end: Annotated[str, typer.Option(help="End day, exclusive")],
    data: Annotated[Path | None, typer.Option(help="Day-chunked basis data; default: generated")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated data")] = 3,
    stress: Annotated[bool, typer.Option(help="Generated data includes the stress window")] = True,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a mode setting: a.b.c=value")
    ] = None,
    out: Annotated[Path, typer.Option(help="Comparison JSON")] = Path("cex_legs_nautilus.json"),
) -> None:
    """Backtest a mode, replay its CEX legs in a Nautilus BacktestEngine, write the comparison."""
    import json

    from nautilus_ext.basis.backtest import load_tables
    from nautilus_ext.basis.backtest import run_backtest
    from nautilus_ext.basis.cli import parse_decimal
    from nautilus_ext.basis.cli import parse_overrides
    from nautilus_ext.basis.config import RunRequest
    from nautilus_ext.basis.config import resolve
    from nautilus_ext.errors import NautilusExtError

    try:
        cfg = resolve(
            RunRequest(mode, share_class, parse_decimal(capital, "--capital"), start, end),
            parse_overrides(set_ or [], None, None, None, None),
        )
        result = run_backtest(cfg, load_tables(cfg, data, seed=seed, stress=stress))
        replay = replay_cex_legs(result)
    except NautilusExtError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    out.write_text(json.dumps(replay.to_json(), indent=2) + "\n", encoding="utf-8")
    for leg in replay.legs:
        typer.echo(
            f"{leg.venue:16} position nautilus {leg.nautilus_position} / engine {leg.engine_position}; "
            f"funding {leg.nautilus_funding} / {leg.engine_funding}; "
            f"P&L {leg.nautilus_pnl} / {leg.engine_pnl}"
        )
    typer.echo(f"comparison: {out.resolve()}")


__all__ = ["CexLegReplay", "LegComparison", "replay_cex_command", "replay_cex_legs"]
