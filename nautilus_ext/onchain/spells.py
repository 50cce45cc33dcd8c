"""
Instadapp spells: a connector name plus the ABI-encoded call the DSA delegatecalls.

Connector signatures are those of the mainnet connectors (``AAVE-V3-A``, ``INSTAPOOL-C``,
``WETH-A``, ``LIDO-STETH-A``, ``UNISWAP-V2-A``, ``BASIC-A``). ``amt = 2**256 - 1`` means "the
whole balance" for connectors that support it; ``getId``/``setId`` are always 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Final

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from nautilus_ext.errors import InvalidOrder

MAX_UINT256: Final[int] = 2**256 - 1
VARIABLE_RATE_MODE: Final[int] = 2


def _arg_types(signature: str) -> list[str]:
    if "(" not in signature or not signature.endswith(")"):
        raise InvalidOrder(f"connector signature {signature!r} is not name(type,...)")
    inner = signature[signature.index("(") + 1 : -1]
    return [t for t in inner.split(",") if t] if inner else []


@dataclass(frozen=True, slots=True)
class Spell:
    """
    One connector call of a cast.

    Parameters
    ----------
    connector : str
        Connector name in the registry (``AAVE-V3-A``).
    signature : str
        Connector function signature (``deposit(address,uint256,uint256,uint256)``).
    args : tuple
        Arguments matching the signature.
    """

    connector: str
    signature: str
    args: tuple[Any, ...]

    def __post_init__(self) -> None:
        types = _arg_types(self.signature)
        if len(types) != len(self.args):
            raise InvalidOrder(
                f"spell {self.connector}.{self.signature} takes {len(types)} arguments, got {len(self.args)}"
            )

    @property
    def calldata(self) -> bytes:
        """Selector plus ABI-encoded arguments."""
        selector = function_signature_to_4byte_selector(self.signature)
        return bytes(selector) + abi_encode(_arg_types(self.signature), list(self.args))


def encode_cast_args(spells: Sequence[Spell]) -> tuple[list[str], list[bytes]]:
    """Return ``(_targetNames, _datas)`` for ``cast`` from a spell list."""
    if not spells:
        raise InvalidOrder("a cast needs at least one spell")
    return [s.connector for s in spells], [s.calldata for s in spells]


def aave_deposit(connector: str, token: str, amount: int) -> Spell:
    """``AAVE-V3-A.deposit(token, amt, 0, 0)``."""
    return Spell(connector, "deposit(address,uint256,uint256,uint256)", (token, amount, 0, 0))


def aave_withdraw(connector: str, token: str, amount: int) -> Spell:
    """``AAVE-V3-A.withdraw(token, amt, 0, 0)``."""
    return Spell(connector, "withdraw(address,uint256,uint256,uint256)", (token, amount, 0, 0))


def aave_borrow(connector: str, token: str, amount: int) -> Spell:
    """``AAVE-V3-A.borrow(token, amt, 2, 0, 0)`` (variable rate)."""
    return Spell(
        connector,
        "borrow(address,uint256,uint256,uint256,uint256)",
        (token, amount, VARIABLE_RATE_MODE, 0, 0),
    )


def aave_payback(connector: str, token: str, amount: int) -> Spell:
    """``AAVE-V3-A.payback(token, amt, 2, 0, 0)`` (variable rate)."""
    return Spell(
        connector,
        "payback(address,uint256,uint256,uint256,uint256)",
        (token, amount, VARIABLE_RATE_MODE, 0, 0),
    )


def aave_set_emode(connector: str, category: int) -> Spell:
    """``AAVE-V3-A.setUserEMode(categoryId)``."""
    return Spell(connector, "setUserEMode(uint8)", (category,))


def amount_spell(connector: str, function: str, amount: int) -> Spell:
    """``<connector>.<function>(amt, 0, 0)`` (WETH-A, LIDO-STETH-A, ETHERFI-A, wrappers)."""
    return Spell(connector, f"{function}(uint256,uint256,uint256)", (amount, 0, 0))


def swap_sell(connector: str, buy: str, sell: str, sell_amount: int, unit_amount: int) -> Spell:
    """``UNISWAP-V2-A.sell(buyAddr, sellAddr, sellAmt, unitAmt, 0, 0)``."""
    return Spell(
        connector,
        "sell(address,address,uint256,uint256,uint256,uint256)",
        (buy, sell, sell_amount, unit_amount, 0, 0),
    )


def basic_deposit(connector: str, token: str, amount: int) -> Spell:
    """``BASIC-A.deposit(token, amt, 0, 0)``: pull tokens from the caster into the DSA."""
    return Spell(connector, "deposit(address,uint256,uint256,uint256)", (token, amount, 0, 0))


def basic_withdraw(connector: str, token: str, amount: int, to: str) -> Spell:
    """``BASIC-A.withdraw(token, amt, to, 0, 0)``: send tokens from the DSA."""
    return Spell(connector, "withdraw(address,uint256,address,uint256,uint256)", (token, amount, to, 0, 0))


def flash_payback(connector: str, token: str, amount: int) -> Spell:
    """``INSTAPOOL-C.flashPayback(token, amt, 0, 0)``."""
    return Spell(connector, "flashPayback(address,uint256,uint256,uint256)", (token, amount, 0, 0))


def flash_borrow_and_cast(
    connector: str, token: str, amount: int, route: int, inner: Sequence[Spell]
) -> Spell:
    """
    ``INSTAPOOL-C.flashBorrowAndCast(token, amt, route, data, extraData)``.

    ``data`` is ``abi.encode(string[] targets, bytes[] datas)`` of the inner spells, which the
    flash aggregator casts back on the DSA while it holds the loan.
    """
    if any(s.signature.startswith("flashBorrowAndCast(") for s in inner):
        raise InvalidOrder("a flash loan cannot nest another flash loan")
    names, datas = encode_cast_args(inner)
    data = abi_encode(["string[]", "bytes[]"], [names, datas])
    return Spell(
        connector,
        "flashBorrowAndCast(address,uint256,uint256,bytes,bytes)",
        (token, amount, route, data, b""),
    )


__all__ = [
    "MAX_UINT256",
    "VARIABLE_RATE_MODE",
    "Spell",
    "aave_borrow",
    "aave_deposit",
    "aave_payback",
    "aave_set_emode",
    "aave_withdraw",
    "amount_spell",
    "basic_deposit",
    "basic_withdraw",
    "encode_cast_args",
    "flash_borrow_and_cast",
    "flash_payback",
    "swap_sell",
]
