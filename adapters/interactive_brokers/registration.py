"""
Register NautilusTrader's native Interactive Brokers adapter (``INTERACTIVE_BROKERS``).

The venue entry's ``interactive_brokers`` section gives the gateway address, the client id, the
variable holding the account id and the canonical keys to load; each key becomes an IB contract
(:mod:`~nautilus_ext.adapters.interactive_brokers.contracts`) that the instrument provider
resolves with ``reqContractDetails``. Instruments get MIC venues (``ESZ4.XCME``), matching the
instrument registry's ids.
"""

from __future__ import annotations

import os
from typing import Any
from typing import Final
from typing import cast

from nautilus_ext.adapters.registry import VenueClients
from nautilus_ext.adapters.registry import VenueFamily
from nautilus_ext.adapters.registry import VenueSettings
from nautilus_ext.errors import InvalidConfig

VENUE: Final = "INTERACTIVE_BROKERS"


def ib_contracts(keys: list[str]) -> frozenset[Any]:
    """Return NautilusTrader ``IBContract`` objects for canonical keys."""
    from nautilus_trader.adapters.interactive_brokers.common import IBContract

    from nautilus_ext.adapters.interactive_brokers.contracts import to_ib_contract

    out = []
    for key in keys:
        spec = to_ib_contract(key)
        out.append(
            IBContract(
                secType=cast(Any, spec.sec_type),  # FUT or FOP (IBContract types a Literal)
                symbol=spec.symbol,
                exchange=spec.exchange,
                currency=spec.currency,
                lastTradeDateOrContractMonth=spec.last_trade_date_or_contract_month,
                multiplier=spec.multiplier,
                tradingClass=spec.trading_class,
                strike=float(spec.strike) if spec.strike is not None else 0.0,
                right=spec.right,
            )
        )
    return frozenset(out)


def build_clients(venue: VenueSettings) -> VenueClients:
    """Return the IB data and execution clients of ``venue`` (account id from its variable, if set)."""
    from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersDataClientConfig
    from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersExecClientConfig
    from nautilus_trader.adapters.interactive_brokers.config import InteractiveBrokersInstrumentProviderConfig
    from nautilus_trader.adapters.interactive_brokers.config import SymbologyMethod

    from nautilus_ext.adapters.interactive_brokers.contracts import MIC_BY_EXCHANGE
    from nautilus_ext.adapters.interactive_brokers.contracts import to_ib_contract
    from nautilus_ext.adapters.interactive_brokers.factories import IBLiveDataClientFactory
    from nautilus_ext.adapters.interactive_brokers.factories import IBLiveExecClientFactory

    section = venue.interactive_brokers
    if section is None:
        raise InvalidConfig(
            f"venue {venue.venue}: native {VENUE} needs an interactive_brokers section", venue=venue.venue
        )
    # the account id is read here from the variable the section names; live validation refuses a
    # node whose variable is unset (nautilus_ext.live.validation), before any client is built
    account = os.environ.get(section.account_env) or None
    provider = InteractiveBrokersInstrumentProviderConfig(
        symbology_method=SymbologyMethod.IB_SIMPLIFIED,
        load_contracts=ib_contracts(list(section.instrument_keys)),
        convert_exchange_to_mic_venue=True,
    )
    common: dict[str, Any] = {
        "instrument_provider": provider,
        "ibg_host": section.host,
        "ibg_port": section.port,
        "ibg_client_id": section.client_id,
        "connection_timeout": section.connection_timeout_secs,
        "request_timeout_secs": section.request_timeout_secs,
    }
    # DRY_RUN simulates the instruments' own venue (XCME ...): possible when they share one
    mics = {MIC_BY_EXCHANGE[to_ib_contract(k).exchange] for k in section.instrument_keys}
    return VenueClients(
        data_config=InteractiveBrokersDataClientConfig(**common, use_regular_trading_hours=False),
        exec_config=InteractiveBrokersExecClientConfig(**common, account_id=account),
        data_factory=IBLiveDataClientFactory,
        exec_factory=IBLiveExecClientFactory,
        simulated_venue=mics.pop() if len(mics) == 1 else None,
    )


FAMILY: Final = VenueFamily(
    name="interactive_brokers", adapter="native", venues=frozenset({VENUE}), build_clients=build_clients
)
