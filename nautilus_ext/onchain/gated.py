"""
The safety gate in front of the chain: every atomic bundle is one gate intent.

:class:`BundleGate` stands between :class:`~nautilus_ext.onchain.executor.AtomicBundleExecutor`
and the chain (the executor cannot be built without one), so a bundle is sent only after a
:class:`~nautilus_ext.safety.gate.SafetyGate` decision (seed 001: "nothing may reach a venue, a
chain or a bookmaker except through this layer"):

* **Intent.** A bundle becomes unified :class:`~nautilus_ext.orders.Order` legs, one per
  lending position it changes (net over its steps): ``supply``/``withdraw`` on the market's
  ``A_TOKEN`` key and ``borrow``/``repay`` on its ``DEBT_TOKEN`` key (for example
  ``AAVE_V3_ETH:A_TOKEN:AWEETH@ETHEREUM``), amounts in whole tokens converted exactly from
  base units. ``2**256 - 1`` ("everything") is sized from the chain before sending: the whole
  position for a withdraw or a repay, the DSA's balance plus what earlier steps deliver for a
  supply. Each leg carries the oracle price and notional (``metadata``), the bundle's content
  hash (:func:`bundle_hash`: kind, flash leg, target, every step's connector, calldata and
  amount) as ``atomic_group_id``, and the first leg names every other leg's intent hash in
  ``metadata["group_intents"]``. Flash loans, stakes, wraps and in-bundle swaps move tokens
  inside the one transaction and are covered by the hash, not by legs. A bundle with no
  lending leg whose steps swap (a bare swap through the DSA) is a position change on the
  DSA's ``SPOT_ASSET`` keys (``WALLET-ETH:SPOT_ASSET:WETH@ETHEREUM``, the ``wallet_venue``):
  one ``swap`` leg per token, net over the swaps (the sold amount, the quoted output), each
  judged on its position key; those keys adopt the DSA's balance read from chain the first
  time they appear. Any other bundle with no position leg is refused (fail closed: the gate
  could not judge its risk).
* **Decision.** :meth:`BundleGate.release` judges all legs with
  :meth:`~nautilus_ext.safety.gate.SafetyGate.check_group`: mode, dirty positions, SAFE mode
  and kills (only legs that shrink ``|position|`` pass: unwinds and repays), the risk matrix
  (max position per key, max trade size, loss limits), rate limits; in LIVE an unexpired arm
  and a confirmation of the bundle's intent hash, spent once. All legs pass or the bundle is
  refused with the typed error (taxonomy code plus ``details["rule"]``) and nothing is sent.
* **Confirmation (LIVE).** :meth:`BundleGate.stage` stages the first leg, whose intent hash
  binds the whole bundle (its JSON holds the bundle hash and the other legs' hashes); a
  human confirms it with :meth:`BundleGate.confirm` (the bundle hash is accepted too) or the
  safety control endpoint's ``confirm``. A different bundle has a different hash: it cannot
  ride on the confirmation.
* **After sending.** A mined bundle's legs are fills (positions turn dirty) and the outcome is
  written to the gate's audit sink with the bundle hash, tx hash, gas used and block; a
  revert or a bundle that was refused before the cast is written too and changes no position.
  :meth:`BundleGate.reconcile` reads the positions back from chain (a REST-like snapshot):
  a match clears the dirty flag, a lasting mismatch enters SAFE mode. A cast whose outcome is
  unknown (no receipt) enters SAFE mode at once.
* **Release token.** An allowed release that names the sender carries a single-use
  :class:`~nautilus_ext.onchain.chain.GateRelease` bound to that bundle's exact cast; a guarded
  gateway sends nothing else. A kill (:meth:`SafetyGate.kill_and_cancel`) drops the staged
  bundles and revokes releases not yet presented (:meth:`BundleGate.cancel_pending`); a cast
  already handed to the node cannot be recalled.
* **Modes.** Only LIVE may send to a public chain (the node's or the configured chain id in
  :data:`~nautilus_ext.instruments.enums.KNOWN_CHAIN_IDS`); BACKTEST, DRY_RUN and REPLAY gates
  send to local chains only (the EVM stand-in), where arming does not apply.

The chain state a decision reads is its market data: legs are judged against prices and
positions read from the node just before, and a node that answers counts as a live feed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from typing import Protocol

from nautilus_ext.audit.schemas import CommandKind
from nautilus_ext.audit.schemas import RiskAction
from nautilus_ext.errors import ErrorCode
from nautilus_ext.errors import InvalidOrder
from nautilus_ext.errors import NautilusExtError
from nautilus_ext.errors import RiskBlocked
from nautilus_ext.errors import TransactionReverted
from nautilus_ext.instruments import InstrumentKey
from nautilus_ext.instruments import InstrumentType
from nautilus_ext.instruments.enums import KNOWN_CHAIN_IDS
from nautilus_ext.mode import Mode
from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.calculators.lst import LstPoolState
from nautilus_ext.onchain.calculators.lst import stake_and_wrap
from nautilus_ext.onchain.chain import GateRelease
from nautilus_ext.onchain.chain import TxReceipt
from nautilus_ext.onchain.chain import _mint_release
from nautilus_ext.onchain.chain import revoke_release
from nautilus_ext.onchain.chain import translate_exception
from nautilus_ext.onchain.clients import AaveV3Client
from nautilus_ext.onchain.planner import AAVE_VENUE
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.spells import MAX_UINT256
from nautilus_ext.orders import Order
from nautilus_ext.safety.arming import intent_hash
from nautilus_ext.safety.decision import Rule
from nautilus_ext.safety.decision import risk_blocked
from nautilus_ext.safety.events import SafetyEvent
from nautilus_ext.safety.gate import GateContext
from nautilus_ext.safety.gate import SafetyGate
from nautilus_ext.safety.oms import Fill

log = logging.getLogger(__name__)

DEFAULT_LENDING_VENUE: Final[str] = "AAVE_V3_ETH"
"""Instrument-key venue of the configured (primary) AAVE market."""
DEFAULT_WALLET_VENUE: Final[str] = "WALLET-ETH"
"""Instrument-key venue of the DSA's token holdings (the legs of a bare swap)."""
PUBLIC_CHAIN_IDS: Final[frozenset[int]] = frozenset(KNOWN_CHAIN_IDS.values())
"""Chains only a LIVE gate may send to."""

