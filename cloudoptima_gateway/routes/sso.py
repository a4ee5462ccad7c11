"""Single sign-on (OpenID Connect): the sign-in routes and the admin API that configures the identity provider.

- ``GET /v1/auth/sso/login?organization=<slug>`` redirects (302) to the organisation's IdP (code flow with
  PKCE, state and nonce; ``cloudoptima.services.sso``).
- ``GET /v1/auth/sso/callback`` is where the IdP sends the browser back: it validates everything and answers
  the platform's normal token pair (the same as ``POST /v1/auth/login``). Refusals: 400 unknown/used/expired
  state or a missing parameter, 401 the IdP refused or the ID token failed a check, 403 the person may not
  sign in here (no role for their groups, deactivated, email of another organisation), 404 no SSO for that
  organisation, 502 the IdP failed. Every completed or refused callback whose organisation is known is audited.
- The web console starts with ``GET /v1/auth/sso/login?organization=<slug>&client=console``; the flag is kept
  in the server-side state (``SsoLoginService.begin(..., for_console=True)``), never read from the callback's
  query. Its callback answers ``303`` to ``/`` with the refresh token as the console's httpOnly cookie
  (``cloudoptima_gateway.session_cookie``), or ``303`` to ``/?sso_error=<message>`` when it is refused.
- ``GET`` / ``PUT`` / ``DELETE /v1/organization/sso``: the organisation's IdP (admins only: ``manage:organization``);
  the client secret is write-only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from cloudoptima.services.audit import AuditEntry, record
from cloudoptima.services.auth import AuthService, TokenPair
from cloudoptima.services.sso import (
    SsoAccessDenied,
    SsoConfigError,
    SsoConfigService,
    SsoConfigSpec,
    SsoError,
    SsoLoginService,
    SsoProviderError,
    SsoStateError,
    SsoTokenError,
    SsoUnavailableError,
)
from cloudoptima.storage.models import SsoProvider
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, SystemDb, TenantDb
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.auth import TokenResponse
from cloudoptima_gateway.schemas.common import Success, invalid
from cloudoptima_gateway.schemas.sso import SsoConfigIn, SsoConfigOut
from cloudoptima_gateway.session_cookie import set_refresh_cookie

router = APIRouter(tags=["sso"], route_class=AuditedRoute)
SsoAdmin = Annotated[Principal, Permission("manage:organization")]
LOGIN_PATH = "/v1/auth/sso/login"

_STATUS: dict[type[SsoError], int] = {
    SsoStateError: status.HTTP_400_BAD_REQUEST,
    SsoTokenError: status.HTTP_401_UNAUTHORIZED,
    SsoAccessDenied: status.HTTP_403_FORBIDDEN,
    SsoUnavailableError: status.HTTP_404_NOT_FOUND,
    SsoProviderError: status.HTTP_502_BAD_GATEWAY,
}


def _http(exc: SsoError) -> HTTPException:
    code = next((c for kind, c in _STATUS.items() if isinstance(exc, kind)), status.HTTP_400_BAD_REQUEST)
    return HTTPException(code, detail=str(exc))


@router.get("/auth/sso/login", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def sso_login(
    request: Request,
    runtime: RuntimeDep,
    session: SystemDb,
    organization: Annotated[
        str, Query(min_length=1, max_length=63, description="the organisation's SSO slug")
    ],
    client: Annotated[
        Literal["console"] | None,
        Query(description="console: the callback redirects to the web console with its session cookie"),
    ] = None,
) -> RedirectResponse:
    """Send the browser to the organisation's identity provider."""
    redirect_uri = str(request.url_for("sso_callback"))
    try:
        url = SsoLoginService(session, runtime.cipher()).begin(
            organization, redirect_uri, for_console=client == "console"
        )
    except SsoError as exc:
        raise _http(exc) from exc
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)


def _audit(
    request: Request, runtime: Runtime, org: Any, user: Any, result: str, details: dict[str, Any]
) -> None:
    if org is None:
        return
    record(
        runtime.sessions(),
        AuditEntry(
            organization_id=org,
            user_id=user,
            action="sso_callback",
            result=result,  # type: ignore[arg-type]
            resource_type="sso",
            details={"method": "GET", "path": request.url.path, **details},
            ip_address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        ),
    )


