"""
On-chain DeFi module: AAVE v3, Morpho flash loans, Lido, EtherFi and Instadapp atomic bundles.

``calculators`` holds the pure math; ``clients`` the web3 protocol clients; ``bundles`` the
atomic bundle builder with its pre- and post-checks; ``simulation`` the backtest venue driven
by the same calculators.
"""
