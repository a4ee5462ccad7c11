"""``AwsProvider``: the AWS implementation of :class:`CloudProviderClient` for one AWS account.

Construction: ``AwsProvider(credentials, settings, clock=..., cost_cache=..., idempotency_store=...)``.

- ``credentials``: ``{"role_arn", "external_id"}`` (STS AssumeRole) or ``{"access_key_id",
  "secret_access_key"}``; both together means "assume the role from these keys". Never logged.
- ``settings``: ``regions`` (default: every enabled region), ``endpoint_url`` (send every call there, e.g.
  moto), ``cost_source`` (``"cost_explorer"`` default, or ``"cur_s3"`` with ``cur_bucket``/``cur_prefix``),
  ``cost_grouping`` (see :mod:`.costs`), ``cost_resource_level`` / ``cost_tag_keys`` (Cost Explorer's
  resource-level rows of the last 14 days and their cost allocation tags, see :mod:`.cost_resources`),
  ``account_id``/``billing_account_id`` (skip the STS lookup),
  ``retry_mode``/``max_attempts`` (botocore retries), ``page_size``, ``use_pricing_api``,
  ``waiter_delay``/``waiter_attempts``, ``default_region``, ``member_role_name`` (the role assumed in the
  member accounts of this management account's organisation, default ``OrganizationAccountAccessRole``:
  see :meth:`AwsProvider.member`).
- ``clock`` returns the current UTC time (forecast start, TTLs, first-seen times).

Every method follows the protocol contract in :mod:`cloudoptima.clouds.protocol`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from cloudoptima.clouds.aws.actions import ActionRunner
from cloudoptima.clouds.aws.commitments import read_owned
from cloudoptima.clouds.aws.cost_cache import CostQueryCache, utc_now
from cloudoptima.clouds.aws.costs import CostExplorerReader
from cloudoptima.clouds.aws.cur import CurReader
from cloudoptima.clouds.aws.errors import aws_errors
from cloudoptima.clouds.aws.iam import IamReader
from cloudoptima.clouds.aws.idempotency import IdempotencyStore, MemoryIdempotencyStore
from cloudoptima.clouds.aws.inventory import InventoryReader, failure_of
from cloudoptima.clouds.aws.metrics import UtilisationReader
from cloudoptima.clouds.aws.pricing import PriceCatalog
from cloudoptima.clouds.aws.session import DEFAULT_REGION, AwsSession, account_of_role
from cloudoptima.clouds.month_totals import MonthTotal
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
from cloudoptima.domain.inventory import Principal, Resource, UtilisationSeries
from cloudoptima.domain.owned_commitments import OwnedCommitment

MEMBER_ROLE_NAME = "OrganizationAccountAccessRole"
"""The role AWS Organizations creates in every account it creates (the default ``member_role_name``)."""
SHARED_COST_CACHE = CostQueryCache()
"""Process-wide cache of Cost Explorer answers (each CE request is billed), shared by all providers."""

# One cheap read per permission family checked by verify(): (label, service, call).
_VERIFY_READS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("ec2:DescribeInstances", "ec2", lambda c: c.describe_instances(MaxResults=5)),
    ("cloudwatch:ListMetrics", "cloudwatch", lambda c: c.list_metrics(Namespace="AWS/EC2")),
    ("iam:ListUsers", "iam", lambda c: c.list_users(MaxItems=1)),
    ("elasticloadbalancing:DescribeLoadBalancers", "elbv2", lambda c: c.describe_load_balancers(PageSize=1)),
    ("rds:DescribeDBInstances", "rds", lambda c: c.describe_db_instances(MaxRecords=20)),
    ("s3:ListAllMyBuckets", "s3", lambda c: c.list_buckets()),
]


class AwsProvider:
    """One connected AWS account."""

    provider = "aws"

    def __init__(
        self,
        credentials: Mapping[str, str],
        settings: Mapping[str, Any] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        cost_cache: CostQueryCache | None = None,
        idempotency_store: IdempotencyStore | None = None,
        session: AwsSession | None = None,
    ) -> None:
        """``session``: an already authenticated session (a member account's, from :meth:`member`)."""
        self.settings: dict[str, Any] = dict(settings or {})
        self._clock = clock
        self.session = session or AwsSession(
            credentials,
            endpoint_url=self.settings.get("endpoint_url"),
            retry_mode=str(self.settings.get("retry_mode", "standard")),
            max_attempts=int(self.settings.get("max_attempts", 5)),
        )
        role_arn = credentials.get("role_arn")
        known = self.settings.get("account_id") or (account_of_role(role_arn) if role_arn else None)
        self.account_id: str = str(known or self.session.caller_account())
        self.billing_account_id = str(self.settings.get("billing_account_id", self.account_id))
        self.default_region = str(self.settings.get("default_region", DEFAULT_REGION))
        self.cost_cache = cost_cache if cost_cache is not None else SHARED_COST_CACHE
        self._page_size = int(self.settings.get("page_size", 1000))
        pricing_client = (
            self.session.client("pricing", "us-east-1")
            if self.settings.get("use_pricing_api", True)
            else None
        )
        self.prices = PriceCatalog(pricing_client)
        self.actions = ActionRunner(
            lambda region: self.session.client("ec2", region),
            self.default_region,
            idempotency_store or MemoryIdempotencyStore(),
            waiter_delay=int(self.settings.get("waiter_delay", 15)),
            waiter_attempts=int(self.settings.get("waiter_attempts", 40)),
        )

    def __repr__(self) -> str:
        return f"AwsProvider(account_id={self.account_id!r})"

    def regions(self) -> list[str]:
        """The regions this provider reads (configured, else every enabled region)."""
        return self._inventory_reader().regions()

    def verify(self) -> Verification:
        """STS GetCallerIdentity, then one cheap read per permission family in the default region: partial
        when only read permissions are missing, failed on any other problem.

        Cost Explorer is not called (each request is billed); with ``cost_source="cur_s3"`` the CUR bucket
        listing is checked instead.
        """
        try:
            account = self.session.caller_account()
        except ProviderError as error:
            return Verification(status="failed", detail=str(error), missing_permissions=_permission(error))
        missing: list[str] = []
        details: list[str] = []
        checks = list(_VERIFY_READS)
        if self.settings.get("cost_source") == "cur_s3":
            bucket = str(self.settings.get("cur_bucket", ""))
            checks.append(("s3:ListBucket", "s3", lambda c: c.list_objects_v2(Bucket=bucket, MaxKeys=1)))
        for label, service, call in checks:
            try:
                with aws_errors(service):
                    call(self.session.client(service, self.default_region))
            except CredentialsError as error:
                missing.append(error.permission or label)
            except ProviderError as error:
                details.append(f"{label}: {error}")
        if account != self.account_id:
            details.append(f"credentials belong to {account}, not {self.account_id}")
        status = "failed" if details else "partial" if missing else "verified"
        return Verification(
            status=status,
            account_id=account,
            detail="; ".join(details) or None,
            missing_permissions=missing,
        )

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        """Daily costs of ``[start, end)`` from Cost Explorer (cached) or the CUR in S3."""
        scope = "cur" if self.settings.get("cost_source") == "cur_s3" else "ce"
        try:
            rows = (
                self._cur_reader().daily_costs(start, end)
                if scope == "cur"
                else self._ce_reader().daily_costs(start, end, today=self._clock().date())
            )
        except CredentialsError:
            raise
        except ProviderError as error:
            return Partial(items=[], failures=[failure_of(scope, error)])
        return Partial(items=rows)

    def forecast(self, start: date, end: date) -> CloudForecast | None:
        """Cost Explorer's forecast of the part of ``[start, end)`` from today (UTC) on."""
        return self._ce_reader().forecast(start, end, today=self._clock().date())

    def month_totals(self, start: date, end: date) -> list[MonthTotal]:
        """Cost Explorer's own totals of the whole months from ``start`` (see :mod:`.costs`)."""
        return self._ce_reader().month_totals(start, end)

    def owned_commitments(self) -> list[OwnedCommitment]:
        """Reserved Instances in every region read and Savings Plans (:mod:`.commitments`)."""
        return read_owned(self.session, self.account_id, self.regions())

    def inventory(self) -> Partial[Resource]:
        """Every resource in every region; failed (service, region) reads are listed as failures."""
        return self._inventory_reader().read()

    def utilisation(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        """Hourly CloudWatch series of ``resources`` over ``[start, end)``."""
        return UtilisationReader(self.session.client).read(resources, start, end)

    def iam(self) -> Partial[Principal]:
        """IAM users (keys, password, grants) and roles."""
        return IamReader(self.session.client("iam", DEFAULT_REGION), self.account_id).read()

    def validate_action(self, request: ActionRequest) -> ActionValidation:
        """Dry run (EC2 ``DryRun=True``) plus preconditions; changes nothing."""
        return self.actions.validate(request)

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        """Act once per ``idempotency_key``; see :mod:`.actions`."""
        return self.actions.execute(request, idempotency_key)

    def member_accounts(self) -> list[dict[str, str]]:
        """Accounts of the organisation (management account credentials): id, name, email, status, and the
        ``role_arn`` :meth:`member` assumes to read it."""
        with aws_errors("organizations"):
            paginator = self.session.client("organizations", DEFAULT_REGION).get_paginator("list_accounts")
            return [
                {
                    "account_id": a["Id"],
                    "name": a.get("Name", ""),
                    "email": a.get("Email", ""),
                    "status": a.get("Status", ""),
                    "role_arn": self.member_role_arn(a["Id"]),
                }
                for page in paginator.paginate()
                for a in page.get("Accounts", [])
            ]

    @property
    def member_role_name(self) -> str:
        return str(self.settings.get("member_role_name") or MEMBER_ROLE_NAME)

    def member_role_arn(self, account_id: str) -> str:
        """The role :meth:`member` assumes in ``account_id`` (this account's partition)."""
        partition = self.session.role_arn.split(":")[1] if self.session.role_arn else "aws"
        return f"arn:{partition}:iam::{account_id}:role/{self.member_role_name}"

    def member(self, account_id: str) -> AwsProvider:
        """A provider for a member account of this management account's organisation, reached by assuming
        ``member_role_name`` in it with this account's credentials; it reads with this provider's settings
        (regions, cost source, endpoint) and caches, billed to this account."""
        role_arn = self.member_role_arn(account_id)
        return AwsProvider(
            {"role_arn": role_arn},
            {**self.settings, "account_id": account_id, "billing_account_id": self.billing_account_id},
            clock=self._clock,
            cost_cache=self.cost_cache,
            session=self.session.assume(role_arn),
        )

    def cache_state(self) -> dict[str, int]:
        """Cost Explorer cache counters: hits, misses, live entries."""
        return self.cost_cache.state()

    def _inventory_reader(self) -> InventoryReader:
        return InventoryReader(
            self.session,
            self.account_id,
            self.prices,
            self._clock,
            regions=self.settings.get("regions"),
            page_size=self._page_size,
        )

    def _ce_reader(self) -> CostExplorerReader:
        return CostExplorerReader(
            self.session.client("ce", "us-east-1"),
            self.account_id,
            self.billing_account_id,
            self.cost_cache,
            grouping=str(self.settings.get("cost_grouping", "service_usage_type")),
            resource_level=bool(self.settings.get("cost_resource_level", False)),
            tag_keys=tuple(self.settings.get("cost_tag_keys") or ()),
        )

    def _cur_reader(self) -> CurReader:
        bucket = self.settings.get("cur_bucket")
        if not bucket:
            raise CredentialsError("cost_source cur_s3 needs settings.cur_bucket")
        return CurReader(
            self.session.client("s3", DEFAULT_REGION),
            str(bucket),
            str(self.settings.get("cur_prefix", "")),
            self.account_id,
        )


def _permission(error: ProviderError) -> list[str]:
    return [error.permission] if isinstance(error, CredentialsError) and error.permission else []
