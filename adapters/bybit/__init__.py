"""
NautilusTrader's native Bybit adapter, registered as the ``BYBIT`` venue (``adapter: native``).

Only the registration lives here (:mod:`nautilus_ext.adapters.bybit.registration`); the clients
are NautilusTrader's own. Bybit over ccxt is the ``ccxt`` family.
"""

__all__: list[str] = []
