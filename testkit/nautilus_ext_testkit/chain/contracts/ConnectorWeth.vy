#pragma version ^0.4.0
"""
@title Instadapp WETH-A connector stand-in: deposit (wrap ETH) / withdraw (unwrap WETH).
"""

interface IWETH:
    def deposit(): payable
    def withdraw(wad: uint256): nonpayable
    def balanceOf(owner: address) -> uint256: view

WETH: public(immutable(address))


@deploy
def __init__(weth: address):
    WETH = weth


@external
@payable
def deposit(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = self.balance
    extcall IWETH(WETH).deposit(value=amount)


@external
@payable
def withdraw(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = staticcall IWETH(WETH).balanceOf(self)
    extcall IWETH(WETH).withdraw(amount)
