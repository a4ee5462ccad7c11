"""``GcpProvider``: the provider protocol for one GCP project.

Contract (besides :mod:`cloudoptima.clouds.protocol`):

- ``credentials`` is ``{"service_account_json_b64": ...}``; tests and workload identity may instead pass
  ``credentials_object`` (any ``google.auth`` credentials). ``settings`` is :class:`GcpSettings`
  (``project_id``, ``billing_export_table``, ``endpoints`` overrides, retry delays).
- Nothing touches the network at construction; each method builds what it needs lazily.
- :meth:`verify` reads the project (``projects.get``) and asks ``testIamPermissions`` for one read
  permission per family (:data:`READ_PERMISSIONS`); BigQuery export access is granted on the export dataset,
  not the project, so it is proven by :meth:`costs`, not here.
- GCP offers no cost forecast API: :meth:`forecast` returns None.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from google.auth.credentials import Credentials
from google.cloud import resourcemanager_v3

from cloudoptima.clouds.gcp import costs as cost_module
from cloudoptima.clouds.gcp import iam as iam_module
from cloudoptima.clouds.gcp import metrics, recommendations
from cloudoptima.clouds.gcp.actions import ActionRunner
from cloudoptima.clouds.gcp.commitments import committed_use_discounts
from cloudoptima.clouds.gcp.inventory import ComputeInventory
from cloudoptima.clouds.gcp.recommendations import GcpRecommendation
from cloudoptima.clouds.gcp.session import GcpSession, GcpSettings, credentials_from_b64
from cloudoptima.clouds.gcp.sql_inventory import cloud_sql_instances
from cloudoptima.clouds.month_totals import MonthTotal, months_between
from cloudoptima.clouds.protocol import (
    ActionRequest,
    ActionResult,
    ActionValidation,
    CloudForecast,
    CredentialsError,
    DailyCost,
    Partial,
    ProviderError,
    Verification,
)
from cloudoptima.domain.inventory import Principal, Resource, ResourceKind, UtilisationSeries
from cloudoptima.domain.owned_commitments import OwnedCommitment

READ_PERMISSIONS = (
    "compute.instances.list",
    "compute.disks.list",
    "compute.snapshots.list",
    "compute.addresses.list",
    "compute.forwardingRules.list",
    "monitoring.timeSeries.list",
    "resourcemanager.projects.getIamPolicy",
    "iam.serviceAccounts.list",
    "iam.serviceAccountKeys.list",
    "recommender.computeInstanceIdleResourceRecommendations.list",
    "cloudsql.instances.list",
)


class GcpProvider:
    """One GCP project behind the :class:`~cloudoptima.clouds.protocol.CloudProviderClient` protocol."""

    provider = "gcp"

    def __init__(
        self,
        credentials: dict[str, Any],
        settings: GcpSettings | dict[str, Any],
        billing_reader: cost_module.BillingExportReader | None = None,
    ) -> None:
        self.settings = (
            settings if isinstance(settings, GcpSettings) else GcpSettings.model_validate(settings)
        )
        self.account_id = self.settings.project_id
        injected = credentials.get("credentials_object")
        if isinstance(injected, Credentials):
            google_credentials = injected
        elif "service_account_json_b64" in credentials:
            google_credentials = credentials_from_b64(str(credentials["service_account_json_b64"]))
        else:
            raise CredentialsError("GCP credentials need service_account_json_b64")
        self.session = GcpSession(self.settings, google_credentials)
        self._inventory = ComputeInventory(self.session)
        self._actions = ActionRunner(self.session)
        table = self.settings.billing_export_table
        self._billing_reader = billing_reader or (
            cost_module.BigQueryBillingExportReader(
                self.session, table, self.settings.billing_export_detailed
            )
            if table
            else None
        )

    def __repr__(self) -> str:
        return f"GcpProvider(project={self.account_id!r})"

    def verify(self) -> Verification:
        """Read the project and test one read permission per family (partial when only those are missing)."""
        projects = self.session.rest_client("resourcemanager", resourcemanager_v3.ProjectsClient)
        name = f"projects/{self.account_id}"
        try:
            project = self.session.call(
                lambda: projects.get_project(name=name, retry=self.session.retry),
                "resourcemanager/projects.get",
            )
            missing = self._actions.missing_permissions(list(READ_PERMISSIONS))
        except CredentialsError as exc:
            return Verification(
                status="failed",
                account_id=self.account_id,
                detail=str(exc),
                missing_permissions=[exc.permission] if exc.permission else [],
            )
        if missing:
            return Verification(
                status="partial",
                account_id=self.account_id,
                detail=f"missing {len(missing)} read permission(s)",
                missing_permissions=missing,
            )
        return Verification(
            status="verified", account_id=project.project_id or self.account_id, detail=project.name
        )

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        """Daily costs from the BigQuery billing export (see :mod:`cloudoptima.clouds.gcp.costs`)."""
        return cost_module.daily_costs(self.session, self._billing_reader, start, end)

    def month_totals(self, start: date, end: date) -> list[MonthTotal]:
        """The billing export's own invoice-month totals of the project (see :mod:`.costs`); a
        :class:`ProviderError` when no export table is configured or its reader reads none."""
        reader = self._billing_reader
        if not isinstance(reader, cost_module.BigQueryBillingExportReader):
            what = "is not configured" if reader is None else "reader gives no invoice-month totals"
            raise ProviderError(f"the billing export table {what}")
        months = [m for m in months_between(start, end) if m >= start]
        return self.session.call(
            lambda: reader.month_totals(self.account_id, months), "bigquery/billing-export"
        )

    def forecast(self, start: date, end: date) -> CloudForecast | None:
        """GCP has no forecast API."""
        return None

    def owned_commitments(self) -> list[OwnedCommitment]:
        """The project's committed-use discounts (:mod:`.commitments`)."""
        return committed_use_discounts(self.session)

    def inventory(self) -> Partial[Resource]:
        """Compute (or Cloud Asset) inventory (see :mod:`cloudoptima.clouds.gcp.inventory`) and the Cloud SQL
        instances (see :mod:`cloudoptima.clouds.gcp.sql_inventory`)."""
        compute = self._inventory.read()
        databases = cloud_sql_instances(self.session)
        return Partial(items=compute.items + databases.items, failures=compute.failures + databases.failures)

    def utilisation(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        """Hourly Monitoring series (see :mod:`cloudoptima.clouds.gcp.metrics`)."""
        return metrics.utilisation(self.session, resources, start, end)

    def iam(self) -> Partial[Principal]:
        """Policy members and service accounts with keys (see :mod:`cloudoptima.clouds.gcp.iam`)."""
        return iam_module.principals(self.session)

    def validate_action(self, request: ActionRequest) -> ActionValidation:
        """Dry run (see :mod:`cloudoptima.clouds.gcp.actions`)."""
        return self._actions.validate(request)

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        """Act once per key (see :mod:`cloudoptima.clouds.gcp.actions`)."""
        return self._actions.execute(request, idempotency_key)

    def recommendations(self, zones: list[str] | None = None) -> Partial[GcpRecommendation]:
        """Google's idle-VM and machine-type recommendations in ``zones`` (default: zones with instances)."""
        if zones is None:
            found = self.inventory()
            zones = sorted(
                {r.resource_id.split("/")[3] for r in found.items if r.kind == ResourceKind.COMPUTE_INSTANCE}
            )
        return recommendations.list_recommendations(self.session, zones)
