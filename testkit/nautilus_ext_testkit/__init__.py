"""
The optional test kit of nautilus-ext (distribution ``nautilus-ext-testkit``).

Protocol-faithful local stand-ins for running strategies without a venue: ``fake_exchange``
(Bybit, Binance USD-M, OKX, Deribit, Hyperliquid, Aster, Backpack, Coinbase, Paradex, GRVT),
``fake_betfair`` (Betfair REST JSON-RPC and Exchange Stream API) and ``chain`` (Vyper stand-ins
of AAVE v3, Lido, EtherFi, Morpho and the Instadapp DSA on an in-process EVM). The core package
``nautilus_ext`` never imports this one.
"""
