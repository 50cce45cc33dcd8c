"""
NautilusTrader's native Binance adapter (USD-M futures), registered as the ``BINANCE`` venue.

Only the registration lives here (:mod:`nautilus_ext.adapters.binance.registration`); the
clients are NautilusTrader's own.
"""

__all__: list[str] = []
