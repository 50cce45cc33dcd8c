"""
Where a catalog lives: a local directory or ``gs://bucket/prefix``, opened through fsspec.

The same :class:`CatalogTarget` gives the fsspec filesystem used by our day-chunked writer and
the arguments NautilusTrader's Python ``ParquetDataCatalog`` (the one ``BacktestNode`` reads)
needs to read the same folder back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import VenueUnavailable

if TYPE_CHECKING:
    import fsspec
    from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

GCS_SCHEME: Final = "gs://"
EMULATOR_ENV: Final = "STORAGE_EMULATOR_HOST"


@dataclass(frozen=True)
class CatalogTarget:
    """
    A parsed catalog location.

    Parameters
    ----------
    uri : str
        The location as given (a local path or ``gs://bucket/prefix``).
    protocol : str
        The fsspec protocol: ``"file"`` or ``"gcs"``.
    path : str
        The root inside the filesystem (absolute POSIX path, or ``bucket/prefix``).
    storage_options : dict[str, Any]
        Extra fsspec options (e.g. ``{"token": "anon"}`` for an emulator).
    """

    uri: str
    protocol: str
    path: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        """Return whether the catalog lives on object storage (GCS)."""
        return self.protocol != "file"

    def filesystem(self) -> fsspec.AbstractFileSystem:
        """Return the fsspec filesystem for this target (one instance per call)."""
        import fsspec

        try:
            return fsspec.filesystem(self.protocol, **self.storage_options)
        except Exception as e:  # gcsfs raises a zoo of auth/transport errors
            raise VenueUnavailable(
                f"cannot open {self.protocol} filesystem for {self.uri}: {e}", venue="GCS"
            ) from e

    def catalog(self) -> ParquetDataCatalog:
        """Return NautilusTrader's Python ``ParquetDataCatalog`` over this target."""
        from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

        return ParquetDataCatalog(
            path=self.path,
            fs_protocol=self.protocol,
            fs_storage_options=dict(self.storage_options),
        )

    def join(self, *parts: str) -> str:
        """Return ``path/part1/part2...`` inside the filesystem."""
        return "/".join([self.path.rstrip("/"), *(p.strip("/") for p in parts)])


def parse_target(uri: str | Path, storage_options: dict[str, Any] | None = None) -> CatalogTarget:
    """
    Parse a local path or ``gs://bucket/prefix`` into a :class:`CatalogTarget`.

    With ``STORAGE_EMULATOR_HOST`` set (the GCS emulator) and no options given, anonymous
    access is used, since an emulator needs no credentials.

    Raises
    ------
    InvalidConfig
        If the URI is empty or uses an unsupported scheme.
    """
    text = str(uri).strip()
    if not text:
        raise InvalidConfig("catalog target is empty: give a local path or gs://bucket/prefix")
    options = dict(storage_options or {})
    if text.startswith(GCS_SCHEME):
        path = text[len(GCS_SCHEME) :].strip("/")
        if not path or path.startswith("/"):
            raise InvalidConfig(f"catalog target {text!r} lacks a bucket name")
        if os.environ.get(EMULATOR_ENV) and not options:
            options = {"token": "anon"}
        return CatalogTarget(uri=text, protocol="gcs", path=path, storage_options=options)
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise InvalidConfig(f"catalog target {text!r}: unsupported scheme {scheme!r} (use a path or gs://)")
    return CatalogTarget(uri=str(uri), protocol="file", path=Path(text).resolve().as_posix())


def mirror_to_local(target: CatalogTarget | str, local_dir: str | Path) -> Path:
    """
    Copy a (remote) catalog into ``local_dir`` and return that directory.

    ``BacktestNode`` reads built-in data types through NautilusTrader's Rust object store,
    which needs a real GCS endpoint (it lists objects with the XML API that the local GCS
    emulator does not implement). Mirroring the catalog, or the days a run needs, to local disk
    first works with any fsspec backend.

    Raises
    ------
    VenueUnavailable
        If the copy fails.
    """
    tgt = target if isinstance(target, CatalogTarget) else parse_target(target)
    dest = Path(local_dir).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    fs = tgt.filesystem()
    try:
        for path in fs.find(tgt.path):
            rel = str(path)[len(tgt.path.rstrip("/")) + 1 :]
            if rel.endswith(".tmp") or "/." in f"/{rel}":
                continue
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            fs.get(str(path), str(out))
    except OSError as e:
        raise VenueUnavailable(f"cannot mirror {tgt.uri} to {dest}: {e}", venue="GCS") from e
    return dest


__all__ = ["CatalogTarget", "mirror_to_local", "parse_target"]
