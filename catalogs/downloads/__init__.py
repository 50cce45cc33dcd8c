"""
Download vendor data straight into a catalog: ``nautilus-ext data download tardis|databento|betfair``.

Each source uses the vendor's own client for what it does best (``tardis-dev`` for Tardis'
daily CSV datasets, ``databento``'s ``Historical`` client with its cost estimate,
``betfairlightweight``'s historic data API), with keys only from the environment. Files land in
a cache folder first, each written under a temporary name, checked whole (gzip/bz2/zstd end
to end) and only then renamed into place, so an interrupted run resumes where it stopped and
a cut download never reaches the catalog. The catalog is then built from every file of the
requested days in one run (:func:`~nautilus_ext.catalogs.build.build_catalog`): day-chunked,
and re-downloading a day replaces it.
"""

from nautilus_ext.catalogs.downloads.common import DownloadSummary
from nautilus_ext.catalogs.downloads.common import day_range

__all__ = ["DownloadSummary", "day_range"]
