"""Pin the on-chain package's public API."""

from __future__ import annotations

import nautilus_ext.onchain as onchain


def test_public_names_are_pinned() -> None:
    assert sorted(onchain.__all__) == [
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
    for name in onchain.__all__:
        assert getattr(onchain, name).__module__.startswith("nautilus_ext.onchain.")
