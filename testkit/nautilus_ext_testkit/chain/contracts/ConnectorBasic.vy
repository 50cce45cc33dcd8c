#pragma version ^0.4.0
"""
@title Instadapp BASIC-A connector stand-in: deposit (pull from the caster) / withdraw (send).
"""

interface IERC20:
    def balanceOf(owner: address) -> uint256: view
    def transfer(to: address, amount: uint256) -> bool: nonpayable
    def transferFrom(src: address, dst: address, amount: uint256) -> bool: nonpayable


@external
@payable
def deposit(erc20: address, tokenAmt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    extcall IERC20(erc20).transferFrom(msg.sender, self, tokenAmt)


@external
@payable
def withdraw(erc20: address, tokenAmt: uint256, to: address, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = tokenAmt
    if tokenAmt == max_value(uint256):
        amount = staticcall IERC20(erc20).balanceOf(self)
    extcall IERC20(erc20).transfer(to, amount)
