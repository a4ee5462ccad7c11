"""The ASGI factory each HTTP worker process of an MCP server runs (``--workers N``).

Contract: ``uvicorn cloudoptima_mcp.http_workers:app_factory --factory`` builds the ``/mcp`` app from the
settings in the environment and the server options :func:`cloudoptima_mcp.server.main` put in
``CLOUDOPTIMA_MCP_HTTP_OPTIONS`` (server name, read-only, toolsets, stateful, allowed hosts); each process
has its own database pool, result cache and verified-bearer cache. Without the options variable the factory
refuses to start with a message saying how to run it.
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette

from cloudoptima.settings import load_settings
from cloudoptima_mcp.server import OPTIONS_ENV_VAR, http_app_from_options


def app_factory() -> Starlette:
    """The app of one worker process (see module contract)."""
    raw = os.environ.get(OPTIONS_ENV_VAR)
    if not raw:
        raise RuntimeError(
            f"{OPTIONS_ENV_VAR} is not set: start workers with `cloudoptima mcp <server> --transport http "
            "--workers N` (or python -m cloudoptima_mcp.<server>), which sets it"
        )
    return http_app_from_options(load_settings(), json.loads(raw))
