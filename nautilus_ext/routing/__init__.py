"""Routing: the pure Order -> Route decision tree of seed 000."""

from nautilus_ext.routing.router import ALGORITHM_BY_URGENCY
from nautilus_ext.routing.router import Algorithm
from nautilus_ext.routing.router import AlgoSpec
from nautilus_ext.routing.router import Candidate
from nautilus_ext.routing.router import GroupRoute
from nautilus_ext.routing.router import Route
from nautilus_ext.routing.router import RouteFamily
from nautilus_ext.routing.router import route
from nautilus_ext.routing.router import route_group

__all__ = [
    "ALGORITHM_BY_URGENCY",
    "AlgoSpec",
    "Algorithm",
    "Candidate",
    "GroupRoute",
    "Route",
    "RouteFamily",
    "route",
    "route_group",
]
