"""The INTERACTIVE_BROKERS venue family: live config section, validation and client configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nautilus_ext.adapters.registry import build_clients
from nautilus_ext.adapters.registry import family_for
from nautilus_ext.errors import InvalidConfig
from nautilus_ext.live.config import VenueConfig
from nautilus_ext.live.config import load_live_config
from nautilus_ext.live.validation import check_live_config

REPO = Path(__file__).resolve().parents[4]


def _venue(**section: Any) -> VenueConfig:
    ib = {"port": 4002, "instrument_keys": ["CME:FUTURE:SP500-USD-241220@LIN"], **section}
    return VenueConfig(venue="INTERACTIVE_BROKERS", adapter="native", interactive_brokers=ib)


def test_the_family_is_registered_for_native_interactive_brokers() -> None:
    assert family_for("native", "INTERACTIVE_BROKERS").name == "interactive_brokers"


def test_build_clients_makes_ib_configs_from_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWS_ACCOUNT", "DU42")
    clients = build_clients(_venue(client_id=7, host="10.0.0.5"))
    data, exe = clients.data_config, clients.exec_config
    assert (exe.ibg_host, exe.ibg_port, exe.ibg_client_id, exe.account_id) == ("10.0.0.5", 4002, 7, "DU42")
    assert (data.ibg_host, data.ibg_port, data.ibg_client_id) == ("10.0.0.5", 4002, 7)
    provider = data.instrument_provider
    assert provider.convert_exchange_to_mic_venue
    (contract,) = provider.load_contracts
    assert (contract.secType, contract.symbol, contract.exchange) == ("FUT", "ES", "CME")
    assert (contract.lastTradeDateOrContractMonth, contract.multiplier, contract.tradingClass) == (
        "20241220",
        "50",
        "ES",
    )
    assert clients.exec_factory.__name__ == "IBLiveExecClientFactory"
    # DRY_RUN simulates the instruments' venue, possible when the keys share one exchange
    assert clients.simulated_venue == "XCME"
    mixed = build_clients(
        _venue(instrument_keys=["CME:FUTURE:SP500-USD-241220@LIN", "CME:FUTURE:WTI-USD-241119@LIN"])
    )
    assert mixed.simulated_venue is None


def test_the_account_comes_only_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IB_ACCT", raising=False)
    assert build_clients(_venue(account_env="IB_ACCT")).exec_config.account_id is None
    monkeypatch.setenv("IB_ACCT", "DU7")
    assert build_clients(_venue(account_env="IB_ACCT")).exec_config.account_id == "DU7"


@pytest.mark.parametrize(
    ("section", "why"),
    [
        ({"instrument_keys": ["CME:FUTURE:COCOA-USD-241220@LIN"]}, "no Interactive Brokers root"),
        ({"instrument_keys": []}, "instrument_keys"),
        ({"port": 0}, "port"),
        ({"account": "DU1"}, "Extra inputs"),
    ],
)
def test_a_bad_section_is_refused_at_load(section: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        _venue(**section)


def test_the_section_goes_only_with_native_interactive_brokers() -> None:
    with pytest.raises(ValueError, match="interactive_brokers section"):
        VenueConfig(venue="INTERACTIVE_BROKERS", adapter="native")


def test_the_shipped_config_validates_with_an_account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NAUTILUS_EXT_CONTROL_TOKEN", "t" * 40)
    data = yaml.safe_load((REPO / "configs" / "live" / "ib_cme.yaml").read_text())
    data["safety"]["config_path"] = str(REPO / "configs" / "safety" / "ib_cme.yaml")
    path = tmp_path / "ib.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.delenv("TWS_ACCOUNT", raising=False)
    with pytest.raises(InvalidConfig, match=r"\$TWS_ACCOUNT"):
        check_live_config(load_live_config(path))
    monkeypatch.setenv("TWS_ACCOUNT", "DU1234567")
    check_live_config(load_live_config(path))
