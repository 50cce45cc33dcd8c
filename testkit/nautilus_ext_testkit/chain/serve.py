"""
Serve the local protocol world for a DRY_RUN drill of the basis live service.

``python -m nautilus_ext_testkit.chain.serve --onchain-config basis_onchain.yaml --fund-weth 12``
starts Anvil with AAVE v3 and the stand-ins (:func:`~nautilus_ext_testkit.chain.stack.deploy_stack`),
writes the :class:`~nautilus_ext.onchain.config.OnchainConfig` the service's
``onchain_config_path`` names, funds the wallet's DSA with WETH (the ETH a DRY_RUN entry
withdraws from the CEX is not moved by the service) and prints the RPC URL and wallet to put in
``configs/live/basis_usdt_market_neutral.yaml``. It runs until interrupted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

from nautilus_ext_testkit.chain.stack import ETHER
from nautilus_ext_testkit.chain.stack import deploy_stack


def main(argv: list[str] | None = None) -> int:
    """Deploy, write the config, fund the DSA, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument(
        "--onchain-config", type=Path, required=True, help="where to write the OnchainConfig YAML"
    )
    parser.add_argument(
        "--fund-weth", type=Decimal, default=Decimal(0), help="WETH to put in the wallet's DSA"
    )
    args = parser.parse_args(argv)
    stack = deploy_stack(Path(tempfile.gettempdir()) / "nautilus-ext-vyper-cache")
    try:
        args.onchain_config.write_text(yaml.safe_dump(stack.config.model_dump(mode="json")))
        wei = int(args.fund_weth * ETHER)
        if wei:
            weth = stack.contracts["weth"]
            stack.tx(weth.functions.deposit(), sender=stack.user, value=wei)
            stack.tx(weth.functions.transfer(stack.config.dsa, wei), sender=stack.user)
        sys.stdout.write(
            f"rpc_url: {stack.node.url}\nwallet: {stack.user}\nonchain_config_path: {args.onchain_config}\n"
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.close()


if __name__ == "__main__":
    raise SystemExit(main())
