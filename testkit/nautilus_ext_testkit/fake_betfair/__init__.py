"""
A local Betfair for tests: the HTTP APIs NautilusTrader's Betfair clients call and the Exchange
Stream API, over one in-memory exchange (:mod:`~nautilus_ext_testkit.fake_betfair.exchange`).
"""

from nautilus_ext_testkit.fake_betfair.exchange import Bet
from nautilus_ext_testkit.fake_betfair.exchange import BetError
from nautilus_ext_testkit.fake_betfair.exchange import FakeBetfairExchange
from nautilus_ext_testkit.fake_betfair.exchange import Market
from nautilus_ext_testkit.fake_betfair.exchange import Runner
from nautilus_ext_testkit.fake_betfair.exchange import on_ladder
from nautilus_ext_testkit.fake_betfair.markets import arsenal_liverpool_match_odds
from nautilus_ext_testkit.fake_betfair.server import FakeBetfair
from nautilus_ext_testkit.fake_betfair.server import ReceivedRequest

__all__ = [
    "Bet",
    "BetError",
    "FakeBetfair",
    "FakeBetfairExchange",
    "Market",
    "ReceivedRequest",
    "Runner",
    "arsenal_liverpool_match_odds",
    "on_ladder",
]
