#pragma version ^0.4.0
"""
@title Instadapp AAVE-V3-A connector stand-in (delegatecalled by the DSA).
@notice deposit/withdraw/borrow/payback/setUserEMode with the real connector's signatures;
        amt = uint256 max means "everything"; getId/setId memory slots are not supported.
"""

interface IERC20:
    def balanceOf(owner: address) -> uint256: view
    def approve(spender: address, amount: uint256) -> bool: nonpayable

interface IPool:
    def supply(asset: address, amount: uint256, onBehalfOf: address, referralCode: uint16): nonpayable
    def withdraw(asset: address, amount: uint256, to: address) -> uint256: nonpayable
    def borrow(asset: address, amount: uint256, interestRateMode: uint256, referralCode: uint16, onBehalfOf: address): nonpayable
    def repay(asset: address, amount: uint256, interestRateMode: uint256, onBehalfOf: address) -> uint256: nonpayable
    def setUserEMode(categoryId: uint8): nonpayable

POOL: public(immutable(address))


@deploy
def __init__(pool: address):
    POOL = pool


@internal
@pure
def _no_memory(getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"


@external
@payable
def deposit(token: address, amt: uint256, getId: uint256, setId: uint256):
    self._no_memory(getId, setId)
    amount: uint256 = amt
    if amt == max_value(uint256):
        amount = staticcall IERC20(token).balanceOf(self)
    extcall IERC20(token).approve(POOL, amount)
    extcall IPool(POOL).supply(token, amount, self, 0)


@external
@payable
def withdraw(token: address, amt: uint256, getId: uint256, setId: uint256):
    self._no_memory(getId, setId)
    extcall IPool(POOL).withdraw(token, amt, self)


@external
@payable
def borrow(token: address, amt: uint256, rateMode: uint256, getId: uint256, setId: uint256):
    self._no_memory(getId, setId)
    extcall IPool(POOL).borrow(token, amt, rateMode, 0, self)


@external
@payable
def payback(token: address, amt: uint256, rateMode: uint256, getId: uint256, setId: uint256):
    self._no_memory(getId, setId)
    extcall IERC20(token).approve(POOL, amt)
    extcall IPool(POOL).repay(token, amt, rateMode, self)


@external
@payable
def setUserEMode(categoryId: uint8):
    extcall IPool(POOL).setUserEMode(categoryId)
