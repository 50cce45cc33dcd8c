"""
Uniswap V3 pool state and swaps across initialized ticks, as ``UniswapV3Pool.swap`` computes them.

A :class:`V3PoolState` holds ``slot0`` (sqrt price, tick, protocol fee), the in-range liquidity,
the fee growth globals and the initialized ticks (their ``liquidityNet`` and ``liquidityGross``).
:func:`swap` walks the tick bitmap word by word exactly like the contract
(``TickBitmap.nextInitializedTickWithinOneWord``), so each step ends where the contract's step
ends and the integer rounding is the same. The state must list every initialized tick the swap
can reach: a tick missing from it is a tick the swap does not cross.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from fractions import Fraction

from nautilus_ext.dex.errors import SwapRefused
from nautilus_ext.dex.pool import SwapQuote
from nautilus_ext.dex.v3_math import FEE_PIPS_DENOMINATOR
from nautilus_ext.dex.v3_math import MAX_INT256
from nautilus_ext.dex.v3_math import MAX_SQRT_RATIO
from nautilus_ext.dex.v3_math import MAX_TICK
from nautilus_ext.dex.v3_math import MAX_UINT128
from nautilus_ext.dex.v3_math import MAX_UINT256
from nautilus_ext.dex.v3_math import MIN_SQRT_RATIO
from nautilus_ext.dex.v3_math import MIN_TICK
from nautilus_ext.dex.v3_math import Q96
from nautilus_ext.dex.v3_math import Q128
from nautilus_ext.dex.v3_math import compute_swap_step
from nautilus_ext.dex.v3_math import get_amount0_delta_signed
from nautilus_ext.dex.v3_math import get_amount1_delta_signed
from nautilus_ext.dex.v3_math import get_sqrt_ratio_at_tick
from nautilus_ext.dex.v3_math import get_tick_at_sqrt_ratio
from nautilus_ext.dex.v3_math import mul_div
from nautilus_ext.errors import InvalidConfig


@dataclass(frozen=True, slots=True)
class V3Tick:
    """
    One initialized tick.

    Parameters
    ----------
    index : int
        The tick (a multiple of the pool's tick spacing).
    liquidity_net : int
        Liquidity added when the price crosses the tick upwards (removed downwards).
    liquidity_gross : int
        Total liquidity referencing the tick; > 0 means initialized (in the bitmap).
    """

    index: int
    liquidity_net: int
    liquidity_gross: int


def _msb(x: int) -> int:
    return x.bit_length() - 1


def _lsb(x: int) -> int:
    return (x & -x).bit_length() - 1


@dataclass(frozen=True)
class V3PoolState:
    """
    A Uniswap V3 pool (``slot0``, liquidity, fee growth, initialized ticks).

    Parameters
    ----------
    sqrt_price_x96 : int
        ``slot0.sqrtPriceX96``.
    tick : int
        ``slot0.tick``.
    liquidity : int
        In-range liquidity.
    fee_pips : int
        Fee tier in hundredths of a bip (500, 3000, 10000).
    tick_spacing : int
        The fee tier's tick spacing.
    ticks : tuple[V3Tick, ...]
        Initialized ticks (any order).
    fee_growth_global0_x128, fee_growth_global1_x128 : int
        Fee growth globals (Q128.128, wrapping).
    fee_protocol : int
        ``slot0.feeProtocol`` (token0 share in the low 4 bits, token1 in the high 4 bits).
    word_range : tuple[int, int], optional
        Inclusive range of tick-bitmap words (``(tick // tick_spacing) >> 8``) whose initialized
        ticks ``ticks`` lists completely, for a state read around the price. A swap that must
        look into a word outside it is refused (``TICKS_UNKNOWN``) instead of being priced as if
        that word had no liquidity change. ``None``: ``ticks`` lists every initialized tick.
    """

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee_pips: int
    tick_spacing: int
    ticks: tuple[V3Tick, ...] = ()
    fee_growth_global0_x128: int = 0
    fee_growth_global1_x128: int = 0
    fee_protocol: int = 0
    word_range: tuple[int, int] | None = None
    _bitmap: dict[int, int] = field(init=False, repr=False, compare=False)
    _net: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not MIN_SQRT_RATIO <= self.sqrt_price_x96 < MAX_SQRT_RATIO:
            raise InvalidConfig(f"V3 sqrt_price_x96 {self.sqrt_price_x96} is outside the valid range")
        if not 0 <= self.liquidity <= MAX_UINT128:
            raise InvalidConfig(f"V3 liquidity {self.liquidity} is not a uint128")
        if not 0 <= self.fee_pips < FEE_PIPS_DENOMINATOR:
            raise InvalidConfig(f"V3 fee_pips {self.fee_pips} is outside [0, 1e6)")
        if self.tick_spacing <= 0:
            raise InvalidConfig(f"V3 tick_spacing {self.tick_spacing} must be positive")
        bitmap: dict[int, int] = {}
        net: dict[int, int] = {}
        for t in self.ticks:
            if t.index % self.tick_spacing or not MIN_TICK <= t.index <= MAX_TICK:
                raise InvalidConfig(
                    f"V3 tick {t.index} is not a valid multiple of spacing {self.tick_spacing}"
                )
            if t.liquidity_gross <= 0:
                continue
            compressed = t.index // self.tick_spacing
            bitmap[compressed >> 8] = bitmap.get(compressed >> 8, 0) | (1 << (compressed & 0xFF))
            net[t.index] = t.liquidity_net
        object.__setattr__(self, "_bitmap", bitmap)
        object.__setattr__(self, "_net", net)

    # -- tick bitmap ----------------------------------------------------------------------

    def next_initialized_tick_within_one_word(self, tick: int, lte: bool) -> tuple[int, bool]:
        """
        ``TickBitmap.nextInitializedTickWithinOneWord``: the next initialized tick in the
        same 256-tick-spacing word, or the word's edge when there is none.
        """
        spacing = self.tick_spacing
        compressed = tick // spacing  # Solidity rounds towards zero, then corrects negatives: floor
        if self.word_range is not None:
            word = compressed >> 8 if lte else (compressed + 1) >> 8
            if not self.word_range[0] <= word <= self.word_range[1]:
                raise SwapRefused(
                    "TICKS_UNKNOWN", f"tick bitmap word {word} is outside the state's {self.word_range}"
                )
        if lte:
            word, bit = compressed >> 8, compressed & 0xFF
            masked = self._bitmap.get(word, 0) & ((1 << bit) - 1 + (1 << bit))
            if masked:
                return (compressed - (bit - _msb(masked))) * spacing, True
            return (compressed - bit) * spacing, False
        word, bit = (compressed + 1) >> 8, (compressed + 1) & 0xFF
        masked = self._bitmap.get(word, 0) & ~((1 << bit) - 1)
        if masked:
            return (compressed + 1 + (_lsb(masked) - bit)) * spacing, True
        return (compressed + 1 + (255 - bit)) * spacing, False

    # -- SwapPool -------------------------------------------------------------------------

    @property
    def token_count(self) -> int:
        """Two tokens: token0 and token1."""
        return 2

    def swap_exact_input(
        self, token_in: int, token_out: int, amount_in: int, *, sqrt_price_limit_x96: int | None = None
    ) -> SwapQuote:
        """
        Swap ``amount_in`` (QuoterV2 ``quoteExactInputSingle``).

        Without ``sqrt_price_limit_x96`` the limit is QuoterV2's default
        (``MIN_SQRT_RATIO + 1`` / ``MAX_SQRT_RATIO - 1``). When the limit or the known liquidity
        stops the swap early, the quote's ``amount_in`` is what the pool actually takes.
        """
        zero_for_one = _direction(token_in, token_out)
        if amount_in <= 0:
            raise SwapRefused("AS", f"amount_in must be positive, got {amount_in}")
        return _router_quote(swap(self, zero_for_one, amount_in, sqrt_price_limit_x96), zero_for_one)

    def swap_exact_output(
        self, token_in: int, token_out: int, amount_out: int, *, sqrt_price_limit_x96: int | None = None
    ) -> SwapQuote:
        """
        Buy ``amount_out`` (QuoterV2 ``quoteExactOutputSingle``).

        Without a price limit the whole amount must be delivered, else ``LIQUIDITY`` (QuoterV2
        requires it too); with one, the quote may deliver less, as QuoterV2 reports it.
        """
        zero_for_one = _direction(token_in, token_out)
        if amount_out <= 0:
            raise SwapRefused("AS", f"amount_out must be positive, got {amount_out}")
        quote = _router_quote(swap(self, zero_for_one, -amount_out, sqrt_price_limit_x96), zero_for_one)
        if sqrt_price_limit_x96 is None and quote.amount_out != amount_out:
            raise SwapRefused(
                "LIQUIDITY", f"the pool delivers only {quote.amount_out} of the {amount_out} requested"
            )
        return quote

    def quote_exact_input(
        self, token_in: int, token_out: int, amount_in: int, *, sqrt_price_limit_x96: int | None = None
    ) -> int:
        """Output for ``amount_in`` (QuoterV2 ``quoteExactInputSingle``'s ``amountOut``)."""
        return self.swap_exact_input(
            token_in, token_out, amount_in, sqrt_price_limit_x96=sqrt_price_limit_x96
        ).amount_out

    def quote_exact_output(
        self, token_in: int, token_out: int, amount_out: int, *, sqrt_price_limit_x96: int | None = None
    ) -> int:
        """Input for ``amount_out`` (QuoterV2 ``quoteExactOutputSingle``'s ``amountIn``)."""
        return self.swap_exact_output(
            token_in, token_out, amount_out, sqrt_price_limit_x96=sqrt_price_limit_x96
        ).amount_in

    def marginal_price(self, token_in: int, token_out: int) -> Fraction:
        """Spot price ``(sqrtP / 2**96)**2`` (token1 per token0) or its inverse, times ``1 - fee``."""
        zero_for_one = _direction(token_in, token_out)
        price = Fraction(self.sqrt_price_x96 * self.sqrt_price_x96, Q96 * Q96)
        keep = Fraction(FEE_PIPS_DENOMINATOR - self.fee_pips, FEE_PIPS_DENOMINATOR)
        return (price if zero_for_one else 1 / price) * keep


def _router_quote(result: V3SwapResult, zero_for_one: bool) -> SwapQuote:
    # the periphery's swap callbacks (SwapRouter, QuoterV2) revert when neither amount is
    # positive: "swaps entirely within 0-liquidity regions are not supported"
    if result.amount0 <= 0 and result.amount1 <= 0:
        raise SwapRefused("NO_LIQUIDITY", "the swap stays within a region without liquidity")
    return result.quote(zero_for_one)


def _direction(token_in: int, token_out: int) -> bool:
    if (token_in, token_out) == (0, 1):
        return True
    if (token_in, token_out) == (1, 0):
        return False
    raise SwapRefused("TOKEN", f"a V3 pool swaps token 0 and 1, not {token_in} -> {token_out}")


@dataclass(frozen=True, slots=True)
class V3SwapResult:
    """
    What ``UniswapV3Pool.swap`` returns and leaves behind.

    Parameters
    ----------
    amount0, amount1 : int
        The pool's balance deltas (positive: the pool receives).
    sqrt_price_x96, tick, liquidity : int
        ``slot0`` and liquidity after the swap.
    fee_growth_global0_delta_x128, fee_growth_global1_delta_x128 : int
        Increase of each fee growth global (mod 2**256).
    fee_amount : int
        LP fee charged, in the input token (protocol fee included).
    protocol_fee : int
        Part of ``fee_amount`` kept by the protocol.
    ticks_crossed : int
        Initialized ticks crossed.
    pool_after : V3PoolState
        The pool state after the swap.
    """

    amount0: int
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee_growth_global0_delta_x128: int
    fee_growth_global1_delta_x128: int
    fee_amount: int
    protocol_fee: int
    ticks_crossed: int
    pool_after: V3PoolState

    def quote(self, zero_for_one: bool) -> SwapQuote:
        """The result as a :class:`SwapQuote` (input/output by direction)."""
        amount_in, amount_out = (
            (self.amount0, -self.amount1) if zero_for_one else (self.amount1, -self.amount0)
        )
        return SwapQuote(amount_in, amount_out, self.fee_amount, 0 if zero_for_one else 1, self.pool_after)


def swap(
    state: V3PoolState, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
) -> V3SwapResult:
    """
    Run ``UniswapV3Pool.swap``.

    Parameters
    ----------
    state : V3PoolState
        The pool before the swap.
    zero_for_one : bool
        ``True`` sells token0 for token1 (price goes down).
    amount_specified : int
        Positive: exact input; negative: exact output (as the contract's ``amountSpecified``).
    sqrt_price_limit_x96 : int, optional
        Price the swap may not pass; ``None`` means QuoterV2's default
        (``MIN_SQRT_RATIO + 1`` or ``MAX_SQRT_RATIO - 1``).

    Raises
    ------
    SwapRefused
        ``AS`` for a zero amount, ``SPL`` for a limit on the wrong side of the price (the
        contract's revert reasons), or an arithmetic bound the contract would revert on.
    """
    if amount_specified == 0:
        raise SwapRefused("AS", "amount specified is zero")
    if not -MAX_INT256 - 1 <= amount_specified <= MAX_INT256:
        raise SwapRefused("AS", "amount specified is not an int256")
    limit = sqrt_price_limit_x96
    if limit is None:
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    if zero_for_one:
        if not (MIN_SQRT_RATIO < limit < state.sqrt_price_x96):
            raise SwapRefused("SPL", f"price limit {limit} is not below the price {state.sqrt_price_x96}")
    elif not (state.sqrt_price_x96 < limit < MAX_SQRT_RATIO):
        raise SwapRefused("SPL", f"price limit {limit} is not above the price {state.sqrt_price_x96}")

    fee_protocol = state.fee_protocol % 16 if zero_for_one else state.fee_protocol >> 4
    exact_input = amount_specified > 0
    remaining = amount_specified
    calculated = 0
    sqrt_price = state.sqrt_price_x96
    tick = state.tick
    liquidity = state.liquidity
    fee_growth = state.fee_growth_global0_x128 if zero_for_one else state.fee_growth_global1_x128
    fee_growth_start = fee_growth
    fee_total = protocol_fee = crossed = 0

    while remaining != 0 and sqrt_price != limit:
        if liquidity == 0 and state.word_range is None and not _initialized_beyond(state, tick, zero_for_one):
            # no liquidity is left on this side: the contract walks the empty bitmap word by word
            # to the limit, moving the price and nothing else; jump there (same end state)
            sqrt_price, tick = limit, _tick_at_limit(limit, zero_for_one)
            break
        price_start = sqrt_price
        tick_next, initialized = state.next_initialized_tick_within_one_word(tick, zero_for_one)
        tick_next = max(MIN_TICK, min(MAX_TICK, tick_next))
        price_next = get_sqrt_ratio_at_tick(tick_next)
        target = limit if (price_next < limit if zero_for_one else price_next > limit) else price_next
        sqrt_price, step_in, step_out, step_fee = compute_swap_step(
            sqrt_price, target, liquidity, remaining, state.fee_pips
        )
        if exact_input:
            remaining -= step_in + step_fee
            calculated -= step_out
        else:
            remaining += step_out
            calculated += step_in + step_fee
        fee_total += step_fee
        if fee_protocol > 0:
            delta = step_fee // fee_protocol
            step_fee -= delta
            protocol_fee += delta
        if liquidity > 0:
            fee_growth = (fee_growth + mul_div(step_fee, Q128, liquidity)) & MAX_UINT256
        if sqrt_price == price_next:
            if initialized:
                net = state._net[tick_next]
                if zero_for_one:
                    net = -net
                liquidity += net
                crossed += 1
                if liquidity < 0:
                    raise SwapRefused("LS", f"liquidity underflows crossing tick {tick_next}")
                if liquidity > MAX_UINT128:
                    raise SwapRefused("LA", f"liquidity overflows crossing tick {tick_next}")
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != price_start:
            tick = get_tick_at_sqrt_ratio(sqrt_price)

    if zero_for_one == exact_input:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    growth_delta = (fee_growth - fee_growth_start) & MAX_UINT256
    after = replace(
        state,
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=liquidity,
        fee_growth_global0_x128=fee_growth if zero_for_one else state.fee_growth_global0_x128,
        fee_growth_global1_x128=state.fee_growth_global1_x128 if zero_for_one else fee_growth,
    )
    return V3SwapResult(
        amount0=amount0,
        amount1=amount1,
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=liquidity,
        fee_growth_global0_delta_x128=growth_delta if zero_for_one else 0,
        fee_growth_global1_delta_x128=0 if zero_for_one else growth_delta,
        fee_amount=fee_total,
        protocol_fee=protocol_fee,
        ticks_crossed=crossed,
        pool_after=after,
    )


def _initialized_beyond(state: V3PoolState, tick: int, zero_for_one: bool) -> bool:
    # the search direction of next_initialized_tick_within_one_word: <= tick going down, > going up
    if zero_for_one:
        return any(index <= tick for index in state._net)
    return any(index > tick for index in state._net)


def _tick_at_limit(limit: int, zero_for_one: bool) -> int:
    # the loop's last step ends exactly on ``limit``: on a tick's own price while moving down the
    # contract leaves ``tick - 1`` (it crossed the boundary), otherwise ``getTickAtSqrtRatio``
    tick = get_tick_at_sqrt_ratio(limit)
    if zero_for_one and get_sqrt_ratio_at_tick(tick) == limit:
        return tick - 1
    return tick


# -- pool set-up (initialize and mint), for rebuilding pools from their history -----------------


def max_liquidity_per_tick(tick_spacing: int) -> int:
    """``Tick.tickSpacingToMaxLiquidityPerTick``."""
    min_tick = -((-MIN_TICK) // tick_spacing) * tick_spacing  # Solidity division rounds towards zero
    max_tick = (MAX_TICK // tick_spacing) * tick_spacing
    ticks = (max_tick - min_tick) // tick_spacing + 1
    return MAX_UINT128 // ticks


def initialize(sqrt_price_x96: int, fee_pips: int, tick_spacing: int) -> V3PoolState:
    """``UniswapV3Pool.initialize``: an empty pool at ``sqrt_price_x96``."""
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    return V3PoolState(sqrt_price_x96, tick, 0, fee_pips, tick_spacing)


def mint(
    state: V3PoolState, tick_lower: int, tick_upper: int, liquidity: int
) -> tuple[V3PoolState, int, int]:
    """
    ``UniswapV3Pool.mint``: add a position; return the new state and the token amounts owed.

    Raises
    ------
    SwapRefused
        With the contract's reasons: ``TLU``, ``TLM``, ``TUM``, ``LO`` (max liquidity per tick).
    """
    if liquidity <= 0:
        raise SwapRefused("AS", "mint liquidity must be positive")
    if tick_lower >= tick_upper:
        raise SwapRefused("TLU", f"tick_lower {tick_lower} >= tick_upper {tick_upper}")
    if tick_lower < MIN_TICK:
        raise SwapRefused("TLM", f"tick_lower {tick_lower} < MIN_TICK")
    if tick_upper > MAX_TICK:
        raise SwapRefused("TUM", f"tick_upper {tick_upper} > MAX_TICK")
    if tick_lower % state.tick_spacing or tick_upper % state.tick_spacing:
        raise SwapRefused("TICK", "position ticks must be multiples of the tick spacing")
    by_index = {t.index: t for t in state.ticks}
    cap = max_liquidity_per_tick(state.tick_spacing)
    for index, sign in ((tick_lower, 1), (tick_upper, -1)):
        old = by_index.get(index, V3Tick(index, 0, 0))
        gross = old.liquidity_gross + liquidity
        if gross > cap:
            raise SwapRefused("LO", f"liquidity at tick {index} exceeds the per-tick maximum")
        by_index[index] = V3Tick(index, old.liquidity_net + sign * liquidity, gross)
    lower, upper = get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)
    amount0 = amount1 = 0
    new_liquidity = state.liquidity
    if state.tick < tick_lower:
        amount0 = get_amount0_delta_signed(lower, upper, liquidity)
    elif state.tick < tick_upper:
        amount0 = get_amount0_delta_signed(state.sqrt_price_x96, upper, liquidity)
        amount1 = get_amount1_delta_signed(lower, state.sqrt_price_x96, liquidity)
        new_liquidity += liquidity
        if new_liquidity > MAX_UINT128:
            raise SwapRefused("LA", "in-range liquidity overflows uint128")
    else:
        amount1 = get_amount1_delta_signed(lower, upper, liquidity)
    ticks = tuple(sorted(by_index.values(), key=lambda t: t.index))
    return replace(state, liquidity=new_liquidity, ticks=ticks), amount0, amount1


__all__ = ["V3PoolState", "V3SwapResult", "V3Tick", "initialize", "max_liquidity_per_tick", "mint", "swap"]
