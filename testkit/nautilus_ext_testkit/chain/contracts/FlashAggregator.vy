#pragma version ^0.4.0
"""
@title InstaFlashAggregator stand-in: flashLoan(address[],uint256[],uint256,bytes,bytes) over a
       Morpho flash lender (one token, zero fee).
@notice Sends the loan to the DSA, casts the encoded (string[], bytes[]) spells on it, checks
        the loan came back and lets Morpho pull it.
"""

interface IERC20:
    def balanceOf(owner: address) -> uint256: view
    def transfer(to: address, amount: uint256) -> bool: nonpayable
    def approve(spender: address, amount: uint256) -> bool: nonpayable

interface IMorpho:
    def flashLoan(token: address, assets: uint256, data: Bytes[8192]): nonpayable

interface IAccount:
    def cast(_targetNames: DynArray[String[32], 10], _datas: DynArray[Bytes[4608], 10], _origin: address) -> bytes32: payable

ROUTE_MORPHO: public(constant(uint256)) = 10
MORPHO: public(immutable(address))
active_sender: address
active_token: address


@deploy
def __init__(morpho: address):
    MORPHO = morpho


@external
def flashLoan(_tokens: DynArray[address, 1], _amounts: DynArray[uint256, 1], _route: uint256, _data: Bytes[4096], _instadata: Bytes[64]):
    assert _route == ROUTE_MORPHO, "route-does-not-exist"
    assert len(_tokens) == 1 and len(_amounts) == 1, "one token per loan in the stand-in"
    assert self.active_sender == empty(address), "reentrant flash loan"
    self.active_sender = msg.sender
    self.active_token = _tokens[0]
    extcall IMorpho(MORPHO).flashLoan(_tokens[0], _amounts[0], _data)
    self.active_sender = empty(address)
    self.active_token = empty(address)


@external
def onMorphoFlashLoan(assets: uint256, data: Bytes[8192]):
    assert msg.sender == MORPHO, "not-morpho"
    sender: address = self.active_sender
    assert sender != empty(address), "no active flash loan"
    token: address = self.active_token
    balance_before: uint256 = staticcall IERC20(token).balanceOf(self)
    extcall IERC20(token).transfer(sender, assets)
    targets: DynArray[String[32], 10] = []
    datas: DynArray[Bytes[320], 10] = []
    targets, datas = abi_decode(data, (DynArray[String[32], 10], DynArray[Bytes[320], 10]))
    extcall IAccount(sender).cast(targets, datas, sender)
    assert staticcall IERC20(token).balanceOf(self) >= balance_before, "amount-paid-less"
    extcall IERC20(token).approve(MORPHO, assets)
