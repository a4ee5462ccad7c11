"""``/v1/ticket-trackers`` and ``/v1/recommendations/{id}/ticket`` (#22): hand a recommendation to a tracker.

- Trackers (``manage:organization``): create (token stored encrypted, never returned: ``token_set`` only), list,
  edit (``PATCH``: URL, project, login, token; ``rotate_webhook_secret`` answers the new secret once), delete. 422 names the field.
- ``POST /v1/recommendations/{id}/ticket`` (``dismiss:recommendations``): 201 with the new ticket, 200 with the
  stored one on a second call (the tracker is not called again); 502 naming the tracker when it refuses or
  fails (after retries on 5xx/429). ``GET`` answers the stored ticket (404 when none).
- ``POST /v1/ticket-trackers/sync`` (``dismiss:recommendations``): reads open tickets' states and moves closed
  ones' recommendations (``cloudoptima.services.tickets``), as the calling user.
- ``POST /v1/ticket-trackers/{id}/webhook``: no bearer token; the tracker's signature is the credential
  (``cloudoptima.services.ticket_webhooks``): 401 naming the missing or wrong signature header, 413 over
  the size limit (checked on ``Content-Length`` and while reading), 400 naming a bad field, 200 with the outcome
  (``duplicate`` for a replayed delivery).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from cloudoptima.services.notice_links import notice_links
from cloudoptima.services.ticket_clients import TrackerError
from cloudoptima.services.ticket_tracker_edit import edit_tracker
from cloudoptima.services.ticket_webhooks import MAX_BODY_BYTES, WebhookRefused, receive_webhook
from cloudoptima.services.tickets import TIMEOUT, TicketInputError, Tickets, TicketView, TrackerView
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, SystemDb, TenantDb
from cloudoptima_gateway.routes.recommendation_lifecycle import principal_actor
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.tickets import (
    SyncOut,
    TicketIn,
    TicketOut,
    TrackerCreatedOut,
    TrackerEditedOut,
    TrackerIn,
    TrackerList,
    TrackerOut,
    TrackerPatch,
    WebhookOut,
)

router = APIRouter(tags=["tickets"], route_class=AuditedRoute)
Admin = Annotated[Principal, Permission("manage:organization")]
Reader = Annotated[Principal, Permission("read:recommendations")]
Decider = Annotated[Principal, Permission("dismiss:recommendations")]


def _service(
    runtime: Runtime, session: Session, principal: Principal, http: httpx.Client | None = None
) -> Tickets:
    return Tickets(
        session,
        principal.organization_id,
        cipher=runtime.cipher(),
        now=lambda: datetime.now(UTC),
        http=http,
        allow_insecure_localhost=runtime.settings.notifications_allow_insecure_localhost,
    )


def _tracker_out(view: TrackerView) -> TrackerOut:
    return TrackerOut.model_validate(
        {**view.__dict__, "webhook_url_path": f"/v1/ticket-trackers/{view.id}/webhook"}
    )


def _ticket_out(view: TicketView) -> TicketOut:
    return TicketOut.model_validate(view, from_attributes=True)


@router.post("/ticket-trackers", response_model=TrackerCreatedOut, status_code=status.HTTP_201_CREATED)
def create_tracker(
    body: TrackerIn, principal: Admin, session: TenantDb, runtime: RuntimeDep
) -> TrackerCreatedOut:
    """Connect a tracker (GitHub Issues, Jira Cloud or a signed webhook); the token is never returned, the
    webhook secret only now."""
    try:
        view = _service(runtime, session, principal).add_tracker(
            name=body.name, kind=body.kind, base_url=body.base_url, project=body.project, token=body.token,
            login=body.login, actor=principal_actor(principal), webhook_secret=body.webhook_secret,
        )  # fmt: skip
    except TicketInputError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    return TrackerCreatedOut.model_validate(
        {**_tracker_out(view).model_dump(), "webhook_secret": view.webhook_secret}
    )


@router.patch("/ticket-trackers/{tracker_id}", response_model=TrackerEditedOut)
def edit_tracker_route(
    tracker_id: uuid.UUID, body: TrackerPatch, principal: Admin, session: TenantDb, runtime: RuntimeDep
) -> TrackerEditedOut:
    """Change a tracker's URL, project, login or token, or rotate its webhook secret (answered once)."""
    try:
        view = edit_tracker(
            session, principal.organization_id, tracker_id, cipher=runtime.cipher(),
            actor=principal_actor(principal),
            allow_insecure_localhost=runtime.settings.notifications_allow_insecure_localhost,
            base_url=body.base_url, project=body.project, login=body.login, token=body.token,
            rotate_webhook_secret=body.rotate_webhook_secret, webhook_secret=body.webhook_secret,
        )  # fmt: skip
    except LookupError as exc:
        raise not_found("ticket tracker", tracker_id) from exc
    except TicketInputError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    out = _tracker_out(view).model_dump()
    return TrackerEditedOut.model_validate({**out, "webhook_secret": view.webhook_secret})


