"""
Addresses and limits of the on-chain module (one chain, one wallet, one DSA).

The same configuration shape points at mainnet contracts or at the local stand-ins: the module
speaks the protocols' ABIs either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from typing import Final

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator

from nautilus_ext.errors import InvalidConfig
from nautilus_ext.errors import describe_problems

GAS_LIMIT_BUFFER: Final[Decimal] = Decimal("1.2")
"""Gas limit = estimate × 1.2 (seed 000, "Execution Requirements")."""

_HEX = "0123456789abcdefABCDEF"


def _check_address(value: str) -> str:
    if not (len(value) == 42 and value.startswith("0x") and all(c in _HEX for c in value[2:])):
        # the value is not repeated: a private key pasted here must not reach a log
        raise ValueError(f"not a 0x-prefixed 20-byte hex address ({len(value)} characters)")
    return value


class TokenConfig(BaseModel):
    """
    An ERC-20 the module handles.

    Parameters
    ----------
    symbol : str
        Upper-case token symbol (``WETH``, ``WEETH``, ``USDT``).
    address : str
        Token contract address.
    decimals : int
        Token decimals.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    symbol: str = Field(min_length=1, max_length=16)
    address: str
    decimals: int = Field(ge=0, le=36)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _check_address(value)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError(f"token symbol {value!r} must be upper case")
        return value


class ConnectorNames(BaseModel):
    """
    Instadapp connector names the bundle builder casts (mainnet names by default).

    Parameters
    ----------
    aave_v3, weth, lido, wsteth, etherfi, weeth, swap, basic, flash : str
        Connector names in the DSA's connectors registry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    aave_v3: str = "AAVE-V3-A"
    weth: str = "WETH-A"
    lido: str = "LIDO-STETH-A"
    wsteth: str = "WSTETH-A"
    etherfi: str = "ETHERFI-A"
    weeth: str = "WEETH-A"
    swap: str = "UNISWAP-V2-A"
    basic: str = "BASIC-A"
    flash: str = "INSTAPOOL-C"


class LendingMarket(BaseModel):
    """
    Another AAVE-v3-compatible market a position can migrate to.

    Parameters
    ----------
    name : str
        Market name (``AAVE_V3_PRIME``).
    pool, oracle : str
        The market's Pool and price oracle.
    connector : str
        Instadapp connector bound to that pool.
    e_mode_category : int
        E-mode category for ETH-correlated positions in that market (0 for none).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str = Field(min_length=1)
    pool: str
    oracle: str
    connector: str = Field(min_length=1)
    e_mode_category: int = Field(default=0, ge=0, le=255)

    @field_validator("pool", "oracle")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return _check_address(value)


class OnchainConfig(BaseModel):
    """
    Contracts and limits for one chain.

    Parameters
    ----------
    chain : str
        Chain name as in instrument keys (``ETHEREUM``).
    chain_id : int
        EVM chain id.
    aave_pool, aave_oracle : str
        AAVE v3 Pool and price oracle.
    morpho : str
        Morpho Blue (flash loan liquidity).
    flash_aggregator : str
        Instadapp flash aggregator.
    flash_route : int
        Aggregator route for Morpho flash loans.
    dsa : str
        The wallet's Instadapp DSA.
    lido_steth, lido_wsteth : str
        Lido stETH and wstETH.
    etherfi_liquidity_pool, etherfi_eeth, etherfi_weeth : str
        EtherFi LiquidityPool, eETH and weETH.
    swap_router : str
        Uniswap-V2-style router for in-bundle swaps.
    tokens : tuple[TokenConfig, ...]
        ERC-20s by symbol; must include ``WETH``.
    connectors : ConnectorNames
        Connector names.
    e_mode_category : int
        AAVE e-mode category for ETH-correlated loops (0 for none).
    max_spells : int
        Largest spell list one cast may hold.
    markets : tuple[LendingMarket, ...]
        Other AAVE-v3-compatible markets positions may migrate to.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    chain: str = Field(min_length=1)
    chain_id: int = Field(gt=0)
    aave_pool: str
    aave_oracle: str
    morpho: str
    flash_aggregator: str
    flash_route: int = Field(ge=0)
    dsa: str
    lido_steth: str
    lido_wsteth: str
    etherfi_liquidity_pool: str
    etherfi_eeth: str
    etherfi_weeth: str
    swap_router: str
    tokens: tuple[TokenConfig, ...]
    connectors: ConnectorNames = ConnectorNames()
    e_mode_category: int = Field(default=0, ge=0, le=255)
    max_spells: int = Field(default=10, gt=0)
    markets: tuple[LendingMarket, ...] = ()

    @field_validator(
        "aave_pool",
        "aave_oracle",
        "morpho",
        "flash_aggregator",
        "dsa",
        "lido_steth",
        "lido_wsteth",
        "etherfi_liquidity_pool",
        "etherfi_eeth",
        "etherfi_weeth",
        "swap_router",
    )
    @classmethod
    def _addresses(cls, value: str) -> str:
        return _check_address(value)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> OnchainConfig:
        """
        Validate a mapping (a YAML or JSON document) into a config.

        Raises
        ------
        InvalidConfig
            Naming every failing field, never its value.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            raise InvalidConfig(f"invalid on-chain config: {describe_problems(e, 'config')}") from None

    @model_validator(mode="after")
    def _tokens_unique(self) -> OnchainConfig:
        symbols = [t.symbol for t in self.tokens]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"duplicate token symbols in {symbols}")
        if "WETH" not in symbols:
            raise ValueError("tokens must include WETH (flash loans and borrows are in WETH)")
        return self

    def market(self, name: str) -> LendingMarket:
        """
        Return the migration market called ``name``.

        Raises
        ------
        KeyError
            If no such market is configured.
        """
        for market in self.markets:
            if market.name == name:
                return market
        raise KeyError(f"market {name!r} is not configured; known: {[m.name for m in self.markets]}")

    def token(self, symbol: str) -> TokenConfig:
        """
        Return the token configured under ``symbol`` (case-insensitive).

        Raises
        ------
        KeyError
            If no token has that symbol.
        """
        wanted = symbol.upper()
        for token in self.tokens:
            if token.symbol == wanted:
                return token
        raise KeyError(f"token {symbol!r} is not configured; known: {[t.symbol for t in self.tokens]}")


__all__ = ["GAS_LIMIT_BUFFER", "ConnectorNames", "LendingMarket", "OnchainConfig", "TokenConfig"]
