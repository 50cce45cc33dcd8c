#pragma version ^0.4.0
"""
@title Instadapp DSA (InstaImplementationM1) stand-in: cast(string[],bytes[],address).
@notice Resolves connector names through the connectors registry and delegatecalls each spell
        in order inside one transaction; any failing spell reverts the whole cast with the
        spell's own revert data, as the real DSA does.
"""

interface IConnectors:
    def isConnectors(_connectorNames: DynArray[String[32], MAX_SPELLS]) -> (bool, DynArray[address, MAX_SPELLS]): view

MAX_SPELLS: constant(uint256) = 10
MAX_SPELL_DATA: constant(uint256) = 4608

CONNECTORS: public(immutable(address))
auth: HashMap[address, bool]


@deploy
def __init__(connectors: address, owner: address):
    CONNECTORS = connectors
    self.auth[owner] = True


@external
@payable
def __default__():
    pass


@external
@view
def isAuth(user: address) -> bool:
    return self.auth[user]


@external
def enable(user: address):
    assert msg.sender == self, "not-self"
    self.auth[user] = True


@external
def disable(user: address):
    assert msg.sender == self, "not-self"
    self.auth[user] = False


@external
@payable
def cast(_targetNames: DynArray[String[32], MAX_SPELLS], _datas: DynArray[Bytes[MAX_SPELL_DATA], MAX_SPELLS], _origin: address) -> bytes32:
    assert self.auth[msg.sender], "1: permission-denied"
    assert len(_targetNames) != 0, "1: length-invalid"
    assert len(_targetNames) == len(_datas), "1: array-length-invalid"
    ok: bool = False
    targets: DynArray[address, MAX_SPELLS] = []
    ok, targets = staticcall IConnectors(CONNECTORS).isConnectors(_targetNames)
    assert ok, "1: not-connector"
    for i: uint256 in range(len(targets), bound=MAX_SPELLS):
        success: bool = False
        response: Bytes[256] = b""
        success, response = raw_call(targets[i], _datas[i], max_outsize=256, is_delegate_call=True, revert_on_failure=False)
        if not success:
            raw_revert(response)
    return keccak256("LogCast")
