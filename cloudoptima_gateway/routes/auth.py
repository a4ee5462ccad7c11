"""``/v1/auth``: register, login (throttled), refresh (rotating), logout, API keys, invitations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.services.api_keys import ApiKeyService
from cloudoptima.services.auth import (
    AuthService,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    TokenPair,
)
from cloudoptima.services.invitations import InvalidInvitationError, InvitationService, accept_invitation
from cloudoptima.services.revocation import Revocation
from cloudoptima.storage.models import ApiKey
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import (
    CurrentPrincipal,
    Permission,
    Principal,
    RuntimeDep,
    SystemDb,
    TenantDb,
    client_address,
)
from cloudoptima_gateway.revocation import key_revoked, revoke
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyOut,
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationOut,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    TokenResponse,
)
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_gateway.session_cookie import (
    ClientHeader,
    clear_refresh_cookie,
    cookie_token,
    is_console,
    refused,
    set_refresh_cookie,
)

router = APIRouter(prefix="/auth", tags=["auth"], route_class=AuditedRoute)
Inviter = Annotated[Principal, Permission("manage:users")]


def _auth(runtime: Runtime, session: SystemDb) -> AuthService:
    return AuthService(session, runtime.issuer(), refresh_days=runtime.settings.refresh_token_days)


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


def _answer(request: Request, response: Response, runtime: Runtime, pair: TokenPair) -> TokenResponse:
    """The token pair: in the body, or for the console the refresh token as the httpOnly cookie
    (``cloudoptima_gateway.session_cookie``) and ``refresh_token: ""`` in the body."""
    if not is_console(request):
        return _tokens(pair)
    max_age = runtime.settings.refresh_token_days * 86_400
    set_refresh_cookie(response, request, pair.refresh_token, max_age)
    return TokenResponse(access_token=pair.access_token, refresh_token="", expires_in=pair.expires_in)


def _audit_as(request: Request, pair: TokenPair) -> None:
    request.state.audit_org = pair.organization_id
    request.state.audit_user = pair.user_id


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=RegisterResponse)
def register(
    body: RegisterRequest, request: Request, runtime: RuntimeDep, session: SystemDb
) -> RegisterResponse:
    """Create an organisation and its first user (its admin)."""
    try:
        pair = _auth(runtime, session).register(body.email, body.password, body.company_name, body.role)
    except EmailTakenError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    _audit_as(request, pair)
    request.state.audit_details = {"persona": body.role}
    return RegisterResponse(
        user_id=pair.user_id,
        organization_id=pair.organization_id,
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post("/login", response_model=TokenResponse)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    x_cloudoptima_client: ClientHeader = None,
) -> TokenResponse:
    """Sign in; repeated failures lock the account and the client address for a while (429).

    With ``X-CloudOptima-Client: console`` the refresh token is set as the httpOnly cookie
    ``cloudoptima_refresh`` (Path=/v1/auth, SameSite=Strict) and the body's ``refresh_token`` is ""."""
    throttle = runtime.login_throttle()
    address = client_address(request)
    wait = await throttle.retry_after(body.email, address)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed sign-ins; try again later",
            headers={"Retry-After": str(wait)},
        )

    def attempt() -> TokenPair | uuid.UUID | None:
        with runtime.sessions()() as session:
            service = AuthService(session, runtime.issuer(), refresh_days=runtime.settings.refresh_token_days)
            try:
                pair = service.login(body.email, body.password)
            except InvalidCredentialsError:
                return service.user_org(body.email)
            session.commit()
            return pair

    outcome = await run_in_threadpool(attempt)
    if not isinstance(outcome, TokenPair):
        await throttle.failed(body.email, address)
        request.state.audit_org = outcome
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="email or password is incorrect")
    await throttle.succeeded(body.email)
    _audit_as(request, outcome)
    return _answer(request, response, runtime, outcome)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={403: {"description": "the refresh cookie came without the X-CloudOptima-Client header"}},
)
async def refresh(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    body: RefreshRequest | None = None,
    x_cloudoptima_client: ClientHeader = None,
) -> TokenResponse | Response:
    """Exchange a refresh token for a new pair; a reused refresh token revokes its whole family, whose
    access tokens and open sockets then stop working at once.

    The web console sends no body but ``X-CloudOptima-Client: console`` and the ``cloudoptima_refresh``
    cookie, which is rotated (a refused cookie is cleared); the cookie without that header is refused (403)."""
    console = is_console(request)
    token = body.refresh_token if body is not None else cookie_token(request)
    if token is None:
        if console:
            return refused(request, "no session: sign in")
        raise invalid("refresh_token", "refresh_token is required", location="body")

    def attempt() -> TokenPair | InvalidRefreshTokenError:
        with runtime.sessions()() as session:
            try:
                pair = _auth(runtime, session).refresh(token)
            except InvalidRefreshTokenError as exc:
                return exc
            session.commit()
            return pair

    outcome = await run_in_threadpool(attempt)
    if isinstance(outcome, RefreshTokenReusedError):
        request.state.audit_org, request.state.audit_user = outcome.organization_id, outcome.user_id
        await revoke(
            runtime,
            Revocation(
                outcome.organization_id,
                outcome.user_id,
                "refresh token reused",
                session_ids=(outcome.family_id,),
            ),
        )
    if isinstance(outcome, InvalidRefreshTokenError):
        if console:
            return refused(request, str(outcome))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=str(outcome))
    _audit_as(request, outcome)
    return _answer(request, response, runtime, outcome)


