"""Every write through the API lands in ``audit_logs``: the route class marks it, a middleware records it.

:class:`AuditedRoute` wraps POST/PUT/PATCH/DELETE handlers. After the handler answers (or raises) it records
user, actor (``api_key:<id>`` for an API key, else ``user:<id>``), channel ``rest``, action (the route's
name), resource (type from the route's first tag, id from the path), details (method, path, status, plus
whatever the route put in ``request.state.audit_details``), client address, user agent and result
(``success`` for 2xx, ``denied`` for 401/403, else ``failure``). Sign-up and
sign-in have no principal yet: those routes name the organisation in ``request.state.audit_org`` /
``audit_user``. Requests whose organisation is unknown (a bad token) are not recorded.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from cloudoptima.services.audit import AuditEntry, AuditResult, api_key_actor, record

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_log = logging.getLogger("cloudoptima.gateway.audit")


def _result(status: int) -> AuditResult:
    if 200 <= status < 300:
        return "success"
    if status in (401, 403):
        return "denied"
    return "failure"


def _entry(route: APIRoute, request: Request, status: int) -> AuditEntry | None:
    principal = getattr(request.state, "principal", None)
    org: uuid.UUID | None = getattr(request.state, "audit_org", None) or (
        principal.organization_id if principal is not None else None
    )
    if org is None:
        return None
    user = getattr(request.state, "audit_user", None) or (
        principal.user_id if principal is not None else None
    )
    path_ids = [str(v) for k, v in request.path_params.items() if k.endswith("id")]
    details: dict[str, Any] = {"method": request.method, "path": request.url.path, "status": status}
    details.update(getattr(request.state, "audit_details", {}) or {})
    resource_id = getattr(request.state, "audit_resource_id", None) or (path_ids[0] if path_ids else None)
    key_id = getattr(principal, "key_id", None)
    return AuditEntry(
        organization_id=org,
        user_id=user,
        action=route.name,
        result=_result(status),
        resource_type=str(route.tags[0]) if route.tags else None,
        resource_id=str(resource_id) if resource_id is not None else None,
        details=details,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        channel="rest",
        actor=api_key_actor(key_id) if key_id is not None else None,
    )


async def _write(route: APIRoute, request: Request, status: int) -> None:
    entry = _entry(route, request, status)
    if entry is None:
        return
    try:
        await run_in_threadpool(record, request.app.state.runtime.sessions(), entry)
    except Exception:
        _log.exception("audit record failed", extra={"action": entry.action})


class AuditedRoute(APIRoute):
    """An APIRoute that marks writes for :class:`AuditMiddleware` with their final status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        if not (self.methods or set()) & WRITE_METHODS:
            return original

        async def audited(request: Request) -> Response:
            request.state.audit_route = self
            request.state.audit_status = 500
            try:
                response = await original(request)
            except HTTPException as exc:
                request.state.audit_status = exc.status_code
                raise
            except RequestValidationError:
                request.state.audit_status = 422
                raise
            request.state.audit_status = response.status_code
            return response

        return audited


class AuditMiddleware:
    """Writes the audit row once the route has finished, after its session committed (or rolled back).

    The route's database session closes with its dependencies, after the response was produced; an audit
    row written earlier could claim a write that then failed to commit (or precede the row it names).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            state = scope.get("state") or {}
            route = state.get("audit_route")
            if isinstance(route, APIRoute):
                await _write(route, Request(scope), int(state.get("audit_status", 500)))
