"""NautilusTrader ExecAlgorithms selected by routing when an Order enables smart execution."""
