#pragma version ^0.4.0
"""
@title REPRODUCTION of Curve's plain-pool stableswap pricing (get_D, get_y, get_dy), 2 coins
@notice This is NOT Curve's bytecode: no Curve pool bytecode is published on a registry reachable
        here. It re-states, in Vyper on the EVM, the algorithm of Curve's plain pool template
        (StableSwap3Pool.vy generation, with the later templates' A_PRECISION as a parameter):
        balances normalised by RATES, Newton iterations on D and y with integer division and the
        |difference| <= 1 stop, the fee taken from the output. Tests use it to check that the
        Python model computes the same integers under EVM uint256 arithmetic; it cannot catch a
        misreading of Curve's source.
"""

N_COINS: constant(uint256) = 2
PRECISION: constant(uint256) = 10 ** 18
FEE_DENOMINATOR: constant(uint256) = 10 ** 10

balances: public(uint256[N_COINS])
rates: public(uint256[N_COINS])
amp: public(uint256)
a_precision: public(uint256)
fee: public(uint256)


@deploy
def __init__(_balances: uint256[N_COINS], _rates: uint256[N_COINS], _amp: uint256, _a_precision: uint256, _fee: uint256):
    self.balances = _balances
    self.rates = _rates
    self.amp = _amp
    self.a_precision = _a_precision
    self.fee = _fee


@view
@internal
def _xp() -> uint256[N_COINS]:
    result: uint256[N_COINS] = self.rates
    for i: uint256 in range(N_COINS):
        result[i] = result[i] * self.balances[i] // PRECISION
    return result


@pure
@internal
def _get_D(xp: uint256[N_COINS], amp: uint256, a_prec: uint256) -> uint256:
    S: uint256 = 0
    for _x: uint256 in xp:
        S += _x
    if S == 0:
        return 0
    Dprev: uint256 = 0
    D: uint256 = S
    Ann: uint256 = amp * N_COINS
    for _i: uint256 in range(255):
        D_P: uint256 = D
        for _x: uint256 in xp:
            D_P = D_P * D // (_x * N_COINS)
        Dprev = D
        D = (Ann * S // a_prec + D_P * N_COINS) * D // ((Ann - a_prec) * D // a_prec + (N_COINS + 1) * D_P)
        if D > Dprev:
            if D - Dprev <= 1:
                return D
        else:
            if Dprev - D <= 1:
                return D
    raise "D"


@view
@internal
def _get_y(i: uint256, j: uint256, x: uint256, xp: uint256[N_COINS]) -> uint256:
    amp: uint256 = self.amp
    a_prec: uint256 = self.a_precision
    D: uint256 = self._get_D(xp, amp, a_prec)
    Ann: uint256 = amp * N_COINS
    c: uint256 = D
    S_: uint256 = 0
    _x: uint256 = 0
    for _i: uint256 in range(N_COINS):
        if _i == i:
            _x = x
        elif _i != j:
            _x = xp[_i]
        else:
            continue
        S_ += _x
        c = c * D // (_x * N_COINS)
    c = c * D * a_prec // (Ann * N_COINS)
    b: uint256 = S_ + D * a_prec // Ann
    y_prev: uint256 = 0
    y: uint256 = D
    for _i: uint256 in range(255):
        y_prev = y
        y = (y * y + c) // (2 * y + b - D)
        if y > y_prev:
            if y - y_prev <= 1:
                return y
        else:
            if y_prev - y <= 1:
                return y
    raise "y"


@view
@external
def get_dy(i: uint256, j: uint256, dx: uint256) -> uint256:
    xp: uint256[N_COINS] = self._xp()
    x: uint256 = xp[i] + (dx * self.rates[i] // PRECISION)
    y: uint256 = self._get_y(i, j, x, xp)
    dy: uint256 = (xp[j] - y - 1) * PRECISION // self.rates[j]
    _fee: uint256 = self.fee * dy // FEE_DENOMINATOR
    return dy - _fee
