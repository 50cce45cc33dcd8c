"""
Generic polling helpers for tests of code built on nautilus_ext.

The fake venues and the local chain stand-ins live in the optional test kit
(``pip install ./testkit``, import name ``nautilus_ext_testkit``).
"""

from nautilus_ext.testing.eventually import eventually
from nautilus_ext.testing.eventually import eventually_async

__all__ = ["eventually", "eventually_async"]
