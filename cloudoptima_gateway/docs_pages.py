"""The HTML pages the gateway serves (Swagger UI at ``/docs``, ReDoc at ``/redoc``) and the
Content-Security-Policy of HTML responses.

Contract:
- :data:`DEFAULT_CSP` is strict: nothing but the gateway's own origin, no inline script, no plugins, no
  framing, no ``<base>``; the app sends it with every response that sets no policy of its own (JSON answers
  included, where it costs nothing).
- The documentation pages load their viewer from a pinned CDN and (Swagger UI) start it with one inline
  script: each page sends its own policy, which allows exactly that CDN and the SHA-256 of exactly its own
  inline scripts (computed from the page at start-up), so no other inline script can run there either.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

DEFAULT_CSP: Final = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
CDN: Final = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) of every inline ``<script>`` of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def page_csp(html: str, *, fonts: bool = False) -> str:
    """The policy of one documentation page (see module contract)."""
    scripts = " ".join([CDN, *inline_script_hashes(html)])
    style_sources = (
        f"{CDN} https://fonts.googleapis.com 'unsafe-inline'" if fonts else f"{CDN} 'unsafe-inline'"
    )
    font_sources = "https://fonts.gstatic.com data:" if fonts else "data:"
    return (
        f"default-src 'none'; script-src {scripts}; style-src {style_sources}; font-src {font_sources}; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; worker-src blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    )


def _page(response: HTMLResponse, *, fonts: bool = False) -> HTMLResponse:
    html = bytes(response.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(html, fonts=fonts)})


def docs_router(openapi_url: str, title: str) -> APIRouter:
    """``/docs`` and ``/redoc``, each with its own policy (pages are rendered once)."""
    swagger = _page(get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - Swagger UI"))
    redoc = _page(get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc"), fonts=True)
    router = APIRouter(include_in_schema=False)

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            bytes(swagger.body),
            headers={"Content-Security-Policy": swagger.headers["content-security-policy"]},
        )

    @router.get("/redoc", response_class=HTMLResponse)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(
            bytes(redoc.body), headers={"Content-Security-Policy": redoc.headers["content-security-policy"]}
        )

    return router
