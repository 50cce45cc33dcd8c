"""
The instrument registry: venues and instrument attributes loaded from YAML.

Layout (``configs/`` in this repository, or any directory with the same shape)::

    venues/*.yaml        venues: [ {code, family, nautilus_venue, symbology, adapter, ...}, ... ]
    instruments/*.yaml   instruments: [ {instrument_key, exchange_raw_symbol, tick_size, ...}, ... ]
    (``*.yml`` files are read too)

Loading validates every entry and fails on the first bad file with
:class:`~nautilus_ext.errors.InvalidConfig` naming the file, the entry and the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import Final

import yaml
from pydantic import ValidationError

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import InvalidInstrumentKey
from nautilus_ext.errors import describe_problems
from nautilus_ext.instruments.attributes import OFF_CHAIN
from nautilus_ext.instruments.attributes import InstrumentAttributes
from nautilus_ext.instruments.attributes import VenueFamily
from nautilus_ext.instruments.attributes import VenueSpec
from nautilus_ext.instruments.enums import InstrumentType
from nautilus_ext.instruments.key import InstrumentKey

CONFIG_DIR_ENV: Final = "NAUTILUS_EXT_CONFIG_DIR"
DEFAULT_CONFIG_DIR: Final = Path(__file__).resolve().parents[2] / "configs"


def default_config_dir() -> Path:
    """Return the configuration directory (``$NAUTILUS_EXT_CONFIG_DIR`` or the repo's)."""
    return Path(os.environ.get(CONFIG_DIR_ENV, DEFAULT_CONFIG_DIR))


class InstrumentRegistry:
    """
    Venues and instruments by canonical key, with the indexes routing and mapping need.

    Parameters
    ----------
    venues : Iterable[VenueSpec]
        Venue specifications; codes must be unique.
    instruments : Iterable[InstrumentAttributes]
        Instrument attributes; keys must be unique and their venues known.

    Raises
    ------
    InvalidConfig
        On duplicate venues or instruments, or an instrument on an unknown venue.
    """

    def __init__(
        self,
        venues: Iterable[VenueSpec] = (),
        instruments: Iterable[InstrumentAttributes] = (),
    ) -> None:
        self._venues: dict[str, VenueSpec] = {}
        self._instruments: dict[InstrumentKey, InstrumentAttributes] = {}
        self._by_nautilus_id: dict[str, InstrumentKey] = {}
        for venue in venues:
            self.add_venue(venue)
        for attrs in instruments:
            self.add(attrs)

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def from_directory(cls, path: str | Path) -> InstrumentRegistry:
        """
        Load ``venues/*.yaml`` and ``instruments/*.yaml`` under ``path``.

        Raises
        ------
        InvalidConfig
            If a file is malformed or an entry is invalid (the message names the file).
        """
        root = Path(path)
        if not root.is_dir():
            raise InvalidConfig(f"instrument config directory {root} does not exist")
        registry = cls()
        for file in _yaml_files(root / "venues"):
            for i, entry in enumerate(_entries(file, "venues")):
                spec = _validate(VenueSpec, entry, file, i)
                try:
                    registry.add_venue(spec)
                except InvalidConfig as e:
                    raise InvalidConfig(f"{file} entry {i}: code: {e.message}") from None
        for file in _yaml_files(root / "instruments"):
            for i, entry in enumerate(_entries(file, "instruments")):
                attrs = _validate(InstrumentAttributes, entry, file, i)
                try:
                    registry.add(attrs)
                except InvalidConfig as e:
                    raise InvalidConfig(f"{file} entry {i}: {e.message}") from None
        return registry

    @classmethod
    def default(cls) -> InstrumentRegistry:
        """Load the registry shipped in ``configs/`` (or ``$NAUTILUS_EXT_CONFIG_DIR``)."""
        return cls.from_directory(default_config_dir())

    # -- mutation -----------------------------------------------------------------------------

    def add_venue(self, venue: VenueSpec) -> None:
        """Register a venue (raises :class:`InvalidConfig` on a duplicate code)."""
        if venue.code in self._venues:
            raise InvalidConfig(f"venue {venue.code} is defined twice")
        self._venues[venue.code] = venue

    def add(self, attrs: InstrumentAttributes) -> None:
        """Register an instrument (raises :class:`InvalidConfig` if duplicate or venue unknown)."""
        key = attrs.instrument_key
        if key in self._instruments:
            raise InvalidConfig(f"instrument {key} is defined twice")
        if key.venue not in self._venues:
            raise InvalidConfig(f"instrument {key}: venue {key.venue} is not defined")
        spec = self._venues[key.venue]
        if key.instrument_type not in spec.instrument_types:
            # the Nautilus mapping picks venues by their listed types: an unlisted one never maps back
            raise InvalidConfig(
                f"instrument {key}: instrument_type: venue {spec.code} does not list {key.instrument_type} "
                f"(instrument_types: {', '.join(sorted(spec.instrument_types))})",
            )
        if spec.chain != OFF_CHAIN and key.chain is not None and key.chain != spec.chain:
            raise InvalidConfig(
                f"instrument {key}: chain: {key.chain} is not the chain of venue {spec.code} ({spec.chain})",
            )
        if attrs.nautilus_instrument_id is not None:
            other = self._by_nautilus_id.get(attrs.nautilus_instrument_id)
            if other is not None:
                raise InvalidConfig(
                    f"instrument {key}: nautilus id {attrs.nautilus_instrument_id} already "
                    f"belongs to {other}",
                )
            self._by_nautilus_id[attrs.nautilus_instrument_id] = key
        self._instruments[key] = attrs

    # -- queries ------------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            try:
                key = InstrumentKey.parse(key)
            except InvalidInstrumentKey:
                return False
        return key in self._instruments

    def __iter__(self) -> Iterator[InstrumentAttributes]:
        return iter(self._instruments.values())

    def __len__(self) -> int:
        return len(self._instruments)

    @property
    def venues(self) -> dict[str, VenueSpec]:
        """Return the venues by code (a copy)."""
        return dict(self._venues)

    def venue(self, code: str) -> VenueSpec:
        """
        Return a venue by code.

        Raises
        ------
        InvalidInstrumentKey
            If the venue is unknown.
        """
        try:
            return self._venues[code]
        except KeyError:
            raise InvalidInstrumentKey(
                f"venue {code!r} is not in the registry (known: {', '.join(sorted(self._venues))})",
                venue=code,
            ) from None

    def find(self, key: InstrumentKey | str) -> InstrumentAttributes | None:
        """Return the attributes of ``key``, or None when it is not registered."""
        parsed = key if isinstance(key, InstrumentKey) else InstrumentKey.parse(key)
        return self._instruments.get(parsed)

    def get(self, key: InstrumentKey | str) -> InstrumentAttributes:
        """
        Return the attributes of ``key``.

        Raises
        ------
        InvalidInstrumentKey
            If the key is malformed or not registered.
        """
        attrs = self.find(key)
        if attrs is None:
            raise InvalidInstrumentKey(f"instrument {key!s} is not in the registry", instrument_key=str(key))
        return attrs

    def key_for_nautilus_id(self, instrument_id: str) -> InstrumentKey | None:
        """Return the key registered with an explicit Nautilus instrument id, if any."""
        return self._by_nautilus_id.get(instrument_id)

    def key_for_betfair_market(self, market_id: str) -> InstrumentKey | None:
        """Return the betting-market key registered with a Betfair market id, if any."""
        for attrs in self._instruments.values():
            if attrs.betfair_market_id == market_id:
                return attrs.instrument_key
        return None

    def pair_routes(self, base: str, quote: str) -> list[InstrumentKey]:
        """
        Return every registered route for ``base``/``quote``: SPOT_PAIRs and DEX POOLs.

        The order is stable: CEX pairs first, then DEX pools, each sorted by key text.
        """
        found = [
            attrs.instrument_key
            for attrs in self._instruments.values()
            if attrs.instrument_key.instrument_type in (InstrumentType.SPOT_PAIR, InstrumentType.POOL)
            and attrs.instrument_key.base_asset == base
            and attrs.instrument_key.quote_asset == quote
        ]
        return sorted(found, key=lambda k: (self.family(k) is not VenueFamily.CEX, str(k)))

    def family(self, key: InstrumentKey) -> VenueFamily:
        """Return the venue family of ``key``'s venue (raises if the venue is unknown)."""
        return self.venue(key.venue).family

    def by_type(self, instrument_type: InstrumentType) -> list[InstrumentAttributes]:
        """Return every registered instrument of one type, sorted by key text."""
        return sorted(
            (a for a in self._instruments.values() if a.instrument_key.instrument_type is instrument_type),
            key=lambda a: str(a.instrument_key),
        )


def _yaml_files(folder: Path) -> list[Path]:
    # both spellings: a cefi.yml silently skipped would drop a whole venue family
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader refusing repeated mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # unhashable: the base loader reports it
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is repeated", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _entries(file: Path, section: str) -> list[Any]:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, yaml.YAMLError) as e:
        raise InvalidConfig(f"{file}: cannot read YAML: {e}") from None
    if not isinstance(data, dict) or set(data) != {section}:
        raise InvalidConfig(f"{file}: expected a single top-level '{section}:' list")
    entries = data[section]
    if not isinstance(entries, list):
        raise InvalidConfig(f"{file}: '{section}' must be a list")
    return entries


def _validate[M: (VenueSpec, InstrumentAttributes)](model: type[M], entry: Any, file: Path, i: int) -> M:
    try:
        return model.model_validate(entry)
    except ValidationError as e:
        raise InvalidConfig(f"{file} entry {i}: {describe_problems(e)}") from None
