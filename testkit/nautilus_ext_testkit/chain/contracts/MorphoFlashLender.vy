#pragma version ^0.4.0
"""
@title Morpho Blue flash loan stand-in: flashLoan(token, assets, data), zero fee.
@notice Calls onMorphoFlashLoan(assets, data) on the caller, then pulls the assets back.
"""

interface IERC20:
    def transfer(to: address, amount: uint256) -> bool: nonpayable
    def transferFrom(src: address, dst: address, amount: uint256) -> bool: nonpayable

interface IMorphoFlashLoanCallback:
    def onMorphoFlashLoan(assets: uint256, data: Bytes[8192]): nonpayable


@external
def flashLoan(token: address, assets: uint256, data: Bytes[8192]):
    assert assets != 0, "zero assets"
    extcall IERC20(token).transfer(msg.sender, assets)
    extcall IMorphoFlashLoanCallback(msg.sender).onMorphoFlashLoan(assets, data)
    extcall IERC20(token).transferFrom(msg.sender, self, assets)
