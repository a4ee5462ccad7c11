"""IAM principals of one account: users (access keys, console password, grants) and roles (grants).

Contract:

- Users come with every access key (id, status, creation, ``GetAccessKeyLastUsed``), their console password
  from the credential report (when it can be generated) and grants from attached, inline and group
  policies. Roles come with attached and inline policy grants; service-linked roles are left out.
- A grant is privileged when the policy is ``AdministratorAccess``/``IAMFullAccess``, or its default version
  allows ``*`` or ``iam:*`` on resource ``*``. Customer-managed policy documents are read once per read.
- The credential report failing is a :class:`Failure` (scope ``"iam/credential-report"``) while users and
  roles are still returned; a denied list call raises :class:`CredentialsError` (IAM is global: there is no
  other region to fall back on); any other IAM error fails the whole read (scope ``"iam"``).
- Secret material is never requested: only key ids and dates.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cloudoptima.clouds.aws.ec2_inventory import tags_of, utc
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.aws.inventory import failure_of
from cloudoptima.clouds.protocol import CredentialsError, Failure, Partial, ProviderError
from cloudoptima.domain.inventory import (
    CloudProvider,
    Credential,
    CredentialKind,
    Grant,
    Principal,
    PrincipalKind,
)

PRIVILEGED_MANAGED = frozenset({"AdministratorAccess", "IAMFullAccess"})
_ADMIN_ACTIONS = frozenset({"*", "iam:*"})
REPORT_POLLS = 10


def document_is_privileged(document: Any) -> bool:
    """True when a policy document allows ``*`` or ``iam:*`` on ``*`` (URL-encoded JSON accepted)."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", [])
    for statement in [statements] if isinstance(statements, dict) else statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if _ADMIN_ACTIONS & set(actions) and "*" in resources:
            return True
    return False


def _parse_report_time(value: str) -> datetime | None:
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


