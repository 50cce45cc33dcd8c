"""
NautilusTrader's native OKX adapter, registered as the ``OKX`` venue.

Only the registration lives here (:mod:`nautilus_ext.adapters.okx.registration`); the clients
are NautilusTrader's own.
"""

__all__: list[str] = []
