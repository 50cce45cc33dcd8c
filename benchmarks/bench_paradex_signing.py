"""
CPU cost of Paradex's request signing in ccxt, side by side with an HMAC venue (Bybit).

Every authenticated Paradex request through ccxt 4.5.90 computes a StarkNet typed-data hash
(SNIP-12 rev 0: Pedersen hash chains) and a STARK ECDSA signature in pure Python, on the
caller's thread: in a TradingNode that is the event loop, which does nothing else meanwhile.
This prints, per signed order (median of N after a warm-up):

- ccxt: Paradex ``sign_order_request`` (typed-data hash + STARK signature), no network;
- ccxt: Bybit's HMAC-SHA256 request signing (``sign`` of a private POST), no network;
- the fake exchange's verification of one Paradex order (our typed-data hasher with
  fixed-base window tables, plus STARK ECDSA verification);
- the fake's typed-data hash alone next to ccxt's, to show where ccxt's time goes.

Usage: ``python benchmarks/bench_paradex_signing.py [--orders N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import ccxt

from nautilus_ext_testkit.fake_exchange import paradex_signing as stark
from nautilus_ext_testkit.fake_exchange.paradex import TEST_ETH_PRIVATE_KEY
from nautilus_ext_testkit.fake_exchange.paradex import derive_account
from nautilus_ext_testkit.fake_exchange.paradex import system_config
from nautilus_ext_testkit.fake_exchange.paradex_wire import STARKNET_CHAIN_ID


def _median_ms(fn: Callable[[int], object], n: int) -> float:
    for i in range(3):
        fn(i)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--smoke", action="store_true", help="a small size that runs in seconds")
    args = parser.parse_args()
    if args.smoke:
        args.orders = 3

    paradex = ccxt.paradex({"privateKey": TEST_ETH_PRIVATE_KEY, "walletAddress": "0x" + "ab" * 20})
    paradex.options["systemConfig"] = system_config()
    account = derive_account(TEST_ETH_PRIVATE_KEY)
    paradex.options["paradexAccount"] = account
    request = {"market": "BTC-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.1", "price": "49000"}

    def ccxt_paradex(i: int) -> object:
        return paradex.sign_order_request({**request, "price": str(49000 + i)})

    bybit = ccxt.bybit({"apiKey": "k", "secret": "s"})
    bybit.options["recvWindow"] = 5000

    def ccxt_bybit(i: int) -> object:
        body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "qty": "0.1"}
        return bybit.sign("order/create", ["private"], "POST", {**body, "price": str(49000 + i)})

    def fields(i: int) -> list[tuple[str, int | str]]:
        return [
            ("timestamp", 1_700_000_000_000 + i),
            ("market", stark.short_string_felt("BTC-USD-PERP")),
            ("side", 1),
            ("orderType", stark.short_string_felt("LIMIT")),
            ("size", 10_000_000),
            ("price", (49000 + i) * 10**8),
        ]

    signed = {
        i: paradex.sign_order_request({**request, "price": str(49000 + i)}) for i in range(args.orders + 3)
    }

    def fake_verify(i: int) -> object:
        msg = stark.message_hash(STARKNET_CHAIN_ID, "Order", fields(i), account["address"])
        r, s = stark.parse_signature(signed[i]["signature"])
        return stark.verify(msg, r, s, int(account["publicKey"], 16))

    def fake_hash(i: int) -> object:
        return stark.message_hash(STARKNET_CHAIN_ID, "Order", fields(i), account["address"])

    names = [n for n, _ in fields(0)]

    def ccxt_hash(i: int) -> object:
        return paradex.starknet_encode_structured_data(
            {"name": "Paradex", "chainId": STARKNET_CHAIN_ID, "version": 1},
            {"Order": [{"name": n, "type": "felt"} for n in names]},
            dict(fields(i)),
            account["address"],
        )

    rows = [
        ("ccxt paradex: sign one order", _median_ms(ccxt_paradex, args.orders)),
        ("ccxt bybit: HMAC-sign one order", _median_ms(ccxt_bybit, args.orders)),
        ("fake: verify one paradex order", _median_ms(fake_verify, args.orders)),
        ("ccxt: typed-data hash only", _median_ms(ccxt_hash, args.orders)),
        ("fake: typed-data hash only", _median_ms(fake_hash, args.orders)),
    ]
    base = rows[1][1]
    print(f"{'operation':<36} {'median ms':>10} {'x bybit':>10}")
    for name, ms in rows:
        print(f"{name:<36} {ms:>10.3f} {ms / base:>10.0f}")
    print(f"ccxt/fake typed-data hash ratio: {rows[3][1] / rows[4][1]:.1f}")


if __name__ == "__main__":
    main()
