"""nautilus_ext: a unified multi-venue execution layer for NautilusTrader."""

__version__ = "0.1.0"
