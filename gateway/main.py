"""The deployable gateway's composition root: ``uvicorn gateway.main:app_factory --factory``.

It wires the pieces the gateway package itself does not import: the platform MCP server (streamable HTTP,
mounted at ``/mcp``), the chat router (``POST /v1/chat``) and the recommendation narrator
(``GET /v1/recommendations/{id}/narrative``), both LangGraph agents. Both are allowed here only,
by name, in ``.importlinter``.
"""

from __future__ import annotations

from fastapi import FastAPI

from cloudoptima.settings import load_settings
from gateway.app import create_app
from gateway.routes import chat, narratives
from mcp_servers.platform import http_app


def app_factory() -> FastAPI:
    """Settings come from the environment (the only reader is ``cloudoptima.settings``)."""
    settings = load_settings()
    return create_app(settings, mounts={"/mcp": http_app(settings)}, routers=[chat.router, narratives.router])
