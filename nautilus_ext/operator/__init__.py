"""
The operator's surface beside the CLI: Prometheus metrics exported by a running node.

- :mod:`nautilus_ext.operator.metrics`: :class:`NodeMetrics`, every metric and
  :data:`METRIC_NAMES` (what the Grafana dashboards in ``deploy/grafana/`` may reference);
- :mod:`nautilus_ext.operator.exporter`: :class:`MetricsServer`, ``/metrics`` over HTTP on
  loopback by default;
- :mod:`nautilus_ext.operator.actor`: :class:`PrometheusMetricsActor`, fed by the node's
  message bus (order events, the safety layer's events and status, funding and health factor
  messages) and its cache (positions, PnL, balances, margin).

Operator commands go through :func:`nautilus_ext.safety.control.run_command` (the CLI's control
path); surfaces here read the bus and never hold the gate.
"""

from nautilus_ext.operator.actor import PrometheusMetricsActor
from nautilus_ext.operator.actor import PrometheusMetricsConfig
from nautilus_ext.operator.exporter import MetricsServer
from nautilus_ext.operator.metrics import METRIC_NAMES
from nautilus_ext.operator.metrics import NodeMetrics

__all__ = [
    "METRIC_NAMES",
    "MetricsServer",
    "NodeMetrics",
    "PrometheusMetricsActor",
    "PrometheusMetricsConfig",
]
