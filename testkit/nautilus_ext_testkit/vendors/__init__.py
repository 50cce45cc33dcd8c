"""
Local stand-ins of the market-data vendors' HTTP APIs on 127.0.0.1.

Each serves the real sample files a test hands it, speaks the vendor's own request and
response shapes, and can inject the failures users meet (a rejected key, HTTP 429, a
download cut short):

- :class:`~nautilus_ext_testkit.vendors.tardis.FakeTardisDatasets`: Tardis' datasets API
  (``GET /v1/<exchange>/<data_type>/<YYYY>/<MM>/<DD>/<symbol>.csv.gz``, Bearer key), as the
  ``tardis-dev`` client calls it.
- :class:`~nautilus_ext_testkit.vendors.databento.FakeDatabentoHistorical`: Databento's
  historical gateway (``POST /v0/metadata.get_cost``, ``POST /v0/timeseries.get_range``,
  HTTP basic auth with the key), over HTTPS since the ``databento`` client only speaks HTTPS.
- :class:`~nautilus_ext_testkit.vendors.betfair_historic.FakeBetfairHistoric`: Betfair's
  identity login and historic data API (``DownloadListOfFiles``, ``DownloadFile``) as
  ``betfairlightweight`` calls them.
"""

from nautilus_ext_testkit.vendors.base import Fault
from nautilus_ext_testkit.vendors.base import VendorServer
from nautilus_ext_testkit.vendors.betfair_historic import FakeBetfairHistoric
from nautilus_ext_testkit.vendors.databento import FakeDatabentoHistorical
from nautilus_ext_testkit.vendors.tardis import FakeTardisDatasets
from nautilus_ext_testkit.vendors.tls import SelfSignedCert

__all__ = [
    "FakeBetfairHistoric",
    "FakeDatabentoHistorical",
    "FakeTardisDatasets",
    "Fault",
    "SelfSignedCert",
    "VendorServer",
]
