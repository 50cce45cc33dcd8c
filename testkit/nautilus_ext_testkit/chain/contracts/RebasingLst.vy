#pragma version ^0.4.0
"""
@title Share-based rebasing LST stand-in: Lido stETH (submit) and EtherFi LiquidityPool+eETH
       (deposit) share math in one contract.
@notice Balances are shares * totalPooledEther / totalShares, rounded down, as in both
        protocols. `setTotalPooledEther` stands in for the protocols' oracle reports (rewards).
"""

name: public(String[32])
symbol: public(String[32])
decimals: public(uint8)
owner: public(address)
pooled_ether: uint256
total_shares: uint256
shares: HashMap[address, uint256]
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(_name: String[32], _symbol: String[32]):
    self.name = _name
    self.symbol = _symbol
    self.decimals = 18
    self.owner = msg.sender


@internal
@view
def _shares_for_amount(amount: uint256) -> uint256:
    if self.pooled_ether == 0:
        return amount
    return amount * self.total_shares // self.pooled_ether


@internal
@view
def _amount_for_shares(_shares: uint256) -> uint256:
    if self.total_shares == 0:
        return _shares
    return _shares * self.pooled_ether // self.total_shares


@internal
def _mint_for_eth(recipient: address, amount: uint256) -> uint256:
    assert amount != 0, "ZERO_DEPOSIT"
    minted: uint256 = self._shares_for_amount(amount)
    assert minted != 0, "ZERO_SHARES"
    self.total_shares += minted
    self.pooled_ether += amount
    self.shares[recipient] += minted
    return minted


# -- Lido stETH entry points -------------------------------------------------------------


@external
@payable
def submit(_referral: address) -> uint256:
    return self._mint_for_eth(msg.sender, msg.value)


@external
@view
def getSharesByPooledEth(_ethAmount: uint256) -> uint256:
    return self._shares_for_amount(_ethAmount)


@external
@view
def getPooledEthByShares(_sharesAmount: uint256) -> uint256:
    return self._amount_for_shares(_sharesAmount)


@external
@view
def getTotalPooledEther() -> uint256:
    return self.pooled_ether


@external
@view
def getTotalShares() -> uint256:
    return self.total_shares


@external
@view
def totalShares() -> uint256:
    return self.total_shares


@external
@view
def sharesOf(_account: address) -> uint256:
    return self.shares[_account]


# -- EtherFi LiquidityPool entry points --------------------------------------------------


@external
@payable
def deposit() -> uint256:
    return self._mint_for_eth(msg.sender, msg.value)


@external
@view
def sharesForAmount(_amount: uint256) -> uint256:
    return self._shares_for_amount(_amount)


@external
@view
def amountForShare(_share: uint256) -> uint256:
    return self._amount_for_shares(_share)


# -- rebases (stand-in for oracle reports) ------------------------------------------------


@external
def setTotalPooledEther(_total: uint256):
    assert msg.sender == self.owner, "only owner"
    assert self.total_shares != 0, "empty pool"
    self.pooled_ether = _total


# -- ERC-20 over shares --------------------------------------------------------------------


@external
@view
def totalSupply() -> uint256:
    return self.pooled_ether


@external
@view
def balanceOf(_account: address) -> uint256:
    return self._amount_for_shares(self.shares[_account])


@internal
def _transfer_shares(src: address, dst: address, _shares: uint256):
    assert self.shares[src] >= _shares, "BALANCE_EXCEEDED"
    self.shares[src] -= _shares
    self.shares[dst] += _shares


@external
def transfer(_recipient: address, _amount: uint256) -> bool:
    self._transfer_shares(msg.sender, _recipient, self._shares_for_amount(_amount))
    return True


@external
def transferFrom(_sender: address, _recipient: address, _amount: uint256) -> bool:
    allowed: uint256 = self.allowance[_sender][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= _amount, "ALLOWANCE_EXCEEDED"
        self.allowance[_sender][msg.sender] = allowed - _amount
    self._transfer_shares(_sender, _recipient, self._shares_for_amount(_amount))
    return True


@external
def transferShares(_recipient: address, _sharesAmount: uint256) -> uint256:
    self._transfer_shares(msg.sender, _recipient, _sharesAmount)
    return self._amount_for_shares(_sharesAmount)


@external
def approve(_spender: address, _amount: uint256) -> bool:
    self.allowance[msg.sender][_spender] = _amount
    return True
