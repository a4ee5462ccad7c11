"""``/v1/auth``, your own account: password change, signing out everywhere, password reset by email.

- ``POST /auth/password``: current + new password (policy enforced); your other sign-ins are signed out at
  once, this one stays.
- ``POST /auth/logout-all``: every sign-in of yours ends, this one included (tokens and open sockets).
- ``POST /auth/password-reset``: always the same 202 answer, whether or not the address has an account; an
  active account is emailed (after the answer, so the mail server's latency reveals nothing) a one-time link (SMTP, or the log in embedded mode without ``SMTP_HOST``) valid
  for ``PASSWORD_RESET_MINUTES``. At most ``RESET_REQUESTS`` emails per address per ``RESET_WINDOW_S``.
- ``POST /auth/password-reset/confirm``: the link's token and a new password; the token works once, and
  every sign-in of the account ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cloudoptima.notifications.email import (
    EmailDeliveryError,
    EmailMessage,
    EmailSender,
    sender_from_settings,
)
from cloudoptima.services.passwords import (
    InvalidResetTokenError,
    PasswordPolicyError,
    PasswordService,
    ResetLink,
    WrongPasswordError,
)
from cloudoptima.services.revocation import Revocation, end_sign_ins
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CurrentPrincipal, RuntimeDep
from cloudoptima_gateway.revocation import revoke
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.admin import (
    PasswordChange,
    PasswordChanged,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
    SessionsRevoked,
)
from cloudoptima_gateway.schemas.common import Success, invalid

router = APIRouter(prefix="/auth", tags=["auth"], route_class=AuditedRoute)
RESET_REQUESTS = 3
RESET_WINDOW_S = 900
RESET_ANSWER = "if an account with this email exists, a password reset link has been sent to it"
_log = logging.getLogger("cloudoptima.gateway.account")


def _passwords(runtime: Runtime, session: Session) -> PasswordService:
    return PasswordService(
        session,
        access_ttl=runtime.issuer().access_ttl,
        reset_ttl=timedelta(minutes=runtime.settings.password_reset_minutes),
    )


@router.post("/password", response_model=PasswordChanged)
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, runtime: RuntimeDep
) -> PasswordChanged:
    """Change your password; your other sign-ins end at once (this one stays)."""
    keep = principal.claims.session_id if principal.claims is not None else None

    def change() -> Revocation:
        with runtime.sessions()() as session:
            done = _passwords(runtime, session).change(
                principal.user_id, body.current_password, body.new_password, keep_session=keep
            )
            session.commit()
            return done

    try:
        revocation = await run_in_threadpool(change)
    except WrongPasswordError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from exc
    except PasswordPolicyError as exc:
        raise invalid("new_password", str(exc), "body") from exc
    await revoke(runtime, revocation)
    return PasswordChanged(revoked_sessions=len(revocation.session_ids))


@router.post("/logout-all", response_model=SessionsRevoked)
async def logout_everywhere(principal: CurrentPrincipal, runtime: RuntimeDep) -> SessionsRevoked:
    """End every sign-in of yours, this one included: tokens, refresh tokens and open sockets."""

    def end_all() -> Revocation:
        with runtime.sessions()() as session:
            done = end_sign_ins(
                session,
                principal.organization_id,
                principal.user_id,
                "signed out everywhere",
                now=datetime.now(UTC),
                access_ttl=runtime.issuer().access_ttl,
            )
            session.commit()
        own = principal.claims.session_id if principal.claims is not None else None
        if own is not None and own not in done.session_ids:
            done = replace(done, session_ids=(*done.session_ids, own))
        return done

    revocation = await run_in_threadpool(end_all)
    await revoke(runtime, revocation)
    return SessionsRevoked(revoked_sessions=len(revocation.session_ids))


async def _allow_reset_mail(runtime: Runtime, email: str) -> bool:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    key = f"cloudoptima:rl:pwreset:{digest}"
    async with runtime.redis().pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=RESET_WINDOW_S, nx=True)  # the window starts at the first request
        pipe.incr(key)
        _, count = await pipe.execute()
    return int(count) <= RESET_REQUESTS


def _reset_email(runtime: Runtime, link: ResetLink) -> EmailMessage:
    url = f"{runtime.settings.resolved_public_url}/reset-password?token={link.secret}"
    minutes = runtime.settings.password_reset_minutes
    return EmailMessage(
        to=link.email,
        subject="Reset your CloudOptima password",
        body=(
            f"Someone asked to reset the password of the CloudOptima account {link.email}.\n\n"
            f"Open this link within {minutes} minutes to choose a new password (it works once):\n{url}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n"
        ),
    )


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=PasswordResetRequested)
async def request_password_reset(
    body: PasswordResetRequest, request: Request, runtime: RuntimeDep
) -> PasswordResetRequested:
    """Email a one-time reset link; the answer is the same whether or not the address has an account."""
    sender = sender_from_settings(runtime.settings)
    if sender is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="password reset by email is not configured on this server (set SMTP_HOST)",
        )
    if not await _allow_reset_mail(runtime, body.email):
        return PasswordResetRequested(detail=RESET_ANSWER)

    def issue() -> ResetLink | None:
        with runtime.sessions()() as session:
            link = _passwords(runtime, session).request_reset(body.email)
            session.commit()
            return link

    link = await run_in_threadpool(issue)
    if link is not None:
        request.state.audit_org, request.state.audit_user = link.organization_id, link.user_id
        # Sent after the answer, so the mail server's latency does not tell who has an account.
        runtime.background(asyncio.ensure_future(_deliver(sender, _reset_email(runtime, link))))
    return PasswordResetRequested(detail=RESET_ANSWER)


async def _deliver(sender: EmailSender, message: EmailMessage) -> None:
    try:
        await run_in_threadpool(sender.send, message)
    except EmailDeliveryError:
        _log.exception("password reset email could not be sent")


@router.post("/password-reset/confirm", response_model=Success)
async def confirm_password_reset(
    body: PasswordResetConfirm, request: Request, runtime: RuntimeDep
) -> Success:
    """Set a new password with a reset link's token (once); every sign-in of the account ends."""

    def confirm() -> Revocation:
        with runtime.sessions()() as session:
            done = _passwords(runtime, session).confirm_reset(body.token, body.new_password)
            session.commit()
            return done

    try:
        revocation = await run_in_threadpool(confirm)
    except InvalidResetTokenError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    except PasswordPolicyError as exc:
        raise invalid("new_password", str(exc), "body") from exc
    request.state.audit_org, request.state.audit_user = revocation.organization_id, revocation.user_id
    await revoke(runtime, revocation)
    return Success()
