"""The deployable gateway's composition root: ``uvicorn cloudoptima_gateway.main:app_factory --factory``.

It wires the pieces the gateway package itself does not import: the platform MCP server (streamable HTTP,
mounted at ``/mcp``), the chat router (``POST /v1/chat``) and the recommendation narrator
(``GET /v1/recommendations/{id}/narrative``), both LangGraph agents. Both are allowed here only,
by name, in ``.importlinter``.
"""

from __future__ import annotations

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


def app_factory() -> FastAPI:
    """Settings come from the environment (the only reader is ``cloudoptima.settings``)."""
    return build_app(load_settings())
