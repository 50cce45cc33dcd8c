"""Run the fake exchange as a subprocess: ``python -m nautilus_ext_testkit.fake_exchange``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from decimal import Decimal

from nautilus_ext_testkit.fake_exchange.server import FakeExchange


async def _main(port: int, seed: bool) -> None:
    exchange = FakeExchange(port=port)
    await exchange.start()
    if seed:
        exchange.bybit.engine.seed_book(
            "BTCUSDT",
            bids=[(Decimal("49999.9"), Decimal(5)), (Decimal("49999.0"), Decimal(5))],
            asks=[(Decimal("50000.1"), Decimal(5)), (Decimal("50001.0"), Decimal(5))],
        )
        exchange.binance.engine.seed_book(
            "BTCUSDT",
            bids=[(Decimal("49999.9"), Decimal(5)), (Decimal("49999.0"), Decimal(5))],
            asks=[(Decimal("50000.1"), Decimal(5)), (Decimal("50001.0"), Decimal(5))],
        )
        exchange.okx.engine.seed_book(
            "BTC-USDT-SWAP",
            bids=[(Decimal("49999.9"), Decimal(5)), (Decimal("49999.0"), Decimal(5))],
            asks=[(Decimal("50000.1"), Decimal(5)), (Decimal("50001.0"), Decimal(5))],
        )
        exchange.hyperliquid.engine.seed_book(
            "BTC",
            bids=[(Decimal(49999), Decimal(5)), (Decimal(49990), Decimal(5))],
            asks=[(Decimal(50001), Decimal(5)), (Decimal(50010), Decimal(5))],
        )
        exchange.deribit.engine.seed_book(
            "BTC_USDC-PERPETUAL",
            bids=[(Decimal(49999), Decimal(5)), (Decimal(49990), Decimal(5))],
            asks=[(Decimal(50001), Decimal(5)), (Decimal(50010), Decimal(5))],
        )
        exchange.deribit.engine.seed_book(
            "BTC-PERPETUAL",
            bids=[(Decimal("49999.5"), Decimal(50_000)), (Decimal("49990.0"), Decimal(50_000))],
            asks=[(Decimal("50000.5"), Decimal(50_000)), (Decimal("50010.0"), Decimal(50_000))],
        )
    sys.stdout.write(f"LISTENING {exchange.base_url}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await exchange.stop()


def main() -> None:
    """Parse arguments and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        description="Fake Bybit/Binance USD-M/OKX/Hyperliquid exchange on 127.0.0.1"
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", action="store_true", help="seed BTC books with liquidity")
    args = parser.parse_args()
    asyncio.run(_main(args.port, args.seed))


if __name__ == "__main__":
    main()