@router.get("/ticket-trackers", response_model=TrackerList)
def list_trackers(principal: Reader, session: TenantDb, runtime: RuntimeDep) -> TrackerList:
    """The organisation's tracker connections (without tokens)."""
    return TrackerList(trackers=[_tracker_out(v) for v in _service(runtime, session, principal).trackers()])


@router.delete("/ticket-trackers/{tracker_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tracker(
    tracker_id: uuid.UUID, principal: Admin, session: TenantDb, runtime: RuntimeDep
) -> Response:
    """Remove a tracker connection (its tickets' links go with it; the tickets stay in the tracker)."""
    try:
        _service(runtime, session, principal).delete_tracker(tracker_id, actor=principal_actor(principal))
    except LookupError as exc:
        raise not_found("ticket tracker", tracker_id) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/ticket-trackers/sync", response_model=SyncOut)
def sync_tickets(principal: Decider, session: TenantDb, runtime: RuntimeDep) -> SyncOut:
    """Read every open ticket's state; closed as completed or not planned moves its recommendation."""
    with httpx.Client(timeout=TIMEOUT) as http:
        result = _service(runtime, session, principal, http).sync(actor=principal_actor(principal))
    return SyncOut(
        checked=result.checked,
        completed=result.completed,
        not_planned=result.not_planned,
        reopened=result.reopened,
        gone=result.gone,
        errors=result.errors,
    )


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, detail=f"body is {declared} bytes; at most {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, detail=f"body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/ticket-trackers/{tracker_id}/webhook", response_model=WebhookOut)
def tracker_webhook(
    tracker_id: uuid.UUID,
    request: Request,
    body: Annotated[bytes, Depends(_limited_body)],
    session: SystemDb,
    runtime: RuntimeDep,
) -> WebhookOut:
    """A tracker tells a ticket changed (GitHub ``issues``, Jira ``jira:issue_updated``, the generic callback);
    the signature is the credential. Closes, reopens and deletions move the recommendation as a sync would."""
    try:
        outcome = receive_webhook(
            session, tracker_id, dict(request.headers), body, cipher=runtime.cipher(), now=datetime.now(UTC)
        )
    except WebhookRefused as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc
    return WebhookOut.model_validate(outcome, from_attributes=True)


@router.get("/recommendations/{recommendation_id}/ticket", response_model=TicketOut)
def get_ticket(
    recommendation_id: uuid.UUID, principal: Reader, session: TenantDb, runtime: RuntimeDep
) -> TicketOut:
    """The recommendation's ticket (404 when it has none)."""
    view = _service(runtime, session, principal).ticket(recommendation_id)
    if view is None:
        raise not_found("ticket of recommendation", recommendation_id)
    return _ticket_out(view)


@router.post("/recommendations/{recommendation_id}/ticket", response_model=TicketOut)
def open_ticket(
    recommendation_id: uuid.UUID,
    body: TicketIn,
    response: Response,
    principal: Decider,
    session: TenantDb,
    runtime: RuntimeDep,
) -> TicketOut:
    """Hand the recommendation to a tracker: 201 new ticket, 200 the stored one (idempotent)."""
    settings = runtime.settings

    def link(rec_id: uuid.UUID) -> str | None:
        return notice_links(
            "recommendation", rec_id, settings.resolved_console_url, settings.resolved_public_url
        )[1]

    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            view = _service(runtime, session, principal, http).open_ticket(
                recommendation_id, tracker_id=body.tracker_id, console_link=link,
                actor=principal_actor(principal),
            )  # fmt: skip
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    except TicketInputError as exc:
        raise invalid(exc.field, exc.message, "body") from exc
    except TrackerError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from exc
    response.status_code = status.HTTP_201_CREATED if view.created else status.HTTP_200_OK
    return _ticket_out(view)
