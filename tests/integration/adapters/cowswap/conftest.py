"""One Anvil with CoW's settlement and one order-book stand-in for the CowSwap tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from nautilus_ext.adapters.cowswap import CowSettlementChain
from nautilus_ext.adapters.cowswap import CowSwapConfig
from nautilus_ext.adapters.cowswap import CowSwapCredentials
from nautilus_ext.adapters.cowswap import CowSwapExecution
from nautilus_ext.adapters.cowswap import CowSwapHttpClient
from nautilus_ext_testkit.fake_cow import CowChain
from nautilus_ext_testkit.fake_cow import FakeCowServer
from nautilus_ext_testkit.fake_cow import OrderBook
from nautilus_ext_testkit.fake_cow import start_cow_chain


@dataclass
class CowWorld:
    """The chain, the stand-in and a way to make funded owners with their executors."""

    chain: CowChain
    server: FakeCowServer

    @property
    def book(self) -> OrderBook:
        """The stand-in's order book."""
        return self.server.book

    def config(self) -> CowSwapConfig:
        """The client configuration pointing at the stand-in and the Anvil settlement."""
        return CowSwapConfig(
            base_url=self.server.base_url,
            chain_id=self.chain.chain_id,
            settlement=self.chain.settlement.address,
            vault_relayer=self.chain.vault_relayer,
            poll_interval_secs=0.05,
        )

    def user(self, weth: int = 10**18, approve: int | None = None) -> tuple[str, CowSwapExecution]:
        """A fresh owner holding ``weth`` WETH that approved the vault relayer for ``approve``."""
        owner, key = self.chain.new_user({"WETH": weth})
        settlement = CowSettlementChain(self.chain.w3, self.chain.settlement.address)
        amount = weth if approve is None else approve
        if amount:
            settlement.approve(self.chain.tokens["WETH"].address, self.chain.vault_relayer, amount, key)
        config = self.config()
        execution = CowSwapExecution(
            config, CowSwapCredentials(key), CowSwapHttpClient(config.base_url, 5.0), settlement
        )
        return owner, execution

    def set_settling(self, enabled: bool) -> None:
        """Pause or resume the stand-in's solver (on the server's loop)."""

        def apply() -> None:
            self.book.settle_enabled = enabled

        self.server.call(apply)


@pytest.fixture(scope="session")
def cow() -> Iterator[CowWorld]:
    """Anvil + CoW settlement + the order-book stand-in, once per session."""
    chain = start_cow_chain()
    server = FakeCowServer(OrderBook(chain), auction_interval_secs=0.1)
    try:
        server.start_in_thread()
        yield CowWorld(chain=chain, server=server)
    finally:
        server.stop_thread()
        chain.close()


@pytest.fixture
def world(cow: CowWorld) -> Iterator[CowWorld]:
    """The session world with the solver running (tests that pause it resume it here)."""
    cow.set_settling(True)
    yield cow
    cow.set_settling(True)
