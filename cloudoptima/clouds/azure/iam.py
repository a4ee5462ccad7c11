"""IAM facts of one subscription: role assignments and the principals (with their secrets) behind them.

Contract and visibility:

- Role assignments at (and inherited into) subscription scope come from ARM
  (``Microsoft.Authorization/roleAssignments``); role names from their role definitions. ``Owner``,
  ``Contributor``, ``User Access Administrator`` and ``Role Based Access Control Administrator`` are
  privileged grants.
- Each assigned principal is resolved in Microsoft Graph: service principals via ``/servicePrincipals/{id}``
  and their *application's* password credentials (client secrets: key id, start and end dates; never the
  value, which Graph does not return) via ``/applications(appId='…')``; users via ``/users/{id}`` (no
  credentials: passwords are not listed). Groups are reported as principals without credentials.
- Not visible: when a secret was last used (needs sign-in logs, ``AuditLog.Read.All``), certificates'
  usage, assignments made only at resource-group or resource scope when ``atScope()`` is used, and
  principals in other tenants. When Graph is refused, principals are still returned (named by object id)
  and ``graph`` is listed in failures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cloudoptima.clouds.azure.errors import translate
from cloudoptima.clouds.azure.inventory import EPOCH, when
from cloudoptima.clouds.azure.session import AzureSession
from cloudoptima.clouds.protocol import CredentialsError, Failure
from cloudoptima.domain.inventory import (
    CloudProvider,
    Credential,
    CredentialKind,
    Grant,
    Principal,
    PrincipalKind,
)

PRIVILEGED_ROLES = frozenset(
    {"owner", "contributor", "user access administrator", "role based access control administrator"}
)
BUILT_IN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
}
_KINDS = {"serviceprincipal": PrincipalKind.SERVICE_ACCOUNT, "user": PrincipalKind.USER}


GRAPH_READ_PERMISSION = "Application.Read.All"
"""The Microsoft Graph permission that reads service principals' and applications' credentials (Graph's
403 does not name it)."""


class IamReader:
    """Reads role assignments and resolves their principals (see module contract)."""

    def __init__(self, session: AzureSession) -> None:
        self.session = session
        self.failures: list[Failure] = []
        self._roles: dict[str, str] = {}

    def read(self) -> tuple[list[Principal], list[Failure]]:
        self.failures = []
        by_principal: dict[str, list[dict[str, Any]]] = {}
        for assignment in self.session.authorization.role_assignments.list_for_subscription():
            data = assignment.as_dict()
            by_principal.setdefault(str(data.get("principal_id")), []).append(data)
        principals = [self._principal(pid, assignments) for pid, assignments in by_principal.items()]
        return principals, self.failures

    def _role_name(self, role_definition_id: str) -> str:
        role_key = role_definition_id.rsplit("/", 1)[-1].lower()
        if role_key in BUILT_IN_ROLES:
            return BUILT_IN_ROLES[role_key]
        if role_key not in self._roles:
            try:
                definition = self.session.authorization.role_definitions.get_by_id(role_definition_id)
                self._roles[role_key] = str(definition.role_name or role_key)
            except Exception as exc:
                error = translate(exc, "read role definitions")
                if isinstance(error, CredentialsError):
                    raise error from None
                self.failures.append(Failure(scope="authorization/roleDefinitions", error=str(error)))
                self._roles[role_key] = role_key
        return self._roles[role_key]

    def _principal(self, principal_id: str, assignments: list[dict[str, Any]]) -> Principal:
        grants = []
        for assignment in assignments:
            role = self._role_name(str(assignment.get("role_definition_id")))
            grants.append(
                Grant(
                    role=role, scope=str(assignment.get("scope")), privileged=role.lower() in PRIVILEGED_ROLES
                )
            )
        kind_name = str(assignments[0].get("principal_type") or "").lower()
        created = min((_aware(a.get("created_on")) for a in assignments), default=EPOCH)
        name: str = principal_id
        credentials: list[Credential] = []
        graph_created: datetime | None = None
        try:
            name, credentials, graph_created = self._graph(principal_id, kind_name)
        except Exception as exc:
            error = translate(exc, f"read principal {principal_id} from Microsoft Graph")
            permission = None
            if isinstance(error, CredentialsError):
                permission = error.permission or GRAPH_READ_PERMISSION
            self.failures.append(
                Failure(scope="graph", error=str(error), retryable=error.retryable, permission=permission)
            )
        return Principal(
            principal_id=principal_id,
            provider=CloudProvider.AZURE,
            account_id=self.session.subscription_id,
            name=name,
            kind=_KINDS.get(kind_name, PrincipalKind.ROLE),
            created_at=graph_created or created,
            grants=tuple(grants),
            credentials=tuple(credentials),
        )

    def _graph(self, principal_id: str, kind: str) -> tuple[str, list[Credential], datetime | None]:
        if kind == "user":
            user = self.session.graph_json(f"/v1.0/users/{principal_id}")
            name = str(user.get("userPrincipalName") or user.get("displayName") or principal_id)
            return name, [], when(user.get("createdDateTime"))
        if kind != "serviceprincipal":
            return principal_id, [], None
        sp = self.session.graph_json(f"/v1.0/servicePrincipals/{principal_id}")
        name = str(sp.get("displayName") or principal_id)
        app_id = sp.get("appId")
        if not app_id:
            return name, [], None
        app = self.session.graph_json(f"/v1.0/applications(appId='{app_id}')")
        now = datetime.now(UTC)
        secrets = [*(sp.get("passwordCredentials") or []), *(app.get("passwordCredentials") or [])]
        credentials = []
        for secret in secrets:
            start = when(secret.get("startDateTime")) or EPOCH
            end = when(secret.get("endDateTime"))
            credentials.append(
                Credential(
                    credential_id=str(secret.get("keyId")),
                    kind=CredentialKind.CLIENT_SECRET,
                    active=start <= now and (end is None or now < end),
                    created_at=start,
                    expires_at=end,
                )
            )
        return name, credentials, when(app.get("createdDateTime"))


def _aware(value: Any) -> datetime:
    return when(value) or EPOCH
