"""
Local EVM stand-ins for the protocols the on-chain module talks to (tests and benchmarks only).

Vyper contracts in ``contracts/`` keep the real protocols' ABIs for every function the module
calls; :func:`~nautilus_ext_testkit.chain.stack.deploy_stack` deploys them on py-evm.
"""
