"""Tag governance: ``/v1/organization/tag-policy`` (the required tag keys), ``/v1/tags/coverage`` and
``/v1/tags/untagged-resources``.

- ``GET /organization/tag-policy`` (``read:costs``) and ``PUT`` (``write:policies``, replaces the whole
  policy; a bad key, alias or value is a 422 naming the field, e.g. ``required[1].key``).
- ``GET /tags/coverage?start&end[&currency]`` (``read:costs``): per required key the share of spend and of
  resources carrying it (aliases honoured), untagged spend by account and by service
  (``cloudoptima.services.tag_governance``). Dates are UTC days, ``end`` exclusive, at most 366 days.
- ``GET /tags/untagged-resources?key&start&end`` (``read:costs``): the resources lacking ``key``, costliest
  first, paged. The fix is a policy with the ``tag_resources`` action (approval-gated remediation).
- ``GET /tags/untagged-spend?key&start&end&group_by=account|service[&currency]`` (``read:costs``): the spend
  lacking one required key per account or service, costliest first.

Coverage and untagged spend are answered from the tag coverage rollups (``storage.cost_loader.tag_coverage``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError

from cloudoptima.domain.tag_policy import TagPolicy, error_field
from cloudoptima.services.tag_governance import TagGovernance, TagGovernanceError
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.deps import Permission, Principal, TenantDb
from cloudoptima_gateway.schemas.common import invalid
from cloudoptima_gateway.schemas.tags import (
    TagCoverageOut,
    TagPolicyIn,
    TagPolicyOut,
    UntaggedResourceOut,
    UntaggedResourcesOut,
    UntaggedSpendByOut,
    UntaggedSpendOut,
)

router = APIRouter(tags=["tags"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
Writer = Annotated[Principal, Permission("write:policies")]
Currency = Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO 4217 code")]
MAX_RANGE_DAYS = 366


def _policy_out(policy: TagPolicy) -> TagPolicyOut:
    return TagPolicyOut.model_validate(policy.model_dump(mode="json"))


def _period(start: date, end: date) -> None:
    if end <= start:
        raise invalid("end", f"end ({end}) must be after start ({start}); periods are end-exclusive")
    if (end - start).days > MAX_RANGE_DAYS:
        raise invalid("end", f"a period may span at most {MAX_RANGE_DAYS} days")


@router.get("/organization/tag-policy", response_model=TagPolicyOut)
def read_tag_policy(principal: Reader, session: TenantDb) -> TagPolicyOut:
    """The organisation's required tag keys (with aliases, allowed and default values)."""
    return _policy_out(TagGovernance(session, principal.organization_id).read_policy())


@router.put("/organization/tag-policy", response_model=TagPolicyOut)
def write_tag_policy(
    body: TagPolicyIn, request: Request, principal: Writer, session: TenantDb
) -> TagPolicyOut:
    """Replace the organisation's tag policy (see module docstring)."""
    try:
        policy = TagPolicy.model_validate(body.model_dump())
    except ValidationError as exc:
        error = exc.errors()[0]
        field, message = error_field(tuple(error["loc"]), str(error["msg"]))
        raise invalid(field, message, "body") from None
    stored = TagGovernance(session, principal.organization_id).write_policy(policy)
    request.state.audit_details = {"required": [r.key for r in stored.required]}
    request.state.audit_resource_id = str(principal.organization_id)
    return _policy_out(stored)


@router.get("/tags/coverage", response_model=TagCoverageOut)
def tag_coverage(
    principal: Reader, session: TenantDb, start: date, end: date, currency: Currency = None
) -> TagCoverageOut:
    """Per required key, the share of spend and of resources carrying it; untagged spend by account and
    service."""
    _period(start, end)
    try:
        report = TagGovernance(session, principal.organization_id).coverage(start, end, currency)
    except TagGovernanceError as exc:
        raise invalid(exc.field, str(exc)) from exc
    return TagCoverageOut.model_validate(report)


@router.get("/tags/untagged-resources", response_model=UntaggedResourcesOut)
def untagged_resources(
    principal: Reader,
    session: TenantDb,
    key: Annotated[str, Query(min_length=1, max_length=128)],
    start: date,
    end: date,
    currency: Currency = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UntaggedResourcesOut:
    """The resources lacking the required ``key``, each with its billed cost in the period."""
    _period(start, end)
    try:
        page = TagGovernance(session, principal.organization_id).untagged_resources(
            key, start, end, currency=currency, limit=limit, offset=offset
        )
    except TagGovernanceError as exc:
        raise invalid(exc.field, str(exc)) from exc
    return UntaggedResourcesOut(
        key=page.key,
        currency=page.currency,
        total=page.total,
        limit=limit,
        offset=offset,
        items=[UntaggedResourceOut.model_validate(item) for item in page.items],
    )


@router.get("/tags/untagged-spend", response_model=UntaggedSpendByOut)
def untagged_spend(
    principal: Reader,
    session: TenantDb,
    key: Annotated[str, Query(min_length=1, max_length=128)],
    start: date,
    end: date,
    group_by: Literal["account", "service"] = "account",
    currency: Currency = None,
) -> UntaggedSpendByOut:
    """The spend lacking the required ``key`` (any spelling or alias) per account or service."""
    _period(start, end)
    try:
        report = TagGovernance(session, principal.organization_id).untagged_spend(
            key, start, end, group_by=group_by, currency=currency
        )
    except TagGovernanceError as exc:
        raise invalid(exc.field, str(exc)) from exc
    return UntaggedSpendByOut(
        key=report.key,
        currency=report.currency,
        group_by=report.group_by,
        start=start,
        end=end,
        untagged_spend=report.untagged_spend,
        items=[UntaggedSpendOut.model_validate(item) for item in report.items],
    )
