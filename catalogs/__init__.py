"""
Loaders building NautilusTrader Python ``ParquetDataCatalog``s from Tardis, Databento and
Betfair files: day-chunked, idempotent, with canonical instrument keys.

Entry points (importing them does not import NautilusTrader)::

    build_catalog(source, inputs, target)      # "tardis" | "databento" | "betfair"
    catalog_info(target)                       # rows, days, instruments and keys
    write_synthetic_tardis(out_dir)            # seeded synthetic L2 + trades CSVs
    build_demo_catalog(target, work_dir)       # both demo venues, generated and built
    mirror_to_local(target, local_dir)         # copy a gs:// catalog for BacktestNode

``nautilus_ext.catalogs.cli.app`` is the typer app for ``nautilus-ext catalog build|info``.
"""

from nautilus_ext.catalogs.build import BuildSummary
from nautilus_ext.catalogs.build import build_catalog
from nautilus_ext.catalogs.info import CatalogInfo
from nautilus_ext.catalogs.info import catalog_info
from nautilus_ext.catalogs.synthetic import DEMO_VENUES
from nautilus_ext.catalogs.synthetic import SyntheticVenue
from nautilus_ext.catalogs.synthetic import build_demo_catalog
from nautilus_ext.catalogs.synthetic import write_synthetic_tardis
from nautilus_ext.catalogs.synthetic import write_synthetic_trades
from nautilus_ext.catalogs.target import CatalogTarget
from nautilus_ext.catalogs.target import mirror_to_local
from nautilus_ext.catalogs.target import parse_target

__all__ = [
    "DEMO_VENUES",
    "BuildSummary",
    "CatalogInfo",
    "CatalogTarget",
    "SyntheticVenue",
    "build_catalog",
    "build_demo_catalog",
    "catalog_info",
    "mirror_to_local",
    "parse_target",
    "write_synthetic_tardis",
    "write_synthetic_trades",
]
