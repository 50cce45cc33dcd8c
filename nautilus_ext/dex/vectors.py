"""
Replay Uniswap v3-core's swap-vector snapshot with the pure math.

The snapshot (``test/__snapshots__/UniswapV3Pool.swaps.vectors.json`` in ``Uniswap/v3-core``)
records, for each test named ``"UniswapV3Pool swap tests <pool set-up> <swap> <n>"``, the pool
balances, price, tick and fee growth before and after one swap, or the revert message. The set-ups
are those of ``test/UniswapV3Pool.swaps.spec.ts``: fifteen pools (fee tier, starting price,
minted positions) and sixteen default swaps. This module rebuilds each pool with
:func:`~nautilus_ext.dex.uniswap_v3.initialize`/:func:`~nautilus_ext.dex.uniswap_v3.mint`, runs
the swap with :func:`~nautilus_ext.dex.uniswap_v3.swap`, formats the outcome the way the test
formats it (``decimal.js`` ``toPrecision(5)``), and compares field by field. An expected revert
matches when the math refuses the swap with the same reason.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR
from decimal import ROUND_HALF_UP
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.uniswap_v3 import V3PoolState
from nautilus_ext.dex.uniswap_v3 import initialize
from nautilus_ext.dex.uniswap_v3 import max_liquidity_per_tick
from nautilus_ext.dex.uniswap_v3 import mint
from nautilus_ext.dex.uniswap_v3 import swap
from nautilus_ext.dex.v3_math import MAX_INT256
from nautilus_ext.dex.v3_math import MAX_SQRT_RATIO
from nautilus_ext.dex.v3_math import MAX_TICK
from nautilus_ext.dex.v3_math import MIN_SQRT_RATIO
from nautilus_ext.dex.v3_math import MIN_TICK
from nautilus_ext.errors import InvalidConfig

TEST_PREFIX: Final[str] = "UniswapV3Pool swap tests "
E18: Final[int] = 10**18
LOW, MEDIUM, HIGH = 500, 3000, 10000
SPACING: Final[dict[int, int]] = {LOW: 10, MEDIUM: 60, HIGH: 200}
SUCCESS_FIELDS: Final[tuple[str, ...]] = (
    "amount0Before",
    "amount1Before",
    "amount0Delta",
    "amount1Delta",
    "feeGrowthGlobal0X128Delta",
    "feeGrowthGlobal1X128Delta",
    "tickBefore",
    "poolPriceBefore",
    "tickAfter",
    "poolPriceAfter",
    "executionPrice",
)
ERROR_FIELDS: Final[tuple[str, ...]] = (
    "swapError",
    "poolBalance0",
    "poolBalance1",
    "poolPriceBefore",
    "tickBefore",
)


# -- the number formatting of the test suite -----------------------------------------------------


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """
    The test suite's ``encodePriceSqrt``: ``floor(sqrt(r1 / r0) * 2**96)`` in bignumber.js with
    40 decimal places (each of the division and the square root rounded half-up to 40 places).
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 300
        places = Decimal(1).scaleb(-40)
        ratio = (Decimal(reserve1) / Decimal(reserve0)).quantize(places, ROUND_HALF_UP)
        root = ratio.sqrt().quantize(places, ROUND_HALF_UP)
        return int((root * (2**96)).to_integral_value(ROUND_FLOOR))


def to_precision5(value: Decimal) -> str:
    """decimal.js ``toPrecision(5)`` (half-up; exponent form when the exponent is >= 5)."""
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "-Infinity" if value < 0 else "Infinity"
    if value == 0:
        return "0.0000"
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        ctx.rounding = ROUND_HALF_UP
        rounded = +value
    sign, digits, exp = rounded.as_tuple()
    assert isinstance(exp, int)
    text = "".join(str(d) for d in digits).ljust(5, "0")[:5]
    e = len(digits) + exp - 1  # exponent of the leading digit
    if e >= 5:
        body = f"{text[0]}.{text[1:]}e+{e}"
    elif e >= 0:
        body = f"{text[: e + 1]}.{text[e + 1 :]}" if e < 4 else f"{text}."
        body = body.rstrip(".")
    else:
        body = "0." + "0" * (-e - 1) + text
    return ("-" if sign else "") + body


def format_price(sqrt_price_x96: int) -> str:
    """The test suite's ``formatPrice``: ``(sqrtP / 2**96) ** 2`` in decimal.js (20 digits), 5 shown."""
    with decimal.localcontext() as ctx:
        ctx.prec = 20
        ctx.rounding = ROUND_HALF_UP
        q = Decimal(2) ** 96
        x = Decimal(sqrt_price_x96) / q
        return to_precision5(x**2)


