"""
Day-chunked Parquet clusters (seed 000, "Cloud Infrastructure") on a local path or GCS.

Layout: ``<root>/<cluster>/date=YYYY-MM-DD/<part>.parquet`` for the clusters ``orders``,
``execution_results`` and ``signals``, each with a versioned Arrow schema.
"""

from nautilus_ext.storage.schemas import EXECUTION_RESULT_ARROW_SCHEMA
from nautilus_ext.storage.schemas import SIGNAL_ARROW_SCHEMA
from nautilus_ext.storage.schemas import ExecutionResult
from nautilus_ext.storage.schemas import Signal
from nautilus_ext.storage.store import ClusterStore

__all__ = [
    "EXECUTION_RESULT_ARROW_SCHEMA",
    "SIGNAL_ARROW_SCHEMA",
    "ClusterStore",
    "ExecutionResult",
    "Signal",
]
