"""IAM tools: principals, unused or old credentials, privileged grants.

Reads ``iam_principals`` (written by collection from each cloud's IAM) through a tenant repository; never
returns secret material (only credential ids and dates). Ages are whole days (UTC) before now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select

from cloudoptima.storage.models.collection import IamPrincipal
from cloudoptima.storage.tenancy import TenantRepository
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.inventory import age_days
from cloudoptima_tools.spec import CloudScope, PagedOutput, PageInput, ToolSpec, decode_cursor, page_of


class _Principals(TenantRepository[IamPrincipal]):
    model = IamPrincipal

    def live(self, scope: CloudScope) -> Select[Any]:
        clauses: list[ColumnElement[bool]] = [IamPrincipal.status != "deleted"]
        if scope.provider:
            clauses.append(IamPrincipal.provider == scope.provider)
        if scope.account:
            clauses.append(IamPrincipal.document["account_id"].astext == scope.account)
        return (
            self.query().where(*clauses).order_by(IamPrincipal.provider, IamPrincipal.name, IamPrincipal.id)
        )


def _load(
    ctx: ToolContext, scope: CloudScope, extra: list[ColumnElement[bool]] | None = None
) -> list[IamPrincipal]:
    with ctx.read_session() as session:
        repo = _Principals(session, ctx.organization_id)
        return list(session.scalars(repo.live(scope).where(*(extra or []))))


class GrantRow(BaseModel):
    role: str
    scope: str
    privileged: bool


class PrincipalRow(BaseModel):
    principal_id: str
    name: str
    provider: str
    account: str | None
    kind: str
    privileged: bool
    active_credentials: int
    days_since_activity: int | None = Field(description="None when never active.")
    grants: list[GrantRow]


def _principal(row: IamPrincipal, now: datetime) -> PrincipalRow:
    doc = row.document or {}
    grants = [GrantRow(**g) for g in doc.get("grants", [])]
    return PrincipalRow(
        principal_id=row.principal_id,
        name=row.name,
        provider=row.provider,
        account=doc.get("account_id"),
        kind=row.kind,
        privileged=row.privileged,
        active_credentials=row.active_credentials,
        days_since_activity=age_days(row.last_activity_at, now),
        grants=grants[:20],
    )


class PrincipalsInput(CloudScope, PageInput):
    kind: Literal["user", "service_account", "role"] | None = None
    inactive_days: int | None = Field(default=None, ge=1, description="Only principals inactive this long.")


class PrincipalsOutput(PagedOutput):
    items: list[PrincipalRow]


def iam_principals(ctx: ToolContext, params: PrincipalsInput) -> PrincipalsOutput:
    offset = decode_cursor(params)
    now = ctx.now()
    extra = [IamPrincipal.kind == params.kind] if params.kind else []
    rows = [_principal(r, now) for r in _load(ctx, params, extra)]
    if params.inactive_days is not None:
        limit = params.inactive_days
        rows = [r for r in rows if r.days_since_activity is None or r.days_since_activity >= limit]
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    return PrincipalsOutput(items=page, returned=len(page), total=len(rows), next_cursor=cursor)


class CredentialsInput(CloudScope, PageInput):
    unused_days: int = Field(
        default=90, ge=1, description="Unused when not used for this many days (or never)."
    )
    max_age_days: int = Field(default=365, ge=1, description="Old when created at least this many days ago.")


class CredentialRow(BaseModel):
    principal_id: str
    principal_name: str
    provider: str
    account: str | None
    credential_id: str
    kind: str
    age_days: int | None
    days_since_used: int | None = Field(description="None when never used.")
    reasons: list[Literal["never_used", "unused", "old"]]


class CredentialsOutput(PagedOutput):
    items: list[CredentialRow]


def iam_stale_credentials(ctx: ToolContext, params: CredentialsInput) -> CredentialsOutput:
    offset = decode_cursor(params)
    now = ctx.now()
    found: list[CredentialRow] = []
    for row in _load(ctx, params, [IamPrincipal.active_credentials > 0]):
        doc = row.document or {}
        for cred in doc.get("credentials", []):
            if not cred.get("active"):
                continue
            age, used = age_days(cred.get("created_at"), now), age_days(cred.get("last_used_at"), now)
            reasons: list[Literal["never_used", "unused", "old"]] = []
            if used is None:
                reasons.append("never_used")
            elif used >= params.unused_days:
                reasons.append("unused")
            if age is not None and age >= params.max_age_days:
                reasons.append("old")
            if reasons:
                found.append(
                    CredentialRow(
                        principal_id=row.principal_id,
                        principal_name=row.name,
                        provider=row.provider,
                        account=doc.get("account_id"),
                        credential_id=str(cred.get("credential_id")),
                        kind=str(cred.get("kind")),
                        age_days=age,
                        days_since_used=used,
                        reasons=reasons,
                    )
                )
    page, cursor = page_of(params, found[offset : offset + params.limit + 1], len(found), offset)
    return CredentialsOutput(items=page, returned=len(page), total=len(found), next_cursor=cursor)


class PrivilegedInput(CloudScope, PageInput):
    """Which cloud scope to list privileged principals of, one page at a time."""


class PrivilegedOutput(PagedOutput):
    items: list[PrincipalRow]


def iam_privileged_grants(ctx: ToolContext, params: PrivilegedInput) -> PrivilegedOutput:
    offset = decode_cursor(params)
    now = ctx.now()
    rows = []
    for row in _load(ctx, params, [IamPrincipal.privileged.is_(True)]):
        principal = _principal(row, now)
        rows.append(principal.model_copy(update={"grants": [g for g in principal.grants if g.privileged]}))
    page, cursor = page_of(params, rows[offset : offset + params.limit + 1], len(rows), offset)
    return PrivilegedOutput(items=page, returned=len(page), total=len(rows), next_cursor=cursor)


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="iam_principals",
        domain="iam",
        title="IAM principals",
        description=(
            "Users, service accounts and roles with their grants, active credential count and days since "
            "last activity.\n"
            'Example: {"kind": "user", "inactive_days": 90}'
        ),
        input_model=PrincipalsInput,
        output_model=PrincipalsOutput,
        handler=iam_principals,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="iam_stale_credentials",
        domain="iam",
        title="Unused or old credentials",
        description=(
            "Active access keys, client secrets and service-account keys never used, unused for unused_days "
            "days, or created at least max_age_days days ago (ids and dates only, never secrets).\n"
            'Example: {"unused_days": 90, "max_age_days": 365}'
        ),
        input_model=CredentialsInput,
        output_model=CredentialsOutput,
        handler=iam_stale_credentials,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
    ),
    ToolSpec(
        name="iam_privileged_grants",
        domain="iam",
        title="Privileged grants",
        description=(
            "Principals holding admin/owner-level roles, with only their privileged grants (role and scope) "
            "and days since last activity.\n"
            'Example: {"provider": "aws"}'
        ),
        input_model=PrivilegedInput,
        output_model=PrivilegedOutput,
        handler=iam_privileged_grants,
        permission="read:resources",
        cloud_scoped=True,
        max_output_tokens=10_000,
    ),
]
