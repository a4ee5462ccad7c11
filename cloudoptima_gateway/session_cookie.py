"""The console's refresh-token cookie (opt-in: API clients keep refresh tokens in JSON bodies).

Contract:
- A request is a *console* request when it carries ``X-CloudOptima-Client: console`` (:data:`CLIENT_HEADER`).
  ``POST /v1/auth/login``, ``/refresh`` and ``/logout`` then keep the refresh token in an httpOnly cookie
  (:data:`COOKIE_NAME`; ``HttpOnly; SameSite=Strict; Path=/v1/auth``, ``Secure`` when the request is https,
  ``Max-Age`` = the refresh lifetime) and answer ``refresh_token: ""`` in the body (script never sees it).
  The SSO callback of a sign-in started with ``client=console`` sets the same cookie.
- The cookie is only *read* on console requests: a cross-site form cannot send the custom header and
  ``SameSite=Strict`` keeps the cookie off cross-site requests, so both must be defeated for CSRF. A refresh
  request that carries the cookie but not the header is refused (:func:`cookie_token` raises 403).
- Requests without the header behave exactly as before (the cookie is neither read nor written).
- Beside it the gateway sets :data:`MARKER_NAME` (``1``, Path=/, same lifetime, readable by script, no secret)
  so the console only tries to restore a session when one may exist (a refused restore is a 401, which the
  browser reports as a console error). Both are cleared together.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

CLIENT_HEADER = "X-CloudOptima-Client"
CONSOLE = "console"
COOKIE_NAME = "cloudoptima_refresh"
COOKIE_PATH = "/v1/auth"
MARKER_NAME = "cloudoptima_session"

ClientHeader = Annotated[
    str | None,
    Header(
        alias=CLIENT_HEADER,
        description="console: the refresh token travels as the httpOnly cookie cloudoptima_refresh "
        '(Path=/v1/auth, SameSite=Strict) and the body says refresh_token ""',
    ),
]
"""Declares the header on a route, for the OpenAPI document (the routes read it with :func:`is_console`)."""


def is_console(request: Request) -> bool:
    """True when the request says it comes from the web console (the custom header)."""
    return request.headers.get(CLIENT_HEADER, "").strip().lower() == CONSOLE


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_refresh_cookie(response: Response, request: Request, token: str, max_age_seconds: int) -> None:
    """Put ``token`` into the httpOnly refresh cookie on ``response`` (see module contract)."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age_seconds,
        path=COOKIE_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        MARKER_NAME, "1", max_age=max_age_seconds, path="/", secure=_secure(request), samesite="strict"
    )


def clear_refresh_cookie(response: Response, request: Request) -> None:
    """Expire the refresh cookie (and its marker) on ``response``."""
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, secure=_secure(request), httponly=True, samesite="strict"
    )
    response.delete_cookie(MARKER_NAME, path="/", secure=_secure(request), samesite="strict")


def refused(request: Request, detail: str) -> JSONResponse:
    """A 401 ``{"detail": ...}`` that also clears the cookies (a refused console refresh)."""
    response = JSONResponse({"detail": detail}, status_code=status.HTTP_401_UNAUTHORIZED)
    clear_refresh_cookie(response, request)
    return response


def cookie_token(request: Request) -> str | None:
    """The refresh token from the cookie of a console request; None when there is no cookie.

    Raises 403 when the cookie arrives without :data:`CLIENT_HEADER` (a possible cross-site request)."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    if not is_console(request):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"the refresh cookie is only accepted with the {CLIENT_HEADER}: {CONSOLE} header",
        )
    return token[:512]
