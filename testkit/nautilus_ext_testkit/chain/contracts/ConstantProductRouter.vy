#pragma version ^0.4.0
"""
@title Uniswap V2 router + single pair stand-in (x*y=k, 0.3 % fee, UniswapV2Library math).
@notice getAmountsOut and swapExactTokensForTokens keep the UniswapV2Router02 ABI for a
        two-token path over the one pair this contract holds.
"""

interface IERC20:
    def transfer(to: address, amount: uint256) -> bool: nonpayable
    def transferFrom(src: address, dst: address, amount: uint256) -> bool: nonpayable

TOKEN0: public(immutable(address))
TOKEN1: public(immutable(address))
reserve0: public(uint256)
reserve1: public(uint256)


@deploy
def __init__(token0: address, token1: address):
    assert token0 != token1, "IDENTICAL_ADDRESSES"
    TOKEN0 = token0
    TOKEN1 = token1


@internal
@view
def _reserves(token_in: address, token_out: address) -> (uint256, uint256):
    if token_in == TOKEN0 and token_out == TOKEN1:
        return self.reserve0, self.reserve1
    assert token_in == TOKEN1 and token_out == TOKEN0, "UniswapV2Library: INVALID_PATH"
    return self.reserve1, self.reserve0


@internal
@pure
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    assert amount_in > 0, "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"
    assert reserve_in > 0 and reserve_out > 0, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    amount_in_with_fee: uint256 = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


@external
@view
def getAmountsOut(amountIn: uint256, path: DynArray[address, 2]) -> DynArray[uint256, 2]:
    assert len(path) == 2, "UniswapV2Library: INVALID_PATH"
    r_in: uint256 = 0
    r_out: uint256 = 0
    r_in, r_out = self._reserves(path[0], path[1])
    return [amountIn, self._amount_out(amountIn, r_in, r_out)]


@external
@view
def getAmountsIn(amountOut: uint256, path: DynArray[address, 2]) -> DynArray[uint256, 2]:
    assert len(path) == 2, "UniswapV2Library: INVALID_PATH"
    r_in: uint256 = 0
    r_out: uint256 = 0
    r_in, r_out = self._reserves(path[0], path[1])
    assert amountOut > 0, "UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT"
    assert r_in > 0 and r_out > amountOut, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    return [r_in * amountOut * 1000 // ((r_out - amountOut) * 997) + 1, amountOut]


@external
def swapExactTokensForTokens(amountIn: uint256, amountOutMin: uint256, path: DynArray[address, 2], to: address, deadline: uint256) -> DynArray[uint256, 2]:
    assert deadline >= block.timestamp, "UniswapV2Router: EXPIRED"
    assert len(path) == 2, "UniswapV2Library: INVALID_PATH"
    r_in: uint256 = 0
    r_out: uint256 = 0
    r_in, r_out = self._reserves(path[0], path[1])
    out: uint256 = self._amount_out(amountIn, r_in, r_out)
    assert out >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    extcall IERC20(path[0]).transferFrom(msg.sender, self, amountIn)
    extcall IERC20(path[1]).transfer(to, out)
    if path[0] == TOKEN0:
        self.reserve0 += amountIn
        self.reserve1 -= out
    else:
        self.reserve1 += amountIn
        self.reserve0 -= out
    return [amountIn, out]


@external
def addLiquidity(amount0: uint256, amount1: uint256):
    extcall IERC20(TOKEN0).transferFrom(msg.sender, self, amount0)
    extcall IERC20(TOKEN1).transferFrom(msg.sender, self, amount1)
    self.reserve0 += amount0
    self.reserve1 += amount1
