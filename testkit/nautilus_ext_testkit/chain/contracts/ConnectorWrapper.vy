#pragma version ^0.4.0
"""
@title LST wrapper connector stand-in (WSTETH-A for Lido, WEETH-A for EtherFi):
       deposit = wrap the rebasing token, withdraw = unwrap.
"""

interface IERC20:
    def balanceOf(owner: address) -> uint256: view
    def approve(spender: address, amount: uint256) -> bool: nonpayable

interface IWrapper:
    def wrap(_amount: uint256) -> uint256: nonpayable
    def unwrap(_amount: uint256) -> uint256: nonpayable

REBASING: public(immutable(address))
WRAPPED: public(immutable(address))


@deploy
def __init__(rebasing: address, wrapped: address):
    REBASING = rebasing
    WRAPPED = wrapped


@external
@payable
def deposit(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = staticcall IERC20(REBASING).balanceOf(self)
    extcall IERC20(REBASING).approve(WRAPPED, amount)
    extcall IWrapper(WRAPPED).wrap(amount)


@external
@payable
def withdraw(amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = staticcall IERC20(WRAPPED).balanceOf(self)
    extcall IWrapper(WRAPPED).unwrap(amount)
