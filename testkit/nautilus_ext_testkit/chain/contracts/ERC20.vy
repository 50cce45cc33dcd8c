#pragma version ^0.4.0
"""
@title Mintable ERC-20 stand-in (USDT-like and generic tokens) for local EVM tests.
"""

name: public(String[32])
symbol: public(String[32])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
owner: public(address)


@deploy
def __init__(_name: String[32], _symbol: String[32], _decimals: uint8):
    self.name = _name
    self.symbol = _symbol
    self.decimals = _decimals
    self.owner = msg.sender


@external
def mint(to: address, amount: uint256):
    assert msg.sender == self.owner, "ERC20: only owner mints"
    self.totalSupply += amount
    self.balanceOf[to] += amount


@internal
def _transfer(src: address, dst: address, amount: uint256):
    assert self.balanceOf[src] >= amount, "ERC20: transfer amount exceeds balance"
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
        assert allowed >= amount, "ERC20: insufficient allowance"
        self.allowance[src][msg.sender] = allowed - amount
    self._transfer(src, dst, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True
