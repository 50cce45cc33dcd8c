"""
Recording a DRY_RUN session for REPLAY (issue #7).

:class:`MarketDataRecorder` is a Nautilus ``Actor`` that the live node adds when its YAML has a
``record`` section. It subscribes to the same message-bus topics as the simulated venue
(``data.*.<VENUE>.*``, what NautilusTrader's sandbox execution client listens to), so it sees
every market data object the simulated venue and the strategies receive, in the order they
were published, and writes them to a Python ``ParquetDataCatalog`` under ``<root>/catalog``.

Beside it, ``<root>/manifest.json`` pins everything else a replay needs: the trader id, each
strategy's import path, effective config, code version hash and audit log, the execution
algorithms, the simulated venue's account and fill model (seed included), the instruments,
the recorded time span, per-type counts and the SHA-256 of every catalog file.

Only data that arrives while every strategy is running is recorded: a live node delivers
nothing to a stopped strategy, while a replay's strategies run for all of its data.

A session with a safety layer (every LIVE session) also records what its gate acted on besides
the data (:mod:`nautilus_ext.replay.session_events`): operator commands as issued
(:meth:`MarketDataRecorder.record_command`, a control-endpoint listener) and the venue's own
events (position snapshots, feed status, fill gaps). The manifest then pins the safety limits,
and for a LIVE session the venue accounts at the start (the replay's simulated venue starts
from them) and the SHA-256 of both event files.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.replay.session_events import COMMANDS_FILE
from nautilus_ext.replay.session_events import VENUE_EVENTS_FILE
from nautilus_ext.replay.session_events import VENUE_TOPICS
from nautilus_ext.replay.session_events import JsonLinesLog
from nautilus_ext.replay.session_events import encode_venue_event

MANIFEST_FILE: Final = "manifest.json"
CATALOG_DIR: Final = "catalog"
MANIFEST_FORMAT: Final = 1

# funding rates and mark prices too: the funding carry decides on them
_RECORDED: Final = (
    QuoteTick,
    TradeTick,
    OrderBookDeltas,
    OrderBookDepth10,
    Bar,
    FundingRateUpdate,
    MarkPriceUpdate,
)


class MarketDataRecorderConfig(ActorConfig, frozen=True):
    """
    Parameters
    ----------
    root : str
        Local directory of the recording.
    venues : tuple[str, ...]
        Venues whose data topics are recorded.
    manifest_json : str
        The static part of the manifest (built by :func:`session_manifest`).
    flush_every : int
        Write to the catalog every this many buffered items.
    """

    root: str
    venues: tuple[str, ...]
    manifest_json: str
    flush_every: int = 100_000


class MarketDataRecorder(Actor):  # type: ignore[misc]
    """Record the venue data topics of a DRY_RUN node to a catalog plus a manifest."""

    def __init__(self, config: MarketDataRecorderConfig) -> None:
        super().__init__(config)
        self._root = Path(config.root)
        self._manifest: dict[str, Any] = json.loads(config.manifest_json)
        self._buffer: list[Any] = []
        self._counts: Counter[str] = Counter()
        self._unrecorded: Counter[str] = Counter()
        self._last: tuple[int, str] | None = None
        self._ties = 0
        self._first_ns: int | None = None
        self._watched: list[Any] = []
        self._catalog: ParquetDataCatalog | None = None
        self._commands: JsonLinesLog | None = None
        self._venue_events: JsonLinesLog | None = None

    def watch(self, components: list[Any]) -> None:
        """Record only while every one of ``components`` (the node's strategies) is running."""
        self._watched = list(components)

    def on_start(self) -> None:
        check_record_root(self._root)
        (self._root / CATALOG_DIR).mkdir(parents=True, exist_ok=True)
        self._catalog = ParquetDataCatalog(str(self._root / CATALOG_DIR))
        instruments = [i for v in self.config.venues for i in self.cache.instruments(venue=_venue(v))]
        if instruments:
            self._catalog.write_data(instruments)
        self._manifest["instruments"] = sorted(str(i.id) for i in instruments)
        self._manifest["accounts"] = self._accounts()
        self._write_manifest(complete=False)
        if self._manifest.get("safety") is not None:
            self._venue_events = JsonLinesLog(self._root / VENUE_EVENTS_FILE)
            for topic in VENUE_TOPICS:
                self.msgbus.subscribe(topic=topic, handler=self._on_venue_event)
        for venue in self.config.venues:
            self.msgbus.subscribe(topic=f"data.*.{venue}.*", handler=self._on_data)

    def on_stop(self) -> None:
        for venue in self.config.venues:
            self.msgbus.unsubscribe(topic=f"data.*.{venue}.*", handler=self._on_data)
        if self._venue_events is not None:
            for topic in VENUE_TOPICS:
                self.msgbus.unsubscribe(topic=topic, handler=self._on_venue_event)
        for log in (self._venue_events, self._commands):
            if log is not None:
                log.close()
        self._flush()
        self._write_manifest(complete=True)

    def record_command(self, body: dict[str, Any], reply: dict[str, Any]) -> None:
        """
        Record one operator command as issued and the gate's reply (a control-endpoint listener).

        Called on the thread that runs the command, when it takes effect (node clock).
        """
        if self._commands is None:  # the root was checked empty when the recorder started
            self._root.mkdir(parents=True, exist_ok=True)
            self._commands = JsonLinesLog(self._root / COMMANDS_FILE)
        self._commands.append({"ts_ns": self.clock.timestamp_ns(), "body": body, "reply": reply})

    def _on_venue_event(self, event: Any) -> None:
        if not all(c.is_running for c in self._watched) or self._venue_events is None:
            return
        encoded = encode_venue_event(event)
        if encoded is None:
            self._unrecorded[f"venue:{type(event).__name__}"] += 1
            return
        self._venue_events.append({"ts_ns": self.clock.timestamp_ns(), "event": encoded})

    def _accounts(self) -> dict[str, Any]:
        # the venue accounts when recording starts: a LIVE session's replay venue starts there
        accounts: dict[str, Any] = {}
        for venue in self.config.venues:
            account = self.cache.account_for_venue(_venue(venue))
            if account is None:
                continue
            accounts[venue] = {
                "account_type": account.type.name,
                "base_currency": None if account.base_currency is None else account.base_currency.code,
                "starting_balances": sorted(str(b.total) for b in account.balances().values()),
                "default_leverage": str(getattr(account, "default_leverage", 1)),
            }
        return accounts

    def _on_data(self, data: Any) -> None:
        if not all(c.is_running for c in self._watched):
            return
        if not isinstance(data, _RECORDED):
            self._unrecorded[type(data).__name__] += 1
            return
        kind = type(data).__name__
        ts = data.ts_init
        # the catalog keeps one file set per type and instrument: the order of two of them at
        # the same ts_init is lost, so a replay cannot promise the live order (it refuses)
        stream = f"{kind}:{getattr(data, 'instrument_id', None) or getattr(data, 'bar_type', '')}"
        if self._last is not None and ts == self._last[0] and stream != self._last[1]:
            self._ties += 1
        if self._last is not None and ts < self._last[0]:
            self._unrecorded["out_of_order"] += 1
            return
        if self._first_ns is None:
            self._first_ns = ts
        if (
            len(self._buffer) >= self.config.flush_every
            and self._last is not None
            and ts > self._last[0]  # never split equal timestamps across two files
        ):
            self._flush()
        self._last = (ts, stream)
        self._counts[kind] += 1
        if isinstance(data, OrderBookDeltas):
            self._buffer.extend(data.deltas)
        else:
            self._buffer.append(data)

    def _flush(self) -> None:
        if not self._buffer or self._catalog is None:
            return
        self._catalog.write_data(self._buffer)
        self._buffer = []

    def _write_manifest(self, *, complete: bool) -> None:
        catalog = self._root / CATALOG_DIR
        manifest = {
            **self._manifest,
            "complete": complete,
            "start_ns": self._first_ns,
            "end_ns": None if self._last is None else self._last[0],
            "counts": dict(sorted(self._counts.items())),
            "unrecorded": dict(sorted(self._unrecorded.items())),
            "cross_type_ties": self._ties,
            "files": catalog_digests(catalog) if complete else {},
            "session_files": session_digests(self._root) if complete else {},
        }
        path = self._root / MANIFEST_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)


