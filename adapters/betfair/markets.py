"""
Betfair markets and their runners: canonical selections both ways, from the market definition.

A canonical betting key (``FOOTBALL:BETFAIR:MATCH_WINNER:...``) names a whole market; the unified
Order's ``selection`` picks its runner. This module maps between the two, from the fields of the
stream's (or the catalogue's) market definition:

- ``MATCH_ODDS``/``MONEY_LINE``: ``HOME``, ``AWAY`` and ``DRAW``. The draw is the runner named
  "The Draw". Home and away come from the event name: ``A v B`` (football, cricket) lists the home
  side first; ``A @ B`` (US sports) lists the away side first. Without names, the runners' sort
  priority decides in the same order (Betfair lists them as the event name does).
- ``OVER_UNDER_*``: ``OVER``/``UNDER`` by runner name, else sort priority (Betfair lists Under
  first).
- ``BOTH_TEAMS_TO_SCORE``: ``YES``/``NO`` by name, else sort priority (Yes first).
- Any other market (racing ``WIN``...): the runner's name, upper-cased.

Every market also accepts a runner's selection id (digits) or its exact name, so racing and
other sports trade by selection id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidInstrumentKey

DRAW_NAMES: Final = frozenset({"THE DRAW", "DRAW"})
SETTLED_STATUSES: Final = frozenset({"WINNER", "LOSER", "REMOVED", "PLACED", "REMOVED_VACANT"})


@dataclass(frozen=True, slots=True)
class BetfairRunner:
    """
    One runner (selection) of a market, as its definition describes it.

    Attributes
    ----------
    selection_id : int
        Betfair's selection id.
    handicap : Decimal
        The runner's handicap (0 for markets without one).
    name : str, optional
        Runner name (historical files may omit it).
    sort_priority : int, optional
        Betfair's display order (1 first).
    status : str
        ``ACTIVE``, ``WINNER``, ``LOSER``, ``REMOVED``, ``PLACED``, ``HIDDEN``...
    adjustment_factor : Decimal, optional
        For a removed runner: the reduction factor in percent applied to bets on the others.
    removal_date : datetime, optional
        When the runner was removed (bets matched before it are reduced).
    bsp : Decimal, optional
        The Betfair starting price, once reconciled.
    """

    selection_id: int
    handicap: Decimal = Decimal(0)
    name: str | None = None
    sort_priority: int | None = None
    status: str = "ACTIVE"
    adjustment_factor: Decimal | None = None
    removal_date: datetime | None = None
    bsp: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BetfairMarket:
    """
    One Betfair market from its latest definition.

    Attributes
    ----------
    market_id : str
        ``1.166811431``.
    market_type : str
        ``MATCH_ODDS``, ``OVER_UNDER_25``, ``WIN``...
    event_name : str
        ``Arsenal v Chelsea`` (may be empty in historical files).
    event_id, event_type_id : str
        Betfair's event and sport ids.
    status : str
        ``OPEN``, ``SUSPENDED`` or ``CLOSED``.
    in_play : bool
        Whether the market is in play.
    bet_delay : int
        Seconds Betfair holds an in-play bet before matching it.
    number_of_winners : int
        Winners the market pays (1 for MATCH_ODDS and WIN, 3 for a 3-place market).
    market_base_rate : Decimal
        Betfair's commission rate on net winnings for this market, percent.
    discount_allowed : bool
        Whether the account's commission discount applies.
    market_time : datetime, optional
        Scheduled start.
    runners : tuple[BetfairRunner, ...]
        Runners in the definition's order.
    """

    market_id: str
    market_type: str
    event_name: str = ""
    event_id: str = ""
    event_type_id: str = ""
    status: str = "OPEN"
    in_play: bool = False
    bet_delay: int = 0
    number_of_winners: int = 1
    market_base_rate: Decimal = Decimal(5)
    discount_allowed: bool = True
    market_time: datetime | None = None
    runners: tuple[BetfairRunner, ...] = field(default_factory=tuple)

    @classmethod
    def from_definition(
        cls, market_id: str, definition: dict[str, Any], names: dict[int, str] | None = None
    ) -> BetfairMarket:
        """
        Build a market from a stream market definition (Betfair's own field names).

        ``names`` supplies runner names seen in earlier definitions when this one omits them.
        """
        runners = []
        for r in definition.get("runners") or []:
            sid = int(r["id"])
            runners.append(
                BetfairRunner(
                    selection_id=sid,
                    handicap=Decimal(str(r.get("hc", 0) or 0)),
                    name=r.get("name") or (names or {}).get(sid),
                    sort_priority=r.get("sortPriority"),
                    status=str(r.get("status", "ACTIVE")),
                    adjustment_factor=None
                    if r.get("adjustmentFactor") is None
                    else Decimal(str(r["adjustmentFactor"])),
                    removal_date=_time(r.get("removalDate")),
                    bsp=None if r.get("bsp") in (None, "NaN", "Infinity") else Decimal(str(r["bsp"])),
                )
            )
        return cls(
            market_id=market_id,
            market_type=str(definition.get("marketType", "")),
            event_name=str(definition.get("eventName") or ""),
            event_id=str(definition.get("eventId") or ""),
            event_type_id=str(definition.get("eventTypeId") or ""),
            status=str(definition.get("status", "OPEN")),
            in_play=bool(definition.get("inPlay", False)),
            bet_delay=int(definition.get("betDelay", 0) or 0),
            number_of_winners=int(definition.get("numberOfWinners", 1) or 1),
            market_base_rate=Decimal(str(definition.get("marketBaseRate", 5))),
            discount_allowed=bool(definition.get("discountAllowed", True)),
            market_time=_time(definition.get("marketTime")),
            runners=tuple(runners),
        )

    @property
    def settled(self) -> bool:
        """Whether the market is closed with every runner's result known."""
        return self.status == "CLOSED" and all(
            r.status in SETTLED_STATUSES or r.status == "HIDDEN" for r in self.runners
        )

    def selection_of(self, runner: BetfairRunner) -> str:
        """Return the canonical selection of a runner (``HOME``, ``OVER``, a name, or its id)."""
        return canonical_selections(self.market_type, self.event_name, self.runners).get(
            runner.selection_id, str(runner.selection_id)
        )

    def runner_for(self, selection: str) -> BetfairRunner:
        """
        Return the runner an Order's ``selection`` names: a canonical selection, a runner name or
        a selection id.

        Raises
        ------
        InvalidInstrumentKey
            If no runner (or more than one) matches.
        """
        return resolve_runner(self.market_type, self.event_name, self.runners, selection)


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").strip()).upper()


def _split_event(event_name: str) -> tuple[str, str, bool] | None:
    """Return (first, second, first_is_home) of ``A v B`` / ``A @ B``, or None."""
    m = re.fullmatch(r"\s*(.+?)\s+(v|vs|@)\s+(.+?)\s*", event_name, flags=re.IGNORECASE)
    if m is None:
        return None
    return _norm(m.group(1)), _norm(m.group(3)), m.group(2) != "@"


def canonical_selections(
    market_type: str, event_name: str, runners: tuple[BetfairRunner, ...] | list[BetfairRunner]
) -> dict[int, str]:
    """
    Return selection id -> canonical selection for a market's runners (see the module doc).

    Runners the rules cannot place get their upper-cased name (or their id if nameless).
    """
    out: dict[int, str] = {}
    ordered = sorted(runners, key=lambda r: (r.sort_priority is None, r.sort_priority or 0, r.selection_id))
    if market_type in ("MATCH_ODDS", "MONEY_LINE"):
        teams = [r for r in ordered if _norm(r.name) not in DRAW_NAMES]
        for r in ordered:
            if _norm(r.name) in DRAW_NAMES:
                out[r.selection_id] = "DRAW"
        split = _split_event(event_name)
        first_is_home = True if split is None else split[2]
        if split is not None:
            for r in teams:
                if _norm(r.name) == split[0]:
                    out[r.selection_id] = "HOME" if first_is_home else "AWAY"
                elif _norm(r.name) == split[1]:
                    out[r.selection_id] = "AWAY" if first_is_home else "HOME"
        rest = [r for r in teams if r.selection_id not in out]
        free = [s for s in (("HOME", "AWAY") if first_is_home else ("AWAY", "HOME")) if s not in out.values()]
        if len(teams) == 2 and len(rest) == len(free):  # nameless: the listing order decides
            out.update({r.selection_id: s for r, s in zip(rest, free, strict=True)})
    elif market_type.startswith("OVER_UNDER_"):
        for r in ordered:
            name = _norm(r.name)
            if name.startswith("OVER"):
                out[r.selection_id] = "OVER"
            elif name.startswith("UNDER"):
                out[r.selection_id] = "UNDER"
        if not out and len(ordered) == 2:
            out = {ordered[0].selection_id: "UNDER", ordered[1].selection_id: "OVER"}
    elif market_type == "BOTH_TEAMS_TO_SCORE":
        for r in ordered:
            if _norm(r.name) in ("YES", "NO"):
                out[r.selection_id] = _norm(r.name)
        if not out and len(ordered) == 2:
            out = {ordered[0].selection_id: "YES", ordered[1].selection_id: "NO"}
    for r in ordered:
        out.setdefault(r.selection_id, _norm(r.name) or str(r.selection_id))
    return out


def resolve_runner(
    market_type: str,
    event_name: str,
    runners: tuple[BetfairRunner, ...] | list[BetfairRunner],
    selection: str,
) -> BetfairRunner:
    """
    Return the runner ``selection`` names (canonical selection, runner name or selection id).

    Raises
    ------
    InvalidInstrumentKey
        If no runner, or more than one, matches.
    """
    wanted = _norm(selection)
    canon = canonical_selections(market_type, event_name, runners)
    matches = [r for r in runners if canon.get(r.selection_id) == wanted]
    if not matches:
        matches = [r for r in runners if _norm(r.name) == wanted or str(r.selection_id) == wanted]
    if len(matches) != 1:
        choices = ", ".join(sorted(set(canon.values())))
        what = "no runner" if not matches else f"{len(matches)} runners"
        raise InvalidInstrumentKey(
            f"selection {selection!r}: {what} of this {market_type or 'Betfair'} market match"
            f" (selections: {choices}; a runner's name or selection id also works)"
        )
    return matches[0]


def parse_betting_instrument_id(instrument_id: str) -> tuple[str, int, Decimal]:
    """
    Return (market id, selection id, handicap) of a Nautilus betting instrument id.

    ``1-166811431-60424-None.BETFAIR`` -> (``1.166811431``, 60424, 0).

    Raises
    ------
    InvalidInstrumentKey
        If the id is not a Betfair betting instrument id.
    """
    symbol = instrument_id.removesuffix(".BETFAIR")
    m = re.fullmatch(r"(\d+)-(\d+)-(\d+)-(.+)", symbol)
    if m is None:
        raise InvalidInstrumentKey(f"{instrument_id!r} is not a Betfair betting instrument id")
    handicap = Decimal(0) if m.group(4) == "None" else Decimal(m.group(4))
    return f"{m.group(1)}.{m.group(2)}", int(m.group(3)), handicap


__all__ = [
    "DRAW_NAMES",
    "SETTLED_STATUSES",
    "BetfairMarket",
    "BetfairRunner",
    "canonical_selections",
    "parse_betting_instrument_id",
    "resolve_runner",
]
