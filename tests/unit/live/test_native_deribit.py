"""DERIBIT is wired natively with URL overrides (its native configs take base URLs)."""

from __future__ import annotations

import pytest
from nautilus_trader.core.nautilus_pyo3 import DeribitEnvironment
from pydantic import ValidationError

from nautilus_ext.adapters.deribit import DeribitUrlLiveExecClientFactory
from nautilus_ext.adapters.registry import family_for
from nautilus_ext.live.config import LiveNodeConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.node import build_trading_node_config
from tests.support.unguarded import SAFETY_SECTION


def test_native_deribit_takes_the_fake_exchange_urls() -> None:
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,
            "safety": SAFETY_SECTION,
            "venues": [
                {
                    "venue": "DERIBIT",
                    "adapter": "native",
                    "rest_url_override": "http://127.0.0.1:9/",
                    "ws_url_override": "ws://127.0.0.1:9",
                }
            ],
        }
    )
    node_config, factories = build_trading_node_config(config)
    data, exec_ = node_config.data_clients["DERIBIT"], node_config.exec_clients["DERIBIT"]
    for client in (data, exec_):
        assert client.base_url_http == "http://127.0.0.1:9/api/v2"  # type: ignore[attr-defined]
        assert client.base_url_ws == "ws://127.0.0.1:9/ws/api/v2"  # type: ignore[attr-defined]
    assert factories["DERIBIT"][1] is DeribitUrlLiveExecClientFactory


def test_native_deribit_without_overrides_uses_the_venue() -> None:
    venue = {"venue": "DERIBIT", "adapter": "native", "testnet": True}
    config = LiveNodeConfig.model_validate(
        {
            "mode": "LIVE",
            "allow_live_orders": True,
            "venues": [venue],
            "safety": SAFETY_SECTION,
        }
    )
    node_config, _ = build_trading_node_config(config)
    exec_ = node_config.exec_clients["DERIBIT"]
    assert exec_.base_url_http is None  # type: ignore[attr-defined]
    assert exec_.environment == DeribitEnvironment.TESTNET  # type: ignore[attr-defined]


def test_url_overrides_stay_refused_for_other_native_venues() -> None:
    assert not family_for("native", "BYBIT").url_overrides
    with pytest.raises(ValidationError, match="takes no URL overrides"):
        VenueConfig(venue="BYBIT", adapter="native", rest_url_override="http://x", ws_url_override="ws://x")
