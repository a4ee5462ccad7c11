"""The platform MCP server: every cloud's tools plus anomalies, recommendations, budgets and remediation.

``http_app(settings)`` is the ASGI app the gateway mounts at ``/mcp`` (its endpoint is the mount root).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette

from cloudoptima.settings import Settings
from cloudoptima_mcp.runtime import Runtime
from cloudoptima_mcp.server import http_app_for
from cloudoptima_mcp.server import main as _main


def http_app(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    read_only: bool = False,
    toolsets: str | None = None,
) -> Starlette:
    """Streamable-HTTP app requiring a bearer (API key or gateway JWT); serves MCP at its root path ``/``.

    Mount it with ``app.mount("/mcp", http_app(settings))`` and run its lifespan
    (``app.router.lifespan_context`` or ``Starlette(lifespan=...)``): FastMCP's session manager needs it.
    ``toolsets`` (``cost,budgets`` or ``all``) defaults to ``CLOUDOPTIMA_MCP_TOOLSETS``, then to the
    platform server's default toolsets.
    """
    return http_app_for("platform", settings, runtime, read_only=read_only, toolsets=toolsets, path="/")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the platform server (``--transport stdio|http --read-only --toolsets --port``)."""
    _main("platform", argv)
