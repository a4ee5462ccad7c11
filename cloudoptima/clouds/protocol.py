"""The provider protocol: what every cloud implementation (aws, azure, gcp, sandbox) offers per account.

Contract (every implementation, same file roles: ``provider.py`` implements :class:`CloudProviderClient`):

- All calls are synchronous and safe to run in a worker thread; none writes to our database.
- Reads return :class:`Partial` results: one region or service failing is listed in ``failures`` and the
  rest is still returned. Throttling is retried with exponential backoff inside the implementation;
  :class:`ThrottledError` escapes only after retries are exhausted.
- Bad credentials and missing permissions raise :class:`CredentialsError` (never retried). Its
  ``permission`` is set exactly when the identity is valid but lacks that permission (collection then
  records a permission problem and reads the rest); ``None`` means the credentials themselves were refused.
  A part of a read denied for a permission may instead be listed as a :class:`Failure` with ``permission``.
- Money is ``Decimal``, datetimes are UTC, periods are ``[start, end)``.
- Actions: :meth:`CloudProviderClient.validate_action` checks permissions and preconditions and changes
  nothing; :meth:`CloudProviderClient.execute_action` acts once per ``idempotency_key`` (a repeated key
  returns the first result without acting again) and returns what is needed to roll it back. Resizing a
  running instance stops it, changes the size and starts it again; its rollback resizes back.
- Secrets never appear in results, errors or logs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.domain.inventory import Principal, Resource, UtilisationSeries

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProviderError(RuntimeError):
    """Base of every error a provider raises; ``retryable`` tells workflows whether to retry."""

    retryable = False


class CredentialsError(ProviderError):
    """Credentials are invalid or lack a permission; ``permission`` names it when known."""

    def __init__(self, message: str, permission: str | None = None) -> None:
        super().__init__(message)
        self.permission = permission


class ThrottledError(ProviderError):
    """The cloud kept throttling after the implementation's own retries."""

    retryable = True


class ProviderUnavailableError(ProviderError):
    """The cloud API failed (5xx, timeout) after retries."""

    retryable = True


class ActionRefusedError(ProviderError):
    """An action's precondition failed (wrong state, unknown resource, unsupported size)."""


class Failure(_Model):
    """One part of a read that failed: ``scope`` is e.g. ``"ec2/us-west-2"``; ``permission`` names the
    permission it was denied for (None: failed for another reason)."""

    scope: str
    error: str
    retryable: bool = False
    permission: str | None = None


class Partial(BaseModel, Generic[T]):
    """Items that were read, plus the parts that failed."""

    model_config = ConfigDict(frozen=True)

    items: list[T] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures


class Verification(_Model):
    """Result of checking credentials for real: ``status`` is ``verified``; ``partial`` (the identity is valid
    and only the read permissions in ``missing_permissions`` are lacking: the account can be collected
    without those reads); or ``failed``, with the reason."""

    status: str
    account_id: str | None = None
    detail: str | None = None
    missing_permissions: list[str] = Field(default_factory=list)


class DailyCost(_Model):
    """Cost of one UTC day for one (account, service, region, usage type[, resource]), FOCUS-shaped.

    Connectors keep the detail their source gives: ``resource_id`` / ``resource_name`` and the resource's
    ``tags`` (labels on GCP) when the cost is per resource; ``None`` / empty when the source sums them away.
    """

    day: date
    provider: str
    billing_account_id: str
    account_id: str
    service_name: str
    service_category: str | None = None
    region: str | None = None
    usage_type: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    charge_category: str = "Usage"
    billed_cost: Decimal
    effective_cost: Decimal | None = None
    list_cost: Decimal | None = None
    currency: str = "USD"
    usage_quantity: Decimal | None = None
    usage_unit: str | None = None


class ForecastPoint(_Model):
    day: date
    mean: Decimal
    lower: Decimal | None = None
    upper: Decimal | None = None


class CloudForecast(_Model):
    """A forecast made by the cloud itself (AWS Cost Explorer, Azure Cost Management)."""

    currency: str = "USD"
    points: list[ForecastPoint]
    total: Decimal
    source: str


class ActionKind(StrEnum):
    STOP = "stop"
    START = "start"
    RESIZE = "resize"
    SNAPSHOT_AND_DELETE_DISK = "snapshot_and_delete_disk"
    DELETE_SNAPSHOT = "delete_snapshot"
    RELEASE_IP = "release_ip"
    TAG = "tag"
    UNTAG = "untag"
    RESTORE_DISK = "restore_disk"
    """Re-create a disk from a snapshot (the rollback of ``snapshot_and_delete_disk``); parameters are the
    ``evidence`` that action recorded (snapshot id, size, type, zone/region, name, tags)."""


class ActionRequest(_Model):
    """One action on one resource. ``parameters``: resize → ``{"size": ...}``; tag → ``{"tags": {...}}``;
    untag → ``{"keys": [...]}``."""

    kind: ActionKind
    resource_id: str
    region: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class RollbackPlan(_Model):
    """How to undo an executed action: the action to run (if any) and what cannot be undone."""

    action: ActionRequest | None = None
    irreversible: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)


class ActionValidation(_Model):
    """Dry-run verdict: ``ok`` only when every permission and precondition holds."""

    ok: bool
    problems: list[str] = Field(default_factory=list)
    missing_permissions: list[str] = Field(default_factory=list)
    current_state: dict[str, Any] = Field(default_factory=dict)
    rollback: RollbackPlan | None = None


class ActionResult(_Model):
    """What an executed action did; ``rollback`` undoes it."""

    request: ActionRequest
    idempotency_key: str
    status: str
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    rollback: RollbackPlan


@runtime_checkable
class CloudProviderClient(Protocol):
    """One connected account (AWS account, Azure subscription, GCP project, sandbox account)."""

    provider: str
    account_id: str

    def verify(self) -> Verification:
        """Check the credentials for real (an identity call plus one read per permission family)."""
        ...

    def costs(self, start: date, end: date) -> Partial[DailyCost]:
        """Daily cost for ``[start, end)`` grouped by account, service, region and usage type."""
        ...

    def forecast(self, start: date, end: date) -> CloudForecast | None:
        """The cloud's own forecast for ``[start, end)``, or None when it offers none."""
        ...

    def inventory(self) -> Partial[Resource]:
        """Instances, disks, snapshots, public IPs, load balancers, databases and buckets, in all regions."""
        ...

    def utilisation(self, resources: list[Resource], start: date, end: date) -> Partial[UtilisationSeries]:
        """Hourly CPU / memory / network / disk IO / requests series for ``resources`` over ``[start, end)``."""
        ...

    def iam(self) -> Partial[Principal]:
        """Users / service principals / service accounts with keys and privileged grants."""
        ...

    def validate_action(self, request: ActionRequest) -> ActionValidation:
        """Dry run: permissions and preconditions, no change."""
        ...

    def execute_action(self, request: ActionRequest, idempotency_key: str) -> ActionResult:
        """Act once per ``idempotency_key``; raises :class:`ActionRefusedError` when preconditions fail."""
        ...
