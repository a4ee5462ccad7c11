"""``/v1/recommendations``: list with filters, dismiss, impact preview (apply lives in ``remediation``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from fastapi import status as http_status
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendation_lifecycle import LIFECYCLE_NAME, TransitionRefused
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.services.recommendation_filters import FilterError, lifecycle_filter
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.services.recommendation_pages import CursorError, recommendation_page
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.row_currency import account_currencies
from cloudoptima.services.tickets import ticket_link
from cloudoptima.storage.models import Recommendation
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import CACHE_UNTIL, Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.live_writes import announce_committed
from cloudoptima_gateway.routes.recommendation_lifecycle import principal_actor
from cloudoptima_gateway.schemas.common import Success, invalid, not_found
from cloudoptima_gateway.schemas.recommendation_lifecycle import TransitionOut
from cloudoptima_gateway.schemas.recommendations import (
    DismissIn,
    ImpactPreviewOut,
    RecommendationList,
    RecommendationOut,
)
from cloudoptima_gateway.schemas.tickets import TicketLinkOut

router = APIRouter(prefix="/recommendations", tags=["recommendations"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:recommendations")]
Dismisser = Annotated[Principal, Permission("dismiss:recommendations")]


def _price_source(evidence: dict[str, Any] | None) -> str | None:
    value = (evidence or {}).get("price_source")
    return str(value) if value is not None else None


def recommendation_out(row: Recommendation) -> RecommendationOut:
    return RecommendationOut(
        id=row.id,
        title=row.title,
        description=row.description,
        category=row.category,
        risk_level=row.risk_level,  # type: ignore[arg-type]
        status=row.status,
        provider=row.provider,
        region=row.region,
        confidence=float(row.confidence) if row.confidence is not None else None,
        estimated_savings_monthly=row.estimated_savings_monthly,
        estimated_savings_annual=row.estimated_savings_annual,
        price_source=_price_source(row.evidence),
        affected_resources=row.affected_resources or [],  # type: ignore[arg-type]
        actions=row.actions or [],  # type: ignore[arg-type]
        manual_steps=[str(s) for s in row.manual_steps or []],
        impact_analysis=row.impact_analysis,  # type: ignore[arg-type]
        created_at=row.created_at,
        expires_at=row.expires_at,
        lifecycle=LIFECYCLE_NAME.get(row.status, row.status),
        owner_user_id=row.owner_user_id,
        due_date=row.due_date,
        snoozed_until=row.snoozed_until,
    )


def service(session: Session, principal: Principal) -> RecommendationService:
    org = principal.organization_id
    return RecommendationService(session, org, price_catalog_for(session, org))


@router.get("", response_model=RecommendationList)
def list_recommendations(
    request: Request,
    principal: Reader,
    session: TenantDb,
    status: Literal[
        "active",
        "accepted",
        "snoozed",
        "false_positive",
        "applied",
        "scheduled",
        "completed",
        "dismissed",
        "expired",
        "open",
    ]
    | None = None,
    owner_user_id: Annotated[uuid.UUID | None, Query(description="Accepted by (owned by) this user")] = None,
    owner: Annotated[
        str | None, Query(min_length=1, max_length=255, description="me, a user id or an e-mail")
    ] = None,
    overdue: Annotated[bool, Query(description="accepted ones past their due date")] = False,
    due_before: Annotated[date | None, Query(description="accepted ones due before this day")] = None,
    category: Literal["compute", "storage", "network", "database"] | None = None,
    risk_level: Literal["low", "medium", "high"] | None = None,
    min_savings: Annotated[Decimal | None, Query(ge=0, le=1_000_000_000)] = None,
    sort_by: Literal["savings", "age", "risk", "priority"] = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=2000, description="next_cursor of the previous page")
    ] = None,
) -> RecommendationList:
    """A page of recommendations in ``sort_by`` order (ties by fingerprint, then id); ``next_cursor`` pages
    on (keyset: rows added or removed meanwhile never shift the rest); ``total`` counts this page,
    ``total_matching`` every row the filters select. Without ``status``: ``accepted`` when ``owner``,
    ``overdue`` or ``due_before`` is given, else ``active`` (:mod:`cloudoptima.services.recommendation_filters`)."""
    lifecycle = RecommendationLifecycle(session, principal.organization_id)
    lifecycle.wake_snoozed()
    setattr(request.state, CACHE_UNTIL, lifecycle.next_wake())  # a kept answer must not outlive a snooze
    try:
        chosen = lifecycle_filter(
            session,
            principal.organization_id,
            today=datetime.now(UTC).date(),
            status=status,
            owner=owner,
            owner_user_id=owner_user_id,
            me=principal.user_id,
            overdue=overdue,
            due_before=due_before,
        )
    except FilterError as exc:
        raise invalid(exc.field, str(exc)) from exc
    try:
        found = recommendation_page(
            service(session, principal),
            owner_user_id=chosen.owner_user_id,
            due_before=chosen.due_before,
            status=chosen.status,
            category=category,
            risk_level=risk_level,
            min_savings=min_savings,
            sort_by=sort_by,
            limit=limit,
            cursor=cursor,
        )
    except CursorError as exc:
        raise invalid("cursor", str(exc)) from exc
    currencies = account_currencies(
        session, principal.organization_id, (r.account_identifier for r in found.rows)
    )
    return RecommendationList(
        recommendations=[
            recommendation_out(r).model_copy(update={"currency": currencies.get(r.account_identifier)})
            for r in found.rows
        ],
        total=len(found.rows),
        total_matching=found.total,
        next_cursor=found.next_cursor,
    )


@router.get("/{recommendation_id}", response_model=RecommendationOut)
def get_recommendation(
    recommendation_id: uuid.UUID, principal: Reader, session: TenantDb
) -> RecommendationOut:
    """One recommendation with its lifecycle ``history`` (oldest first); a snooze that ran out is woken."""
    lifecycle = RecommendationLifecycle(session, principal.organization_id)
    lifecycle.wake_snoozed()
    try:
        row = service(session, principal).get(recommendation_id)
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    currency = account_currencies(session, principal.organization_id, [row.account_identifier])
    history = [
        TransitionOut(
            from_status=t.from_status,
            to_status=t.to_status,
            actor=t.actor,
            reason=t.reason,
            details=dict(t.details or {}),
            at=t.at,
        )
        for t in lifecycle.history(recommendation_id)
    ]
    link = ticket_link(session, principal.organization_id, recommendation_id)
    ticket = None if link is None else TicketLinkOut.model_validate(link, from_attributes=True)
    return recommendation_out(row).model_copy(
        update={"currency": currency.get(row.account_identifier), "history": history, "ticket": ticket}
    )


@router.post("/{recommendation_id}/dismiss", response_model=Success)
def dismiss_recommendation(
    recommendation_id: uuid.UUID,
    body: DismissIn,
    principal: Dismisser,
    session: TenantDb,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> Success:
    """Dismiss for ``SNOOZE_DAYS`` (it comes back if still found), or for good when ``permanent``. Published
    on the ``recommendations`` channel once stored (``{"recommendation_id", "change": "dismissed" |
    "snoozed"}``)."""
    lifecycle = RecommendationLifecycle(session, principal.organization_id)
    try:
        lifecycle.dismiss(
            recommendation_id, body.reason, permanent=body.permanent, actor=principal_actor(principal)
        )
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    except TransitionRefused as exc:
        raise HTTPException(http_status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    data = {
        "recommendation_id": str(recommendation_id),
        "change": "dismissed" if body.permanent else "snoozed",
    }
    announce_committed(session, background, runtime, principal.organization_id, "recommendations", data)
    return Success()


@router.get("/{recommendation_id}/impact-preview", response_model=ImpactPreviewOut)
def impact_preview(recommendation_id: uuid.UUID, principal: Reader, session: TenantDb) -> ImpactPreviewOut:
    """Monthly cost before and after, per-resource changes, risks and how to roll back."""
    try:
        preview = service(session, principal).impact_preview(recommendation_id)
    except LookupError as exc:
        raise not_found("recommendation", recommendation_id) from exc
    return ImpactPreviewOut.model_validate(preview)