def format_token_amount(amount: int) -> str:
    """The test suite's ``formatTokenAmount``: ``amount / 1e18`` with 5 significant digits."""
    with decimal.localcontext() as ctx:
        ctx.prec = 20
        ctx.rounding = ROUND_HALF_UP
        return to_precision5(Decimal(amount) / Decimal(E18))


def execution_price(amount0: int, amount1: int) -> str:
    """``-amount1Delta / amount0Delta`` formatted like the test (``NaN``/``-Infinity`` for zeros)."""
    if amount0 == 0:
        if amount1 == 0:
            return "NaN"
        return "-Infinity" if amount1 > 0 else "Infinity"
    with decimal.localcontext() as ctx:
        ctx.prec = 20
        ctx.rounding = ROUND_HALF_UP
        return to_precision5((Decimal(amount1) / Decimal(amount0)) * -1)


# -- the set-ups of UniswapV3Pool.swaps.spec.ts -------------------------------------------------


def min_tick(spacing: int) -> int:
    """``getMinTick``: ``ceil(MIN_TICK / spacing) * spacing``."""
    return -((-MIN_TICK) // spacing) * spacing


def max_tick(spacing: int) -> int:
    """``getMaxTick``: ``floor(MAX_TICK / spacing) * spacing``."""
    return (MAX_TICK // spacing) * spacing


@dataclass(frozen=True, slots=True)
class PoolSetup:
    """One pool of the test suite: fee tier, starting price and minted positions."""

    description: str
    fee: int
    start_sqrt_price_x96: int
    positions: tuple[tuple[int, int, int], ...]
    """``(tick_lower, tick_upper, liquidity)``."""

    def build(self) -> tuple[V3PoolState, int, int]:
        """Initialize the pool, mint every position; return it and the pool's token balances."""
        state = initialize(self.start_sqrt_price_x96, self.fee, SPACING[self.fee])
        balance0 = balance1 = 0
        for lower, upper, liquidity in self.positions:
            state, amount0, amount1 = mint(state, lower, upper, liquidity)
            balance0 += amount0
            balance1 += amount1
        return state, balance0, balance1


def _full_range(fee: int, liquidity: int = 2 * E18) -> tuple[int, int, int]:
    return (min_tick(SPACING[fee]), max_tick(SPACING[fee]), liquidity)


def pool_setups() -> tuple[PoolSetup, ...]:
    """The fifteen ``TEST_POOLS`` of the v3-core swap tests."""
    m = SPACING[MEDIUM]
    one = encode_price_sqrt(1, 1)
    return (
        PoolSetup("low fee, 1:1 price, 2e18 max range liquidity", LOW, one, (_full_range(LOW),)),
        PoolSetup("medium fee, 1:1 price, 2e18 max range liquidity", MEDIUM, one, (_full_range(MEDIUM),)),
        PoolSetup("high fee, 1:1 price, 2e18 max range liquidity", HIGH, one, (_full_range(HIGH),)),
        PoolSetup(
            "medium fee, 10:1 price, 2e18 max range liquidity",
            MEDIUM,
            encode_price_sqrt(10, 1),
            (_full_range(MEDIUM),),
        ),
        PoolSetup(
            "medium fee, 1:10 price, 2e18 max range liquidity",
            MEDIUM,
            encode_price_sqrt(1, 10),
            (_full_range(MEDIUM),),
        ),
        PoolSetup(
            "medium fee, 1:1 price, 0 liquidity, all liquidity around current price",
            MEDIUM,
            one,
            ((min_tick(m), -m, 2 * E18), (m, max_tick(m), 2 * E18)),
        ),
        PoolSetup(
            "medium fee, 1:1 price, additional liquidity around current price",
            MEDIUM,
            one,
            (_full_range(MEDIUM), (min_tick(m), -m, 2 * E18), (m, max_tick(m), 2 * E18)),
        ),
        PoolSetup(
            "low fee, large liquidity around current price (stable swap)",
            LOW,
            one,
            ((-SPACING[LOW], SPACING[LOW], 2 * E18),),
        ),
        PoolSetup("medium fee, token0 liquidity only", MEDIUM, one, ((0, 2000 * m, 2 * E18),)),
        PoolSetup("medium fee, token1 liquidity only", MEDIUM, one, ((-2000 * m, 0, 2 * E18),)),
        PoolSetup("close to max price", MEDIUM, encode_price_sqrt(2**127, 1), (_full_range(MEDIUM),)),
        PoolSetup("close to min price", MEDIUM, encode_price_sqrt(1, 2**127), (_full_range(MEDIUM),)),
        PoolSetup(
            "max full range liquidity at 1:1 price with default fee",
            MEDIUM,
            one,
            (_full_range(MEDIUM, max_liquidity_per_tick(m)),),
        ),
        PoolSetup("initialized at the max ratio", MEDIUM, MAX_SQRT_RATIO - 1, (_full_range(MEDIUM),)),
        PoolSetup("initialized at the min ratio", MEDIUM, MIN_SQRT_RATIO, (_full_range(MEDIUM),)),
    )


@dataclass(frozen=True, slots=True)
class SwapCase:
    """
    One swap test: direction, exact-in/out/to-price, amount and optional price limit.

    ``exact_out`` is ``None`` for a swap to a price (``swapToLowerPrice``/``swapToHigherPrice``).
    """

    zero_for_one: bool
    exact_out: bool | None
    amount: int
    sqrt_price_limit: int | None

    @property
    def description(self) -> str:
        """The test's name for the swap (``swapCaseToDescription``)."""
        price = (
            f" to price {format_price(self.sqrt_price_limit)}" if self.sqrt_price_limit is not None else ""
        )
        amount = format_token_amount(self.amount)
        if self.exact_out is None:
            return f"swap token0 for token1{price}" if self.zero_for_one else f"swap token1 for token0{price}"
        if self.exact_out:
            if self.zero_for_one:
                return f"swap token0 for exactly {amount} token1{price}"
            return f"swap token1 for exactly {amount} token0{price}"
        if self.zero_for_one:
            return f"swap exactly {amount} token0 for token1{price}"
        return f"swap exactly {amount} token1 for token0{price}"

    def run(self, state: V3PoolState) -> Any:
        """Run the swap as ``TestUniswapV3Callee`` sends it to the pool."""
        if self.exact_out is None:
            return swap(state, self.zero_for_one, MAX_INT256, self.sqrt_price_limit)
        limit = self.sqrt_price_limit
        if limit is None:
            limit = MIN_SQRT_RATIO + 1 if self.zero_for_one else MAX_SQRT_RATIO - 1
        return swap(state, self.zero_for_one, -self.amount if self.exact_out else self.amount, limit)


def default_swap_cases() -> tuple[SwapCase, ...]:
    """The sixteen ``DEFAULT_POOL_SWAP_TESTS``."""
    down, up = encode_price_sqrt(50, 100), encode_price_sqrt(200, 100)
    cases: list[SwapCase] = []
    for limit_down, limit_up in ((None, None), (down, up)):
        cases += [
            SwapCase(True, False, E18, limit_down),
            SwapCase(False, False, E18, limit_up),
            SwapCase(True, True, E18, limit_down),
            SwapCase(False, True, E18, limit_up),
        ]
    cases += [
        SwapCase(True, False, 1000, None),
        SwapCase(False, False, 1000, None),
        SwapCase(True, True, 1000, None),
        SwapCase(False, True, 1000, None),
    ]
    p52, p25 = encode_price_sqrt(5, 2), encode_price_sqrt(2, 5)
    cases += [
        SwapCase(False, None, 0, p52),
        SwapCase(True, None, 0, p25),
        SwapCase(True, None, 0, p52),
        SwapCase(False, None, 0, p25),
    ]
    return tuple(cases)


def catalogue() -> dict[str, tuple[PoolSetup, SwapCase]]:
    """Test name (without the snapshot counter) -> (pool set-up, swap)."""
    return {
        f"{TEST_PREFIX}{pool.description} {case.description}": (pool, case)
        for pool in pool_setups()
        for case in default_swap_cases()
    }


# -- replay ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One vector compared: its name, whether it matched, and the fields that differ."""

    name: str
    matched: bool
    differences: tuple[tuple[str, str, str], ...]
    """``(field, expected, ours)``."""
    note: str = ""

    def line(self) -> str:
        """One line for the console."""
        if self.matched:
            return f"match     {self.name}"
        detail = "; ".join(f"{f}: expected {e!r}, got {o!r}" for f, e, o in self.differences)
        return f"mismatch  {self.name}: {self.note or detail}"


def replay_case(pool: PoolSetup, case: SwapCase) -> dict[str, str]:
    """Rebuild the pool, run the swap and describe the outcome in the snapshot's fields."""
    state, balance0, balance1 = pool.build()
    before = {"poolPriceBefore": format_price(state.sqrt_price_x96), "tickBefore": str(state.tick)}
    try:
        result = case.run(state)
    except SwapRefused as e:
        return {
            "swapError": e.reason,
            "poolBalance0": str(balance0),
            "poolBalance1": str(balance1),
            **before,
        }
    return {
        "amount0Before": str(balance0),
        "amount1Before": str(balance1),
        "amount0Delta": str(result.amount0),
        "amount1Delta": str(result.amount1),
        "feeGrowthGlobal0X128Delta": str(
            state.fee_growth_global0_x128 + result.fee_growth_global0_delta_x128
        ),
        "feeGrowthGlobal1X128Delta": str(
            state.fee_growth_global1_x128 + result.fee_growth_global1_delta_x128
        ),
        **before,
        "tickAfter": str(result.tick),
        "poolPriceAfter": format_price(result.sqrt_price_x96),
        "executionPrice": execution_price(result.amount0, result.amount1),
    }


def _revert_reason(message: str) -> str:
    marker = "revert "
    return message[message.rindex(marker) + len(marker) :].strip() if marker in message else message.strip()


def _base_name(name: str) -> str:
    head, _, counter = name.rpartition(" ")
    return head if counter.isdigit() and head else name


def compare(name: str, expected: dict[str, Any], ours: dict[str, str]) -> CaseResult:
    """Compare one snapshot entry with our replay."""
    expected_error = "swapError" in expected
    fields = ERROR_FIELDS if expected_error else SUCCESS_FIELDS
    if expected_error != ("swapError" in ours):
        want = f"revert {_revert_reason(str(expected['swapError']))}" if expected_error else "success"
        got = f"revert {ours['swapError']}" if "swapError" in ours else "success"
        return CaseResult(name, False, (("swapError", want, got),))
    differences = []
    for f in fields:
        want = str(expected[f])
        if f == "swapError":
            want = _revert_reason(want)
        if want != ours[f]:
            differences.append((f, want, ours[f]))
    return CaseResult(name, not differences, tuple(differences))


def load_vectors(path: str | Path) -> dict[str, dict[str, Any]]:
    """
    Read and check a swap-vector file.

    Raises
    ------
    InvalidConfig
        The file is missing, not JSON, or an entry lacks a field of the snapshot format.
    """
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidConfig(f"swap-vector file {p} does not exist") from None
    except UnicodeDecodeError as e:
        raise InvalidConfig(f"swap-vector file {p} is not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise InvalidConfig(f"swap-vector file {p} is not JSON: {e.msg} at line {e.lineno}") from None
    except OSError as e:
        raise InvalidConfig(f"cannot read swap-vector file {p}: {e.strerror or e}") from None
    if not isinstance(raw, dict) or not raw:
        raise InvalidConfig(f"swap-vector file {p} must be a non-empty JSON object of test name -> result")
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise InvalidConfig(f"swap-vector {name!r} is not an object")
        fields = ERROR_FIELDS if "swapError" in entry else SUCCESS_FIELDS
        missing = [f for f in fields if f not in entry]
        if missing:
            raise InvalidConfig(f"swap-vector {name!r} lacks field(s) {', '.join(missing)}")
        for f in fields:
            if not isinstance(entry[f], (str, int)) or isinstance(entry[f], bool):
                raise InvalidConfig(f"swap-vector {name!r} field {f} must be a string or integer")
    return raw


def check_vectors(path: str | Path) -> Iterator[CaseResult]:
    """Replay every vector of the file; yield one :class:`CaseResult` per case, in file order."""
    vectors = load_vectors(path)
    known = catalogue()
    for name, expected in vectors.items():
        setup = known.get(_base_name(name))
        if setup is None:
            yield CaseResult(
                name, False, (), note="unknown test name: no pool set-up of UniswapV3Pool.swaps.spec.ts"
            )
            continue
        pool, case = setup
        yield compare(name, expected, replay_case(pool, case))


__all__ = [
    "CaseResult",
    "PoolSetup",
    "SwapCase",
    "catalogue",
    "check_vectors",
    "default_swap_cases",
    "encode_price_sqrt",
    "execution_price",
    "format_price",
    "format_token_amount",
    "load_vectors",
    "pool_setups",
    "replay_case",
    "to_precision5",
]
