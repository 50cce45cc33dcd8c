"""
The web console: server-rendered pages with live updates over Server-Sent Events.

- :mod:`~nautilus_ext.operator.web.auth`: users from the environment (hashed secrets, viewer
  and operator roles), sessions with expiry, CSRF tokens, login rate limit and lockout;
- :mod:`~nautilus_ext.operator.web.state`: what the pages show, fed from the node's bus;
- :mod:`~nautilus_ext.operator.web.pages`: the HTML (dashboard fragments, two-step confirm,
  resume checklist, audit trail);
- :mod:`~nautilus_ext.operator.web.app`: the FastAPI application; every action is a control
  command (:func:`nautilus_ext.safety.control.run_command`) audited as ``web:<user>``;
- :mod:`~nautilus_ext.operator.web.actor`: :class:`WebConsoleActor`, loaded by a live node
  from its YAML's ``web:`` section.
"""

from nautilus_ext.operator.web.actor import WebConsoleActor
from nautilus_ext.operator.web.actor import WebConsoleConfig
from nautilus_ext.operator.web.app import create_app
from nautilus_ext.operator.web.auth import Authenticator
from nautilus_ext.operator.web.auth import Role
from nautilus_ext.operator.web.state import ConsoleState

__all__ = ["Authenticator", "ConsoleState", "Role", "WebConsoleActor", "WebConsoleConfig", "create_app"]
