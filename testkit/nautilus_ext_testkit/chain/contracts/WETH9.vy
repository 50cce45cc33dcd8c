#pragma version ^0.4.0
"""
@title WETH9 stand-in: wrap ETH 1:1 (deposit/withdraw as in WETH9).
"""

name: public(String[32])
symbol: public(String[32])
decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__():
    self.name = "Wrapped Ether"
    self.symbol = "WETH"
    self.decimals = 18


@external
@view
def totalSupply() -> uint256:
    return self.balance


@external
@payable
def deposit():
    self.balanceOf[msg.sender] += msg.value


@external
def withdraw(wad: uint256):
    assert self.balanceOf[msg.sender] >= wad, "WETH: insufficient balance"
    self.balanceOf[msg.sender] -= wad
    send(msg.sender, wad)


@internal
def _transfer(src: address, dst: address, amount: uint256):
    assert self.balanceOf[src] >= amount, "WETH: insufficient balance"
    self.balanceOf[src] -= amount
    self.balanceOf[dst] += amount


@external
def transfer(to: address, amount: uint256) -> bool:
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(src: address, dst: address, amount: uint256) -> bool:
    if src != msg.sender:
        allowed: uint256 = self.allowance[src][msg.sender]
        if allowed != max_value(uint256):
            assert allowed >= amount, "WETH: insufficient allowance"
            self.allowance[src][msg.sender] = allowed - amount
    self._transfer(src, dst, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True