class IamReader:
    """Reads principals of one account through a boto3 ``iam`` client."""

    def __init__(self, iam: Any, account_id: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self._iam = iam
        self._account_id = account_id
        self._sleep = sleep
        self._policy_privilege: dict[str, bool] = {}

    def read(self) -> Partial[Principal]:
        """Users and roles, plus failures for the parts that could not be read."""
        failures: list[Failure] = []
        try:
            report = self.credential_report()
        except ProviderError as error:
            report = {}
            failures.append(failure_of("iam/credential-report", error))
        try:
            with aws_errors("iam"):
                principals = [
                    self._user(u, report.get(u["UserName"], {})) for u in self._pages("list_users", "Users")
                ]
                principals += [
                    self._role(r)
                    for r in self._pages("list_roles", "Roles")
                    if not r.get("Path", "/").startswith("/aws-service-role/")
                ]
        except CredentialsError:
            raise
        except ProviderError as error:
            return Partial(items=[], failures=[*failures, failure_of("iam", error)])
        return Partial(items=principals, failures=failures)

    def credential_report(self) -> dict[str, dict[str, str]]:
        """The credential report as ``{user name: row}``, generating it first when needed."""
        with aws_errors("iam"):
            for _ in range(REPORT_POLLS):
                if self._iam.generate_credential_report().get("State") == "COMPLETE":
                    break
                self._sleep(1.0)
            content = self._iam.get_credential_report()["Content"]
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        return {row["user"]: row for row in csv.DictReader(io.StringIO(text))}

    def _pages(self, operation: str, key: str, **params: Any) -> list[Any]:
        paginator = self._iam.get_paginator(operation)
        return [item for page in paginator.paginate(**params) for item in page.get(key, [])]

    def _user(self, user: dict[str, Any], report_row: dict[str, str]) -> Principal:
        name = user["UserName"]
        credentials = []
        for key in self._pages("list_access_keys", "AccessKeyMetadata", UserName=name):
            used = self._iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get(
                "AccessKeyLastUsed", {}
            )
            credentials.append(
                Credential(
                    credential_id=key["AccessKeyId"],
                    kind=CredentialKind.ACCESS_KEY,
                    active=key.get("Status") == "Active",
                    created_at=utc(key["CreateDate"]),
                    last_used_at=utc(used["LastUsedDate"]) if used.get("LastUsedDate") else None,
                )
            )
        if report_row.get("password_enabled") == "true":
            credentials.append(
                Credential(
                    credential_id=f"{name}/console-password",
                    kind=CredentialKind.PASSWORD,
                    active=True,
                    created_at=_parse_report_time(report_row.get("password_last_changed", ""))
                    or utc(user["CreateDate"]),
                    last_used_at=_parse_report_time(report_row.get("password_last_used", "")),
                )
            )
        grants = self._attached("list_attached_user_policies", UserName=name)
        grants += self._inline("list_user_policies", "get_user_policy", UserName=name)
        for group in self._pages("list_groups_for_user", "Groups", UserName=name):
            grants += self._attached("list_attached_group_policies", GroupName=group["GroupName"])
            grants += self._inline("list_group_policies", "get_group_policy", GroupName=group["GroupName"])
        activity = [c.last_used_at for c in credentials if c.last_used_at is not None]
        if user.get("PasswordLastUsed"):
            activity.append(utc(user["PasswordLastUsed"]))
        return Principal(
            principal_id=user["Arn"],
            provider=CloudProvider.AWS,
            account_id=self._account_id,
            name=name,
            kind=PrincipalKind.USER,
            created_at=utc(user["CreateDate"]),
            last_activity_at=max(activity) if activity else None,
            grants=tuple(grants),
            credentials=tuple(credentials),
            tags=tags_of(self._pages("list_user_tags", "Tags", UserName=name)),
        )

    def _role(self, role: dict[str, Any]) -> Principal:
        name = role["RoleName"]
        grants = self._attached("list_attached_role_policies", RoleName=name)
        grants += self._inline("list_role_policies", "get_role_policy", RoleName=name)
        last_used = role.get("RoleLastUsed", {}).get("LastUsedDate")
        return Principal(
            principal_id=role["Arn"],
            provider=CloudProvider.AWS,
            account_id=self._account_id,
            name=name,
            kind=PrincipalKind.ROLE,
            created_at=utc(role["CreateDate"]),
            last_activity_at=utc(last_used) if last_used else None,
            grants=tuple(grants),
            tags=tags_of(role.get("Tags")),
        )

    def _scope(self) -> str:
        return f"arn:aws:iam::{self._account_id}:root"

    def _attached(self, operation: str, **owner: str) -> list[Grant]:
        return [
            Grant(role=p["PolicyName"], scope=self._scope(), privileged=self._managed_is_privileged(p))
            for p in self._pages(operation, "AttachedPolicies", **owner)
        ]

    def _inline(self, list_operation: str, get_operation: str, **owner: str) -> list[Grant]:
        grants = []
        for policy_name in self._pages(list_operation, "PolicyNames", **owner):
            document = getattr(self._iam, get_operation)(PolicyName=policy_name, **owner)["PolicyDocument"]
            grants.append(
                Grant(role=policy_name, scope=self._scope(), privileged=document_is_privileged(document))
            )
        return grants

    def _managed_is_privileged(self, policy: dict[str, str]) -> bool:
        if policy["PolicyName"] in PRIVILEGED_MANAGED and policy["PolicyArn"].startswith("arn:aws:iam::aws:"):
            return True
        arn = policy["PolicyArn"]
        if arn not in self._policy_privilege:
            meta = self._iam.get_policy(PolicyArn=arn)["Policy"]
            version = self._iam.get_policy_version(PolicyArn=arn, VersionId=meta["DefaultVersionId"])
            self._policy_privilege[arn] = document_is_privileged(version["PolicyVersion"]["Document"])
        return self._policy_privilege[arn]
