"""
Pure on-chain calculators shared by the live path and the backtest simulator.

No I/O here: AAVE ray/wad math and account data, leverage math, LST share math, staking
rewards, event structures and wallet accounting.
"""
