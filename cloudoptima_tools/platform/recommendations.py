"""``recommendations_list`` and ``recommendation_impact_preview``: savings opportunities and what acting on one changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from cloudoptima.services.account_names import account_names
from cloudoptima.services.recommendation_filters import FilterError, lifecycle_filter
from cloudoptima.services.recommendation_lifecycle import RecommendationLifecycle
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.storage.models import Recommendation, User
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.findings import savings_total
from cloudoptima_tools.platform.ids import parse_id
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInput,
    ToolInputError,
    ToolNotFoundError,
    ToolSpec,
    decode_cursor,
    page_of,
)


class RecommendationsInput(PageInput):
    status: (
        Literal[
            "active",
            "accepted",
            "snoozed",
            "false_positive",
            "applied",
            "dismissed",
            "expired",
            "scheduled",
            "completed",
        ]
        | None
    ) = "active"
    owner_user_id: str | None = Field(default=None, description="Only those accepted by this user id.")
    owner: str | None = Field(default=None, description="me, a user id or e-mail")
    overdue: bool = False
    category: Literal["compute", "storage", "network", "database"] | None = None
    risk_level: Literal["low", "medium", "high"] | None = None
    provider: Literal["aws", "azure", "gcp"] | None = None
    min_savings: Decimal | None = Field(default=None, description="Minimum monthly savings (USD).")
    sort_by: Literal["priority", "savings", "age", "risk"] = "priority"


class RecommendationSummary(BaseModel):
    id: str
    title: str
    category: str
    risk_level: str
    status: str
    provider: str | None
    account: str | None
    account_name: str | None = Field(default=None, description="The cloud account's name, when known.")
    region: str | None
    estimated_savings_monthly_usd: Decimal | None
    estimated_savings_annual_usd: Decimal | None
    price_source: str | None = Field(
        default=None,
        description='Where the saving comes from: "billed cost (last 30 days)", a price list and its fetch date, '
        'a built-in table, or "price unknown".',
    )
    confidence: Decimal | None
    resource_ids: list[str]
    actions: list[str] = Field(description="Provider action kinds a remediation would run.")
    owner: str | None = Field(default=None, description="The owner's e-mail (accepted ones).")
    due_date: date | None = None


class RecommendationsOutput(PagedOutput):
    items: list[RecommendationSummary]
    monthly_savings_total_usd: Decimal = Field(description="All matching recommendations, every page.")


def _price_source(evidence: dict[str, Any] | None) -> str | None:
    value = (evidence or {}).get("price_source")
    return str(value) if value is not None else None


def _rec_summary(row: Recommendation) -> RecommendationSummary:
    return RecommendationSummary(
        id=str(row.id),
        title=row.title,
        category=row.category,
        risk_level=row.risk_level,
        status=row.status,
        provider=row.provider,
        account=row.account_identifier,
        region=row.region,
        estimated_savings_monthly_usd=row.estimated_savings_monthly,
        estimated_savings_annual_usd=row.estimated_savings_annual,
        price_source=_price_source(row.evidence),
        confidence=row.confidence,
        resource_ids=list(row.resource_ids or [])[:20],
        actions=[str(a.get("type")) for a in row.actions or []],
        due_date=row.due_date,
    )


def _service(ctx: ToolContext, session: Any) -> RecommendationService:
    return RecommendationService(session, ctx.organization_id, ctx.price_catalog(session), now=ctx.now)


def _me(ctx: ToolContext) -> uuid.UUID | None:
    try:
        return uuid.UUID(ctx.principal.removeprefix("user:")) if ctx.principal.startswith("user:") else None
    except ValueError:
        return None


def recommendations_list(ctx: ToolContext, params: RecommendationsInput) -> RecommendationsOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        # snoozes that ran out by the caller's clock show as open (a view: the read session is rolled back)
        RecommendationLifecycle(session, ctx.organization_id, now=ctx.now).wake_snoozed()
        every_status = "status" in params.model_fields_set and params.status is None
        given = params.status if "status" in params.model_fields_set else None
        try:
            chosen = lifecycle_filter(
                session,
                ctx.organization_id,
                today=ctx.now().astimezone(UTC).date(),
                status=None if every_status else given,
                owner=params.owner,
                owner_user_id=parse_id(params.owner_user_id, "user") if params.owner_user_id else None,
                me=_me(ctx),
                overdue=params.overdue,
            )
        except FilterError as exc:
            raise ToolInputError(str(exc)) from None
        rows = _service(ctx, session).list(
            status=None if every_status else chosen.status,
            category=params.category,
            risk_level=params.risk_level,
            min_savings=params.min_savings,
            sort_by=params.sort_by,
            limit=100_000,
            owner_user_id=chosen.owner_user_id,
        )
    rows = [r for r in rows if chosen.keeps(r)]
    if params.provider:
        rows = [r for r in rows if r.provider == params.provider]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    with ctx.read_session() as session:
        names = account_names(session, ctx.organization_id, (r.account_identifier for r in page))
        owners = {r.owner_user_id for r in page if r.owner_user_id is not None}
        emails = dict(
            session.execute(
                select(User.id, User.email).where(
                    User.organization_id == ctx.organization_id, User.id.in_(owners)
                )
            ).all()
            if owners
            else []
        )
    items = [
        _rec_summary(r).model_copy(
            update={
                "account_name": names.get(r.account_identifier or ""),
                "owner": emails.get(r.owner_user_id) if r.owner_user_id else None,
            }
        )
        for r in page
    ]
    return RecommendationsOutput(
        items=items,
        returned=len(items),
        total=len(rows),
        next_cursor=cursor,
        monthly_savings_total_usd=savings_total(rows),
    )


class RecommendationInput(ToolInput):
    recommendation_id: str = Field(description="Id returned by recommendations_list.")


class ImpactPreview(BaseModel):
    current_monthly_usd: Decimal | None
    projected_monthly_usd: Decimal | None
    savings_monthly_usd: Decimal | None
    resource_changes: list[dict[str, Any]]
    risks: list[Any]
    rollback: Any


class RecommendationDetail(RecommendationSummary):
    description: str | None
    manual_steps: list[Any]
    evidence: dict[str, Any]
    impact_preview: ImpactPreview


def _dec(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def recommendation_impact_preview(ctx: ToolContext, params: RecommendationInput) -> RecommendationDetail:
    rec_id = parse_id(params.recommendation_id, "recommendation")
    with ctx.read_session() as session:
        service = _service(ctx, session)
        try:
            row = service.get(rec_id)
            preview = service.impact_preview(rec_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        cost = preview["cost_impact"]
        return RecommendationDetail(
            **_rec_summary(row).model_dump(),
            description=row.description,
            manual_steps=list(row.manual_steps or []),
            evidence=dict(row.evidence or {}),
            impact_preview=ImpactPreview(
                current_monthly_usd=_dec(cost["current_monthly"]),
                projected_monthly_usd=_dec(cost["projected_monthly"]),
                savings_monthly_usd=_dec(cost["savings"]),
                resource_changes=list(preview["resource_changes"])[:50],
                risks=list(preview["risks"]),
                rollback=preview["rollback"],
            ),
        )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="recommendations_list",
        domain="platform",
        title="Recommendations",
        description=(
            "Optimisation recommendations with estimated monthly/annual savings in USD, risk, confidence "
            "and the actions a remediation would run; sorted by priority, savings, age or risk.\n"
            'Example: {"category": "compute", "min_savings": 50, "sort_by": "savings"}'
        ),
        input_model=RecommendationsInput,
        output_model=RecommendationsOutput,
        handler=recommendations_list,
        permission="read:recommendations",
        max_output_tokens=10_000,
        example={"sort_by": "savings", "limit": 10},
    ),
    ToolSpec(
        name="recommendation_impact_preview",
        domain="platform",
        title="Recommendation impact preview",
        description=(
            "One recommendation with its impact preview: current and projected monthly cost (USD), the "
            "resource changes, risks and the rollback plan.\n"
            'Example: {"recommendation_id": "9a1b…"}'
        ),
        input_model=RecommendationInput,
        output_model=RecommendationDetail,
        handler=recommendation_impact_preview,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
]
