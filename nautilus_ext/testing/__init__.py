"""Test support shipped with the package: the fake exchange and polling helpers."""

from nautilus_ext.testing.eventually import eventually
from nautilus_ext.testing.eventually import eventually_async

__all__ = ["eventually", "eventually_async"]
