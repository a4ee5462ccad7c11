"""``AzureProvider``: the provider protocol for one Azure subscription, over the real azure-mgmt-* clients.

``credentials = {tenant_id, client_id, client_secret}``; ``settings = {subscription_id, base_url?, authority?,
graph_url?, connection_verify?, retry_total?, retry_backoff_factor?, polling_interval?}`` (see
:mod:`cloudoptima.clouds.azure.session`). Reads return :class:`Partial` results; credentials and permission
problems raise :class:`CredentialsError`; throttling that outlives azure-core's retries raises
:class:`ThrottledError`. The client secret never appears in results, errors or logs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from azure.core.credentials import TokenCredential

from cloudoptima.clouds.azure import costs as cost_api
from cloudoptima.clouds.azure import metrics
from cloudoptima.clouds.azure.actions import ActionRunner
from cloudoptima.clouds.azure.commitments import read_owned
from cloudoptima.clouds.azure.errors import azure_errors, translate
from cloudoptima.clouds.azure.iam import IamReader
from cloudoptima.clouds.azure.inventory import InventoryReader, as_dict
from cloudoptima.clouds.azure.permissions import missing
from cloudoptima.clouds.azure.session import AzureSession, AzureSettings
from cloudoptima.clouds.month_totals import MonthTotal
from cloudoptima.clouds.protocol import (
    ActionRequest,
    ActionResult,
    ActionValidation,
    CloudForecast,
    CredentialsError,
    DailyCost,
    Failure,
    Partial,
    ThrottledError,
    Verification,
)
from cloudoptima.domain.inventory import CloudAccount, Principal, Resource, UtilisationSeries
from cloudoptima.domain.owned_commitments import OwnedCommitment

READ_PERMISSIONS = (
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/instanceView/read",
    "Microsoft.Compute/disks/read",
    "Microsoft.Compute/snapshots/read",
    "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/loadBalancers/read",
    "Microsoft.CostManagement/query/action",
    "Microsoft.CostManagement/forecast/action",
    "Microsoft.Insights/metrics/read",
    "Microsoft.Authorization/roleAssignments/read",
    "Microsoft.Authorization/roleDefinitions/read",
)


class AzureProvider:
    """One connected Azure subscription (implements ``CloudProviderClient``)."""

    provider = "azure"

    def __init__(
        self,
        credentials: dict[str, Any],
        settings: dict[str, Any],
        credential: TokenCredential | None = None,
    ) -> None:
        """``credential`` (any object with ``get_token``) replaces the client secret, for tests."""
        self.settings = AzureSettings.from_dicts(credentials, settings)
        self.session = AzureSession(self.settings, credentials.get("client_secret"), credential)
        self.account_id = self.settings.subscription_id
        self._actions = ActionRunner(self.session)

    def __repr__(self) -> str:
        return f"AzureProvider(subscription={self.account_id!r})"

    def verify(self) -> Verification:
        """Identity call (the subscription) plus the caller's effective permissions at the account's scopes
        (the subscription, or each configured resource group)."""
        try:
            with azure_errors("read the subscription"):
                sub = as_dict(self.session.subscriptions.subscriptions.get(self.account_id))
            lacking: list[str] = []
            for scope in self.session.read_scopes:
                with azure_errors(f"read permissions at {scope}"):
                    lacking += [p for p in missing(self.session, scope, READ_PERMISSIONS) if p not in lacking]
        except CredentialsError as exc:
            return Verification(
                status="failed",
                account_id=self.account_id,
                detail=str(exc),
                missing_permissions=[exc.permission] if exc.permission else [],
            )
        state = str(sub.get("state") or "")
        if state.lower() not in ("enabled", "pastdue", "warned"):
            return Verification(
                status="failed",
                account_id=self.account_id,
                detail=f"subscription state {state}",
                missing_permissions=lacking,
            )
        if lacking:
            return Verification(
                status="partial",
                account_id=self.account_id,
                detail="missing read permissions",
                missing_permissions=lacking,
            )
        return Verification(
            status="verified", account_id=self.account_id, detail=str(sub.get("displayName") or "")
        )

    def account(self) -> CloudAccount:
        """The subscription as a :class:`CloudAccount`."""
        with azure_errors("read the subscription"):
            return InventoryReader(self.session).account()

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        try:
            return Partial(items=cost_api.daily_costs(self.session, start, end))
        except Exception as exc:
            return _partial_failure("costmanagement/query", exc, "query costs")

    def forecast(self, start: date, end: date) -> CloudForecast | None:
        with azure_errors("forecast costs"):
            return cost_api.forecast(self.session, start, end)

    def month_totals(self, start: date, end: date) -> list[MonthTotal]:
        """Cost Management's own totals of the whole months from ``start`` (see :mod:`.costs`)."""
        with azure_errors("query monthly cost totals"):
            return cost_api.month_totals(self.session, start, end)

    def owned_commitments(self) -> list[OwnedCommitment]:
        """Reservations and savings plans applying to the subscription (:mod:`.commitments`)."""
        return read_owned(self.session)

    def inventory(self) -> Partial[Resource]:
        with azure_errors("read the inventory"):
            items, failures = InventoryReader(self.session).read()
        return Partial(items=[r for r in items if self.session.in_scope(r.resource_id)], failures=failures)

    def utilisation(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        items, failures = metrics.utilisation(self.session, resources, start, end)
        return Partial(items=items, failures=failures)

    def iam(self) -> Partial[Principal]:
        with azure_errors("list role assignments"):
            items, failures = IamReader(self.session).read()
        return Partial(items=items, failures=failures)

    def validate_action(self, request: ActionRequest) -> ActionValidation:
        return self._actions.validate(request)

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        return self._actions.execute(request, idempotency_key)

    def close(self) -> None:
        self.session.close()


def _partial_failure(scope: str, exc: Exception, what: str) -> Partial[Any]:
    """Raise credential/throttling errors; turn any other failure into a one-failure Partial."""
    error = translate(exc, what)
    if isinstance(error, CredentialsError | ThrottledError):
        raise error from None
    return Partial(failures=[Failure(scope=scope, error=str(error), retryable=error.retryable)])
