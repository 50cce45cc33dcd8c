#pragma version ^0.4.0
"""
@title Non-rebasing wrapper stand-in: Lido wstETH and EtherFi weETH (one unit = one share).
@notice wrap mints getSharesByPooledEth(amount) and pulls the rebasing amount; unwrap burns
        and sends the shares back, as both protocols do.
"""

interface IRebasing:
    def getSharesByPooledEth(_ethAmount: uint256) -> uint256: view
    def getPooledEthByShares(_sharesAmount: uint256) -> uint256: view
    def transferFrom(_sender: address, _recipient: address, _amount: uint256) -> bool: nonpayable
    def transferShares(_recipient: address, _sharesAmount: uint256) -> uint256: nonpayable

name: public(String[32])
symbol: public(String[32])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
REBASING: public(immutable(address))


@deploy
def __init__(_rebasing: address, _name: String[32], _symbol: String[32]):
    REBASING = _rebasing
    self.name = _name
    self.symbol = _symbol
    self.decimals = 18


@internal
def _wrap(amount: uint256) -> uint256:
    assert amount > 0, "wrap zero"
    wrapped: uint256 = staticcall IRebasing(REBASING).getSharesByPooledEth(amount)
    assert wrapped > 0, "wrap zero shares"
    self.totalSupply += wrapped
    self.balanceOf[msg.sender] += wrapped
    extcall IRebasing(REBASING).transferFrom(msg.sender, self, amount)
    return wrapped


@internal
def _unwrap(amount: uint256) -> uint256:
    assert amount > 0, "unwrap zero"
    assert self.balanceOf[msg.sender] >= amount, "unwrap exceeds balance"
    self.balanceOf[msg.sender] -= amount
    self.totalSupply -= amount
    return extcall IRebasing(REBASING).transferShares(msg.sender, amount)


@external
def wrap(_amount: uint256) -> uint256:
    return self._wrap(_amount)


@external
def unwrap(_amount: uint256) -> uint256:
    return self._unwrap(_amount)


# Lido wstETH views
@external
@view
def getWstETHByStETH(_stETHAmount: uint256) -> uint256:
    return staticcall IRebasing(REBASING).getSharesByPooledEth(_stETHAmount)


@external
@view
def getStETHByWstETH(_wstETHAmount: uint256) -> uint256:
    return staticcall IRebasing(REBASING).getPooledEthByShares(_wstETHAmount)


@external
@view
def stEthPerToken() -> uint256:
    return staticcall IRebasing(REBASING).getPooledEthByShares(10**18)


# EtherFi weETH views
@external
@view
def getWeETHByeETH(_eETHAmount: uint256) -> uint256:
    return staticcall IRebasing(REBASING).getSharesByPooledEth(_eETHAmount)


@external
@view
def getEETHByWeETH(_weETHAmount: uint256) -> uint256:
    return staticcall IRebasing(REBASING).getPooledEthByShares(_weETHAmount)


@external
@view
def getRate() -> uint256:
    return staticcall IRebasing(REBASING).getPooledEthByShares(10**18)


@internal
def _transfer(src: address, dst: address, amount: uint256):
    assert self.balanceOf[src] >= amount, "transfer amount exceeds balance"
    self.balanceOf[src] -= amount
    self.balanceOf[dst] += amount


@external
def transfer(to: address, amount: uint256) -> bool:
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(src: address, dst: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[src][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "insufficient allowance"
        self.allowance[src][msg.sender] = allowed - amount
    self._transfer(src, dst, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True
