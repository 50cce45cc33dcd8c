#pragma version ^0.4.0
"""
@title InstaConnectorsV2 stand-in: connector name -> implementation address.
"""

MAX_SPELLS: constant(uint256) = 10

owner: public(address)
connectors: public(HashMap[String[32], address])


@deploy
def __init__():
    self.owner = msg.sender


@external
def addConnectors(_connectorNames: DynArray[String[32], MAX_SPELLS], _connectors: DynArray[address, MAX_SPELLS]):
    assert msg.sender == self.owner, "only owner"
    assert len(_connectorNames) == len(_connectors), "addConnectors: not same length"
    for i: uint256 in range(len(_connectorNames), bound=MAX_SPELLS):
        assert self.connectors[_connectorNames[i]] == empty(address), "addConnectors: _connectorName added already"
        self.connectors[_connectorNames[i]] = _connectors[i]


@external
@view
def isConnectors(_connectorNames: DynArray[String[32], MAX_SPELLS]) -> (bool, DynArray[address, MAX_SPELLS]):
    addrs: DynArray[address, MAX_SPELLS] = []
    ok: bool = True
    for name: String[32] in _connectorNames:
        target: address = self.connectors[name]
        if target == empty(address):
            ok = False
        addrs.append(target)
    return ok, addrs
