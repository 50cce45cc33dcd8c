"""
CME futures specifics: business days, roll calendars, front-month resolution, continuous
series, position rolls and Globex trading hours.

The modules are pure (dates and numbers in, dates and numbers out) except the roll executor,
which submits through the strategy's unified order path; the safety gate reads trading hours
from :mod:`nautilus_ext.tradfi.sessions`.
"""

from nautilus_ext.tradfi.business_days import BusinessCalendar
from nautilus_ext.tradfi.rolls import ContractDates
from nautilus_ext.tradfi.rolls import ExpiryRule
from nautilus_ext.tradfi.rolls import RollAnchor
from nautilus_ext.tradfi.rolls import RollCalendar
from nautilus_ext.tradfi.rolls import RollMethod
from nautilus_ext.tradfi.rolls import RollsConfig
from nautilus_ext.tradfi.rolls import RootRoll

__all__ = [
    "BusinessCalendar",
    "ContractDates",
    "ExpiryRule",
    "RollAnchor",
    "RollCalendar",
    "RollMethod",
    "RollsConfig",
    "RootRoll",
]
