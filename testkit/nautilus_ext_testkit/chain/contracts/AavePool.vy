#pragma version ^0.4.0
"""
@title AAVE v3 Pool stand-in: scaled balances, linear/compounded indices, account data, e-mode.
@notice supply/withdraw/borrow/repay, getReserveData, getUserAccountData, setUserEMode and
        setUserUseReserveAsCollateral keep the ABI and the v3.0 math (WadRayMath, MathUtils,
        GenericLogic, ValidationLogic). Rates are set by the owner instead of an interest rate
        strategy; only variable-rate debt exists; no liquidations, caps, isolation or flash loans.
"""

interface IERC20:
    def transferFrom(src: address, dst: address, amount: uint256) -> bool: nonpayable

interface IScaledToken:
    def scaledBalanceOf(user: address) -> uint256: view
    def scaledTotalSupply() -> uint256: view
    def mintScaled(user: address, amount_scaled: uint256): nonpayable
    def burnScaled(user: address, amount_scaled: uint256): nonpayable
    def transferUnderlyingTo(target: address, amount: uint256): nonpayable

interface IPriceOracle:
    def getAssetPrice(asset: address) -> uint256: view

struct ReserveConfigurationMap:
    data: uint256

struct ReserveData:
    configuration: ReserveConfigurationMap
    liquidityIndex: uint128
    currentLiquidityRate: uint128
    variableBorrowIndex: uint128
    currentVariableBorrowRate: uint128
    currentStableBorrowRate: uint128
    lastUpdateTimestamp: uint40
    id: uint16
    aTokenAddress: address
    stableDebtTokenAddress: address
    variableDebtTokenAddress: address
    interestRateStrategyAddress: address
    accruedToTreasury: uint128
    unbacked: uint128
    isolationModeTotalDebt: uint128

struct EModeCategory:
    ltv: uint16
    liquidationThreshold: uint16
    liquidationBonus: uint16
    priceSource: address
    label: String[32]

struct AccountData:
    totalCollateralBase: uint256
    totalDebtBase: uint256
    availableBorrowsBase: uint256
    currentLiquidationThreshold: uint256
    ltv: uint256
    healthFactor: uint256

RAY: constant(uint256) = 10**27
HALF_RAY: constant(uint256) = 10**27 // 2
WAD: constant(uint256) = 10**18
PERCENTAGE_FACTOR: constant(uint256) = 10000
HALF_PERCENTAGE_FACTOR: constant(uint256) = 5000
SECONDS_PER_YEAR: constant(uint256) = 31536000
HF_LIQUIDATION_THRESHOLD: constant(uint256) = 10**18
VARIABLE_RATE_MODE: constant(uint256) = 2
MAX_RESERVES: constant(uint256) = 8

owner: public(address)
ORACLE: public(immutable(address))
reserves: HashMap[address, ReserveData]
reservesList: DynArray[address, MAX_RESERVES]
usingAsCollateral: HashMap[address, HashMap[address, bool]]
userEMode: HashMap[address, uint8]
eModeCategories: HashMap[uint8, EModeCategory]


@deploy
def __init__(oracle: address):
    self.owner = msg.sender
    ORACLE = oracle


# -- math (WadRayMath / PercentageMath / MathUtils) ------------------------------------------


@internal
@pure
def _ray_mul(a: uint256, b: uint256) -> uint256:
    return (a * b + HALF_RAY) // RAY


