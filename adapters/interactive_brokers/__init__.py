"""
Interactive Brokers: NautilusTrader's native IB adapter for CME Group futures and options, the
canonical-key <-> IB contract mapping, and ``ib_async`` tooling outside the node.

* :mod:`.contracts` — keys <-> IB contracts (pure).
* :mod:`.registration` — the ``INTERACTIVE_BROKERS`` venue family (data + execution clients).
* :mod:`.factories` — NautilusTrader's factories with a per-event-loop client cache.
* :mod:`.tools` — ``nautilus-ext ib contracts|account`` over ``ib_async``.
"""

from nautilus_ext.adapters.interactive_brokers.contracts import ROOTS
from nautilus_ext.adapters.interactive_brokers.contracts import IBContractSpec
from nautilus_ext.adapters.interactive_brokers.contracts import IBRoot
from nautilus_ext.adapters.interactive_brokers.contracts import from_ib_contract
from nautilus_ext.adapters.interactive_brokers.contracts import to_ib_contract

__all__ = ["ROOTS", "IBContractSpec", "IBRoot", "from_ib_contract", "to_ib_contract"]
