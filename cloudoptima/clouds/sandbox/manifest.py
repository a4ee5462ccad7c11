"""Ground truth of a sandbox estate: every planted waste item, look-alike and cost anomaly.

The manifest is what evaluations score against. Contract:

- ``WasteItem.monthly_savings`` is the exact list-price saving per month (730 h for hourly-billed resources,
  one GB-month for storage) once ``action`` is applied to ``action_resource_ids``.
- ``LookAlike`` entries are resources a careless rule would flag as ``resembles``; they must NOT be flagged.
- ``PlantedAnomaly`` windows are end-exclusive dates ``[start, end)``; ``impact`` is the exact extra cost
  (sum of the cost rows of the root-cause resources over the window); ``baseline_daily`` is the account's
  mean daily cost over the 14 days before ``start`` without the anomaly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from cloudoptima.domain.inventory import CloudProvider


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WasteKind(StrEnum):
    """Kinds of planted waste."""

    IDLE_VM = "idle_vm"
    OVERSIZED_VM = "oversized_vm"
    UNATTACHED_DISK = "unattached_disk"
    ORPHANED_SNAPSHOT = "orphaned_snapshot"
    UNASSOCIATED_IP = "unassociated_ip"
    IDLE_LOAD_BALANCER = "idle_load_balancer"
    STOPPED_VM_WITH_DISKS = "stopped_vm_with_disks"
    MISSING_COMMITMENT = "missing_commitment"
    IDLE_DATABASE = "idle_database"
    OVERSIZED_DATABASE = "oversized_database"


class LookAlikeKind(StrEnum):
    """Kinds of planted non-waste that resemble waste."""

    BUSY_LOW_AVERAGE_VM = "busy_low_average_vm"
    IGNORE_TAGGED_VM = "ignore_tagged_vm"
    RECENT_UNATTACHED_DISK = "recent_unattached_disk"
    LIVE_VOLUME_SNAPSHOT = "live_volume_snapshot"
    RECENTLY_STOPPED_VM = "recently_stopped_vm"
    IGNORE_TAGGED_DATABASE = "ignore_tagged_database"


class AnomalyKind(StrEnum):
    """Spike: 1–3 days then back to normal. Level shift: a lasting step from ``start`` on."""

    SPIKE = "spike"
    LEVEL_SHIFT = "level_shift"


class WasteItem(_Model):
    """One planted waste finding and the action that removes it."""

    id: str
    kind: WasteKind
    provider: CloudProvider
    account_id: str
    region: str
    resource_ids: tuple[str, ...]
    action: str
    action_resource_ids: tuple[str, ...]
    action_params: dict[str, str] = Field(default_factory=dict)
    monthly_savings: Decimal
    detail: str


class LookAlike(_Model):
    """A resource that looks like ``resembles`` waste but is not (``should_not_flag`` is always true)."""

    id: str
    kind: LookAlikeKind
    provider: CloudProvider
    account_id: str
    resource_ids: tuple[str, ...]
    resembles: WasteKind
    reason: str
    should_not_flag: bool = True


class RootCause(_Model):
    """The dimension values that explain an anomaly (AWS RootCause-style, plus SKU and resources)."""

    provider: CloudProvider
    provider_name: str
    service_name: str
    account_id: str
    region_id: str
    sku_id: str
    usage_type: str
    resource_ids: tuple[str, ...]


class PlantedAnomaly(_Model):
    """A planted cost anomaly with its true root cause and impact."""

    id: str
    kind: AnomalyKind
    start: date
    end: date
    magnitude: str
    magnitude_ratio: Decimal
    root_cause: RootCause
    impact: Decimal
    baseline_daily: Decimal


class Manifest(_Model):
    """Everything planted in one estate."""

    seed: int
    waste: tuple[WasteItem, ...] = ()
    should_not_flag: tuple[LookAlike, ...] = ()
    anomalies: tuple[PlantedAnomaly, ...] = ()

    def total_monthly_savings(self) -> Decimal:
        """Sum of the planted waste's monthly savings."""
        return sum((item.monthly_savings for item in self.waste), Decimal(0))
