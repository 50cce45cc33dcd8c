"""On-chain integration fixtures (local EVM)."""

from nautilus_ext_testkit.chain.pytest_fixtures import clients
from nautilus_ext_testkit.chain.pytest_fixtures import compiled_contracts
from nautilus_ext_testkit.chain.pytest_fixtures import entered_clients
from nautilus_ext_testkit.chain.pytest_fixtures import entered_snapshot
from nautilus_ext_testkit.chain.pytest_fixtures import entered_stack
from nautilus_ext_testkit.chain.pytest_fixtures import evm_cache_dir
from nautilus_ext_testkit.chain.pytest_fixtures import session_stack
from nautilus_ext_testkit.chain.pytest_fixtures import stack

__all__ = [
    "clients",
    "compiled_contracts",
    "entered_clients",
    "entered_snapshot",
    "entered_stack",
    "evm_cache_dir",
    "session_stack",
    "stack",
]