@router.get(
    "/auth/sso/callback",
    response_model=TokenResponse,
    name="sso_callback",
    responses={
        303: {
            "description": "a sign-in started by the web console: to / with the session cookie, "
            "or to /?sso_error=<message> when refused"
        }
    },
)
def sso_callback(
    request: Request,
    runtime: RuntimeDep,
    session: SystemDb,
    state: Annotated[str | None, Query(max_length=512)] = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> TokenResponse | Response:
    """Finish a sign-in: answer the platform's token pair for the person the IdP authenticated (a sign-in
    the console started: redirect to the console, see the module docstring)."""
    if not state:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="state is missing from the callback")
    service = SsoLoginService(session, runtime.cipher())
    console = service.started_for_console(state)  # asked before anything consumes the state
    try:
        pair = _finish(request, runtime, session, service, state, code, error, error_description)
    except HTTPException as exc:
        if not console:
            raise
        query = urlencode({"sso_error": str(exc.detail)})
        return RedirectResponse(f"/?{query}", status_code=status.HTTP_303_SEE_OTHER)
    if not console:
        return TokenResponse(
            access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
        )
    redirect = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    max_age = runtime.settings.refresh_token_days * 86_400
    set_refresh_cookie(redirect, request, pair.refresh_token, max_age)
    return redirect


def _finish(
    request: Request,
    runtime: Runtime,
    session: Session,
    service: SsoLoginService,
    state: str,
    code: str | None,
    error: str | None,
    error_description: str | None,
) -> TokenPair:
    """Validate the callback, issue the token pair and audit (raises HTTPException when refused)."""
    org = service.organisation_of(state)
    if error or not code:
        if org is not None:
            service.discard(state)
        reason = f"the identity provider refused the sign-in: {error} {error_description or ''}".strip()
        _audit(request, runtime, org, None, "denied", {"error": error or "code is missing"})
        if error:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="code is missing from the callback")
    try:
        signed_in = service.complete(state, code)
    except SsoError as exc:
        session.rollback()
        result = "denied" if isinstance(exc, SsoTokenError | SsoAccessDenied) else "failure"
        _audit(request, runtime, org, None, result, {"error": str(exc)})
        raise _http(exc) from exc
    pair = AuthService(session, runtime.issuer(), refresh_days=runtime.settings.refresh_token_days).issue_for(
        signed_in.user
    )
    session.commit()
    _audit(
        request,
        runtime,
        pair.organization_id,
        pair.user_id,
        "success",
        {"subject": signed_in.subject, "created": signed_in.created, "role": pair.role},
    )
    return pair


# ---- admin: the organisation's identity provider -------------------------------------------------------------
def _out(row: SsoProvider) -> SsoConfigOut:
    return SsoConfigOut(
        id=row.id,
        slug=row.slug,
        issuer=row.issuer,
        client_id=row.client_id,
        has_client_secret=bool(row.client_secret_encrypted),
        scopes=row.scopes,
        groups_claim=row.groups_claim,
        group_roles=dict(row.group_roles),
        default_role=row.default_role,
        enabled=row.enabled,
        login_path=f"{LOGIN_PATH}?organization={row.slug}",
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("/organization/sso", response_model=SsoConfigOut)
def get_sso(principal: SsoAdmin, runtime: RuntimeDep, session: TenantDb) -> SsoConfigOut:
    """The organisation's identity provider (404 when single sign-on is not configured)."""
    row = SsoConfigService(session, principal.organization_id, runtime.cipher()).get()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="single sign-on is not configured")
    return _out(row)


@router.put("/organization/sso", response_model=SsoConfigOut)
def put_sso(body: SsoConfigIn, principal: SsoAdmin, runtime: RuntimeDep, session: TenantDb) -> SsoConfigOut:
    """Create or replace the organisation's identity provider (the client secret is kept when omitted)."""
    spec = SsoConfigSpec(**body.model_dump())
    try:
        row = SsoConfigService(session, principal.organization_id, runtime.cipher()).put(spec)
    except SsoConfigError as exc:
        raise invalid(exc.field, str(exc), location="body") from exc
    session.refresh(row)
    return _out(row)


@router.delete("/organization/sso", response_model=Success)
def delete_sso(principal: SsoAdmin, runtime: RuntimeDep, session: TenantDb) -> Success:
    """Turn single sign-on off (people keep their accounts; their identities relink when it comes back)."""
    if not SsoConfigService(session, principal.organization_id, runtime.cipher()).delete():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="single sign-on is not configured")
    return Success()
