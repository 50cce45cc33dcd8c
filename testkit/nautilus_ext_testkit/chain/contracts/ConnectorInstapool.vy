#pragma version ^0.4.0
"""
@title Instadapp INSTAPOOL-C connector stand-in: flashBorrowAndCast / flashPayback.
@notice Enables the flash aggregator on the DSA for the duration of the loan, as the real
        connector does; the aggregator casts the inner spells back on the DSA.
"""

interface IAccount:
    def enable(user: address): nonpayable
    def disable(user: address): nonpayable

interface IAggregator:
    def flashLoan(_tokens: DynArray[address, 1], _amounts: DynArray[uint256, 1], _route: uint256, _data: Bytes[4096], _instadata: Bytes[64]): nonpayable

interface IERC20:
    def transfer(to: address, amount: uint256) -> bool: nonpayable

AGGREGATOR: public(immutable(address))


@deploy
def __init__(aggregator: address):
    AGGREGATOR = aggregator


@external
@payable
def flashBorrowAndCast(token: address, amt: uint256, route: uint256, data: Bytes[4096], extraData: Bytes[64]):
    extcall IAccount(self).enable(AGGREGATOR)
    extcall IAggregator(AGGREGATOR).flashLoan([token], [amt], route, data, extraData)
    extcall IAccount(self).disable(AGGREGATOR)


@external
@payable
def flashPayback(token: address, amt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    extcall IERC20(token).transfer(AGGREGATOR, amt)
