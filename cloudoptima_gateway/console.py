"""The web console (``web/``, built into ``web/dist``) served by the gateway at ``/``.

Contract:
- Only requests that no gateway route or mount matches reach the console (it is the router's fallback), so
  every API answer, 404s included, stays what the API gives (JSON). GET/HEAD only; other methods get the
  router's usual 404.
- Paths whose first segment belongs to the API (``/v1``, ``/docs``, ``/redoc``, ``/openapi.json``, ``/mcp``,
  ``/metrics``, ``/health``… — every first segment of the app's own routes and mounts) are never the console's:
  a miss there is the API's JSON 404.
- A file of the built console is served with its type; ``/assets/*`` (Vite's hashed names) is cached for a
  year (``immutable``); everything else (``index.html`` first) is ``no-cache``. A missing ``/assets/*`` file or
  any other missing path with a file extension is a plain 404; every other path is a client-side route and
  gets ``index.html``.
- Console responses carry :func:`console_csp`: the gateway's default policy (``DEFAULT_CSP``: own origin, no
  inline script) plus ``img-src 'self' data:`` and ``connect-src`` for the same host over ``ws:``/``wss:``
  (the live channels). The other security headers come from the request middleware, as for every response.
- Not built (no ``index.html`` in the folder): ``/`` and client-side routes answer a short HTML page saying
  how to build it (``make web``), status 503, never a blank page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cloudoptima.settings.model import DEFAULT_CONSOLE_DIR
from cloudoptima_gateway.docs_pages import DEFAULT_CSP

__all__ = ["DEFAULT_CONSOLE_DIR", "console_csp", "install_console", "resolve_console_dir"]
ASSETS_PREFIX: Final = "assets/"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
NO_CACHE: Final = "no-cache"
ALWAYS_API: Final = frozenset({"v1", "docs", "redoc", "openapi.json", "mcp", "metrics", "health"})
"""First path segments that are the API's even when no route of the app names them."""
_HOST: Final = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

NOT_BUILT_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CloudOptima: console not built</title></head>
<body>
<main>
<h1>The CloudOptima console is not built</h1>
<p>Build it from the repository with <code>make web</code> (or start everything with <code>make demo</code>),
then reload this page. It needs Node.js 20.19+ and npm.</p>
<p>The API is running: see <a href="/docs">/docs</a>.</p>
</main>
</body></html>
"""


def console_csp(host: str | None) -> str:
    """The Content-Security-Policy of console responses for a request to ``host`` (the Host header)."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return f"{DEFAULT_CSP}; img-src 'self' data:; connect-src 'self'{sockets}"


def resolve_console_dir(configured: Path | None) -> Path:
    """The folder to serve: the configured one, else the checkout's ``web/dist``."""
    return configured if configured is not None else DEFAULT_CONSOLE_DIR


def api_segments(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """First path segments of the app's routes and mounts (plus :data:`ALWAYS_API`)."""
    found = set(ALWAYS_API)
    for route in routes:
        path = route.path if isinstance(route, Route | Mount) else getattr(route, "path", "")
        first = str(path).lstrip("/").split("/", 1)[0]
        if first and "{" not in first:
            found.add(first)
    return frozenset(found)


class ConsoleFallback:
    """ASGI app put in the router's ``default`` slot: answers console paths, hands the rest to ``api_default``."""

    def __init__(self, directory: Path, api_default: ASGIApp, app: FastAPI) -> None:
        self.directory = directory
        self.api_default = api_default
        self.app = app
        self._segments: frozenset[str] | None = None

    def _is_api(self, path: str) -> bool:
        if self._segments is None:  # routes are complete once requests arrive
            self._segments = api_segments(self.app.router.routes)
        return path.lstrip("/").split("/", 1)[0] in self._segments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "/"))
        if scope["type"] != "http" or scope.get("method") not in {"GET", "HEAD"} or self._is_api(path):
            await self.api_default(scope, receive, send)
            return
        request = Request(scope, receive)
        response = self.respond(path, request.headers.get("host"))
        await response(scope, receive, send)

    def respond(self, path: str, host: str | None) -> Response:
        """The console's answer for ``path`` (see module contract)."""
        csp = {"Content-Security-Policy": console_csp(host)}
        root = self.directory.resolve()
        index = root / "index.html"
        relative = path.lstrip("/")
        if relative:
            candidate = (root / relative).resolve()
            inside = candidate.is_relative_to(root) and candidate != root
            if inside and candidate.is_file():
                cache = IMMUTABLE if relative.startswith(ASSETS_PREFIX) else NO_CACHE
                media = _TYPES.get(candidate.suffix.lower())
                return FileResponse(candidate, media_type=media, headers={"Cache-Control": cache, **csp})
            if relative.startswith(ASSETS_PREFIX) or "." in relative.rsplit("/", 1)[-1] or not inside:
                return PlainTextResponse(
                    "not found", status_code=404, headers={"Cache-Control": NO_CACHE, **csp}
                )
        if not index.is_file():
            return HTMLResponse(NOT_BUILT_PAGE, status_code=503, headers={"Cache-Control": "no-store", **csp})
        return FileResponse(index, media_type=_TYPES[".html"], headers={"Cache-Control": NO_CACHE, **csp})


def install_console(app: FastAPI, directory: Path) -> None:
    """Serve the console from ``directory`` for every GET/HEAD that no route of ``app`` matches."""
    app.router.default = ConsoleFallback(directory, app.router.default, app)
