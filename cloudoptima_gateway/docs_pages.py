"""The HTML pages the gateway serves (Swagger UI at ``/docs``, ReDoc at ``/redoc``), their assets, and the
Content-Security-Policy of HTML responses.

Contract:
- :data:`DEFAULT_CSP` is strict: nothing but the gateway's own origin, no inline script, no plugins, no
  framing, no ``<base>``; the app sends it with every response that sets no policy of its own (JSON answers
  included, where it costs nothing).
- The documentation pages work with no network: their viewers' JavaScript, CSS and favicon are the files the
  ``fastapi-offline`` wheel ships, served by the gateway under :data:`ASSETS_PATH` (only those names; anything
  else there is a 404). Swagger UI is started by a small script also served there (:data:`SWAGGER_INIT_JS`),
  which reads the OpenAPI document's URL from the page; neither page has an inline script.
- Both pages send :data:`DOCS_CSP`: scripts, styles, fonts and images from the gateway's own origin only
  (inline *styles* allowed: both viewers set style attributes), ``data:`` images and fonts (Swagger UI's icons),
  ``blob:`` workers (ReDoc's search), requests to the gateway itself; no inline script, no framing. ReDoc's
  bundle always asks for its vendor's logo from the vendor's CDN: the policy blocks it (one console message,
  no request leaves the browser) and ReDoc then leaves the logo out.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

DEFAULT_CSP: Final = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "img-src 'self' data:; connect-src 'self'; worker-src blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
ASSETS_PATH: Final = "/docs-assets"
SHIPPED_ASSETS: Final = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
"""The files of ``fastapi_offline/static`` the gateway serves (all it ships)."""
SWAGGER_INIT_JS: Final = """\
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""
_CACHE = "public, max-age=3600"


def shipped_assets_dir() -> Path:
    """The folder of Swagger UI / ReDoc files inside the installed ``fastapi_offline`` package."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def swagger_ui_html(openapi_url: str, title: str) -> str:
    """The ``/docs`` page: local CSS, bundle and init script; the OpenAPI URL as a data attribute."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" href="{ASSETS_PATH}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/swagger-init.js"></script>
</body>
</html>
"""


def redoc_html(openapi_url: str, title: str) -> str:
    """The ``/redoc`` page: the local standalone bundle, no web fonts (system fonts instead)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="{ASSETS_PATH}/favicon.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc requires JavaScript to show the documentation.</noscript>
<redoc spec-url="{html.escape(openapi_url)}"></redoc>
<script src="{ASSETS_PATH}/redoc.standalone.js"></script>
</body>
</html>
"""


def docs_router(openapi_url: str, title: str) -> APIRouter:
    """``/docs``, ``/redoc`` and their assets under :data:`ASSETS_PATH` (pages are rendered once)."""
    swagger = swagger_ui_html(openapi_url, f"{title} - Swagger UI")
    redoc = redoc_html(openapi_url, f"{title} - ReDoc")
    assets = shipped_assets_dir()
    router = APIRouter(include_in_schema=False)

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/redoc", response_class=HTMLResponse)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get(ASSETS_PATH + "/swagger-init.js")
    async def swagger_init() -> Response:
        return Response(
            SWAGGER_INIT_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": _CACHE}
        )

    @router.get(ASSETS_PATH + "/{name}")
    async def shipped_asset(name: str) -> FileResponse:
        if name not in SHIPPED_ASSETS:
            raise HTTPException(status_code=404, detail="not found")
        return FileResponse(assets / name, headers={"Cache-Control": _CACHE})

    return router
