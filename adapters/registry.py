"""
The venue registry: each venue family registers how to build its clients from a venue config.

A venue family is a folder ``adapters/<family>/`` with a ``registration.py`` that declares
``FAMILY: Final = VenueFamily(...)``: which ``adapter`` kind of a venue entry it serves
(``ccxt``, or ``native`` for NautilusTrader's own adapters), which Nautilus venue names, and a
``build_clients(venue_config)`` returning the data and execution client configs and factories
(:class:`VenueClients`). :func:`families` finds every such module in this package, so a new
venue is a new folder here plus a config file; node assembly (``nautilus_ext.live.node``) asks
:func:`build_clients` and names no venue. Code outside the package can add a family with
:func:`register`.

The venue config is anything shaped like :class:`VenueSettings` (the live YAML's
``VenueConfig``): adapters never import the layers above them.

Registration modules import their NautilusTrader adapter lazily (inside ``build_clients``):
each native adapter pulls in its Rust bindings.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import Protocol

from nautilus_ext.errors import InvalidConfig

if TYPE_CHECKING:
    from nautilus_trader.config import InstrumentProviderConfig


class VenueSettings(Protocol):
    """The fields of one venue entry a family may read (``nautilus_ext.live.config.VenueConfig``)."""

    @property
    def venue(self) -> str: ...  # the Nautilus venue name (BYBIT, HYPERLIQUID ...)
    @property
    def adapter(self) -> str: ...  # "ccxt" or "native"
    @property
    def exchange_id(self) -> str | None: ...  # the ccxt exchange id
    @property
    def market_types(self) -> list[str] | None: ...
    @property
    def testnet(self) -> bool: ...
    @property
    def rest_url_override(self) -> str | None: ...
    @property
    def ws_url_override(self) -> str | None: ...
    @property
    def enable_rate_limit(self) -> bool: ...
    @property
    def timeout_ms(self) -> int: ...
    @property
    def fill_poll_interval_ms(self) -> int: ...
    @property
    def position_poll_interval_ms(self) -> int: ...
    @property
    def margin_poll_interval_ms(self) -> int: ...
    @property
    def funding_poll_interval_ms(self) -> int: ...
    @property
    def key_scope(
        self,
    ) -> Literal["trade", "read"]: ...  # "trade" or "read": which credentials the clients load
    @property
    def instrument_ids(self) -> list[str] | None: ...
    @property
    def betfair(self) -> Any: ...  # the native Betfair section (BETFAIR only)
    @property
    def interactive_brokers(self) -> Any: ...  # the native IB section (INTERACTIVE_BROKERS only)


@dataclass(frozen=True)
class VenueClients:
    """
    What a node needs to run one venue: client configs and the factories that build them.

    Parameters
    ----------
    data_config, exec_config : LiveDataClientConfig, LiveExecClientConfig
        The NautilusTrader client configs.
    data_factory, exec_factory : type
        The ``LiveDataClientFactory`` / ``LiveExecClientFactory`` classes.
    simulated_venue : str, optional
        The Nautilus venue DRY_RUN's simulated execution client serves, when the instruments
        live on another venue than the entry's (Interactive Brokers: ``XCME``); default: the
        entry's venue.
    """

    data_config: Any
    exec_config: Any
    data_factory: Any
    exec_factory: Any
    simulated_venue: str | None = None


@dataclass(frozen=True)
class VenueFamily:
    """
    One venue family's registration.

    Parameters
    ----------
    name : str
        The family (its folder name: ``ccxt``, ``bybit`` ...).
    adapter : str
        The ``adapter`` value of the venue entries it serves (``ccxt`` or ``native``).
    venues : frozenset[str], optional
        The Nautilus venue names it serves; ``None`` serves any (ccxt: by ``exchange_id``).
    build_clients : callable
        ``build_clients(venue_config) -> VenueClients``; raises :class:`InvalidConfig`.
    url_overrides : bool
        Whether its clients can be pointed at another server (``rest_url_override`` and
        ``ws_url_override``).
    """

    name: str
    adapter: str
    venues: frozenset[str] | None
    build_clients: Callable[[VenueSettings], VenueClients]
    url_overrides: bool = False

    def serves(self, adapter: str, venue: str) -> bool:
        """Return whether this family serves a venue entry with ``adapter`` and ``venue``."""
        return self.adapter == adapter and (self.venues is None or venue in self.venues)


class UnknownVenue(InvalidConfig):
    """
    No registered venue family serves a venue entry (code ``INVALID_CONFIG``).

    ``registered`` lists every registered ``adapter: venue`` pair (``ccxt: *`` for any venue).
    """

    def __init__(self, message: str, *, registered: list[str], venue: str | None = None) -> None:
        super().__init__(message, venue=venue, details={"registered": registered})
        self.registered = registered


_lock = threading.Lock()
_families: dict[str, VenueFamily] = {}
_discovered = False


def register(family: VenueFamily) -> VenueFamily:
    """
    Add ``family`` to the registry and return it.

    Raises
    ------
    InvalidConfig
        If another family of that name is registered, or one already serves one of its venues.
    """
    with _lock:
        existing = _families.get(family.name)
        if existing is not None:
            if existing == family:
                return family
            raise InvalidConfig(f"venue family {family.name!r} is already registered")
        for other in _families.values():
            overlap = other.adapter == family.adapter and (
                other.venues is None or family.venues is None or other.venues & family.venues
            )
            if overlap:
                raise InvalidConfig(
                    f"venue family {family.name!r} serves {family.adapter} venues that "
                    f"{other.name!r} already serves"
                )
        _families[family.name] = family
    return family


def unregister(name: str) -> None:
    """Remove the family ``name`` added with :func:`register` (no-op if absent)."""
    with _lock:
        _families.pop(name, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    package = importlib.import_module(__package__ or "nautilus_ext.adapters")
    for module in pkgutil.iter_modules(package.__path__):
        # only folders with a registration.py: importing another package (symbology, shared
        # code) just to look would load what it imports
        folder = getattr(module.module_finder, "path", None)
        if not module.ispkg or folder is None:
            continue
        if not (Path(folder) / module.name / "registration.py").is_file():
            continue
        registration = importlib.import_module(f"{package.__name__}.{module.name}.registration")
        family = getattr(registration, "FAMILY", None)
        if not isinstance(family, VenueFamily):
            raise InvalidConfig(f"{registration.__name__} must define FAMILY = VenueFamily(...)")
        register(family)
    _discovered = True


def families() -> dict[str, VenueFamily]:
    """Return every registered venue family by name (the package's own found on first use)."""
    _discover()
    with _lock:
        return dict(_families)


def registered_venues() -> list[str]:
    """Return the registered ``adapter: venue`` pairs, sorted (``ccxt: *``: any venue)."""
    pairs = []
    for family in families().values():
        for venue in sorted(family.venues) if family.venues is not None else ["*"]:
            pairs.append(f"{family.adapter}: {venue}")
    return sorted(pairs)


def family_for(adapter: str, venue: str) -> VenueFamily:
    """
    Return the family serving a venue entry.

    Raises
    ------
    UnknownVenue
        If none does; the error lists the registered ones.
    """
    for family in families().values():
        if family.serves(adapter, venue):
            return family
    registered = registered_venues()
    raise UnknownVenue(
        f"venue {venue}: no registered venue family serves adapter {adapter!r} for it "
        f"(registered: {', '.join(registered)})",
        registered=registered,
        venue=venue,
    )


def build_clients(venue_config: VenueSettings) -> VenueClients:
    """
    Return the client configs and factories of one venue entry, from the family serving it.

    Raises
    ------
    UnknownVenue
        If no registered family serves the entry.
    InvalidConfig
        If the family refuses the entry.
    """
    return family_for(venue_config.adapter, venue_config.venue).build_clients(venue_config)


def instrument_provider_config(venue_config: VenueSettings) -> InstrumentProviderConfig:
    """Return the instrument provider config of an entry: its ``instrument_ids``, else every market."""
    from nautilus_trader.config import InstrumentProviderConfig  # heavy: only when clients are built

    if venue_config.instrument_ids:
        return InstrumentProviderConfig(load_ids=frozenset(venue_config.instrument_ids))
    return InstrumentProviderConfig(load_all=True)


__all__ = [
    "UnknownVenue",
    "VenueClients",
    "VenueFamily",
    "VenueSettings",
    "build_clients",
    "families",
    "family_for",
    "instrument_provider_config",
    "register",
    "registered_venues",
    "unregister",
]
