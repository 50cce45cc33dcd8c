"""
CME futures specifics: business days, roll calendars, front-month resolution, continuous
series, position rolls, option chains and Globex trading hours.

The modules are pure (dates and numbers in, dates and numbers out) except the roll executor,
which submits through the strategy's unified order path; the safety gate reads trading hours
from :mod:`nautilus_ext.tradfi.sessions`.
"""

from nautilus_ext.tradfi.business_days import BusinessCalendar
from nautilus_ext.tradfi.continuous import Adjustment
from nautilus_ext.tradfi.continuous import ContinuousSeries
from nautilus_ext.tradfi.continuous import build_continuous
from nautilus_ext.tradfi.front import ContractProvider
from nautilus_ext.tradfi.front import FrontMonthResolver
from nautilus_ext.tradfi.front import InstrumentContractProvider
from nautilus_ext.tradfi.front import ListedContract
from nautilus_ext.tradfi.front import RuleContractProvider
from nautilus_ext.tradfi.options import OptionChain
from nautilus_ext.tradfi.options import front_chains
from nautilus_ext.tradfi.options import option_chains
from nautilus_ext.tradfi.rolls import ContractDates
from nautilus_ext.tradfi.rolls import ExpiryRule
from nautilus_ext.tradfi.rolls import RollAnchor
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.rolls import RollMethod
from nautilus_ext.tradfi.rolls import RollsConfig
from nautilus_ext.tradfi.rolls import RootRoll
from nautilus_ext.tradfi.sessions import SessionCalendar
from nautilus_ext.tradfi.sessions import TradingHours

__all__ = [
    "Adjustment",
    "BusinessCalendar",
    "ContinuousSeries",
    "ContractDates",
    "ContractProvider",
    "ExpiryRule",
    "FrontMonthResolver",
    "InstrumentContractProvider",
    "ListedContract",
    "OptionChain",
    "RollAnchor",
    "RollCalendar",
    "RollMethod",
    "RollsConfig",
    "RootRoll",
    "RuleContractProvider",
    "SessionCalendar",
    "TradingHours",
    "build_continuous",
    "front_chains",
    "option_chains",
]
