"""
The fake Betfair exchange's state and matching, without I/O: markets, ladders, bets, account.

Matching follows the Betfair exchange: a BACK at odds ``p`` matches the available-to-back
ladder (lay offers) at odds ``>= p``, best (highest) first; a LAY at ``p`` matches the
available-to-lay ladder (back offers) at odds ``<= p``, lowest first; each match is at the
offer's odds. A ``FILL_OR_KILL`` bet lapses whole unless ``min_fill_size`` (or its whole size)
can match at once; any other unmatched remainder rests (``EXECUTABLE``) until cancelled, or
lapses at once with ``LAPSE`` persistence when ``lapse_unmatched`` is set. Resting bets are not
matched against later offers (the fake has no other customers).

The wire forms (:meth:`FakeBetfairExchange.catalogue`, :meth:`market_definition`,
:func:`uo_of` ...) follow the shapes of Betfair's API and stream payloads recorded in
NautilusTrader's and betfairlightweight's test resources.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC as _UTC
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

# Betfair's CLASSIC price ladder: (up to odds, tick)
_LADDER: Final = (
    (Decimal(2), Decimal("0.01")),
    (Decimal(3), Decimal("0.02")),
    (Decimal(4), Decimal("0.05")),
    (Decimal(6), Decimal("0.1")),
    (Decimal(10), Decimal("0.2")),
    (Decimal(20), Decimal("0.5")),
    (Decimal(30), Decimal(1)),
    (Decimal(50), Decimal(2)),
    (Decimal(100), Decimal(5)),
    (Decimal(1000), Decimal(10)),
)
MIN_ODDS: Final = Decimal("1.01")
MAX_ODDS: Final = Decimal(1000)


def on_ladder(price: Decimal) -> bool:
    """Return whether ``price`` is a valid odds on Betfair's CLASSIC ladder."""
    if price < MIN_ODDS or price > MAX_ODDS:
        return False
    low = Decimal(1)
    for top, tick in _LADDER:
        if price <= top:
            return (price - low) % tick == 0
        low = top
    return False


