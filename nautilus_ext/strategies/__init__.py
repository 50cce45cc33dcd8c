"""Example strategies that emit unified Orders (they run unchanged in backtest and live)."""
