"""
A local stand-in of CoW Protocol's order-book API whose solver settles through the real
``GPv2Settlement`` (published bytecode) on Anvil.
"""

from __future__ import annotations

from nautilus_ext_testkit.fake_cow.chain import CowChain
from nautilus_ext_testkit.fake_cow.chain import start_cow_chain
from nautilus_ext_testkit.fake_cow.orderbook import ApiError
from nautilus_ext_testkit.fake_cow.orderbook import OrderBook
from nautilus_ext_testkit.fake_cow.server import FakeCowServer

__all__ = ["ApiError", "CowChain", "FakeCowServer", "OrderBook", "start_cow_chain"]
