"""Loaders building NautilusTrader ParquetDataCatalogs from Tardis, Databento and Betfair."""