@internal
@pure
def _ray_div(a: uint256, b: uint256) -> uint256:
    assert b != 0, "ray div by zero"
    return (a * RAY + b // 2) // b


@internal
@pure
def _wad_div(a: uint256, b: uint256) -> uint256:
    assert b != 0, "wad div by zero"
    return (a * WAD + b // 2) // b


@internal
@pure
def _percent_mul(v: uint256, p: uint256) -> uint256:
    return (v * p + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


@internal
@pure
def _percent_div(v: uint256, p: uint256) -> uint256:
    assert p != 0, "percent div by zero"
    return (v * PERCENTAGE_FACTOR + p // 2) // p


@internal
@view
def _linear_interest(rate: uint256, last: uint256) -> uint256:
    return RAY + rate * (block.timestamp - last) // SECONDS_PER_YEAR


@internal
@view
def _compounded_interest(rate: uint256, last: uint256) -> uint256:
    exp: uint256 = block.timestamp - last
    if exp == 0:
        return RAY
    exp_minus_one: uint256 = exp - 1
    exp_minus_two: uint256 = 0
    if exp > 2:
        exp_minus_two = exp - 2
    base_power_two: uint256 = self._ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three: uint256 = self._ray_mul(base_power_two, rate) // SECONDS_PER_YEAR
    second_term: uint256 = exp * exp_minus_one * base_power_two // 2
    third_term: uint256 = exp * exp_minus_one * exp_minus_two * base_power_three // 6
    return RAY + rate * exp // SECONDS_PER_YEAR + second_term + third_term


# -- reserve state ----------------------------------------------------------------------------


@internal
@view
def _normalized_income(asset: address) -> uint256:
    r: ReserveData = self.reserves[asset]
    last: uint256 = convert(r.lastUpdateTimestamp, uint256)
    if last == block.timestamp:
        return convert(r.liquidityIndex, uint256)
    return self._ray_mul(self._linear_interest(convert(r.currentLiquidityRate, uint256), last), convert(r.liquidityIndex, uint256))


@internal
@view
def _normalized_debt(asset: address) -> uint256:
    r: ReserveData = self.reserves[asset]
    last: uint256 = convert(r.lastUpdateTimestamp, uint256)
    if last == block.timestamp:
        return convert(r.variableBorrowIndex, uint256)
    return self._ray_mul(self._compounded_interest(convert(r.currentVariableBorrowRate, uint256), last), convert(r.variableBorrowIndex, uint256))


@internal
def _update_state(asset: address):
    r: ReserveData = self.reserves[asset]
    last: uint256 = convert(r.lastUpdateTimestamp, uint256)
    if last == block.timestamp:
        return
    if r.currentLiquidityRate != 0:
        self.reserves[asset].liquidityIndex = convert(self._ray_mul(self._linear_interest(convert(r.currentLiquidityRate, uint256), last), convert(r.liquidityIndex, uint256)), uint128)
    if staticcall IScaledToken(r.variableDebtTokenAddress).scaledTotalSupply() != 0:
        self.reserves[asset].variableBorrowIndex = convert(self._ray_mul(self._compounded_interest(convert(r.currentVariableBorrowRate, uint256), last), convert(r.variableBorrowIndex, uint256)), uint128)
    self.reserves[asset].lastUpdateTimestamp = convert(block.timestamp, uint40)


@internal
@view
def _config(asset: address) -> uint256:
    return self.reserves[asset].configuration.data


@internal
@view
def _validate_active(asset: address):
    data: uint256 = self._config(asset)
    assert self.reserves[asset].aTokenAddress != empty(address), "ASSET_NOT_LISTED"
    assert (data >> 56) & 1 == 1, "RESERVE_INACTIVE"
    assert (data >> 60) & 1 == 0, "RESERVE_PAUSED"


# -- account data (GenericLogic.calculateUserAccountData) --------------------------------------


@internal
@view
def _account_data(user: address) -> AccountData:
    total_collateral: uint256 = 0
    total_debt: uint256 = 0
    weighted_ltv: uint256 = 0
    weighted_lt: uint256 = 0
    user_cat: uint8 = self.userEMode[user]
    for asset: address in self.reservesList:
        r: ReserveData = self.reserves[asset]
        data: uint256 = r.configuration.data
        ltv: uint256 = data & 65535
        lt: uint256 = (data >> 16) & 65535
        unit: uint256 = 10 ** ((data >> 48) & 255)
        if user_cat != 0 and convert((data >> 168) & 255, uint8) == user_cat:
            cat: EModeCategory = self.eModeCategories[user_cat]
            ltv = convert(cat.ltv, uint256)
            lt = convert(cat.liquidationThreshold, uint256)
        scaled_supply: uint256 = staticcall IScaledToken(r.aTokenAddress).scaledBalanceOf(user)
        scaled_debt: uint256 = staticcall IScaledToken(r.variableDebtTokenAddress).scaledBalanceOf(user)
        if scaled_supply == 0 and scaled_debt == 0:
            continue
        price: uint256 = staticcall IPriceOracle(ORACLE).getAssetPrice(asset)
        if lt != 0 and self.usingAsCollateral[user][asset]:
            value: uint256 = self._ray_mul(scaled_supply, self._normalized_income(asset)) * price // unit
            total_collateral += value
            weighted_ltv += value * ltv
            weighted_lt += value * lt
        if scaled_debt != 0:
            total_debt += self._ray_mul(scaled_debt, self._normalized_debt(asset)) * price // unit
    avg_ltv: uint256 = 0
    avg_lt: uint256 = 0
    if total_collateral != 0:
        avg_ltv = weighted_ltv // total_collateral
        avg_lt = weighted_lt // total_collateral
    hf: uint256 = max_value(uint256)
    if total_debt != 0:
        hf = self._wad_div(self._percent_mul(total_collateral, avg_lt), total_debt)
    available: uint256 = self._percent_mul(total_collateral, avg_ltv)
    if available < total_debt:
        available = 0
    else:
        available -= total_debt
    return AccountData(
        totalCollateralBase=total_collateral,
        totalDebtBase=total_debt,
        availableBorrowsBase=available,
        currentLiquidationThreshold=avg_lt,
        ltv=avg_ltv,
        healthFactor=hf,
    )


@internal
@view
def _has_debt(user: address) -> bool:
    for asset: address in self.reservesList:
        if staticcall IScaledToken(self.reserves[asset].variableDebtTokenAddress).scaledBalanceOf(user) != 0:
            return True
    return False


@internal
@view
def _validate_health_factor(user: address):
    data: AccountData = self._account_data(user)
    assert data.healthFactor >= HF_LIQUIDATION_THRESHOLD, "HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD"


# -- user actions ------------------------------------------------------------------------------


@external
def supply(asset: address, amount: uint256, onBehalfOf: address, referralCode: uint16):
    self._validate_active(asset)
    assert amount != 0, "INVALID_AMOUNT"
    assert (self._config(asset) >> 57) & 1 == 0, "RESERVE_FROZEN"
    self._update_state(asset)
    a_token: address = self.reserves[asset].aTokenAddress
    previous: uint256 = staticcall IScaledToken(a_token).scaledBalanceOf(onBehalfOf)
    extcall IERC20(asset).transferFrom(msg.sender, a_token, amount)
    scaled: uint256 = self._ray_div(amount, convert(self.reserves[asset].liquidityIndex, uint256))
    assert scaled != 0, "INVALID_MINT_AMOUNT"
    extcall IScaledToken(a_token).mintScaled(onBehalfOf, scaled)
    if previous == 0 and self._config(asset) & 65535 != 0:
        self.usingAsCollateral[onBehalfOf][asset] = True


@external
def withdraw(asset: address, amount: uint256, to: address) -> uint256:
    self._validate_active(asset)
    self._update_state(asset)
    a_token: address = self.reserves[asset].aTokenAddress
    index: uint256 = convert(self.reserves[asset].liquidityIndex, uint256)
    balance: uint256 = self._ray_mul(staticcall IScaledToken(a_token).scaledBalanceOf(msg.sender), index)
    to_withdraw: uint256 = amount
    if amount == max_value(uint256):
        to_withdraw = balance
    assert to_withdraw != 0, "INVALID_AMOUNT"
    assert to_withdraw <= balance, "NOT_ENOUGH_AVAILABLE_USER_BALANCE"
    was_collateral: bool = self.usingAsCollateral[msg.sender][asset]
    extcall IScaledToken(a_token).burnScaled(msg.sender, self._ray_div(to_withdraw, index))
    if to_withdraw == balance:
        self.usingAsCollateral[msg.sender][asset] = False
    extcall IScaledToken(a_token).transferUnderlyingTo(to, to_withdraw)
    if was_collateral and self._has_debt(msg.sender):
        self._validate_health_factor(msg.sender)
    return to_withdraw


@external
def borrow(asset: address, amount: uint256, interestRateMode: uint256, referralCode: uint16, onBehalfOf: address):
    assert onBehalfOf == msg.sender, "credit delegation not supported by the stand-in"
    assert interestRateMode == VARIABLE_RATE_MODE, "INVALID_INTEREST_RATE_MODE_SELECTED"
    self._validate_active(asset)
    assert amount != 0, "INVALID_AMOUNT"
    config: uint256 = self._config(asset)
    assert (config >> 57) & 1 == 0, "RESERVE_FROZEN"
    assert (config >> 58) & 1 == 1, "BORROWING_NOT_ENABLED"
    self._update_state(asset)
    user_cat: uint8 = self.userEMode[msg.sender]
    if user_cat != 0:
        assert convert((config >> 168) & 255, uint8) == user_cat, "INCONSISTENT_EMODE_CATEGORY"
    data: AccountData = self._account_data(msg.sender)
    assert data.totalCollateralBase != 0, "COLLATERAL_BALANCE_IS_ZERO"
    assert data.ltv != 0, "LTV_VALIDATION_FAILED"
    assert data.healthFactor > HF_LIQUIDATION_THRESHOLD, "HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD"
    unit: uint256 = 10 ** ((config >> 48) & 255)
    amount_base: uint256 = staticcall IPriceOracle(ORACLE).getAssetPrice(asset) * amount // unit
    needed: uint256 = self._percent_div(data.totalDebtBase + amount_base, data.ltv)
    assert needed <= data.totalCollateralBase, "COLLATERAL_CANNOT_COVER_NEW_BORROW"
    scaled: uint256 = self._ray_div(amount, convert(self.reserves[asset].variableBorrowIndex, uint256))
    assert scaled != 0, "INVALID_MINT_AMOUNT"
    extcall IScaledToken(self.reserves[asset].variableDebtTokenAddress).mintScaled(msg.sender, scaled)
    extcall IScaledToken(self.reserves[asset].aTokenAddress).transferUnderlyingTo(msg.sender, amount)


@external
def repay(asset: address, amount: uint256, interestRateMode: uint256, onBehalfOf: address) -> uint256:
    assert interestRateMode == VARIABLE_RATE_MODE, "INVALID_INTEREST_RATE_MODE_SELECTED"
    self._validate_active(asset)
    assert amount != 0, "INVALID_AMOUNT"
    self._update_state(asset)
    debt_token: address = self.reserves[asset].variableDebtTokenAddress
    index: uint256 = convert(self.reserves[asset].variableBorrowIndex, uint256)
    debt: uint256 = self._ray_mul(staticcall IScaledToken(debt_token).scaledBalanceOf(onBehalfOf), index)
    assert debt != 0, "NO_DEBT_OF_SELECTED_TYPE"
    payback: uint256 = debt
    if amount == max_value(uint256):
        assert onBehalfOf == msg.sender, "NO_EXPLICIT_AMOUNT_TO_REPAY_ON_BEHALF"
    elif amount < debt:
        payback = amount
    extcall IScaledToken(debt_token).burnScaled(onBehalfOf, self._ray_div(payback, index))
    extcall IERC20(asset).transferFrom(msg.sender, self.reserves[asset].aTokenAddress, payback)
    return payback


@external
def setUserUseReserveAsCollateral(asset: address, useAsCollateral: bool):
    self._validate_active(asset)
    assert staticcall IScaledToken(self.reserves[asset].aTokenAddress).scaledBalanceOf(msg.sender) != 0, "UNDERLYING_BALANCE_ZERO"
    self.usingAsCollateral[msg.sender][asset] = useAsCollateral
    if not useAsCollateral and self._has_debt(msg.sender):
        self._validate_health_factor(msg.sender)


@external
def setUserEMode(categoryId: uint8):
    if categoryId != 0:
        assert self.eModeCategories[categoryId].liquidationThreshold != 0, "INCONSISTENT_EMODE_CATEGORY"
        for asset: address in self.reservesList:
            if staticcall IScaledToken(self.reserves[asset].variableDebtTokenAddress).scaledBalanceOf(msg.sender) != 0:
                assert convert((self._config(asset) >> 168) & 255, uint8) == categoryId, "INCONSISTENT_EMODE_CATEGORY"
    self.userEMode[msg.sender] = categoryId
    if self._has_debt(msg.sender):
        self._validate_health_factor(msg.sender)


# -- views -----------------------------------------------------------------------------------


@external
@view
def getReserveData(asset: address) -> ReserveData:
    return self.reserves[asset]


@external
@view
def getConfiguration(asset: address) -> ReserveConfigurationMap:
    return self.reserves[asset].configuration


@external
@view
def getReserveNormalizedIncome(asset: address) -> uint256:
    return self._normalized_income(asset)


@external
@view
def getReserveNormalizedVariableDebt(asset: address) -> uint256:
    return self._normalized_debt(asset)


@external
@view
def getUserAccountData(user: address) -> (uint256, uint256, uint256, uint256, uint256, uint256):
    d: AccountData = self._account_data(user)
    return d.totalCollateralBase, d.totalDebtBase, d.availableBorrowsBase, d.currentLiquidationThreshold, d.ltv, d.healthFactor


@external
@view
def getUserEMode(user: address) -> uint256:
    return convert(self.userEMode[user], uint256)


@external
@view
def getEModeCategoryData(id: uint8) -> EModeCategory:
    return self.eModeCategories[id]


@external
@view
def getReservesList() -> DynArray[address, MAX_RESERVES]:
    return self.reservesList


# -- owner configuration (stand-in for PoolConfigurator and the rate strategy) ------------------


@external
def initReserve(asset: address, aToken: address, variableDebtToken: address, configuration: uint256):
    assert msg.sender == self.owner, "only owner"
    assert self.reserves[asset].aTokenAddress == empty(address), "RESERVE_ALREADY_INITIALIZED"
    self.reserves[asset] = ReserveData(
        configuration=ReserveConfigurationMap(data=configuration),
        liquidityIndex=convert(RAY, uint128),
        currentLiquidityRate=0,
        variableBorrowIndex=convert(RAY, uint128),
        currentVariableBorrowRate=0,
        currentStableBorrowRate=0,
        lastUpdateTimestamp=convert(block.timestamp, uint40),
        id=convert(len(self.reservesList), uint16),
        aTokenAddress=aToken,
        stableDebtTokenAddress=empty(address),
        variableDebtTokenAddress=variableDebtToken,
        interestRateStrategyAddress=empty(address),
        accruedToTreasury=0,
        unbacked=0,
        isolationModeTotalDebt=0,
    )
    self.reservesList.append(asset)


@external
def setConfiguration(asset: address, configuration: uint256):
    assert msg.sender == self.owner, "only owner"
    self.reserves[asset].configuration = ReserveConfigurationMap(data=configuration)


@external
def setReserveRates(asset: address, liquidityRate: uint128, variableBorrowRate: uint128):
    assert msg.sender == self.owner, "only owner"
    self._update_state(asset)
    self.reserves[asset].currentLiquidityRate = liquidityRate
    self.reserves[asset].currentVariableBorrowRate = variableBorrowRate


@external
def setEModeCategory(id: uint8, ltv: uint16, liquidationThreshold: uint16, liquidationBonus: uint16, label: String[32]):
    assert msg.sender == self.owner, "only owner"
    assert id != 0, "category 0 is no e-mode"
    self.eModeCategories[id] = EModeCategory(ltv=ltv, liquidationThreshold=liquidationThreshold, liquidationBonus=liquidationBonus, priceSource=empty(address), label=label)
