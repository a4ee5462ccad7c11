"""Platform tools: anomalies with root cause, recommendations with impact preview, budgets with status,
remediation executions and pending approvals.

Every read goes through the kernel services (``AnomalyService``, ``RecommendationService``,
``BudgetService``, ``RemediationService``), which scope every query to the caller's organisation; an id of
another organisation is reported exactly like an unknown id. Money is ``Decimal`` (USD for savings).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.budgets import BudgetEvaluation
from cloudoptima.domain.recommendations import RecommendationStatus
from cloudoptima.domain.remediation import ExecutionRecord, PendingApproval
from cloudoptima.services.anomalies import AnomalyService, AnomalyStatus
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.policies import PolicyService, PolicyValidationError
from cloudoptima.services.recommendations import RecommendationService
from cloudoptima.services.remediation import RemediationService
from cloudoptima.storage.models import Anomaly, Policy, Recommendation
from cloudoptima.storage.tenancy import TenantRepository
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.findings import savings_total
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInput,
    ToolNotFoundError,
    ToolSpec,
    ToolUnavailableError,
    decode_cursor,
    page_of,
)


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ToolNotFoundError(f"{what} {value!r} not found") from exc


# ---- anomalies ---------------------------------------------------------------------------------------------


class AnomaliesInput(PageInput):
    status: Literal["active", "resolved", "ignored"] | None = Field(default=None, description="Default: all.")
    min_impact: Decimal | None = Field(default=None, description="Only incidents with |impact| ≥ this (USD).")


class AnomalySummary(BaseModel):
    id: str
    start_date: date | None
    end_date: date | None
    scope: dict[str, Any]
    service: str | None
    region: str | None
    severity: str
    status: str
    actual_spend: Decimal | None
    expected_spend: Decimal | None
    impact: Decimal | None = Field(description="actual - expected, in the billing currency.")
    impact_percent: Decimal | None
    root_cause: str | None = Field(
        description="The incident's explanation: written by the root-cause agent from the evidence, or the "
        "deterministic text built from the contributions (see root_cause_source)."
    )
    root_cause_source: str = Field(
        description="'contributions' (deterministic) or 'agent:<provider>' ('agent:offline' = templates)."
    )


class AnomaliesOutput(PagedOutput):
    items: list[AnomalySummary]


def _summary(row: Anomaly) -> AnomalySummary:
    return AnomalySummary(
        id=str(row.id),
        start_date=row.start_date,
        end_date=row.end_date,
        scope=dict(row.scope or {}),
        service=row.service_name,
        region=row.region,
        severity=row.severity,
        status=row.status,
        actual_spend=row.actual_spend,
        expected_spend=row.expected_spend,
        impact=row.impact_amount,
        impact_percent=row.deviation_percent,
        root_cause=row.root_cause,
        root_cause_source=row.root_cause_source or "contributions",
    )


def anomalies_list(ctx: ToolContext, params: AnomaliesInput) -> AnomaliesOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        rows = list(
            AnomalyService(session, ctx.organization_id).list(
                AnomalyStatus(params.status) if params.status else None, limit=100_000
            )
        )
    if params.min_impact is not None:
        rows = [r for r in rows if r.impact_amount is not None and abs(r.impact_amount) >= params.min_impact]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_summary(r) for r in page]
    return AnomaliesOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


class AnomalyInput(ToolInput):
    anomaly_id: str = Field(description="Id returned by anomalies_list.")


class Contribution(BaseModel):
    dimensions: dict[str, str]
    actual: Decimal
    expected: Decimal
    contribution: Decimal = Field(description="Share of the impact, in the billing currency.")


class DimensionShare(BaseModel):
    dimension: str
    value: str
    contribution: Decimal


class AnomalyDetail(AnomalySummary):
    score: float | None
    feedback: str | None
    related_scopes: list[dict[str, Any]]
    root_causes: list[Contribution]
    by_dimension: list[DimensionShare]


def anomaly_detail(ctx: ToolContext, params: AnomalyInput) -> AnomalyDetail:
    anomaly_id = parse_id(params.anomaly_id, "anomaly")
    with ctx.read_session() as session:
        try:
            row = AnomalyService(session, ctx.organization_id).get(anomaly_id)
        except LookupError as exc:
            raise ToolNotFoundError(str(exc)) from exc
        base = _summary(row).model_dump()
        return AnomalyDetail(
            **base,
            score=row.score,
            feedback=row.feedback,
            related_scopes=list(row.related_scopes or [])[:20],
            root_causes=[
                Contribution(
                    dimensions=c["dimensions"],
                    actual=Decimal(c["actual"]),
                    expected=Decimal(c["expected"]),
                    contribution=Decimal(c["contribution"]),
                )
                for c in (row.contributions or [])[:25]
            ],
            by_dimension=[
                DimensionShare(
                    dimension=c["dimension"], value=c["value"], contribution=Decimal(c["contribution"])
                )
                for c in (row.dimension_contributions or [])[:60]
            ],
        )


# ---- recommendations ---------------------------------------------------------------------------------------


class RecommendationsInput(PageInput):
    status: Literal["active", "applied", "dismissed", "expired", "scheduled", "completed"] | None = "active"
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
    )


def _service(ctx: ToolContext, session: Any) -> RecommendationService:
    return RecommendationService(session, ctx.organization_id, ctx.price_catalog(session), now=ctx.now)


def recommendations_list(ctx: ToolContext, params: RecommendationsInput) -> RecommendationsOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        rows = _service(ctx, session).list(
            status=RecommendationStatus(params.status) if params.status else None,
            category=params.category,
            risk_level=params.risk_level,
            min_savings=params.min_savings,
            sort_by=params.sort_by,
            limit=100_000,
        )
    if params.provider:
        rows = [r for r in rows if r.provider == params.provider]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_rec_summary(r) for r in page]
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


# ---- budgets -----------------------------------------------------------------------------------------------


class BudgetsInput(PageInput):
    as_of: date | None = Field(default=None, description="Evaluate as of this UTC day (default today).")


class BudgetStatusRow(BaseModel):
    id: str
    name: str
    amount: Decimal
    currency: str
    period: str
    scope: dict[str, Any]
    evaluation: BudgetEvaluation | None
    error: str | None = None


class BudgetsOutput(PagedOutput):
    items: list[BudgetStatusRow]


def budgets_status(ctx: ToolContext, params: BudgetsInput) -> BudgetsOutput:
    """Evaluates each budget of the page in a session that is rolled back: alert state is not touched."""
    offset = decode_cursor(params)
    day = params.as_of or ctx.now().date()
    with ctx.read_session() as session:
        service = BudgetService(session, ctx.organization_id, now=ctx.now, forecast_model="fast")
        rows = list(service.list())
        page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
        items = []
        for row in page:
            evaluation, error = None, None
            try:
                evaluation = service.evaluate(row.id, day).model_copy(update={"alert_state": {}})
            except ValueError as exc:
                error = str(exc)
            items.append(
                BudgetStatusRow(
                    id=str(row.id),
                    name=row.name,
                    amount=row.amount,
                    currency=row.currency,
                    period=row.period,
                    scope=dict(row.scope_filters or {}),
                    evaluation=evaluation,
                    error=error,
                )
            )
    return BudgetsOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


# ---- policies --------------------------------------------------------------------------------------------


class _Policies(TenantRepository[Policy]):
    model = Policy


class PoliciesInput(PageInput):
    enabled: bool | None = Field(
        default=None, description="Only enabled (true) or disabled (false) policies."
    )


class PolicyRow(BaseModel):
    id: str
    name: str
    description: str | None
    enabled: bool
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    risk_level: str | None = Field(
        description="Highest risk of the policy's actions (and its declared floor)."
    )
    execution_count: int
    success_count: int
    last_executed_at: datetime | None
    problem: str | None = Field(default=None, description="Why the stored definition no longer validates.")


class PoliciesOutput(PagedOutput):
    items: list[PolicyRow]


def _policy_row(row: Policy) -> PolicyRow:
    risk, problem = None, None
    try:
        risk = PolicyService.definition_of(row).risk.value
    except (PolicyValidationError, ValueError) as exc:
        problem = str(exc)
    return PolicyRow(
        id=str(row.id),
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        trigger=dict(row.trigger_config or {}),
        conditions=list(row.conditions or [])[:20],
        actions=list(row.actions or [])[:20],
        risk_level=risk,
        execution_count=row.execution_count or 0,
        success_count=row.success_count or 0,
        last_executed_at=row.last_executed_at,
        problem=problem,
    )


def policies_list(ctx: ToolContext, params: PoliciesInput) -> PoliciesOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        repo = _Policies(session, ctx.organization_id)
        query = repo.query().order_by(Policy.name, Policy.id)
        if params.enabled is not None:
            query = query.where(Policy.enabled.is_(params.enabled))
        rows = list(session.scalars(query))
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    items = [_policy_row(r) for r in page]
    return PoliciesOutput(items=items, returned=len(items), total=len(rows), next_cursor=cursor)


# ---- remediation executions and approvals ----------------------------------------------------------------


def _no_provider(account_id: uuid.UUID) -> CloudProviderClient:
    raise ToolUnavailableError("read-only tools never contact a cloud provider")


class ExecutionsInput(PageInput):
    policy_id: str | None = Field(default=None, description="Only executions of this policy.")


class ExecutionsOutput(PagedOutput):
    items: list[ExecutionRecord]


def remediation_executions(ctx: ToolContext, params: ExecutionsInput) -> ExecutionsOutput:
    offset = decode_cursor(params)
    policy = parse_id(params.policy_id, "policy") if params.policy_id else None
    with ctx.read_session() as session:
        service = RemediationService(session, ctx.organization_id, _no_provider, now=ctx.now)
        rows = service.executions(policy_id=policy, limit=offset + params.limit + 1)
    window = rows[offset:]
    page, cursor = page_of(params, window, None, offset)
    items = [r.model_copy(update={"logs": r.logs[-20:]}) for r in page]
    return ExecutionsOutput(items=items, returned=len(items), next_cursor=cursor)


class ApprovalsOutput(PagedOutput):
    items: list[PendingApproval]


def pending_approvals(ctx: ToolContext, params: PageInput) -> ApprovalsOutput:
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        service = RemediationService(session, ctx.organization_id, _no_provider, now=ctx.now)
        rows = service.pending_approvals(limit=offset + params.limit + 1)
    page, cursor = page_of(params, rows[offset:], None, offset)
    return ApprovalsOutput(items=page, returned=len(page), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="anomalies_list",
        domain="platform",
        title="Cost anomalies",
        description=(
            "Detected cost anomaly incidents, newest first, with actual vs expected spend and impact "
            "(billing currency, %) and a root-cause sentence.\n"
            'Example: {"status": "active", "min_impact": 100}'
        ),
        input_model=AnomaliesInput,
        output_model=AnomaliesOutput,
        handler=anomalies_list,
        permission="read:costs",
        max_output_tokens=10_000,
        example={"status": "active"},
    ),
    ToolSpec(
        name="anomaly_root_cause",
        domain="platform",
        title="Explain an anomaly",
        description=(
            "One anomaly with its root cause: the cells (service × account × region × usage type) and "
            "dimension values that contributed to the impact, in the billing currency.\n"
            'Example: {"anomaly_id": "3f2c…"}'
        ),
        input_model=AnomalyInput,
        output_model=AnomalyDetail,
        handler=anomaly_detail,
        permission="read:costs",
        max_output_tokens=10_000,
    ),
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
    ToolSpec(
        name="budgets_status",
        domain="platform",
        title="Budgets and status",
        description=(
            "Every budget with its current period's spend, forecast end-of-period spend, utilisation % and "
            "status (evaluated on the fly; alert state is not changed).\n"
            'Example: {"as_of": "2025-12-15"}'
        ),
        input_model=BudgetsInput,
        output_model=BudgetsOutput,
        handler=budgets_status,
        permission="read:budgets",
        long_running=True,
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="policies_list",
        domain="platform",
        title="Policies",
        description=(
            "Automation policies with trigger, conditions, actions, risk level and execution counters.\n"
            'Example: {"enabled": true}'
        ),
        input_model=PoliciesInput,
        output_model=PoliciesOutput,
        handler=policies_list,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="remediation_executions",
        domain="platform",
        title="Policy and remediation executions",
        description=(
            "Remediation and policy executions, newest first, with state, decision, resources affected and "
            "the last log lines.\n"
            'Example: {"limit": 10}'
        ),
        input_model=ExecutionsInput,
        output_model=ExecutionsOutput,
        handler=remediation_executions,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="pending_approvals",
        domain="platform",
        title="Remediations awaiting approval",
        description=(
            "Remediations waiting for a human decision (oldest first) with risk, approver roles, plan and "
            "impact.\n"
            'Example: {"limit": 10}'
        ),
        input_model=PageInput,
        output_model=ApprovalsOutput,
        handler=pending_approvals,
        permission="read:recommendations",
        max_output_tokens=10_000,
    ),
]
