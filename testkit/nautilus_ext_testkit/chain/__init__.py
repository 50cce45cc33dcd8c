"""
The local chain for the on-chain module's tests and benchmarks (never imported by the core).

:mod:`~nautilus_ext_testkit.chain.artifacts` fetches Anvil and the protocols' published bytecode
from npm (pinned hashes); :func:`~nautilus_ext_testkit.chain.stack.deploy_stack` starts Anvil
with the real AAVE v3, Uniswap V2/V3, Morpho Blue, Balancer and CoW contracts
(:mod:`~nautilus_ext_testkit.chain.world`). Vyper contracts in ``contracts/`` stand in, with the
real ABIs, only for Lido, EtherFi and the Instadapp DSA (no published bytecode).
"""