def check_record_root(root: Path) -> None:
    """
    Refuse a root that already holds a recording (two sessions must never mix).

    Raises
    ------
    InvalidConfig
        If ``root`` already has a manifest, a catalog or session event files.
    """
    for name in (MANIFEST_FILE, CATALOG_DIR, COMMANDS_FILE, VENUE_EVENTS_FILE):
        if (root / name).exists():
            raise InvalidConfig(f"record.root {root} already holds a recording ({name}): use a new directory")


def _venue(name: str) -> Any:
    from nautilus_trader.model.identifiers import Venue

    return Venue(name)


def session_digests(root: Path) -> dict[str, str]:
    """Return the SHA-256 of the session event files under ``root`` that exist."""
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in (COMMANDS_FILE, VENUE_EVENTS_FILE)
        if (root / name).is_file()
    }


def catalog_digests(catalog: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under ``catalog``, keyed by its relative path."""
    digests = {}
    for file in sorted(p for p in catalog.rglob("*") if p.is_file()):
        digests[file.relative_to(catalog).as_posix()] = hashlib.sha256(file.read_bytes()).hexdigest()
    return digests


__all__ = [
    "CATALOG_DIR",
    "MANIFEST_FILE",
    "MANIFEST_FORMAT",
    "MarketDataRecorder",
    "MarketDataRecorderConfig",
    "catalog_digests",
    "check_record_root",
    "session_digests",
]