@router.post("/logout", response_model=Success)
async def logout(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    body: LogoutRequest | None = None,
    x_cloudoptima_client: ClientHeader = None,
) -> Success:
    """Revoke this access token and its sign-in (and the refresh token's family when given; for the web
    console, ``X-CloudOptima-Client: console``, the ``cloudoptima_refresh`` cookie's family, and the cookie
    is cleared)."""
    claims = principal.claims
    if claims is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="API keys are revoked, not logged out")
    refresh_token = body.refresh_token if body is not None else None
    if is_console(request):
        refresh_token = refresh_token or cookie_token(request)
        clear_refresh_cookie(response, request)

    def sign_out() -> None:
        with runtime.sessions()() as session:
            AuthService(session, runtime.issuer()).logout(claims, refresh_token)
            session.commit()

    await run_in_threadpool(sign_out)
    ttl = max(int((claims.expires_at - datetime.now(UTC)).total_seconds()), 1)
    sessions = (claims.session_id,) if claims.session_id is not None else ()
    await revoke(
        runtime,
        Revocation(
            claims.organization_id,
            claims.user_id,
            "signed out",
            session_ids=sessions,
            jtis=(claims.jti,),
            token_ttl={claims.jti: ttl},
        ),
    )
    return Success()


# ---- API keys (self-service: a key acts as its user, with the user's role) --------------------------------
def _key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(row)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyCreate, principal: CurrentPrincipal, session: TenantDb) -> ApiKeyCreated:
    created = ApiKeyService(session, principal.organization_id).create(principal.user_id, body.name)
    return ApiKeyCreated(**_key_out(created.row).model_dump(), api_key=created.plaintext)


@router.get("/api-keys", response_model=ApiKeyList)
def list_api_keys(principal: CurrentPrincipal, session: TenantDb) -> ApiKeyList:
    """Your keys (an admin sees every key of the organisation)."""
    rows = ApiKeyService(session, principal.organization_id).list()
    visible = [r for r in rows if principal.can("*") or r.user_id == principal.user_id]
    return ApiKeyList(api_keys=[_key_out(r) for r in visible])


@router.delete("/api-keys/{key_id}", response_model=Success)
async def revoke_api_key(key_id: uuid.UUID, principal: CurrentPrincipal, runtime: RuntimeDep) -> Success:
    """Revoke one of your keys (an admin: any key of the organisation); refused from the next request on, in
    every gateway process."""

    def revoke_row() -> bool:
        with tenant_session(runtime.sessions(), principal.organization_id) as session:
            service = ApiKeyService(session, principal.organization_id)
            owned = {r.id: r.user_id for r in service.list()}
            if key_id not in owned or not (principal.can("*") or owned[key_id] == principal.user_id):
                return False
            service.revoke(key_id)
            return True

    if not await run_in_threadpool(revoke_row):
        raise not_found("api key", key_id)
    await key_revoked(runtime, key_id)
    return Success()


# ---- invitations --------------------------------------------------------------------------------------------
@router.post("/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationCreated)
def invite(body: InvitationCreate, principal: Inviter, session: TenantDb) -> InvitationCreated:
    """Invite an email with a role (admins); the token is shown once."""
    try:
        issued = InvitationService(session, principal.organization_id).invite(
            body.email, body.role, principal.user_id
        )
    except EmailTakenError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return InvitationCreated(
        invitation_id=issued.user.id,
        email=issued.user.email,
        role=issued.user.role,
        invited_at=issued.user.updated_at,
        invitation_token=issued.secret,
        expires_at=issued.expires_at,
    )


@router.get("/invitations", response_model=InvitationList)
def list_invitations(principal: Inviter, session: TenantDb) -> InvitationList:
    rows = InvitationService(session, principal.organization_id).pending()
    return InvitationList(
        invitations=[
            InvitationOut(invitation_id=r.id, email=r.email, role=r.role, invited_at=r.updated_at)
            for r in rows
        ]
    )


@router.delete("/invitations/{invitation_id}", response_model=Success)
def revoke_invitation(invitation_id: uuid.UUID, principal: Inviter, session: TenantDb) -> Success:
    try:
        InvitationService(session, principal.organization_id).revoke(invitation_id)
    except LookupError as exc:
        raise not_found("invitation", invitation_id) from exc
    return Success()


@router.post("/invitations/accept", response_model=TokenResponse)
def accept(body: InvitationAccept, request: Request, runtime: RuntimeDep, session: SystemDb) -> TokenResponse:
    """Choose a password for an invitation and sign in."""
    try:
        user = accept_invitation(session, body.token, body.password, body.full_name)
    except InvalidInvitationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    pair = _auth(runtime, session).issue_for(user)
    _audit_as(request, pair)
    return _tokens(pair)