_LEG_STEPS: Final = {
    StepKind.SUPPLY: (InstrumentType.A_TOKEN, 1),
    StepKind.WITHDRAW: (InstrumentType.A_TOKEN, -1),
    StepKind.BORROW: (InstrumentType.DEBT_TOKEN, 1),
    StepKind.REPAY: (InstrumentType.DEBT_TOKEN, -1),
}
_OPERATION: Final = {
    (InstrumentType.A_TOKEN, True): ("supply", "SUPPLY"),
    (InstrumentType.A_TOKEN, False): ("withdraw", "WITHDRAW"),
    (InstrumentType.DEBT_TOKEN, True): ("borrow", "BORROW"),
    (InstrumentType.DEBT_TOKEN, False): ("repay", "REPAY"),
}
_BASE_CURRENCY_DECIMALS: Final = 8  # AAVE oracles quote in 1e8 base-currency units


def bundle_hash(bundle: AtomicBundle) -> str:
    """
    Return the content hash of ``bundle``: SHA-256 of its canonical JSON.

    It covers the kind, the flash connector and route, the target range, the post-check pool
    and, per step, its kind, asset, amount, venue, swap bound and the connector and calldata
    of its spell: two bundles that would cast different calls never share a hash.
    """
    target = bundle.target
    payload = {
        "kind": str(bundle.kind),
        "flash_connector": bundle.flash_connector,
        "flash_route": bundle.flash_route,
        "post_check_pool": bundle.post_check_pool,
        "target": None
        if target is None
        else [str(target.min_ltv), str(target.max_ltv), str(target.min_health_factor)],
        "steps": [
            {
                "kind": str(s.kind),
                "asset": s.asset,
                "amount": str(s.amount),
                "venue": s.venue,
                "connector": None if s.spell is None else s.spell.connector,
                "calldata": None if s.spell is None else s.spell.calldata.hex(),
                "min_out": None if s.swap is None else str(s.swap.min_out),
            }
            for s in bundle.steps
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Staged(Protocol):
    @property
    def intent_hash(self) -> str: ...


def confirm_staged[T: _Staged](
    gate: SafetyGate,
    staged: Mapping[str, T],
    digest: str,
    actor: str,
    *,
    what: str,
    alias: Callable[[T], str] | None = None,
) -> T:
    """
    Confirm one staged item (bundle, swaps, CoW order) as ``actor`` and return it.

    ``digest`` is the item's key in ``staged``, its intent hash, or its ``alias`` (a CoW order
    UID, compared in lower case). An unknown digest is refused, and the refusal audited.

    Raises
    ------
    RiskBlocked
        Not armed, or nothing staged has this hash (``rule = arm_command``).
    """
    by_intent = {item.intent_hash: item for item in staged.values()}
    by_alias = {alias(item).lower(): item for item in staged.values()} if alias is not None else {}
    found = staged.get(digest) or by_intent.get(digest) or by_alias.get(digest.lower())
    if found is None:
        message = f"no staged {what} has the hash {digest}"
        gate.refuse_command(CommandKind.CONFIRM, actor, message)
        raise risk_blocked(Rule.ARM_COMMAND, f"confirm refused: {message}", command=str(CommandKind.CONFIRM))
    gate.confirm(found.intent_hash, actor)
    return found


@dataclass(frozen=True, slots=True)
class StagedBundle:
    """
    A bundle's gate intent.

    Parameters
    ----------
    bundle : AtomicBundle
        The bundle.
    bundle_hash : str
        Its content hash (:func:`bundle_hash`).
    orders : tuple[Order, ...]
        Its legs; the first one's intent hash releases the bundle in LIVE.
    """

    bundle: AtomicBundle
    bundle_hash: str
    orders: tuple[Order, ...]

    @property
    def intent_hash(self) -> str:
        """The hash a human confirms (the first leg's, which names every other leg)."""
        return intent_hash(self.orders[0])


@dataclass(frozen=True, slots=True)
class BundleRelease:
    """
    A gate decision that let a bundle go to the chain.

    Parameters
    ----------
    staged : StagedBundle
        The bundle and the legs judged.
    intent_hash : str, optional
        The confirmation spent (LIVE), else ``None``.
    decided_at_ns : int
        When the gate allowed it (gate clock).
    token : GateRelease, optional
        The single-use token that lets this bundle's cast (and nothing else) through a guarded
        gateway; minted only when the release named the sender (``None``: no transaction).
    """

    staged: StagedBundle
    intent_hash: str | None
    decided_at_ns: int
    token: GateRelease | None = None


class BundleGate:
    """
    Turn bundles into gate intents, decide, and feed outcomes back (see the module docstring).

    Parameters
    ----------
    gate : SafetyGate
        The gate (its mode decides whether arming applies; its sink is the audit log).
    clients : OnchainClients
        Protocol clients used to size legs and read positions back.
    strategy_id : str
        The strategy the legs belong to (kills and loss limits are per strategy).
    lending_venue : str
        Instrument-key venue of the configured AAVE market (migration markets use their
        configured ``name``).
    reconcile_after_execution : bool
        Read the positions back right after a mined bundle (default ``False``: they stay
        dirty until :meth:`reconcile` runs, which a LIVE driver calls on a timer).
    wallet_venue : str
        Venue of the DSA's ``SPOT_ASSET`` position keys (bare swaps), default ``WALLET-ETH``.
    """

    def __init__(
        self,
        gate: SafetyGate,
        clients: OnchainClients,
        *,
        strategy_id: str,
        lending_venue: str = DEFAULT_LENDING_VENUE,
        reconcile_after_execution: bool = False,
        wallet_venue: str = DEFAULT_WALLET_VENUE,
    ) -> None:
        if not strategy_id:
            raise InvalidOrder("a bundle gate needs a strategy id")
        InstrumentKey.parse(f"{lending_venue}:A_TOKEN:AWETH@{clients.config.chain}")
        self._gate = gate
        self._c = clients
        self._strategy_id = strategy_id
        self._lending_venue = lending_venue
        self._wallet_venue = wallet_venue
        self._reconcile_after = reconcile_after_execution
        self._markets: dict[str, AaveV3Client] = {}
        self._staged: dict[str, StagedBundle] = {}
        self._outstanding: set[GateRelease] = set()
        self._equity_start: Decimal | None = None
        gate.add_kill_listener(self, self._on_kill)

    @property
    def gate(self) -> SafetyGate:
        """Return the safety gate."""
        return self._gate

    @property
    def strategy_id(self) -> str:
        """Return the strategy the legs belong to."""
        return self._strategy_id

    # -- intents ------------------------------------------------------------------------------

    def intent(self, bundle: AtomicBundle) -> StagedBundle:
        """
        Return the legs of ``bundle`` sized against the chain now (nothing is staged).

        Raises
        ------
        InvalidOrder
            The bundle changes no lending position, or an "everything" amount cannot be sized.
        """
        digest = bundle_hash(bundle)
        deltas = self._deltas(bundle) or self._swap_deltas(bundle)
        if not deltas:
            raise InvalidOrder(
                f"{bundle.kind} bundle {digest[:16]} changes no lending position: the safety gate "
                "cannot judge its risk, so it is not sent",
                details={"rule": "NO_POSITION_LEG", "bundle_hash": digest},
            )
        ordered = sorted(deltas.items())
        later = [
            self._leg(bundle, digest, index, venue, kind, symbol, delta)
            for index, ((venue, kind, symbol), delta) in enumerate(ordered)
            if index > 0
        ]
        (venue, kind, symbol), delta = ordered[0]
        # the first leg's hash is what a human confirms: it names every other leg's hash
        first = self._leg(
            bundle,
            digest,
            0,
            venue,
            kind,
            symbol,
            delta,
            group={"group_intents": [intent_hash(o) for o in later], "legs": len(ordered)},
        )
        legs = [first, *later]
        return StagedBundle(bundle=bundle, bundle_hash=digest, orders=tuple(legs))

    def stage(self, bundle: AtomicBundle) -> StagedBundle:
        """
        Stage ``bundle`` for LIVE confirmation and return it with the hash to confirm.

        The legs are sized now and kept while the gate holds the staged intent (its
        ``intent_ttl_secs``): a later :meth:`release` judges these exact legs, so the confirmed
        hash does not drift with interest accrual or oracle updates.
        """
        digest = bundle_hash(bundle)
        # forget bundles whose staged intent lapsed in the gate: staging again sizes them afresh
        live = {i.intent_hash for i in self._gate.arming.staged()}
        self._staged = {d: s for d, s in self._staged.items() if s.intent_hash in live}
        staged = self._staged.get(digest)
        if staged is None:
            staged = self.intent(bundle)
            self._staged[digest] = staged
        self._gate.stage(staged.orders[0])
        log.info(
            "bundle staged",
            extra={"bundle": str(bundle.kind), "bundle_hash": digest, "intent_hash": staged.intent_hash},
        )
        return staged

    def staged(self) -> list[StagedBundle]:
        """Return the bundles staged here, oldest first."""
        return list(self._staged.values())

    def confirm(self, digest: str, actor: str) -> StagedBundle:
        """
        Confirm a staged bundle by its intent hash (or its bundle hash) as ``actor``.

        Raises
        ------
        RiskBlocked
            Not armed, or no staged intent has this hash (``rule = arm_command``).
        """
        return confirm_staged(self._gate, self._staged, digest, actor, what="bundle")

    # -- the decision -------------------------------------------------------------------------

    def release(self, bundle: AtomicBundle, *, sender: str | None = None) -> BundleRelease:
        """
        Judge sending ``bundle`` now; return the release or raise the refusal (nothing is sent).

        With ``sender`` (the EOA that casts), an allowed release carries a single-use
        :class:`~nautilus_ext.onchain.chain.GateRelease` bound to that exact cast: the only
        thing a guarded :class:`~nautilus_ext.onchain.chain.ChainGateway` sends.

        Raises
        ------
        RiskBlocked, SafeModeActive, OrderRateLimitBreach, MarketDataStale
            The gate refused; ``details["rule"]`` names the rule.
        InvalidOrder
            The bundle cannot be expressed as gate intents.
        """
        digest = bundle_hash(bundle)
        self._refuse_public_chain(bundle, digest)
        staged = self._staged.get(digest) or self.intent(bundle)
        # the exact call the decision covers, built before deciding (a bad cast commits nothing)
        fingerprint = None
        if sender is not None:
            flash = bundle.flash_step
            flash_token = None if flash is None else self._c.config.token(flash.asset).address
            call = self._c.dsa.cast_call(bundle.spells(flash_token), sender)
            fingerprint = self._c.gateway.fingerprint(call)
        # the chain is the feed: a node that answers now is live (a failure raises, typed)
        self._c.gateway.block_timestamp()
        now = self._gate.clock.timestamp_ns()
        contexts = []
        for order in staged.orders:
            venue = order.instrument_key.venue
            self._gate.on_ws_message(venue)
            asset = _position_key(order)
            contexts.append((order, GateContext(venue=venue, market_data_ts_ns=now, asset=asset)))
        decision = self._gate.check_group(contexts)
        if not decision.allowed:
            assert decision.error is not None
            decision.error.details.setdefault("bundle_hash", digest)
            raise decision.error
        self._staged.pop(digest, None)
        token = None if fingerprint is None else _mint_release(digest, fingerprint)
        if token is not None:
            self._outstanding.add(token)
        return BundleRelease(staged=staged, intent_hash=decision.intent_hash, decided_at_ns=now, token=token)

    def finish(self, release: BundleRelease) -> None:
        """Withdraw ``release``'s token if it was not spent (the executor is done with it)."""
        if release.token is not None:
            revoke_release(release.token)
            self._outstanding.discard(release.token)

    def cancel_pending(self) -> tuple[list[str], list[str]]:
        """
        Drop what has not reached the chain yet; return what was dropped and what cannot be.

        On a kill: every staged bundle (awaiting confirmation) is dropped, so a confirmation
        can no longer release it, and every release minted but not yet presented to the
        gateway is revoked, so its cast is refused before signing. A cast already handed to
        the node cannot be recalled: the executor sends one transaction and waits for its
        receipt, so there is no queue of signed transactions to withdraw; its outcome is
        recorded when the receipt (or its absence) arrives.
        """
        dropped = [f"staged bundle {d[:16]}" for d in self._staged]
        # withdraw their intents (and any confirmation) from the arming too: a kill while
        # already in SAFE mode keeps the arm, and a confirmation made under it must not
        # release the bundle after the kill
        for staged in self._staged.values():
            for order in staged.orders:
                self._gate.arming.consume(intent_hash(order))
        self._staged.clear()
        for token in list(self._outstanding):
            if revoke_release(token):
                dropped.append(f"released bundle {token.bundle_hash[:16]} (not yet sent)")
        self._outstanding.clear()
        return dropped, []

    def _on_kill(self, strategy_id: str | None) -> tuple[list[str], list[str]]:
        # a global kill or a kill of this gate's strategy drops what has not reached the chain
        if strategy_id is not None and strategy_id != self._strategy_id:
            return [], []
        return self.cancel_pending()

    # -- outcomes -----------------------------------------------------------------------------

    def on_executed(self, release: BundleRelease, receipt: TxReceipt) -> None:
        """Record a mined bundle: its legs become fills (dirty positions) and it is audited."""
        self._outcome(release, RiskAction.ALLOW, "bundle_executed", None, "executed", receipt=receipt)
        for index, order in enumerate(release.staged.orders):
            self._gate.on_fill(
                Fill(
                    fill_id=f"{receipt.tx_hash}:{index}",
                    venue=order.instrument_key.venue,
                    asset=_position_key(order),
                    quantity=order.signed_amount,
                )
            )
        if self._reconcile_after:
            self.reconcile([_position_key(o) for o in release.staged.orders])

    def on_reverted(self, release: BundleRelease, error: TransactionReverted) -> None:
        """Record a reverted bundle (simulation or chain): audited, no position changed."""
        self._outcome(release, RiskAction.BLOCK, "bundle_reverted", error, "reverted")

    def on_not_sent(self, release: BundleRelease, error: NautilusExtError) -> None:
        """Record a released bundle a pre-send check stopped (slippage, liquidity): not sent."""
        self._outcome(release, RiskAction.BLOCK, "bundle_not_sent", error, "not_sent")

    def on_unknown_outcome(self, release: BundleRelease, error: NautilusExtError) -> None:
        """Record a cast whose outcome is unknown and enter SAFE mode (positions unknown)."""
        self._outcome(release, RiskAction.HALT, "bundle_outcome_unknown", error, "unknown")
        self._gate.halts.enter_safe(
            ErrorCode.SAFE_MODE,
            Rule.DIRTY_POSITION,
            f"bundle {release.staged.bundle_hash[:16]} outcome unknown ({error.code}): positions "
            "must be read back from chain before new risk",
        )

    def on_out_of_range(self, release: BundleRelease, receipt: TxReceipt, problems: Sequence[str]) -> None:
        """Record a mined bundle whose position landed outside its target range."""
        error = RiskBlocked("; ".join(problems), details={"rule": "POST_TRADE_RANGE"})
        self._outcome(
            release, RiskAction.BLOCK, "bundle_out_of_range", error, "out_of_range", receipt=receipt
        )

    def reconcile(self, keys: Sequence[str] | None = None) -> dict[str, bool]:
        """
        Read positions from chain and compare them with the gate's running sums.

        Parameters
        ----------
        keys : list[str], optional
            Position keys to read (default: every lending key the gate holds a position in).

        Returns
        -------
        dict[str, bool]
            Whether each key's chain position matched (a match clears its dirty flag).
        """
        wallet = f"{self._wallet_venue}:{InstrumentType.SPOT_ASSET}:"
        wanted = (
            keys
            if keys is not None
            else [k for k in sorted(self._gate.oms.positions) if _lending(k) or k.startswith(wallet)]
        )
        quantities = self.chain_positions(wanted)
        matched = {key: self._gate.on_snapshot(key, quantities[key]) for key in wanted}
        self.update_pnl()
        return matched

    def equity(self) -> Decimal:
        """
        Return the DSA's lending equity read from chain: collateral minus debt over every
        configured market, in the markets' base currency (AAVE's USD, 8 decimals).
        """
        units = 0
        for venue in self._venues():
            account = self._market(venue).account_data(self._c.config.dsa)
            units += account.total_collateral_base - account.total_debt_base
        return Decimal(units).scaleb(-_BASE_CURRENCY_DECIMALS)

    def update_pnl(self) -> Decimal | None:
        """
        Feed the strategy's PnL (equity now minus at :meth:`adopt_chain_positions`) to the gate.

        The gate's loss policies (strategy kill, portfolio and daily loss, drawdown throttle)
        then fire for an on-chain strategy as for any other. Gas paid by the sender is not in it.
        Returns the PnL, or ``None`` before any adoption (no baseline yet).
        """
        if self._equity_start is None:
            return None
        pnl = self.equity() - self._equity_start
        self._gate.update_pnl(self._strategy_id, pnl)
        return pnl

    def adopt_chain_positions(self, actor: str, symbols: Sequence[str] | None = None) -> dict[str, Decimal]:
        """
        Set the gate's running sums to the chain's lending positions (start-up or recovery).

        An operator command (audited): after it the chain is the internal truth, so later
        snapshots compare against what bundles change.
        """
        adopted: dict[str, Decimal] = {}
        for venue in self._venues():
            reserves = {a.lower() for a in self._market(venue).reserves_list()}
            tokens = [
                t
                for t in self._c.config.tokens
                if t.address.lower() in reserves and (symbols is None or t.symbol in symbols)
            ]
            read = self._positions(venue, [t.symbol for t in tokens])
            for token in tokens:
                supply, debt = read[token.symbol]
                for kind, units in ((InstrumentType.A_TOKEN, supply), (InstrumentType.DEBT_TOKEN, debt)):
                    key = self._key(venue, kind, token.symbol)
                    adopted[key] = Decimal(units).scaleb(-token.decimals)
                    self._gate.oms.resync(key, adopted[key], actor)
        self._equity_start = self.equity()  # the PnL baseline (update_pnl)
        return adopted

    def chain_positions(self, keys: Sequence[str]) -> dict[str, Decimal]:
        """Return the DSA's positions behind lending or wallet ``SPOT_ASSET`` ``keys``, whole tokens."""
        parsed: dict[str, tuple[str, InstrumentType, str]] = {}
        out: dict[str, Decimal] = {}
        for key in keys:
            instrument = InstrumentKey.parse(key)
            if (
                instrument.instrument_type is InstrumentType.SPOT_ASSET
                and instrument.venue == self._wallet_venue
            ):
                held = instrument.payload
                units = self._c.erc20.balance_of(held, self._c.config.dsa)
                out[key] = Decimal(units).scaleb(-self._c.config.token(held).decimals)
                continue
            underlying = instrument.underlying_asset
            if underlying is None or not _lending(key):
                raise InvalidOrder(f"{key} is not a lending position key")
            parsed[key] = (instrument.venue, instrument.instrument_type, underlying)
        read: dict[str, dict[str, tuple[int, int]]] = {}
        for venue in sorted({v for v, _, _ in parsed.values()}):
            read[venue] = self._positions(venue, sorted({s for v, _, s in parsed.values() if v == venue}))
        for key, (venue, kind, symbol) in parsed.items():
            supply, debt = read[venue][symbol]
            units = supply if kind is InstrumentType.A_TOKEN else debt
            out[key] = Decimal(units).scaleb(-self._c.config.token(symbol).decimals)
        return out

    # -- internals ----------------------------------------------------------------------------

    def _refuse_public_chain(self, bundle: AtomicBundle, digest: str) -> None:
        if self._gate.mode is Mode.LIVE:
            return
        try:
            node_chain_id = int(self._c.gateway.w3.eth.chain_id)
        except Exception as e:
            raise translate_exception(e, step="eth_chainId") from e
        # the node's id and the configured one: either naming a public chain refuses (fail closed)
        public = sorted({node_chain_id, self._c.config.chain_id} & PUBLIC_CHAIN_IDS)
        if public:
            chain_id = public[0]
            error = RiskBlocked(
                f"{self._gate.mode} gate refuses to send bundle {digest[:16]} to public chain "
                f"{chain_id}: only LIVE (armed and confirmed) reaches a public chain",
                details={"rule": "LIVE_ONLY_CHAIN", "chain_id": chain_id, "bundle_hash": digest},
            )
            self._gate.record(
                SafetyEvent(
                    ts_ns=self._gate.clock.timestamp_ns(),
                    risk_action=RiskAction.BLOCK,
                    rule="LIVE_ONLY_CHAIN",
                    code=str(error.code),
                    strategy_id=self._strategy_id,
                    message=error.message,
                    details={"bundle_hash": digest, "bundle": str(bundle.kind), "chain_id": chain_id},
                )
            )
            raise error

    def _venues(self) -> list[str]:
        return [self._lending_venue, *(m.name for m in self._c.config.markets)]

    def _venue_key(self, step_venue: str) -> str:
        return self._lending_venue if step_venue == AAVE_VENUE else step_venue

    def _market(self, venue: str) -> AaveV3Client:
        market = self._markets.get(venue)
        if market is None:
            if venue == self._lending_venue:
                market = self._c.aave
            else:
                try:
                    cfg = self._c.config.market(venue)
                except KeyError as e:
                    raise InvalidOrder(str(e.args[0])) from e
                market = AaveV3Client(self._c.gateway, self._c.config, pool=cfg.pool, oracle=cfg.oracle)
            self._markets[venue] = market
        return market

    def _positions(self, venue: str, symbols: Sequence[str]) -> dict[str, tuple[int, int]]:
        # (supply, debt) of the DSA per symbol on ``venue``, projected to the latest block
        market = self._market(venue)
        now = self._c.gateway.block_timestamp()
        read = market.user_positions(self._c.config.dsa, list(symbols), now, priced=())
        return {p.asset: (p.supply_balance, p.debt_balance) for p in read}

    def _key(self, venue: str, kind: InstrumentType, symbol: str) -> str:
        if kind is InstrumentType.SPOT_ASSET:
            return f"{venue}:{kind}:{symbol}@{self._c.config.chain}"
        prefix = "A" if kind is InstrumentType.A_TOKEN else "DEBT"
        return f"{venue}:{kind}:{prefix}{symbol}@{self._c.config.chain}"

    def _deltas(self, bundle: AtomicBundle) -> dict[tuple[str, InstrumentType, str], int]:
        deltas: dict[tuple[str, InstrumentType, str], int] = {}
        resolved: list[int] = []
        for index, step in enumerate(bundle.steps):
            amount = step.amount
            leg = _LEG_STEPS.get(step.kind)
            if amount == MAX_UINT256:
                amount = self._everything(bundle, index, resolved)
            resolved.append(amount)
            if leg is None:
                continue
            kind, sign = leg
            key = (self._venue_key(step.venue), kind, step.asset)
            deltas[key] = deltas.get(key, 0) + sign * amount
        return {k: v for k, v in deltas.items() if v != 0}

    def _swap_deltas(self, bundle: AtomicBundle) -> dict[tuple[str, InstrumentType, str], int]:
        # a bare swap: the DSA's token holdings change by what it sells and the quoted output
        deltas: dict[tuple[str, InstrumentType, str], int] = {}
        for step in bundle.steps:
            if step.kind is not StepKind.SWAP or step.swap is None:
                continue
            for symbol, units in (
                (step.swap.sell_symbol, -step.swap.sell_amount),
                (step.swap.buy_symbol, step.swap.quote_out),
            ):
                leg = (self._wallet_venue, InstrumentType.SPOT_ASSET, symbol)
                deltas[leg] = deltas.get(leg, 0) + units
        deltas = {k: v for k, v in deltas.items() if v != 0}
        for venue, kind, symbol in deltas:
            position = self._key(venue, kind, symbol)
            if position not in self._gate.oms.positions:
                # first sight of this holding: the chain is the truth (audited resync)
                held = self._c.erc20.balance_of(symbol, self._c.config.dsa)
                self._gate.oms.resync(
                    position, Decimal(held).scaleb(-self._c.config.token(symbol).decimals), "bundle-gate"
                )
        return deltas

    def _everything(self, bundle: AtomicBundle, index: int, resolved: Sequence[int]) -> int:
        # size a 2**256-1 amount the way the connector will spend it
        step = bundle.steps[index]
        if step.kind in (StepKind.WITHDRAW, StepKind.REPAY):
            supply, debt = self._positions(self._venue_key(step.venue), [step.asset])[step.asset]
            return supply if step.kind is StepKind.WITHDRAW else debt
        if step.kind in (StepKind.SUPPLY, StepKind.TRANSFER):
            return self._dsa_balance_before(bundle, index, resolved)
        raise InvalidOrder(
            f"step {index + 1}:{step.kind} {step.asset} spends everything: the gate cannot size it",
            details={"rule": "UNSIZED_STEP"},
        )

    def _dsa_balance_before(self, bundle: AtomicBundle, index: int, resolved: Sequence[int]) -> int:
        symbol = bundle.steps[index].asset
        balance = self._c.erc20.balance_of(symbol, self._c.config.dsa)
        pools: dict[str, LstPoolState] = {}
        for step, amount in zip(bundle.steps[:index], resolved, strict=True):
            kind = step.kind
            if kind is StepKind.STAKE:
                pool = pools.get(step.venue) or self._c.lst(step.venue).pool_state()
                pools[step.venue] = stake_and_wrap(pool, amount).pool_after
            if kind is StepKind.SWAP and step.swap is not None:
                if step.swap.sell_symbol == symbol:
                    balance -= step.swap.sell_amount
                if step.swap.buy_symbol == symbol:
                    balance += step.swap.quote_out
                continue
            if step.asset != symbol:
                continue
            if kind in (StepKind.FLASH_BORROW, StepKind.WITHDRAW, StepKind.BORROW, StepKind.DEPOSIT):
                balance += amount
            elif kind in (
                StepKind.FLASH_REPAY,
                StepKind.SUPPLY,
                StepKind.REPAY,
                StepKind.TRANSFER,
                StepKind.UNWRAP_WETH,
                StepKind.UNWRAP_LST,
            ):
                balance -= amount
            elif kind is StepKind.WRAP_WETH:
                balance += amount
            elif kind is StepKind.WRAP_LST:
                pool = pools.get(step.venue) or self._c.lst(step.venue).pool_state()
                balance += pool.shares_for_amount(amount)
        if balance <= 0:
            raise InvalidOrder(
                f"step {index + 1}:{bundle.steps[index].kind} {symbol} would spend a balance of {balance}",
                details={"rule": "UNSIZED_STEP"},
            )
        return balance

    def _leg(
        self,
        bundle: AtomicBundle,
        digest: str,
        index: int,
        venue: str,
        kind: InstrumentType,
        symbol: str,
        delta: int,
        group: Mapping[str, object] | None = None,
    ) -> Order:
        token = self._c.config.token(symbol)
        amount = Decimal(abs(delta)).scaleb(-token.decimals)
        if kind is InstrumentType.SPOT_ASSET:
            return self._spot_leg(bundle, digest, index, symbol, delta, amount, group)
        price = Decimal(self._market(venue).asset_price(symbol)).scaleb(-_BASE_CURRENCY_DECIMALS)
        operation, side = _OPERATION[(kind, delta > 0)]
        metadata: Mapping[str, object] = {
            "bundle_hash": digest,
            "bundle_kind": str(bundle.kind),
            "delta_base_units": str(delta),
            "oracle_price": price,
            "notional": amount * price,
            **(group or {}),
        }
        return Order(
            operation_id=f"bundle-{digest[:16]}-{index}",
            operation=operation,
            instrument_key=self._key(venue, kind, symbol),
            venue=venue,
            side=side,
            amount=amount,
            strategy_id=self._strategy_id,
            strategy_intent=str(bundle.kind),
            atomic_group_id=digest,
            sequence_in_group=index,
            metadata=dict(metadata),
        )

    def _spot_leg(
        self,
        bundle: AtomicBundle,
        digest: str,
        index: int,
        symbol: str,
        delta: int,
        amount: Decimal,
        group: Mapping[str, object] | None,
    ) -> Order:
        # a swap leg: a swap Order on the pair swapped, judged on the DSA's SPOT_ASSET key
        swap = next(s for s in bundle.steps if s.kind is StepKind.SWAP and s.swap is not None)
        assert swap.swap is not None
        sell, buy = swap.swap.sell_symbol, swap.swap.buy_symbol
        metadata: dict[str, object] = {
            "bundle_hash": digest,
            "bundle_kind": str(bundle.kind),
            "delta_base_units": str(delta),
            "position_key": self._key(self._wallet_venue, InstrumentType.SPOT_ASSET, symbol),
            **(group or {}),
        }
        try:
            price = Decimal(self._c.aave.asset_price(symbol)).scaleb(-_BASE_CURRENCY_DECIMALS)
        except NautilusExtError:
            price = None  # not an AAVE-listed token: judged without a notional
        if price is not None:
            metadata |= {"oracle_price": price, "notional": amount * price}
        return Order(
            operation_id=f"bundle-{digest[:16]}-{index}",
            operation="swap",
            instrument_key=f"{swap.venue}:SPOT_PAIR:{sell}-{buy}@{self._c.config.chain}",
            side="BUY" if delta > 0 else "SELL",
            amount=amount,
            source_token=sell,
            target_token=buy,
            strategy_id=self._strategy_id,
            strategy_intent=str(bundle.kind),
            atomic_group_id=digest,
            sequence_in_group=index,
            metadata=metadata,
        )

    def _outcome(
        self,
        release: BundleRelease,
        action: RiskAction,
        rule: str,
        error: NautilusExtError | None,
        outcome: str,
        *,
        receipt: TxReceipt | None = None,
    ) -> None:
        staged = release.staged
        details: dict[str, str | int | bool | Decimal | None] = {
            "bundle_hash": staged.bundle_hash,
            "bundle": str(staged.bundle.kind),
            "outcome": outcome,
            "legs": len(staged.orders),
        }
        if receipt is not None:
            details |= {
                "tx_hash": receipt.tx_hash,
                "gas_used": receipt.gas_used,
                "gas_limit": receipt.gas_limit,
                "block_number": receipt.block_number,
                "fee_wei": receipt.fee_wei,
            }
        if error is not None:
            for name in ("tx_hash", "step", "reason"):
                value = error.details.get(name)
                if isinstance(value, str | int):
                    details[name] = value
        message = f"{staged.bundle.kind} bundle {staged.bundle_hash[:16]} {outcome}"
        if error is not None:
            message += f": {error.message}"
        self._gate.record(
            SafetyEvent(
                ts_ns=self._gate.clock.timestamp_ns(),
                risk_action=action,
                rule=rule,
                code=None if error is None else str(error.code),
                strategy_id=self._strategy_id,
                asset=str(staged.orders[0].instrument_key),
                venue=staged.orders[0].instrument_key.venue,
                intent_hash=release.intent_hash,
                message=message,
                details=details,
            )
        )


def _position_key(order: Order) -> str:
    # a leg's position: its key, or the SPOT_ASSET holding a swap leg names
    named = (order.metadata or {}).get("position_key")
    return named if isinstance(named, str) else str(order.instrument_key)


def _lending(key: str) -> bool:
    try:
        parsed = InstrumentKey.parse(key)
    except NautilusExtError:
        return False
    return parsed.instrument_type in (InstrumentType.A_TOKEN, InstrumentType.DEBT_TOKEN)


__all__ = [
    "DEFAULT_LENDING_VENUE",
    "DEFAULT_WALLET_VENUE",
    "PUBLIC_CHAIN_IDS",
    "BundleGate",
    "BundleRelease",
    "StagedBundle",
    "bundle_hash",
]
