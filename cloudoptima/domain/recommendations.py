"""Optimisation recommendations (seed §3.2 Recommendations API) and the price catalogue they are costed with.

Contract:

- Money is ``Decimal`` rounded to cents; ``estimated_savings_annual = 12 × estimated_savings_monthly``.
- ``RecommendationAction.type`` is always one of :data:`PROVIDER_ACTION_KINDS`, the values of the provider
  protocol's ``ActionKind`` (``cloudoptima.clouds.protocol``), as plain strings: the domain may not import
  ``clouds``. Steps no provider action covers yet (deleting a load balancer, buying a commitment, changing a
  storage class) are listed in ``Recommendation.manual_steps`` instead, never as actions.
- ``fingerprint`` is stable across runs: ``sha256(rule_id, sorted resource ids, actions with parameters)``;
  the same finding in two runs has the same fingerprint, a different target size has a different one.
- ``priority = savings_monthly × confidence / risk weight`` (low 1, medium 2, high 3): higher first.
- :class:`PriceCatalog` is the protocol every price source implements (the sandbox catalogue now, live
  price lists later); a method returns ``None`` when it does not know the price, never a guess.

No I/O and no third-party imports besides pydantic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloudoptima.domain.inventory import CloudProvider

CENT = Decimal("0.01")

PROVIDER_ACTION_KINDS: tuple[str, ...] = (
    "stop",
    "start",
    "resize",
    "snapshot_and_delete_disk",
    "delete_snapshot",
    "release_ip",
    "tag",
    "untag",
)
"""The provider protocol's ``ActionKind`` values (kept in step with ``cloudoptima.clouds.protocol``)."""


def money(value: Decimal) -> Decimal:
    """Round to cents, half-even."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


class Category(StrEnum):
    """Seed categories."""

    COMPUTE = "compute"
    STORAGE = "storage"
    NETWORK = "network"
    DATABASE = "database"


class RiskLevel(StrEnum):
    """How much could go wrong when the recommendation is applied."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


RISK_WEIGHT: dict[RiskLevel, Decimal] = {
    RiskLevel.LOW: Decimal(1),
    RiskLevel.MEDIUM: Decimal(2),
    RiskLevel.HIGH: Decimal(3),
}


class RecommendationStatus(StrEnum):
    """Lifecycle: ``active`` → ``scheduled``/``completed`` or ``dismissed``; ``expired`` when not re-found.

    ``applied`` while an approved execution of it is changing the cloud; ``completed`` once the change was
    verified; a rejected, failed or rolled-back execution (or a completed rollback) makes it ``active``
    again (``cloudoptima.services.execution_progress``).

    The user lifecycle of #22 (``cloudoptima.domain.recommendation_lifecycle``): ``active`` is *open*;
    ``accepted`` (an owner and a due date), ``snoozed`` (until a moment, then open again) and
    ``false_positive`` (the rule was wrong: the finding is not suggested again) are set by users."""

    ACTIVE = "active"
    SCHEDULED = "scheduled"
    APPLIED = "applied"
    COMPLETED = "completed"
    DISMISSED = "dismissed"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    SNOOZED = "snoozed"
    FALSE_POSITIVE = "false_positive"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AffectedResource(_Model):
    """A resource the recommendation changes or removes, with its current monthly list cost."""

    id: str
    name: str
    current_cost: Decimal


class RecommendationAction(_Model):
    """One provider action on one resource (``type`` is a provider ``ActionKind`` value)."""

    type: str
    resource_id: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PROVIDER_ACTION_KINDS:
            raise ValueError(f"action type must be one of {', '.join(PROVIDER_ACTION_KINDS)}, got {value!r}")
        return value


class ImpactAnalysis(_Model):
    """Seed ``impact_analysis``: what applying the recommendation does to the workload."""

    performance_impact: str
    availability_impact: str
    security_impact: str


class ResourceChange(_Model):
    """One resource before and after (``change_type``: stop, resize, delete, release, tag, commit, ...)."""

    resource_id: str
    change_type: str
    before: dict[str, Any]
    after: dict[str, Any]


class ImpactPreview(_Model):
    """Seed ``/impact-preview``: monthly cost before and after, resource changes, risks and the rollback."""

    current_monthly: Decimal
    projected_monthly: Decimal
    savings: Decimal
    resource_changes: list[ResourceChange]
    risks: list[str]
    rollback: str


