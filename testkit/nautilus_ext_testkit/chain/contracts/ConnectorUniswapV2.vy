#pragma version ^0.4.0
"""
@title Instadapp UNISWAP-V2-A connector stand-in: sell(buyAddr, sellAddr, sellAmt, unitAmt, ...).
@notice unitAmt is the minimum buy per unit sold (18-decimal wad, DSMath wmul) as in the real
        connector; the swap reverts with "Too much slippage" below it.
"""

interface IERC20:
    def balanceOf(owner: address) -> uint256: view
    def approve(spender: address, amount: uint256) -> bool: nonpayable
    def decimals() -> uint8: view

interface IRouter:
    def getAmountsOut(amountIn: uint256, path: DynArray[address, 2]) -> DynArray[uint256, 2]: view
    def swapExactTokensForTokens(amountIn: uint256, amountOutMin: uint256, path: DynArray[address, 2], to: address, deadline: uint256) -> DynArray[uint256, 2]: nonpayable

WAD: constant(uint256) = 10**18
ROUTER: public(immutable(address))


@deploy
def __init__(router: address):
    ROUTER = router


@external
@payable
def sell(buyAddr: address, sellAddr: address, sellAmt: uint256, unitAmt: uint256, getId: uint256, setId: uint256):
    assert getId == 0 and setId == 0, "getId/setId not supported by the stand-in"
    amount: uint256 = sellAmt
    if sellAmt == max_value(uint256):
        amount = staticcall IERC20(sellAddr).balanceOf(self)
    sell_dec: uint256 = convert(staticcall IERC20(sellAddr).decimals(), uint256)
    buy_dec: uint256 = convert(staticcall IERC20(buyAddr).decimals(), uint256)
    amount18: uint256 = amount * 10 ** (18 - sell_dec)
    slippage_amt: uint256 = (unitAmt * amount18 + WAD // 2) // WAD // 10 ** (18 - buy_dec)
    path: DynArray[address, 2] = [sellAddr, buyAddr]
    expected: uint256 = (staticcall IRouter(ROUTER).getAmountsOut(amount, path))[1]
    assert slippage_amt <= expected, "Too much slippage"
    extcall IERC20(sellAddr).approve(ROUTER, amount)
    extcall IRouter(ROUTER).swapExactTokensForTokens(amount, expected, path, self, block.timestamp + 1)
