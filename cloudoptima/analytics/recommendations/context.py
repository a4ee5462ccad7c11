"""What every rule reads: the inventory, utilisation summaries, prices, settings and the clock.

Contract:
- ``utilisation[resource_id][metric]`` is a summary of hourly samples ``{"avg", "max", "p95", "p99",
  "samples"}`` (``cloudoptima.analytics.utilisation.summarise``); a missing metric means no data, and no rule
  judges a resource on a metric it has fewer than ``min_days × 24`` samples of.
- ``as_of`` is the UTC moment the inventory describes; ages are measured to it.
- A resource is excluded when it, or a resource it belongs to, carries an exclusion tag (keys compared
  case-insensitively; values ``false``/``no``/``0``/``off`` do not exclude).
- ``billed_monthly[resource_id]`` is what the resource itself cost over the 30 days before ``as_of`` (the
  collected costs' effective cost, with discounts), present only where those costs cover the whole window;
  a finding that stops or removes a whole resource saves that amount (``build.whole_saving``).
- ``claim`` records resources already covered by a finding, so later rules (rightsizing after idle,
  commitments after both) never recommend two changes for one resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cloudoptima.analytics.recommendations.profiles import HOURS_PER_DAY, RuleSettings
from cloudoptima.domain.analytics import CostAnomaly
from cloudoptima.domain.inventory import Resource, ResourceKind, ResourceState
from cloudoptima.domain.recommendations import PriceCatalog

MetricSummary = Mapping[str, float]
ResourceSummary = Mapping[str, MetricSummary]
_FALSE_VALUES = {"false", "no", "0", "off"}
LAUNCH_SLACK_DAYS = 2
"""A resource is part of an anomaly when launched from the day before its first day to this many days after."""


@dataclass(frozen=True)
class AnomalyScope:
    """The root-cause cell of an unacknowledged cost anomaly (``None`` = any value) and its days
    ``[start, end]`` (``end`` inclusive).

    Resources launched in that cell when the anomaly began (from the day before ``start`` to
    ``LAUNCH_SLACK_DAYS`` after) caused a spend step nobody has confirmed as planned: the commitment rule
    does not commit to them until a user labels the anomaly planned activity (or not an anomaly).
    """

    start: date
    end: date
    account_id: str | None = None
    region: str | None = None
    service_name: str | None = None
    usage_type: str | None = None


@dataclass
class RuleContext:
    """Inputs shared by the rules of one run."""

    as_of: datetime
    resources: Mapping[str, Resource]
    utilisation: Mapping[str, ResourceSummary]
    prices: PriceCatalog
    settings: RuleSettings
    anomaly_scopes: Sequence[AnomalyScope] = ()
    claimed: set[str] = field(default_factory=set)
    billed_monthly: Mapping[str, Decimal] = field(default_factory=dict)
    owned_units: Mapping[tuple[str, str, str], Decimal] = field(default_factory=dict)
    """Normalised size units of active Reserved Instances per (account, region, family): already owned."""
    owned_plan_hourly: Mapping[tuple[str, str, str], Decimal] = field(default_factory=dict)
    """Hourly commitment of active EC2 Instance Savings Plans per (account, region, family): already owned."""
    owned_cud: Mapping[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)
    """(vCPUs, memory MB) of active GCP committed-use discounts per (account, region, family): already owned."""
    owned_compute_hourly: Mapping[str, Decimal] = field(default_factory=dict)
    """USD $/h of active savings plans bound to no family or region (AWS Compute, Azure) per account."""

    def excluded(self, resource: Resource) -> bool:
        """True when the resource carries an exclusion tag."""
        keys = {k.lower() for k in self.settings.exclude_tag_keys}
        return any(
            key.lower() in keys and value.strip().lower() not in _FALSE_VALUES
            for key, value in resource.tags.items()
        )

    def running(self, kind: ResourceKind) -> list[Resource]:
        """Running resources of ``kind`` that no finding has claimed and no exclusion tag protects."""
        return [
            r
            for r in self.resources.values()
            if r.kind is kind
            and r.state is ResourceState.RUNNING
            and r.resource_id not in self.claimed
            and not self.excluded(r)
        ]

    def any_excluded(self, resources: Sequence[Resource]) -> bool:
        """True when any of ``resources`` is excluded."""
        return any(self.excluded(r) for r in resources)

    def metric(self, resource_id: str, metric: str) -> MetricSummary | None:
        """The summary of one metric, or ``None`` without samples."""
        summary = self.utilisation.get(resource_id, {}).get(metric)
        return summary if summary and summary.get("samples", 0) > 0 else None

    def sample_days(self, resource_id: str, metric: str) -> float:
        """Days of hourly samples of a metric (0 without data)."""
        summary = self.metric(resource_id, metric)
        return float(summary["samples"]) / HOURS_PER_DAY if summary else 0.0

    def enough(self, resource_id: str, metrics: Sequence[str], min_days: int) -> bool:
        """True when every metric has at least ``min_days`` days of hourly samples."""
        return all(self.sample_days(resource_id, m) >= min_days for m in metrics)

    def age_days(self, moment: datetime | None) -> float:
        """Days from ``moment`` to ``as_of`` (``-1`` when unknown)."""
        if moment is None:
            return -1.0
        return (self.as_of - moment).total_seconds() / 86400.0

    def claim(self, resource_ids: Sequence[str]) -> None:
        """Mark resources as covered by a finding."""
        self.claimed.update(resource_ids)

    def in_open_anomaly(self, resource: Resource, instance_type: str | None = None) -> bool:
        """True when the resource was launched in the cell of an anomaly as it began (see ``AnomalyScope``)."""
        launched = resource.launched_at or resource.created_at
        day = launched.date()
        for scope in self.anomaly_scopes:
            if not (
                scope.start.toordinal() - 1 <= day.toordinal() <= scope.start.toordinal() + LAUNCH_SLACK_DAYS
            ):
                continue
            if scope.account_id not in (None, resource.account_id):
                continue
            if scope.region not in (None, resource.region):
                continue
            if scope.service_name not in (None, resource.service_name):
                continue
            if scope.usage_type is not None and (
                instance_type is None or instance_type not in scope.usage_type
            ):
                continue
            return True
        return False


def data_confidence(base: float, days: float, full_days: float = 30.0) -> float:
    """``base`` scaled by how much data backs it: × 1 from ``full_days`` days on, × 0.6 at the minimum."""
    factor = min(1.0, max(0.6, days / full_days))
    return round(base * factor, 4)


def cause_scopes(
    start: date, end: date, causes: Sequence[tuple[Mapping[str, str], float]], min_share: float = 0.25
) -> list[AnomalyScope]:
    """Scopes of one anomaly from its ranked root causes ``(dimensions, share of the impact)``: the top
    cause, and any other explaining at least ``min_share``; ``(none)``/``(other)`` values mean "any"."""
    scopes = []
    for rank, (dimensions, share) in enumerate(causes):
        if rank > 0 and share < min_share:
            continue
        values = {k: (None if v in ("(none)", "(other)") else v) for k, v in dimensions.items()}
        if all(v is None for v in values.values()):
            continue
        scopes.append(
            AnomalyScope(
                start=start,
                end=end,
                account_id=values.get("account"),
                region=values.get("region"),
                service_name=values.get("service"),
                usage_type=values.get("usage_type"),
            )
        )
    return scopes


def scopes_from_anomalies(anomalies: Sequence[CostAnomaly], min_share: float = 0.25) -> list[AnomalyScope]:
    """``cause_scopes`` of every incident with a positive impact."""
    scopes = []
    for anomaly in anomalies:
        if anomaly.impact <= 0:
            continue
        causes = [(c.dimensions, float(c.contribution / anomaly.impact)) for c in anomaly.root_causes]
        scopes += cause_scopes(anomaly.start_date, anomaly.end_date, causes, min_share)
    return scopes
