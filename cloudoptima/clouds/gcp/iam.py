"""Principals of one project: IAM policy members, service accounts and their user-managed keys.

Contract:

- Grants come from the project IAM policy (``projects.getIamPolicy``, policy version 3). ``roles/owner``,
  ``roles/editor`` (the privileged primitive roles) and the roles that can grant themselves those
  (``roles/resourcemanager.projectIamAdmin``, ``roles/iam.securityAdmin``) are ``privileged``.
- Service accounts come from the IAM Admin API (``serviceAccounts.list``, paged) with their USER_MANAGED
  keys (``serviceAccounts.keys.list``); a key is a :class:`Credential` created at ``validAfterTime``,
  expiring at ``validBeforeTime`` (None for the 9999 "never" date), active unless disabled or expired.
- GCP exposes no creation time for principals: ``created_at`` is the oldest key's ``validAfterTime``, else
  the Unix epoch. ``allUsers``/``allAuthenticatedUsers``/``deleted:`` members are not principals and are
  skipped. Listing one account's keys failing is a failure ``iam/keys/<email>``; the rest is returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import iam_admin_v1, resourcemanager_v3
from google.cloud.iam_admin_v1.services.iam.transports import IAMGrpcTransport
from google.iam.v1 import iam_policy_pb2, options_pb2

from cloudoptima.clouds.gcp.session import GcpSession
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError, ThrottledError
from cloudoptima.domain.inventory import (
    CloudProvider,
    Credential,
    CredentialKind,
    Grant,
    Principal,
    PrincipalKind,
)

PRIVILEGED_ROLES = frozenset(
    {"roles/owner", "roles/editor", "roles/resourcemanager.projectIamAdmin", "roles/iam.securityAdmin"}
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER_YEAR = 9999
_KINDS = {
    "user": PrincipalKind.USER,
    "group": PrincipalKind.USER,
    "serviceAccount": PrincipalKind.SERVICE_ACCOUNT,
}


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    stamp: datetime = value if isinstance(value, datetime) else value.ToDatetime(tzinfo=UTC)
    if stamp.year <= 1970 and stamp.month == 1 and stamp.day == 1:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _key_credential(key: iam_admin_v1.ServiceAccountKey, now: datetime) -> Credential:
    created = _aware(key.valid_after_time) or EPOCH
    expires = _aware(key.valid_before_time)
    if expires is not None and expires.year >= _NEVER_YEAR:
        expires = None
    return Credential(
        credential_id=key.name.rsplit("/", 1)[-1],
        kind=CredentialKind.SERVICE_ACCOUNT_KEY,
        active=not key.disabled and (expires is None or expires > now),
        created_at=created,
        expires_at=expires,
    )


def _keys(
    admin: iam_admin_v1.IAMClient, name: str, session: GcpSession
) -> list[iam_admin_v1.ServiceAccountKey]:
    request = iam_admin_v1.ListServiceAccountKeysRequest(
        name=name, key_types=[iam_admin_v1.ListServiceAccountKeysRequest.KeyType.USER_MANAGED]
    )
    return list(admin.list_service_account_keys(request=request, retry=session.retry).keys)


def principals(session: GcpSession) -> Partial[Principal]:
    """Every principal of the project (see module docstring)."""
    project = session.project
    scope = f"projects/{project}"
    projects = session.rest_client("resourcemanager", resourcemanager_v3.ProjectsClient)
    request = iam_policy_pb2.GetIamPolicyRequest(
        resource=scope, options=options_pb2.GetPolicyOptions(requested_policy_version=3)
    )
    policy = session.call(
        lambda: projects.get_iam_policy(request=request, retry=session.retry), "resourcemanager/getIamPolicy"
    )
    grants: dict[str, list[Grant]] = {}
    for binding in policy.bindings:
        for member in binding.members:
            grants.setdefault(member, []).append(
                Grant(role=binding.role, scope=scope, privileged=binding.role in PRIVILEGED_ROLES)
            )

    admin = session.grpc_client("iam", iam_admin_v1.IAMClient, IAMGrpcTransport)
    accounts = session.call(
        lambda: list(
            admin.list_service_accounts(
                request=iam_admin_v1.ListServiceAccountsRequest(name=scope, page_size=100),
                retry=session.retry,
            )
        ),
        "iam/serviceAccounts",
    )
    now = datetime.now(UTC)
    failures: list[Failure] = []
    items: list[Principal] = []
    seen: set[str] = set()
    for account in accounts:
        member = f"serviceAccount:{account.email}"
        seen.add(member)
        credentials: tuple[Credential, ...] = ()
        try:
            keys = session.call(partial(_keys, admin, account.name, session), f"iam/keys/{account.email}")
            credentials = tuple(_key_credential(key, now) for key in keys)
        except (CredentialsError, ThrottledError):
            raise
        except (ProviderError, gexc.GoogleAPIError) as exc:
            failures.append(Failure(scope=f"iam/keys/{account.email}", error=str(exc), retryable=True))
        items.append(
            Principal(
                principal_id=account.unique_id or account.email,
                provider=CloudProvider.GCP,
                account_id=project,
                name=account.email,
                kind=PrincipalKind.SERVICE_ACCOUNT,
                created_at=min((c.created_at for c in credentials), default=EPOCH),
                grants=tuple(grants.get(member, ())),
                credentials=credentials,
                tags={"disabled": "true"} if account.disabled else {},
            )
        )
    for member, member_grants in grants.items():
        prefix, _, name = member.partition(":")
        if member in seen or prefix not in _KINDS or not name:
            continue
        items.append(
            Principal(
                principal_id=member,
                provider=CloudProvider.GCP,
                account_id=project,
                name=name,
                kind=_KINDS[prefix],
                created_at=EPOCH,
                grants=tuple(member_grants),
                tags={"member_type": prefix},
            )
        )
    return Partial[Principal](items=items, failures=failures)
