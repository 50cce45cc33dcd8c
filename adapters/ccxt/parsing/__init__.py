"""Pure functions from ccxt's unified structures to Nautilus domain objects (no I/O)."""
