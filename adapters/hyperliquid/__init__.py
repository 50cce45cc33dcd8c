"""
NautilusTrader's native Hyperliquid adapter, registered as the ``HYPERLIQUID`` venue.

Only the registration lives here (:mod:`nautilus_ext.adapters.hyperliquid.registration`); the
clients are NautilusTrader's own. Hyperliquid over ccxt is the ``ccxt`` family.
"""

__all__: list[str] = []