def iso(dt: datetime) -> str:
    """Return Betfair's timestamp form (``2025-03-15T15:00:00.000Z``)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass
class Runner:
    """A selection: its id, name, and the ladders of offers other customers left."""

    selection_id: int
    name: str
    available_to_back: dict[Decimal, Decimal] = field(default_factory=dict)  # odds -> size (lay offers)
    available_to_lay: dict[Decimal, Decimal] = field(default_factory=dict)  # odds -> size (back offers)
    traded: dict[Decimal, Decimal] = field(default_factory=dict)
    last_traded: Decimal | None = None
    status: str = "ACTIVE"  # WINNER / LOSER / REMOVED / PLACED once settled
    adjustment_factor: Decimal | None = None  # a removed runner's reduction factor, percent

    def atb(self) -> list[list[Decimal]]:
        """Available to back, best (highest odds) first."""
        return [[p, s] for p, s in sorted(self.available_to_back.items(), reverse=True) if s > 0]

    def atl(self) -> list[list[Decimal]]:
        """Available to lay, best (lowest odds) first."""
        return [[p, s] for p, s in sorted(self.available_to_lay.items()) if s > 0]


@dataclass
class Market:
    """A Betfair market (one event's market type) and its runners."""

    market_id: str
    market_name: str
    market_type: str
    event_type_id: str
    event_type_name: str
    competition_id: str
    competition_name: str
    event_id: str
    event_name: str
    country_code: str
    start: datetime
    runners: dict[int, Runner]
    status: str = "OPEN"
    version: int = 1
    settled_ms: int | None = None


@dataclass
class Bet:
    """One bet as the exchange keeps it (sizes in the account currency)."""

    bet_id: str
    market_id: str
    selection_id: int
    side: str  # BACK / LAY
    price: Decimal
    size: Decimal
    persistence: str
    order_type: str
    customer_order_ref: str | None
    customer_strategy_ref: str | None
    placed_ms: int
    matches: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    matched_ms: int | None = None
    size_lapsed: Decimal = Decimal(0)
    size_cancelled: Decimal = Decimal(0)

    @property
    def size_matched(self) -> Decimal:
        return sum((s for _, s in self.matches), Decimal(0))

    @property
    def size_remaining(self) -> Decimal:
        return self.size - self.size_matched - self.size_lapsed - self.size_cancelled

    @property
    def average_price_matched(self) -> Decimal:
        matched = self.size_matched
        if matched == 0:
            return Decimal(0)
        return (sum((p * s for p, s in self.matches), Decimal(0)) / matched).quantize(Decimal("0.01"))

    @property
    def status(self) -> str:
        return "EXECUTABLE" if self.size_remaining > 0 else "EXECUTION_COMPLETE"

    @property
    def liability(self) -> Decimal:
        # what the bet can lose: a back its stake, a lay its stake times (odds - 1)
        open_size = self.size - self.size_lapsed - self.size_cancelled
        return open_size if self.side == "BACK" else open_size * (self.price - 1)


class BetError(Exception):
    """A placeOrders/cancelOrders instruction refused (Betfair's ``InstructionReportErrorCode``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FakeBetfairExchange:
    """
    Markets, bets and one account (see the module docstring).

    Parameters
    ----------
    currency : str
        The account currency.
    balance : Decimal
        The account's starting balance.
    min_stake : Decimal
        Smallest accepted bet size.
    """

    def __init__(
        self, currency: str = "GBP", balance: Decimal = Decimal(1000), min_stake: Decimal = Decimal(1)
    ):
        self.currency = currency
        self.balance = balance
        self.min_stake = min_stake
        self.markets: dict[str, Market] = {}
        self.bets: dict[str, Bet] = {}
        self.cleared: list[dict[str, Any]] = []  # listClearedOrders rows, one per settled bet
        self.market_commission: dict[str, Decimal] = {}  # commission charged per settled market
        self._bet_ids = itertools.count(340_000_000_001)

    def add_market(self, market: Market) -> None:
        """List ``market``."""
        self.markets[market.market_id] = market

    # -- orders ---------------------------------------------------------------------------------

    def place(
        self, market_id: str, instruction: dict[str, Any], strategy_ref: str | None, now_ms: int
    ) -> Bet:
        """
        Place one ``PlaceInstruction`` (Betfair's JSON fields) and return the bet.

        Raises
        ------
        BetError
            ``MARKET_NOT_OPEN_FOR_BETTING``, ``RUNNER_REMOVED``, ``INVALID_ODDS``,
            ``INVALID_BET_SIZE``, ``BET_TAKEN_OR_LAPSED`` or ``ERROR_IN_ORDER``.
        """
        market = self.markets.get(market_id)
        if market is None or market.status != "OPEN":
            raise BetError("MARKET_NOT_OPEN_FOR_BETTING")
        runner = market.runners.get(int(instruction["selectionId"]))
        if runner is None:
            raise BetError("RUNNER_REMOVED")
        if instruction.get("orderType") != "LIMIT" or "limitOrder" not in instruction:
            raise BetError("ERROR_IN_ORDER")  # the fake takes LIMIT bets only
        limit = instruction["limitOrder"]
        price = Decimal(str(limit["price"]))
        size = Decimal(str(limit["size"]))
        if not on_ladder(price):
            raise BetError("INVALID_ODDS")
        if size < self.min_stake:
            raise BetError("INVALID_BET_SIZE")
        side = instruction["side"]
        bet = Bet(
            bet_id=str(next(self._bet_ids)),
            market_id=market_id,
            selection_id=runner.selection_id,
            side=side,
            price=price,
            size=size,
            persistence=limit.get("persistenceType", "LAPSE"),
            order_type="LIMIT",
            customer_order_ref=instruction.get("customerOrderRef"),
            customer_strategy_ref=strategy_ref,
            placed_ms=now_ms,
        )
        fills = self._matchable(runner, side, price, size)
        matchable = sum((s for _, s in fills), Decimal(0))
        if limit.get("timeInForce") == "FILL_OR_KILL":
            needed = Decimal(str(limit["minFillSize"])) if limit.get("minFillSize") is not None else size
            if matchable < needed or matchable == 0:
                bet.size_lapsed = size
                self.bets[bet.bet_id] = bet
                return bet
            bet.size_lapsed = size - matchable
        self._take(runner, side, fills, now_ms)
        bet.matches = fills
        if fills:
            bet.matched_ms = now_ms
        self.bets[bet.bet_id] = bet
        return bet

    @staticmethod
    def _matchable(runner: Runner, side: str, price: Decimal, size: Decimal) -> list[tuple[Decimal, Decimal]]:
        levels = runner.atb() if side == "BACK" else runner.atl()
        fills: list[tuple[Decimal, Decimal]] = []
        left = size
        for odds, available in levels:
            if left <= 0 or (odds < price if side == "BACK" else odds > price):
                break
            take = min(left, available)
            fills.append((odds, take))
            left -= take
        return fills

    @staticmethod
    def _take(runner: Runner, side: str, fills: list[tuple[Decimal, Decimal]], now_ms: int) -> None:
        book = runner.available_to_back if side == "BACK" else runner.available_to_lay
        for odds, size in fills:
            book[odds] -= size
            runner.traded[odds] = runner.traded.get(odds, Decimal(0)) + size
            runner.last_traded = odds

    def cancel(
        self, market_id: str, bet_id: str | None, size_reduction: Decimal | None, now_ms: int
    ) -> list[Bet]:
        """
        Cancel a bet's unmatched part (or ``size_reduction`` of it); every executable bet of the
        market when ``bet_id`` is ``None``. Return the bets changed.

        Raises
        ------
        BetError
            ``BET_TAKEN_OR_LAPSED`` when nothing of the bet is left to cancel.
        """
        if bet_id is None:
            targets = [b for b in self.bets.values() if b.market_id == market_id and b.size_remaining > 0]
        else:
            bet = self.bets.get(bet_id)
            if bet is None or bet.market_id != market_id or bet.size_remaining <= 0:
                raise BetError("BET_TAKEN_OR_LAPSED")
            targets = [bet]
        for bet in targets:
            reduce = bet.size_remaining if size_reduction is None else min(size_reduction, bet.size_remaining)
            bet.size_cancelled += reduce
        return targets

    # -- settlement -----------------------------------------------------------------------------

    def settle_market(
        self,
        market_id: str,
        results: dict[int, str],
        now_ms: int,
        *,
        adjustment_factors: dict[int, Decimal] | None = None,
        commission_rate: Decimal = Decimal("0.05"),
    ) -> None:
        """
        Close ``market_id`` with each runner's result and settle every matched bet.

        ``results`` maps selection ids to ``WINNER``/``LOSER``/``REMOVED``/``PLACED``; a removed
        runner's ``adjustment_factors`` entry (percent) reduces the odds of the bets on the
        others. Each bet's profit goes to :attr:`cleared` (``listClearedOrders``), the balance
        moves by the market's net, and commission on positive net winnings is charged.
        """
        market = self.markets[market_id]
        for sid, result in results.items():
            market.runners[sid].status = result
        for sid, factor in (adjustment_factors or {}).items():
            market.runners[sid].adjustment_factor = factor
        market.status = "CLOSED"
        market.settled_ms = now_ms
        market.version += 1
        net = Decimal(0)
        for bet in [b for b in self.bets.values() if b.market_id == market_id]:
            bet.size_cancelled += bet.size_remaining  # unmatched remainders lapse at the close
            if bet.size_matched == 0:
                continue
            runner = market.runners[bet.selection_id]
            reduction = Decimal(1)
            for other in market.runners.values():
                if other.status == "REMOVED" and other is not runner and other.adjustment_factor:
                    reduction *= 1 - other.adjustment_factor / 100
            profit = Decimal(0)
            outcome = "WON"
            for price, size in bet.matches:
                odds = max(price * reduction, Decimal(1))
                if runner.status == "REMOVED":
                    outcome = "VOID"
                elif runner.status in ("WINNER", "PLACED"):
                    profit += size * (odds - 1) if bet.side == "BACK" else -size * (odds - 1)
                    outcome = "WON" if bet.side == "BACK" else "LOST"
                else:
                    profit += -size if bet.side == "BACK" else size
                    outcome = "LOST" if bet.side == "BACK" else "WON"
            net += profit
            self.cleared.append(
                {
                    "eventTypeId": market.event_type_id,
                    "eventId": market.event_id,
                    "marketId": market_id,
                    "selectionId": bet.selection_id,
                    "handicap": 0.0,
                    "betId": bet.bet_id,
                    "placedDate": iso(datetime.fromtimestamp(bet.placed_ms / 1000, tz=_UTC)),
                    "persistenceType": bet.persistence,
                    "orderType": bet.order_type,
                    "side": bet.side,
                    "betOutcome": outcome,
                    "priceRequested": bet.price,
                    "settledDate": iso(datetime.fromtimestamp(now_ms / 1000, tz=_UTC)),
                    "lastMatchedDate": iso(
                        datetime.fromtimestamp((bet.matched_ms or now_ms) / 1000, tz=_UTC)
                    ),
                    "betCount": 1,
                    "priceMatched": bet.average_price_matched,
                    "priceReduced": reduction != 1 and runner.status != "REMOVED",
                    "sizeSettled": bet.size_matched,
                    "profit": profit,
                    "sizeCancelled": bet.size_cancelled,
                    **({"customerOrderRef": bet.customer_order_ref} if bet.customer_order_ref else {}),
                    **(
                        {"customerStrategyRef": bet.customer_strategy_ref}
                        if bet.customer_strategy_ref
                        else {}
                    ),
                }
            )
        commission = net * commission_rate if net > 0 else Decimal(0)
        self.market_commission[market_id] = commission
        self.balance += net - commission

    def cleared_orders(self, market_ids: set[str], group_by: str | None) -> list[dict[str, Any]]:
        """Return ``listClearedOrders`` rows: per bet, or per market with its commission."""
        rows = [r for r in self.cleared if not market_ids or r["marketId"] in market_ids]
        if group_by != "MARKET":
            return rows
        by_market: dict[str, dict[str, Any]] = {}
        for r in rows:
            m = by_market.setdefault(
                r["marketId"],
                {
                    "eventTypeId": r["eventTypeId"],
                    "eventId": r["eventId"],
                    "marketId": r["marketId"],
                    "settledDate": r["settledDate"],
                    "betCount": 0,
                    "profit": Decimal(0),
                    "commission": self.market_commission.get(r["marketId"], Decimal(0)),
                },
            )
            m["betCount"] += 1
            m["profit"] += r["profit"]
        return list(by_market.values())

    # -- account --------------------------------------------------------------------------------

    def exposure(self) -> Decimal:
        """Return the account's exposure (negative: the sum of the unsettled bets' liabilities)."""
        open_markets = {m for m, market in self.markets.items() if market.status != "CLOSED"}
        return -sum((b.liability for b in self.bets.values() if b.market_id in open_markets), Decimal(0))

    # -- wire forms -----------------------------------------------------------------------------

    def navigation(self) -> dict[str, Any]:
        """Return the navigation menu tree (``menu.json``) of the listed markets."""
        event_types: dict[str, dict[str, Any]] = {}
        for m in self.markets.values():
            et = event_types.setdefault(
                m.event_type_id,
                {"type": "EVENT_TYPE", "name": m.event_type_name, "id": m.event_type_id, "children": []},
            )
            group = next((g for g in et["children"] if g["id"] == m.competition_id), None)
            if group is None:
                group = {"type": "GROUP", "name": m.competition_name, "id": m.competition_id, "children": []}
                et["children"].append(group)
            event = next((e for e in group["children"] if e["id"] == m.event_id), None)
            if event is None:
                event = {
                    "type": "EVENT",
                    "name": m.event_name,
                    "id": m.event_id,
                    "countryCode": m.country_code,
                    "children": [],
                }
                group["children"].append(event)
            event["children"].append(
                {
                    "type": "MARKET",
                    "name": m.market_name,
                    "id": m.market_id,
                    "exchangeId": "1",
                    "marketType": m.market_type,
                    "marketStartTime": iso(m.start),
                    "numberOfWinners": 1,
                }
            )
        return {"type": "GROUP", "name": "ROOT", "id": 0, "children": list(event_types.values())}

    def catalogue(self, market_id: str) -> dict[str, Any]:
        """Return the ``MarketCatalogue`` of a market (every projection)."""
        m = self.markets[market_id]
        return {
            "marketId": m.market_id,
            "marketName": m.market_name,
            "marketStartTime": iso(m.start),
            "description": {
                "persistenceEnabled": True,
                "bspMarket": False,
                "marketTime": iso(m.start),
                "suspendTime": iso(m.start),
                "bettingType": "ODDS",
                "turnInPlayEnabled": True,
                "marketType": m.market_type,
                "regulator": "GIBRALTAR REGULATOR",
                "marketBaseRate": 5.0,
                "discountAllowed": True,
                "wallet": "UK wallet",
                "rulesHasDate": True,
                "priceLadderDescription": {"type": "CLASSIC"},
            },
            "totalMatched": 0.0,
            "runners": [
                {"selectionId": r.selection_id, "runnerName": r.name, "handicap": 0.0, "sortPriority": i + 1}
                for i, r in enumerate(m.runners.values())
            ],
            "eventType": {"id": m.event_type_id, "name": m.event_type_name},
            "competition": {"id": m.competition_id, "name": m.competition_name},
            "event": {
                "id": m.event_id,
                "name": m.event_name,
                "countryCode": m.country_code,
                "timezone": "Europe/London",
                "openDate": iso(m.start),
            },
        }

    def market_definition(self, market_id: str) -> dict[str, Any]:
        """Return the stream ``marketDefinition`` of a market."""
        m = self.markets[market_id]
        return {
            "bspMarket": False,
            "turnInPlayEnabled": True,
            "persistenceEnabled": True,
            "marketBaseRate": 5,
            "eventId": m.event_id,
            "eventTypeId": m.event_type_id,
            "numberOfWinners": 1,
            "bettingType": "ODDS",
            "marketType": m.market_type,
            "marketTime": iso(m.start),
            "suspendTime": iso(m.start),
            "bspReconciled": False,
            "complete": True,
            "inPlay": False,
            "crossMatching": True,
            "runnersVoidable": False,
            "numberOfActiveRunners": len(m.runners),
            "betDelay": 0,
            "status": m.status,
            **(
                {"settledTime": iso(datetime.fromtimestamp(m.settled_ms / 1000, tz=_UTC))}
                if m.settled_ms is not None
                else {}
            ),
            "runners": [
                {
                    "status": r.status,
                    "sortPriority": i + 1,
                    "id": r.selection_id,
                    "name": r.name,
                    **({"adjustmentFactor": r.adjustment_factor} if r.adjustment_factor is not None else {}),
                    **(
                        {"removalDate": iso(datetime.fromtimestamp(m.settled_ms / 1000, tz=_UTC))}
                        if r.status == "REMOVED" and m.settled_ms is not None
                        else {}
                    ),
                }
                for i, r in enumerate(m.runners.values())
            ],
            "regulators": ["MR_INT"],
            "countryCode": m.country_code,
            "discountAllowed": True,
            "timezone": "Europe/London",
            "openDate": iso(m.start),
            "version": m.version,
            "eventName": m.event_name,
            "competitionId": m.competition_id,
            "competitionName": m.competition_name,
        }

    def runner_change(self, market_id: str, selection_id: int) -> dict[str, Any]:
        """Return a stream ``rc`` entry: full ladders, traded volume and last traded price."""
        r = self.markets[market_id].runners[selection_id]
        rc: dict[str, Any] = {"id": selection_id, "atb": r.atb(), "atl": r.atl()}
        if r.traded:
            rc["trd"] = [[p, s] for p, s in sorted(r.traded.items())]
            rc["tv"] = sum(r.traded.values(), Decimal(0))
        if r.last_traded is not None:
            rc["ltp"] = r.last_traded
        return rc


def uo_of(bet: Bet) -> dict[str, Any]:
    """Return the order stream's unmatched-order (``uo``) form of a bet."""
    uo: dict[str, Any] = {
        "id": bet.bet_id,
        "p": bet.price,
        "s": bet.size,
        "side": "B" if bet.side == "BACK" else "L",
        "status": "E" if bet.status == "EXECUTABLE" else "EC",
        "pt": {"LAPSE": "L", "PERSIST": "P", "MARKET_ON_CLOSE": "MOC"}.get(bet.persistence, "L"),
        "ot": "L",
        "pd": bet.placed_ms,
        "sm": bet.size_matched,
        "sr": bet.size_remaining,
        "sl": bet.size_lapsed,
        "sc": bet.size_cancelled,
        "sv": Decimal(0),
        "rac": "",
        "rc": "REG_GGC",
    }
    if bet.size_matched > 0:
        uo["avp"] = bet.average_price_matched
        uo["md"] = bet.matched_ms
    if bet.customer_order_ref:
        uo["rfo"] = bet.customer_order_ref
    if bet.customer_strategy_ref:
        uo["rfs"] = bet.customer_strategy_ref
    return uo


def current_order_of(bet: Bet) -> dict[str, Any]:
    """Return the ``CurrentOrderSummary`` form of a bet (``listCurrentOrders``)."""
    summary: dict[str, Any] = {
        "betId": bet.bet_id,
        "marketId": bet.market_id,
        "selectionId": bet.selection_id,
        "handicap": 0.0,
        "priceSize": {"price": bet.price, "size": bet.size},
        "bspLiability": 0.0,
        "side": bet.side,
        "status": bet.status,
        "persistenceType": bet.persistence,
        "orderType": bet.order_type,
        "placedDate": iso(datetime.fromtimestamp(bet.placed_ms / 1000, tz=_UTC)),
        "averagePriceMatched": bet.average_price_matched,
        "sizeMatched": bet.size_matched,
        "sizeRemaining": bet.size_remaining,
        "sizeLapsed": bet.size_lapsed,
        "sizeCancelled": bet.size_cancelled,
        "sizeVoided": 0.0,
        "regulatorCode": "GIBRALTAR REGULATOR",
    }
    if bet.matched_ms is not None:
        summary["matchedDate"] = iso(datetime.fromtimestamp(bet.matched_ms / 1000, tz=_UTC))
    if bet.customer_order_ref:
        summary["customerOrderRef"] = bet.customer_order_ref
    if bet.customer_strategy_ref:
        summary["customerStrategyRef"] = bet.customer_strategy_ref
    return summary
