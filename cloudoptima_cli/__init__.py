"""The ``cloudoptima`` command: the composition root above every layer.

The kernel (``cloudoptima``) and the app layers (``cloudoptima_tools``, ``cloudoptima_mcp``,
``cloudoptima_agents``, ``cloudoptima_workflows``, ``cloudoptima_gateway``, ``cloudoptima_evals``) never import
this package. It starts app layers through :mod:`cloudoptima_cli.entry_points`, whose functions import them,
so the import linter sees every edge. One module per command group, wired in :mod:`cloudoptima_cli.app`.
"""

from cloudoptima_cli.app import app, main

__all__ = ["app", "main"]
