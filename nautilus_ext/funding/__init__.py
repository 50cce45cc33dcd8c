"""
Funding rates (seed 002's funding rate service): normalised records, collection, the
opportunity finder and funding settlement for backtests.

:mod:`~nautilus_ext.funding.model` holds the normalised record and the pure arithmetic (rate per
hour, APR, sign convention, funding payment); collection, the finder and the REST API build on it.

Collection (imported from their modules; they pull in ccxt, NautilusTrader and the store):

- :mod:`~nautilus_ext.funding.normalise`: venue payloads -> samples (interval, sign, OI, volume).
- :mod:`~nautilus_ext.funding.sources`: ``CcxtFundingSource``, current rates and history via ccxt.
- :mod:`~nautilus_ext.funding.collector`: ``FundingCollector``, polling with backoff, backfill.
- :mod:`~nautilus_ext.funding.history`: Tardis ``derivative_ticker`` settlements, gap detection.
- :mod:`~nautilus_ext.funding.actor`: ``FundingCollectorActor``, streamed ``FundingRateUpdate``s.
- :mod:`~nautilus_ext.funding.config` and :mod:`~nautilus_ext.funding.cli`: YAML and
  ``nautilus-ext funding collect|backfill|gaps``.
"""

from nautilus_ext.funding.model import VENUE_CONVENTIONS
from nautilus_ext.funding.model import FundingRateSample
from nautilus_ext.funding.model import convention_for
from nautilus_ext.funding.model import funding_payment
from nautilus_ext.funding.model import normalise_rate
from nautilus_ext.funding.model import rate_per_hour

__all__ = [
    "VENUE_CONVENTIONS",
    "FundingRateSample",
    "convention_for",
    "funding_payment",
    "normalise_rate",
    "rate_per_hour",
]
