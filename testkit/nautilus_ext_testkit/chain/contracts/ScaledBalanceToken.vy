#pragma version ^0.4.0
"""
@title AAVE v3 aToken / variableDebtToken stand-in: scaled balances, index-scaled views.
@notice The pool mints and burns scaled amounts; balanceOf = scaledBalance.rayMul(index) with
        the pool's normalized income (aToken) or normalized debt (debt token). An aToken holds
        the reserve's underlying liquidity. Transfers are not supported by the stand-in.
"""

interface IPool:
    def getReserveNormalizedIncome(asset: address) -> uint256: view
    def getReserveNormalizedVariableDebt(asset: address) -> uint256: view

interface IERC20:
    def transfer(to: address, amount: uint256) -> bool: nonpayable

RAY: constant(uint256) = 10**27
HALF_RAY: constant(uint256) = 10**27 // 2

name: public(String[48])
symbol: public(String[48])
decimals: public(uint8)
POOL: public(immutable(address))
UNDERLYING_ASSET_ADDRESS: public(immutable(address))
IS_DEBT: public(immutable(bool))
scaledTotalSupply: public(uint256)
scaled: HashMap[address, uint256]


@deploy
def __init__(pool: address, underlying: address, is_debt: bool, _name: String[48], _symbol: String[48], _decimals: uint8):
    POOL = pool
    UNDERLYING_ASSET_ADDRESS = underlying
    IS_DEBT = is_debt
    self.name = _name
    self.symbol = _symbol
    self.decimals = _decimals


@internal
@view
def _index() -> uint256:
    if IS_DEBT:
        return staticcall IPool(POOL).getReserveNormalizedVariableDebt(UNDERLYING_ASSET_ADDRESS)
    return staticcall IPool(POOL).getReserveNormalizedIncome(UNDERLYING_ASSET_ADDRESS)


@internal
@pure
def _ray_mul(a: uint256, b: uint256) -> uint256:
    return (a * b + HALF_RAY) // RAY


@external
@view
def scaledBalanceOf(user: address) -> uint256:
    return self.scaled[user]


@external
@view
def balanceOf(user: address) -> uint256:
    return self._ray_mul(self.scaled[user], self._index())


@external
@view
def totalSupply() -> uint256:
    return self._ray_mul(self.scaledTotalSupply, self._index())


@external
def mintScaled(user: address, amount_scaled: uint256):
    assert msg.sender == POOL, "CALLER_MUST_BE_POOL"
    assert amount_scaled != 0, "INVALID_MINT_AMOUNT"
    self.scaled[user] += amount_scaled
    self.scaledTotalSupply += amount_scaled


@external
def burnScaled(user: address, amount_scaled: uint256):
    assert msg.sender == POOL, "CALLER_MUST_BE_POOL"
    assert amount_scaled != 0, "INVALID_BURN_AMOUNT"
    assert self.scaled[user] >= amount_scaled, "BURN_EXCEEDS_BALANCE"
    self.scaled[user] -= amount_scaled
    self.scaledTotalSupply -= amount_scaled


@external
def transferUnderlyingTo(target: address, amount: uint256):
    assert msg.sender == POOL, "CALLER_MUST_BE_POOL"
    assert not IS_DEBT, "debt token holds no underlying"
    extcall IERC20(UNDERLYING_ASSET_ADDRESS).transfer(target, amount)


@external
def transfer(to: address, amount: uint256) -> bool:
    raise "transfers not supported by the stand-in"