class Recommendation(_Model):
    """One finding of one rule profile, costed from a price catalogue."""

    fingerprint: str
    rule_id: str
    profile: str
    title: str
    description: str
    category: Category
    risk_level: RiskLevel
    confidence: float = Field(ge=0, le=1)
    estimated_savings_monthly: Decimal = Field(ge=0)
    estimated_savings_annual: Decimal = Field(ge=0)
    priority: Decimal
    provider: CloudProvider
    account_id: str
    region: str
    affected_resources: list[AffectedResource]
    actions: list[RecommendationAction]
    manual_steps: list[str] = Field(default_factory=list)
    impact_analysis: ImpactAnalysis
    impact_preview: ImpactPreview
    evidence: dict[str, Any] = Field(default_factory=dict)
    """The measurements and thresholds the rule decided on (for the UI and narratives)."""

    @property
    def resource_ids(self) -> tuple[str, ...]:
        """Ids of the affected resources, in order."""
        return tuple(r.id for r in self.affected_resources)


def fingerprint(
    rule_id: str, resource_ids: list[str] | tuple[str, ...], actions: list[RecommendationAction]
) -> str:
    """Stable identity of a finding: rule, sorted resource ids and the actions with their parameters."""
    payload = {
        "rule": rule_id,
        "resources": sorted(resource_ids),
        "actions": sorted(
            json.dumps([a.type, a.resource_id, a.parameters], sort_keys=True, default=str) for a in actions
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:40]


def priority(savings_monthly: Decimal, confidence: float, risk: RiskLevel) -> Decimal:
    """``savings × confidence / risk weight``, 4 decimals."""
    value = savings_monthly * Decimal(str(round(confidence, 4))) / RISK_WEIGHT[risk]
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class InstanceSize:
    """A VM size as a price catalogue knows it."""

    name: str
    family: str
    vcpu: int
    memory_gib: Decimal


class PriceCatalog(Protocol):
    """On-demand list prices per provider, region and size (monthly = 730 h for hourly prices)."""

    def instance_size(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        """The size called ``instance_type``."""
        ...

    def next_smaller_instance(self, provider: CloudProvider, instance_type: str) -> InstanceSize | None:
        """The next smaller size of the same family, or ``None`` for the smallest or an unknown size."""
        ...

    def instance_monthly(self, provider: CloudProvider, region: str, instance_type: str) -> Decimal | None:
        """Monthly on-demand price of one instance running 24x7."""
        ...

    def disk_monthly(
        self, provider: CloudProvider, region: str, disk_type: str, size_gb: int
    ) -> Decimal | None:
        """Monthly price of a block volume."""
        ...

    def database_monthly(self, provider: CloudProvider, region: str, instance_class: str) -> Decimal | None:
        """Monthly on-demand price of one managed database instance class running 24x7 (compute only:
        single-zone, storage and backups not included)."""
        ...

    def next_smaller_database(self, provider: CloudProvider, instance_class: str) -> InstanceSize | None:
        """The next smaller class of the same database family (same engine offering and memory per vCPU),
        or ``None`` for the smallest or an unknown class."""
        ...

    def snapshot_monthly(self, provider: CloudProvider, region: str, size_gb: int) -> Decimal | None:
        """Monthly price of a (full-size) snapshot."""
        ...

    def public_ip_monthly(self, provider: CloudProvider, region: str, *, associated: bool) -> Decimal | None:
        """Monthly price of a static public IPv4 address."""
        ...

    def load_balancer_monthly(self, provider: CloudProvider, region: str) -> Decimal | None:
        """Monthly fixed price of one load balancer."""
        ...

    def storage_classes(self, provider: CloudProvider) -> tuple[str, ...]:
        """Object-storage classes, hottest first (empty when unknown)."""
        ...

    def bucket_monthly(
        self, provider: CloudProvider, region: str, storage_class: str, size_gb: int
    ) -> Decimal | None:
        """Monthly storage price of ``size_gb`` in a storage class."""
        ...

    def commitment_rate(self, provider: CloudProvider) -> Decimal | None:
        """Fraction of the on-demand price paid under a 1-year no-upfront compute commitment."""
        ...
