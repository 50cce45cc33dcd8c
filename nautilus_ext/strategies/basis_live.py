"""
The basis/yield engine (seed 003) as a live/DRY_RUN service inside a TradingNode (decision 21).

The same :class:`~nautilus_ext.basis.engine.BasisEngine` the backtest runs is driven hour by
hour from live sources, and its events become orders and transactions instead of simulated
fills:

* **Snapshots.** Each hour (a node timer every ``hour_secs``) the strategy builds a
  :class:`~nautilus_ext.basis.model.Snapshot` from the hedge venues' mark prices (Nautilus
  ``MarkPriceUpdate``, else the book mid), the funding settlements seen since the last hour
  (a venue's next funding time advancing means it settled at the rate then in force), and the
  chain: AAVE reserve indices at the latest block, the LST/WETH oracle rate and the gas price
  (:func:`~nautilus_ext.basis.live.chain_inputs`). The engine steps once; its rebalancing
  triggers (margin support, hedge adjustment, emergency deleverage) run on live data.
* **CEX legs.** Perpetual (and, with ``spot_instrument_id``, spot) trades become unified
  :class:`~nautilus_ext.orders.Order` objects sent with
  :meth:`~nautilus_ext.execution.strategy.UnifiedExecutionStrategy.submit_unified`: routed,
  judged by the node's safety gate at the chokepoint, audited. In DRY_RUN the node's sandbox
  fills them on live books; in LIVE they reach the venue when the arm's auto-confirm policy
  covers them (LIVE orders are staged and confirmed like the funding carry's).
* **On-chain legs.** The leverage entry and every deleverage are atomic Instadapp bundles
  planned by :class:`~nautilus_ext.onchain.planner.BundlePlanner` and sent by
  :class:`~nautilus_ext.onchain.executor.AtomicBundleExecutor` behind a
  :class:`~nautilus_ext.onchain.gated.BundleGate` over the node's own safety gate (same audit
  sink). A DRY_RUN gate sends to local chains only. After a bundle the engine adopts the
  chain's AAVE balances (:meth:`~nautilus_ext.basis.engine.BasisEngine.adopt_aave`): the
  chain is the truth, the engine's model differs from it by dust.
* **Transfers** between the wallet and CEX accounts (entry funding, ETH freed for margin) are
  not executed by this service: in DRY_RUN they are recorded as simulated (:attr:`transfers`)
  and the on-chain wallet must already hold the ETH the engine withdraws (checked, refused
  with ``INSUFFICIENT_BALANCE`` otherwise). Without ``spot_instrument_id`` spot trades are
  simulated the same way at the snapshot's spot price.

The engine's hours are logical (hour ``n`` = ``start + n h``): a drill runs them ``hour_secs``
apart; production uses 3600.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import yaml
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Currency

from nautilus_ext.adapters.symbology import key_for_instrument
from nautilus_ext.basis.config import EffectiveConfig
from nautilus_ext.basis.config import RunRequest
from nautilus_ext.basis.config import resolve
from nautilus_ext.basis.engine import BasisEngine
from nautilus_ext.basis.live import ActionKind
from nautilus_ext.basis.live import CexInputs
from nautilus_ext.basis.live import ChainInputs
from nautilus_ext.basis.live import VenueAction
from nautilus_ext.basis.live import actions_for
from nautilus_ext.basis.live import chain_inputs
from nautilus_ext.basis.live import hour_of
from nautilus_ext.basis.live import live_snapshot
from nautilus_ext.basis.model import BasisEvent
from nautilus_ext.basis.model import requirements
from nautilus_ext.basis.model import to_wei
from nautilus_ext.errors import InsufficientBalance
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.execution.config import UnifiedExecutionConfig
from nautilus_ext.execution.results import ExecutionResult
from nautilus_ext.execution.strategy import UnifiedExecutionStrategy
from nautilus_ext.funding.history import funding_venue_of_key_venue
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.executor import BundleResult
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.orders import Order

_NS: Final = 1_000_000_000
_TIMER: Final = "basis-hour"
_LST_PROTOCOL: Final = {"WEETH": "ETHERFI", "WSTETH": "LIDO"}


class BasisLiveConfig(UnifiedExecutionConfig, frozen=True):
    """
    Configuration of :class:`BasisLiveStrategy`.

    Parameters
    ----------
    basis_mode : str
        Mode name (``configs/modes/<name>.yaml``), e.g. ``usdt_market_neutral``.
    share_class : str
        Share class (``configs/share_classes``).
    capital : str
        Capital in the share class's currency (decimal string).
    overrides : dict[str, str], optional
        Dotted mode settings -> values (as ``basis backtest --set``).
    hedge_instruments : dict[str, str]
        Hedge venue code of the mode (``BINANCE-FUTURES``) -> Nautilus instrument id of its
        perpetual; every hedge venue of the mode must be listed.
    spot_instrument_id : str, optional
        Spot instrument to execute spot trades on (None: spot simulated at the snapshot price).
    hour_secs : float, default 3600
        Seconds between engine hours (a drill may run them faster).
    auto_hours : bool, default True
        Step on the timer; False leaves stepping to :meth:`BasisLiveStrategy.run_hour`.
    onchain_config_path : str, optional
        YAML of an :class:`~nautilus_ext.onchain.config.OnchainConfig` (required by modes with
        on-chain legs).
    rpc_url : str, optional
        JSON-RPC URL of the chain node.
    wallet : str, optional
        The EOA that owns the DSA and sends casts (the node must sign for it).
    max_slippage : str, default "0.02"
        In-bundle swap slippage bound (fraction).
    """

    basis_mode: str = "usdt_market_neutral"
    share_class: str = "usdt_stable"
    capital: str = "100000"
    overrides: dict[str, str] | None = None
    hedge_instruments: dict[str, str] | None = None
    spot_instrument_id: str | None = None
    hour_secs: float = 3600.0
    auto_hours: bool = True
    onchain_config_path: str | None = None
    rpc_url: str | None = None
    wallet: str | None = None
    max_slippage: str = "0.02"


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What the service did for one :class:`~nautilus_ext.basis.live.VenueAction`."""

    hour: int
    action: VenueAction
    status: str  # SUBMITTED, AWAITING_CONFIRMATION, EXECUTED, SIMULATED, PREFUNDED, REFUSED
    reference: str  # operation id, bundle tx hash or a reason


