#pragma version ^0.4.0
"""
@title EtherFi staking connector stand-in (ETHERFI-A): deposit ETH into the LiquidityPool.
"""

interface ILiquidityPool:
    def deposit() -> uint256: payable

LIQUIDITY_POOL: public(immutable(address))


@deploy
def __init__(liquidity_pool: address):
    LIQUIDITY_POOL = liquidity_pool


@external
@payable
def deposit(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = self.balance
    extcall ILiquidityPool(LIQUIDITY_POOL).deposit(value=amount)
