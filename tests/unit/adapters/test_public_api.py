"""The public surface of the venue registry, the symbology and the shared messages."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PINNED = {
    "nautilus_ext.adapters.registry": [
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
    ],
    "nautilus_ext.adapters.symbology": [
        "RULES",
        "betting_market_key",
        "build_instrument",
        "build_instruments",
        "ccxt_symbol",
        "from_instrument_id",
        "key_for_instrument",
        "to_instrument_id",
    ],
    "nautilus_ext.adapters.ccxt.retry": ["RetryPolicy"],
    "nautilus_ext.messages": [
        "FEED_STATUS_TOPIC",
        "FILL_GAPS_TOPIC",
        "FORCED_REDUCTIONS_TOPIC",
        "FUNDING_COLLECTED_TOPIC",
        "FUNDING_PAYMENTS_TOPIC",
        "HEALTH_FACTOR_TOPIC",
        "VENUE_MARGIN_TOPIC",
        "VENUE_POSITIONS_TOPIC",
        "FillGap",
        "ForcedReduction",
        "FundingCollected",
        "FundingPaymentReport",
        "HealthFactorUpdate",
        "PublishesVenuePositions",
        "VenueMargin",
        "VenuePositionSnapshot",
        "fill_gap_topic",
        "forced_reduction_topic",
        "funding_collected_topic",
        "funding_payments_topic",
        "health_factor_topic",
        "publish_venue_positions",
        "publishes_venue_positions",
        "venue_margin_topic",
        "venue_positions_topic",
        "watched_instruments",
    ],
}


@pytest.mark.parametrize("module", sorted(PINNED))
def test_all_is_pinned(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(PINNED[module])
    for name in imported.__all__:
        assert getattr(imported, name) is not None


def test_symbology_and_the_registry_load_no_client_code() -> None:
    # id look-ups run in the gate and the backtest, and config validation asks the registry:
    # neither may import ccxt, a client module or a native adapter's clients
    code = (
        "import sys, nautilus_ext.adapters.symbology, nautilus_ext.adapters.registry as r;"
        "r.families();"
        "clients = ('.execution', '.data', '.factories', '.providers');"
        "print(sorted(m for m in sys.modules if m == 'ccxt' or m.startswith('ccxt.')"
        " or (m.startswith('nautilus_ext.adapters.') and m.endswith(clients))"
        " or m.startswith(('nautilus_trader.adapters.bybit', 'nautilus_trader.adapters.okx',"
        " 'nautilus_trader.adapters.binance', 'nautilus_trader.adapters.deribit'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
