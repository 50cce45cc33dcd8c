"""
On-chain DeFi module: AAVE v3, Morpho flash loans, Lido, EtherFi and Instadapp atomic bundles.

``calculators`` holds the pure math shared by the live path and the backtest simulator;
``clients`` the web3 protocol clients behind one exception boundary (``chain``); ``planner``
builds atomic bundles, ``executor`` checks, sends and verifies them behind the safety gate
(``gated``: every bundle is one gate intent, confirmed by its hash in LIVE); ``order_mapping`` turns
unified Orders and atomic groups into bundles; ``simulation`` is the backtest venue;
``testing`` holds the Vyper stand-ins for the local EVM.
"""

from nautilus_ext.onchain.bundles import AtomicBundle
from nautilus_ext.onchain.bundles import BundleKind
from nautilus_ext.onchain.bundles import BundleStep
from nautilus_ext.onchain.bundles import StepKind
from nautilus_ext.onchain.bundles import SwapBound
from nautilus_ext.onchain.bundles import TargetRange
from nautilus_ext.onchain.chain import ChainGateway
from nautilus_ext.onchain.chain import TxReceipt
from nautilus_ext.onchain.config import ConnectorNames
from nautilus_ext.onchain.config import OnchainConfig
from nautilus_ext.onchain.config import TokenConfig
from nautilus_ext.onchain.executor import AtomicBundleExecutor
from nautilus_ext.onchain.executor import BundleResult
from nautilus_ext.onchain.gated import BundleGate
from nautilus_ext.onchain.gated import StagedBundle
from nautilus_ext.onchain.gated import bundle_hash
from nautilus_ext.onchain.order_mapping import OrderMapper
from nautilus_ext.onchain.planner import BundlePlanner
from nautilus_ext.onchain.planner import OnchainClients
from nautilus_ext.onchain.simulation import GasModel
from nautilus_ext.onchain.simulation import SimReserve
from nautilus_ext.onchain.simulation import SimulatedOnchainVenue

__all__ = [
    "AtomicBundle",
    "AtomicBundleExecutor",
    "BundleGate",
    "BundleKind",
    "BundlePlanner",
    "BundleResult",
    "BundleStep",
    "ChainGateway",
    "ConnectorNames",
    "GasModel",
    "OnchainClients",
    "OnchainConfig",
    "OrderMapper",
    "SimReserve",
    "SimulatedOnchainVenue",
    "StagedBundle",
    "StepKind",
    "SwapBound",
    "TargetRange",
    "TokenConfig",
    "TxReceipt",
    "bundle_hash",
]
