"""The deployable gateway's composition root: ``uvicorn cloudoptima_gateway.main:app_factory --factory``.

It wires the pieces the gateway package itself does not import: the platform MCP server (streamable HTTP,
mounted at ``/mcp``), the chat router (``POST /v1/chat``) and the recommendation narrator
(``GET /v1/recommendations/{id}/narrative``), both LangGraph agents. Both are allowed here only,
by name, in ``.importlinter``.
"""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

from cloudoptima.clouds.registry import ProviderRegistry
from cloudoptima.settings import Settings, load_settings
from cloudoptima_gateway.app import create_app
from cloudoptima_gateway.routes import chat, narratives
from cloudoptima_mcp.platform import http_app


def build_app(settings: Settings, *, providers: ProviderRegistry | None = None) -> FastAPI:
    """The whole gateway: the API, the WebSocket, the chat and narrative routers and the MCP mount.

    The route-table tests (RBAC, isolation, schema fuzzing) build the app through here, so a route added
    to the deployed app cannot escape them.
    """
    return create_app(
        settings,
        providers=providers,
        mounts={"/mcp": http_app(settings)},
        routers=[chat.router, narratives.router],
    )


GIL_SWITCH_INTERVAL_S = 0.001
"""How long a thread may hold the GIL while another wants it (CPython's default is 5 ms). The event loop answers
cached reads while the request threads run database reads; each of a thread's round trips gives the GIL up and
waits up to this long to get it back, so at 5 ms a database read took hundreds of ms under load.
``benchmarks/gateway_load.py`` (200 clients × 60 s, 2 processes): p99 1,090 ms at 5 ms, 708 ms at 1 ms."""


def app_factory() -> FastAPI:
    """Settings come from the environment (the only reader is ``cloudoptima.settings``); the process's GIL switch
    interval becomes :data:`GIL_SWITCH_INTERVAL_S`, and what importing and building the app allocated is moved out
    of the garbage collector's sight (``gc.freeze``: ~400 MB of modules and objects that live as long as the
    process, which every full collection would otherwise walk while requests wait)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = build_app(load_settings())
    gc.freeze()
    return app
