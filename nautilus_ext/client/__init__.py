"""
Python client of a live node's order intake (gRPC): submit unified Orders, stream their results.

>>> from nautilus_ext.client import IntakeClient
>>> with IntakeClient("127.0.0.1:50551", token=os.environ["MY_TOKEN"]) as client:  # doctest: +SKIP
...     acks = client.submit([order])
...     for event in client.stream_results("my-strategy", after_cursor=acks[0].cursor):
...         print(event.kind, event.payload)
"""

from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from nautilus_ext.client.client import IntakeClient
    from nautilus_ext.client.client import IntakeDenied
    from nautilus_ext.client.client import OrderState
    from nautilus_ext.client.client import ResultEvent
    from nautilus_ext.client.client import SubmitAck

__all__ = ["IntakeClient", "IntakeDenied", "OrderState", "ResultEvent", "SubmitAck"]


def __getattr__(name: str) -> Any:
    # lazy: `nautilus-ext --help` imports this package's CLI without gRPC or the generated stubs
    if name in __all__:
        from nautilus_ext.client import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
