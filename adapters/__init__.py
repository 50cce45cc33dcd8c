"""Venue adapters built the NautilusTrader way (config, providers, data, execution, factories)."""
