"""The ``cloudoptima`` command: the composition root above every layer.

The kernel (``cloudoptima``) and the app layers (``cloudoptima_tools``, ``cloudoptima_mcp``,
``cloudoptima_agents``, ``cloudoptima_workflows``, ``cloudoptima_gateway``, ``cloudoptima_evals``) never import
this package. It starts app layers through :mod:`cloudoptima_cli.entry_points`, whose functions import them,
so the import linter sees every edge. One module per command group, wired in :mod:`cloudoptima_cli.app`.

This ``__init__`` imports nothing: an app process started through ``cloudoptima_cli.entry_points`` does not
load the command tree.
"""


def main() -> None:
    """Console-script entry point (``cloudoptima = "cloudoptima_cli:main"``): the command tree of
    :mod:`cloudoptima_cli.app`."""
    from cloudoptima_cli.app import main as run

    run()


__all__ = ["main"]
