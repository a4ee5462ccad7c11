"""``/v1/users``: an organisation's admins list users, change roles and deactivate users.

A role change or a deactivation takes effect on the user's very next request: their sign-ins are revoked
(and, for a deactivation, their API keys), and their open WebSockets are closed
(``cloudoptima.services.revocation``).
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from cloudoptima.services.user_admin import (
    Deactivation,
    RoleChange,
    UserAdminError,
    UserAdminService,
    user_status,
)
from cloudoptima.storage.models import User
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.revocation import revoke
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.admin import DeactivationOut, UserList, UserOut, UserPatch
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.resources import Pagination

router = APIRouter(prefix="/users", tags=["users"], route_class=AuditedRoute)
UserAdmin = Annotated[Principal, Permission("manage:users")]


def _out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        status=user_status(user),
        last_login=user.last_login,
        created_at=user.created_at,
    )


def _service(runtime: Runtime, session: TenantDb, principal: Principal) -> UserAdminService:
    return UserAdminService(session, principal.organization_id, access_ttl=runtime.issuer().access_ttl)


@router.get("", response_model=UserList)
def list_users(
    principal: UserAdmin,
    runtime: RuntimeDep,
    session: TenantDb,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> UserList:
    """The organisation's users and pending invitations, newest first, with their status."""
    found = _service(runtime, session, principal).page(page=page, page_size=page_size)
    return UserList(
        users=[_out(u) for u in found.users],
        pagination=Pagination(
            page=page, page_size=page_size, total=found.total, total_pages=math.ceil(found.total / page_size)
        ),
    )


@router.patch("/{user_id}", response_model=UserOut)
async def change_user(
    user_id: uuid.UUID, body: UserPatch, request: Request, principal: UserAdmin, runtime: RuntimeDep
) -> UserOut:
    """Change a user's role (one of the RBAC roles); the last admin cannot be demoted. The user's sign-ins
    end (their tokens carried the old role)."""

    def change() -> tuple[RoleChange, UserOut]:
        with tenant_session(runtime.sessions(), principal.organization_id) as session:
            service = _service(runtime, session, principal)
            done = service.change_role(principal.user_id, user_id, body.role)
            return done, _out(done.user)

    try:
        done, out = await run_in_threadpool(change)
    except LookupError as exc:
        raise not_found("user", user_id) from exc
    except UserAdminError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except ValueError as exc:
        raise invalid("role", str(exc), "body") from exc
    request.state.audit_details = {"role": {"from": done.previous, "to": body.role}}
    if done.revocation is not None:
        await revoke(runtime, done.revocation)
    return out


@router.post("/{user_id}/deactivate", response_model=DeactivationOut)
async def deactivate_user(
    user_id: uuid.UUID, request: Request, principal: UserAdmin, runtime: RuntimeDep
) -> DeactivationOut:
    """Deactivate a user: their access tokens, API keys and open sockets stop working at once. You cannot
    deactivate yourself or the last admin."""

    def deactivate() -> tuple[Deactivation, UserOut]:
        with tenant_session(runtime.sessions(), principal.organization_id) as session:
            done = _service(runtime, session, principal).deactivate(principal.user_id, user_id)
            return done, _out(done.user)

    try:
        done, out = await run_in_threadpool(deactivate)
    except LookupError as exc:
        raise not_found("user", user_id) from exc
    except UserAdminError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    await revoke(runtime, done.revocation)
    request.state.audit_details = {
        "revoked_api_keys": done.revoked_api_keys,
        "revoked_sessions": len(done.revocation.session_ids),
    }
    return DeactivationOut(
        user=out, revoked_api_keys=done.revoked_api_keys, revoked_sessions=len(done.revocation.session_ids)
    )
