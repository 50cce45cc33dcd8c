#pragma version ^0.4.0
"""
@title Instadapp LIDO-STETH-A connector stand-in: deposit ETH into Lido (submit).
"""

interface IStETH:
    def submit(_referral: address) -> uint256: payable

STETH: public(immutable(address))


@deploy
def __init__(steth: address):
    STETH = steth


@external
@payable
def deposit(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = self.balance
    extcall IStETH(STETH).submit(empty(address), value=amount)
