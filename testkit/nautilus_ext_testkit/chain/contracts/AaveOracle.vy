#pragma version ^0.4.0
"""
@title AAVE v3 price oracle stand-in (getAssetPrice in base currency units, 1e8 = 1 USD).
"""

BASE_CURRENCY_UNIT: public(constant(uint256)) = 10**8
owner: public(address)
prices: HashMap[address, uint256]


@deploy
def __init__():
    self.owner = msg.sender


@external
def setAssetPrice(asset: address, price: uint256):
    assert msg.sender == self.owner, "Oracle: only owner"
    self.prices[asset] = price


@external
@view
def getAssetPrice(asset: address) -> uint256:
    price: uint256 = self.prices[asset]
    assert price != 0, "Oracle: no price for asset"
    return price


@external
@view
def BASE_CURRENCY() -> address:
    return empty(address)