class BasisLiveStrategy(UnifiedExecutionStrategy):
    """
    Drive the basis engine from live CEX and chain data (see the module docstring).

    Attributes
    ----------
    engine : BasisEngine
        The engine (built on start).
    records : list[ActionRecord]
        Every action the engine asked for and what became of it.
    transfers : list[ActionRecord]
        Transfers recorded as simulated (DRY_RUN).
    bundles : list[BundleResult]
        Mined bundles.
    """

    def __init__(self, config: BasisLiveConfig) -> None:
        super().__init__(config)
        self.cfg: EffectiveConfig = resolve(
            RunRequest(config.basis_mode, config.share_class, Decimal(config.capital), "", ""),
            dict(config.overrides or {}),
        )
        mode = self.cfg.mode
        self._perps: list[tuple[str, str]] = list(requirements(self.cfg).perps)
        hedge = dict(config.hedge_instruments or {})
        missing = [v for v, _ in self._perps if v not in hedge]
        if missing:
            raise InvalidConfig(
                f"hedge_instruments has no instrument for hedge venue(s) {', '.join(missing)}"
            )
        unknown = sorted(set(hedge) - {v for v, _ in self._perps})
        if unknown:
            raise InvalidConfig(
                f"hedge_instruments names venue(s) {', '.join(unknown)} the mode does not hedge on"
            )
        self._hedge: dict[str, str] = hedge
        self._onchain_needed = mode.staking.enabled or mode.lending.enabled or mode.leverage.enabled
        if self._onchain_needed and not (config.onchain_config_path and config.rpc_url and config.wallet):
            raise InvalidConfig(
                f"mode {mode.mode} has on-chain legs: onchain_config_path, rpc_url and wallet are required"
            )
        if config.hour_secs <= 0:
            raise InvalidConfig(f"hour_secs must be positive, got {config.hour_secs}")
        self.engine = BasisEngine(self.cfg)
        self.records: list[ActionRecord] = []
        self.transfers: list[ActionRecord] = []
        self.bundles: list[BundleResult] = []
        self.errors: list[str] = []
        self.halted: str | None = None
        self._marks: dict[str, Decimal] = {}
        self._next_funding: dict[str, int] = {}
        self._rate: dict[str, Decimal] = {}
        self._settled: dict[tuple[str, str], Decimal] = {}
        self._hour = 0
        self._run_start: datetime | None = None
        self._seen_events = 0
        self.clients: OnchainClients | None = None
        self.bundle_gate: BundleGate | None = None
        self._executor: AtomicBundleExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def on_start(self) -> None:
        super().on_start()
        for iid in self._hedge.values():
            instrument_id = InstrumentId.from_str(iid)
            self.subscribe_mark_prices(instrument_id)
            self.subscribe_funding_rates(instrument_id)
        if self._onchain_needed:
            self._connect_chain()
        if self.config.auto_hours:
            self.clock.set_timer(
                _TIMER,
                interval=_secs_to_timedelta(self.config.hour_secs),
                callback=self._on_timer,
            )

    def on_stop(self) -> None:
        if _TIMER in self.clock.timer_names:
            self.clock.cancel_timer(_TIMER)
        super().on_stop()

    def _connect_chain(self) -> None:
        from web3 import Web3

        path = Path(str(self.config.onchain_config_path))
        try:
            raw = yaml.safe_load(path.read_text())
        except OSError as e:
            raise InvalidConfig(f"onchain_config_path {path}: {e}") from e
        onchain = OnchainConfig.model_validate(raw)
        gateway = ChainGateway(Web3(Web3.HTTPProvider(str(self.config.rpc_url))))
        self.clients = OnchainClients(gateway, onchain)
        if self.safety_gate is None:
            raise InvalidConfig("the basis live service needs the node's safety gate for its bundles")
        self.bundle_gate = BundleGate(
            self.safety_gate, self.clients, strategy_id=str(self.id), reconcile_after_execution=True
        )
        self.bundle_gate.adopt_chain_positions(f"{self.id} start")
        self._executor = AtomicBundleExecutor(self.clients, str(self.config.wallet), gate=self.bundle_gate)

    # -- live inputs ----------------------------------------------------------------------------

    def on_mark_price(self, mark_price: MarkPriceUpdate) -> None:
        self._marks[str(mark_price.instrument_id)] = mark_price.value.as_decimal()

    def on_funding_rate(self, funding_rate: FundingRateUpdate) -> None:
        iid = str(funding_rate.instrument_id)
        venue = next((v for v, i in self._hedge.items() if i == iid), None)
        if venue is None:
            return
        rate = normalise_rate(funding_venue_of_key_venue(venue), Decimal(str(funding_rate.rate)))
        previous_next = self._next_funding.get(iid)
        previous_rate = self._rate.get(iid)
        nxt = int(funding_rate.next_funding_ns or 0)
        if previous_next and previous_rate is not None and nxt > previous_next:
            # the venue settled at previous_next at the rate then in force
            self._settled[(venue, self.cfg.mode.asset)] = previous_rate
        if nxt:
            self._next_funding[iid] = nxt
        self._rate[iid] = rate

    def mark_of(self, venue: str) -> Decimal | None:
        """Return the hedge venue's latest mark (else its book mid)."""
        iid = self._hedge[venue]
        return self._marks.get(iid) or self.book_view.mid(iid)

    def cex_inputs(self) -> CexInputs:
        """Marks, spot and funding settlements as the node sees them now."""
        asset = self.cfg.mode.asset
        marks: dict[tuple[str, str], Decimal] = {}
        for venue, _ in self._perps:
            mark = self.mark_of(venue)
            if mark is not None:
                marks[(venue, asset)] = mark
        spot: dict[str, Decimal] = {}
        if self.config.spot_instrument_id is not None:
            mid = self.book_view.mid(self.config.spot_instrument_id)
            if mid is not None:
                spot[asset] = mid
        if asset not in spot and self._perps and (self._perps[0][0], asset) in marks:
            # no spot market configured: the first hedge venue's mark stands in for spot
            spot[asset] = marks[(self._perps[0][0], asset)]
        if asset != "ETH" and "ETH" not in spot:
            raise InvalidConfig("the live service prices ETH from its spot instrument or an ETH hedge")
        return CexInputs(spot, marks, dict(self._settled))

    def chain_now(self) -> ChainInputs | None:
        """The chain's reserves, oracle rates and gas price (None without on-chain legs)."""
        if self.clients is None:
            return None
        req = requirements(self.cfg)
        return chain_inputs(self.clients, req.reserves, req.oracles)

    # -- the hour ----------------------------------------------------------------------------------

    def _on_timer(self, event: TimeEvent) -> None:
        try:
            self.run_hour()
        except NautilusExtError as e:
            self.errors.append(f"{e.code}: {e.message}")
            self.log.error(f"Cannot run basis hour {self._hour}: {e.code}: {e.message}")

    def run_hour(self) -> list[BasisEvent]:
        """
        Step the engine on a live snapshot and execute what it decided; return the hour's events.

        Raises the engine's typed errors (a missing mark, a refused input). An action a venue
        or the gate refuses is recorded (:attr:`records`), nothing after it in the hour is sent,
        and the service halts (:attr:`halted`): the engine's book no longer matches the venues',
        so later hours are refused with
        ``RISK_BLOCKED`` (rule ``basis_book_diverged``) until an operator restarts it.
        """
        if self.halted is not None:
            raise RiskBlocked(
                f"basis service halted: {self.halted}",
                details={"rule": "basis_book_diverged", "strategy_id": str(self.id)},
            )
        if self._run_start is None:
            now = datetime.fromtimestamp(self.clock.timestamp_ns() / _NS, tz=UTC)
            self._run_start = now.replace(minute=0, second=0, microsecond=0)
        cex = self.cex_inputs()
        chain = self.chain_now()
        snap = live_snapshot(self._hour, hour_of(self._run_start, self._hour), cex, chain, self._perps)
        self.engine.step(snap)
        for key in cex.funding_settled:
            self._settled.pop(key, None)
        events = self.engine.events[self._seen_events :]
        self._seen_events = len(self.engine.events)
        for action in actions_for(events, target_ltv=self.cfg.mode.leverage.target_ltv):
            self._execute_action(action)
            if self.records and self.records[-1].status == "REFUSED":
                break  # fail closed: nothing after a refused step of the hour is sent
        refused = [r for r in self.records if r.hour == self._hour and r.status == "REFUSED"]
        if refused:
            self.halted = (
                f"hour {self._hour}: {refused[0].action.kind.value} refused ({refused[0].reference})"
            )
            self.log.error(f"Basis service halted: {self.halted}")
        self._seen_events = len(self.engine.events)  # reconciliation events of this hour
        self._hour += 1
        return events

    @property
    def hour(self) -> int:
        """Hours run so far."""
        return self._hour

    # -- actions ---------------------------------------------------------------------------------

    def _execute_action(self, action: VenueAction) -> None:
        try:
            if action.kind is ActionKind.PERP_TRADE:
                self._record(action, *self._trade(self._hedge[action.venue], action))
            elif action.kind is ActionKind.SPOT_TRADE:
                if self.config.spot_instrument_id is None:
                    self._record(action, "SIMULATED", "no spot_instrument_id: booked at the snapshot's spot")
                else:
                    self._record(action, *self._trade(self.config.spot_instrument_id, action))
            elif action.kind is ActionKind.TRANSFER:
                self._transfer(action)
            elif action.kind is ActionKind.LEVERAGE_ENTRY:
                self._leverage_entry(action)
            elif action.kind is ActionKind.DELEVERAGE:
                self._deleverage(action)
        except NautilusExtError as e:
            self._record(action, "REFUSED", f"{e.code}: {e.message}")
            self.log.error(f"Cannot execute {action.kind.value} of event {action.event_order}: {e.message}")

    def _record(self, action: VenueAction, status: str, reference: str) -> None:
        record = ActionRecord(self._hour, action, status, reference)
        self.records.append(record)
        if action.kind is ActionKind.TRANSFER:
            self.transfers.append(record)

    def _trade(self, instrument_id: str, action: VenueAction) -> tuple[str, str]:
        inst = self.cache.instrument(InstrumentId.from_str(instrument_id))
        if inst is None:
            raise InvalidConfig(f"instrument {instrument_id} is not loaded")
        key = str(key_for_instrument(inst, self.registry))
        op = f"basis-{self.id}-h{self._hour}-e{action.event_order}"
        # the engine trades the asset; orders are in the venue's units (OKX: contracts of 0.1 ETH)
        amount = abs(action.amount) / inst.multiplier.as_decimal()
        order = Order(
            operation_id=op,
            operation="trade",
            instrument_key=key,
            venue=key.split(":", 1)[0],
            side="BUY" if action.amount > 0 else "SELL",
            amount=amount,
            strategy_id=str(self.id),
            strategy_intent=f"basis {action.detail.get('event', action.kind.value)} hour {self._hour}",
            created_at=datetime.fromtimestamp(self.clock.timestamp_ns() / _NS, tz=UTC),
        )
        # LIVE: submit_unified stages the order; an armed auto-confirm policy covering it
        # confirms and sends it at once, otherwise it waits for a human's confirmation
        result: ExecutionResult = self.submit_unified(
            order, rationale=f"basis engine event {action.event_order} ({action.detail.get('event', '')})"
        )
        if result.status.value == "REJECTED":
            return "REFUSED", f"{op}: {result.reason}"
        if (result.reason or "").startswith("AWAITING_CONFIRMATION"):
            return "AWAITING_CONFIRMATION", f"{op}: {result.reason}"
        return "SUBMITTED", op

    def venue_position(self, venue: str) -> Decimal:
        """Net position of the hedge venue's perpetual in the node, in the asset (ETH, BTC)."""
        iid = InstrumentId.from_str(self._hedge[venue])
        inst = self.cache.instrument(iid)
        if inst is None:
            raise InvalidConfig(f"instrument {iid} is not loaded")
        total = Decimal(0)
        for position in self.cache.positions_open(instrument_id=iid, strategy_id=self.id):
            total += position.signed_decimal_qty()
        return Decimal(total * inst.multiplier.as_decimal())

    def _transfer(self, action: VenueAction) -> None:
        # The service moves no funds between the wallet and the CEXs (no withdrawal API is
        # driven): it checks the destination already holds what the engine moved there, and
        # records the transfer as SIMULATED (DRY_RUN) or PREFUNDED (LIVE: the operator funded it).
        note = str(action.detail.get("note", ""))
        target = note.split("->", 1)[1].strip().removesuffix(" margin") if "->" in note else ""
        if target == "wallet" and self.clients is not None:
            held = self.clients.erc20.balance_of("WETH", self.clients.config.dsa)
            if held < to_wei(action.amount):
                raise InsufficientBalance(
                    f"the wallet's DSA holds {held} wei WETH, the engine withdrew "
                    f"{to_wei(action.amount)} wei to it: fund the wallet before the entry",
                    venue="WALLET-ETH",
                )
        elif target in self._hedge and action.asset == "USDT":
            venue = InstrumentId.from_str(self._hedge[target]).venue
            account = self.portfolio.account(venue)
            free = None if account is None else account.balance_free(Currency.from_str("USDT"))
            if free is None or free.as_decimal() < action.amount:
                raise InsufficientBalance(
                    f"{target} has {None if free is None else free.as_decimal()} USDT free, the engine "
                    f"moved {action.amount} USDT there: fund the account first",
                    venue=target,
                )
        self._record(action, "PREFUNDED" if self._mode is Mode.LIVE else "SIMULATED", note)

    def _leverage_entry(self, action: VenueAction) -> None:
        assert self.clients is not None  # on-chain modes only
        planner = BundlePlanner(self.clients)
        bundle = planner.leveraged_staking_entry(
            to_wei(action.amount),
            Decimal(str(action.detail["target_ltv"])),
            protocol=self.cfg.mode.staking.venue
            if self.cfg.mode.staking.venue in ("LIDO", "ETHERFI")
            else "ETHERFI",
        )
        self._run_bundle(action, bundle)

    def _deleverage(self, action: VenueAction) -> None:
        assert self.clients is not None
        assert self._executor is not None
        planner = BundlePlanner(self.clients)
        if action.detail.get("bundle") == "EMERGENCY_DELEVERAGE":
            # the health-factor trigger: back to the mode's target LTV (perps untouched)
            bundle = planner.ltv_adjustment(
                self.cfg.mode.leverage.target_ltv,
                protocol=_LST_PROTOCOL[self.cfg.mode.staking.lst],
                max_slippage=Decimal(self.config.max_slippage),
            )
            self._run_bundle(action, bundle)
            return
        # margin support: free equity at the current LTV, the LST left over goes to the wallet
        account = self.clients.aave.account_data(self.clients.config.dsa)
        bundle = planner.partial_unwind(
            to_wei(action.amount),
            account.current_ltv(),
            lst_symbol=self.cfg.mode.staking.lst,
            max_slippage=Decimal(self.config.max_slippage),
            cash_out_to=str(self.config.wallet),
        )
        self._run_bundle(action, bundle)

    def _run_bundle(self, action: VenueAction, bundle: Any) -> None:
        assert self.clients is not None
        assert self._executor is not None
        if self._mode is Mode.LIVE and self.bundle_gate is not None:
            # LIVE: staged; an armed auto-confirm policy covering its first leg confirms it,
            # otherwise the release below is refused until a human confirms the hash
            self.bundle_gate.stage(bundle)
        result = self._executor.execute(bundle, timestamp_ns=self.clock.timestamp_ns())
        self.bundles.append(result)
        self._record(action, "EXECUTED", result.receipt.tx_hash)
        supply, debt = self.chain_scaled()
        self.engine.adopt_aave(
            supply, debt, f"{action.detail.get('bundle')} mined in {result.receipt.tx_hash}"
        )

    def chain_scaled(self) -> tuple[dict[str, int], dict[str, int]]:
        """The DSA's AAVE scaled supply and debt by reserve, read from chain."""
        assert self.clients is not None
        dsa = self.clients.config.dsa
        supply: dict[str, int] = {}
        debt: dict[str, int] = {}
        for symbol in requirements(self.cfg).reserves:
            s, d = self.clients.aave.scaled_balances(symbol, dsa)
            if s:
                supply[symbol] = s
            if d:
                debt[symbol] = d
        return supply, debt


def _secs_to_timedelta(secs: float) -> Any:
    from datetime import timedelta

    if not math.isfinite(secs):
        raise InvalidConfig(f"hour_secs must be finite, got {secs}")
    return timedelta(seconds=secs)


__all__ = ["ActionRecord", "BasisLiveConfig", "BasisLiveStrategy"]
