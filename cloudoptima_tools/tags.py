"""``tag_coverage`` and ``untagged_resources``: tag governance for assistants (the MCP twins of
``GET /v1/tags/coverage`` and ``GET /v1/tags/untagged-resources``).

Contract (over :class:`cloudoptima.services.tag_governance.TagGovernance`; permission ``read:costs``; ``now``
from the tool context): the period is ``start``..``end`` (UTC days, end exclusive; default: the month before
``now``'s, at most 366 days); money is a decimal string, exact. ``tag_coverage`` lists per required key the
share of spend and of resources carrying it, untagged spend by account and service (the first 10 of each;
``*_left_off`` counts the rest). ``untagged_resources`` pages the resources lacking ``key``, costliest first
(cursor paging). Bad input raises :class:`cloudoptima_tools.spec.ToolInputError` naming the field.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from cloudoptima.services.tag_governance import TagGovernance, TagGovernanceError
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    PagedOutput,
    PageInput,
    ToolInput,
    ToolInputError,
    ToolSpec,
    decode_cursor,
    encode_cursor,
)

MAX_DAYS = 366
MAX_BREAKDOWN = 10


class PeriodInput(ToolInput):
    start: date | None = Field(default=None, description="First UTC day (default: first day of last month).")
    end: date | None = Field(
        default=None, description="Day after the last (exclusive; default: this month's 1st)."
    )
    currency: str | None = Field(
        default=None, pattern="^[A-Za-z]{3}$", description="ISO 4217; needed when the period has several."
    )


class TagCoverageInput(PeriodInput):
    pass


class KeyCoverageRow(BaseModel):
    key: str
    tagged_spend: Decimal
    untagged_spend: Decimal
    spend_percent: Decimal
    tagged_resources: int
    resources: int
    resource_percent: Decimal


class UntaggedSpendRow(BaseModel):
    name: str
    untagged_spend: Decimal


class TagCoverageOutput(BaseModel):
    start: date
    end: date
    currency: str | None
    total_spend: Decimal
    untagged_spend: Decimal = Field(description="Spend of cost rows missing at least one required key.")
    keys: list[KeyCoverageRow]
    by_account: list[UntaggedSpendRow]
    by_service: list[UntaggedSpendRow]
    accounts_left_off: int = 0
    services_left_off: int = 0


class UntaggedResourcesInput(PeriodInput, PageInput):
    key: str = Field(min_length=1, max_length=128, description="A required tag key (any spelling or alias).")


class UntaggedResourceRow(BaseModel):
    resource_id: str
    resource_name: str | None
    resource_type: str | None
    cloud_account_id: str | None
    in_inventory: bool
    missing: list[str]
    cost: Decimal


class UntaggedResourcesOutput(PagedOutput):
    items: list[UntaggedResourceRow]  # type: ignore[assignment]
    key: str = ""


def _period(ctx: ToolContext, params: PeriodInput) -> tuple[date, date]:
    this_month = ctx.now().date().replace(day=1)
    end = params.end or this_month
    start = params.start or (end - timedelta(days=1)).replace(day=1)
    if end <= start:
        raise ToolInputError(f"end: {end} must be after start {start} (periods are end-exclusive)")
    if (end - start).days > MAX_DAYS:
        raise ToolInputError(f"end: a period may span at most {MAX_DAYS} days")
    return start, end


def tag_coverage(ctx: ToolContext, params: TagCoverageInput) -> TagCoverageOutput:
    start, end = _period(ctx, params)
    try:
        with ctx.read_session() as session:
            report = TagGovernance(session, ctx.organization_id).coverage(start, end, params.currency)
    except TagGovernanceError as exc:
        raise ToolInputError(f"{exc.field}: {exc}") from exc
    return TagCoverageOutput(
        start=report.start,
        end=report.end,
        currency=report.currency,
        total_spend=report.total_spend,
        untagged_spend=report.untagged_spend,
        keys=[KeyCoverageRow.model_validate(k, from_attributes=True) for k in report.keys],
        by_account=[
            UntaggedSpendRow(name=a.name, untagged_spend=a.untagged_spend) for a in report.by_account
        ][:MAX_BREAKDOWN],
        by_service=[
            UntaggedSpendRow(name=s.name, untagged_spend=s.untagged_spend) for s in report.by_service
        ][:MAX_BREAKDOWN],
        accounts_left_off=max(len(report.by_account) - MAX_BREAKDOWN, 0),
        services_left_off=max(len(report.by_service) - MAX_BREAKDOWN, 0),
    )


def untagged_resources(ctx: ToolContext, params: UntaggedResourcesInput) -> UntaggedResourcesOutput:
    start, end = _period(ctx, params)
    offset = decode_cursor(params)
    try:
        with ctx.read_session() as session:
            page = TagGovernance(session, ctx.organization_id).untagged_resources(
                params.key, start, end, currency=params.currency, limit=params.limit, offset=offset
            )
    except TagGovernanceError as exc:
        raise ToolInputError(f"{exc.field}: {exc}") from exc
    items = [
        UntaggedResourceRow(
            resource_id=r.resource_id,
            resource_name=r.resource_name,
            resource_type=r.resource_type,
            cloud_account_id=r.cloud_account_id,
            in_inventory=r.in_inventory,
            missing=r.missing,
            cost=r.cost,
        )
        for r in page.items
    ]
    more = offset + len(items) < page.total
    return UntaggedResourcesOutput(
        items=items,
        returned=len(items),
        total=page.total,
        next_cursor=encode_cursor(params, offset + len(items)) if more else None,
        key=page.key,
    )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="tag_coverage",
        domain="platform",
        title="Tag coverage",
        description=(
            "How well is spend tagged? Per required tag key of the organisation's tag policy (aliases and case "
            "variants count): share of spend and of resources carrying it, and untagged spend by account and "
            "by service. Period end-exclusive, default last month.\n"
            'Example: {"start": "2024-09-01", "end": "2024-10-01"}'
        ),
        input_model=TagCoverageInput,
        output_model=TagCoverageOutput,
        handler=tag_coverage,
        permission="read:costs",
        max_output_tokens=4_000,
        example={"start": "2024-09-01", "end": "2024-10-01"},
    ),
    ToolSpec(
        name="untagged_resources",
        domain="platform",
        title="Untagged resources",
        description=(
            "The resources missing a required tag key, costliest first, with their cost in the period and "
            "every required key they lack (fix them with a policy using the tag_resources action).\n"
            'Example: {"key": "team", "start": "2024-09-01", "end": "2024-10-01"}'
        ),
        input_model=UntaggedResourcesInput,
        output_model=UntaggedResourcesOutput,
        handler=untagged_resources,
        permission="read:costs",
        max_output_tokens=6_000,
        example={"key": "team", "start": "2024-09-01", "end": "2024-10-01"},
    ),
]
