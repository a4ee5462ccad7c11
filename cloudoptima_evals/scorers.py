"""Scorers: recommendations and anomalies against a sandbox manifest; forecasts against held-out actuals.

Contracts:
- Recommendations. A recommendation matches a waste item when its affected resources are exactly the item's
  ``resource_ids`` and its action is the same kind: the manifest's sandbox action is mapped to the provider
  protocol's kind by ``EXPECTED_ACTION`` (``terminate`` of a VM stopped with billing disks and
  ``delete_disk`` → ``snapshot_and_delete_disk``; ``delete_load_balancer`` → ``tag`` marking it for deletion;
  ``purchase_commitment`` → a ``commitment_coverage`` finding, which has no provider action); a resize must
  name the same target size. Each item matches at most one recommendation. Savings error is the mean
  absolute percentage error of matched recommendations' monthly savings vs the manifest's.
  A critical false positive is an unmatched recommendation that touches a ``should_not_flag`` resource, or
  that stops or shrinks a busy resource (CPU p99 ≥ 40 % or memory p99 ≥ 60 %).
- Anomalies. An incident matches a planted anomaly when it starts between the day before the planted start
  and 4 days after it (before the planted end) and its scope does not contradict the planted root cause.
  An unmatched incident that starts between the day before and 4 days after an expected change (a
  launch, resize, stop or decommission the eval labels as planned activity) and whose scope does not
  contradict one of that change's cells is *expected*: neither a hit nor a false alarm.
  Precision = matched incidents / (incidents − expected); recall = planted anomalies matched / planted (``detectable``
  recall counts only anomalies starting after the detector's warm-up). Root cause top-k: among matched
  planted anomalies, the share whose planted (account, service, region, usage type) cell is among the
  incident's first k root causes.
- Forecasts. ``forecast_scores`` sums absolute errors over rolling origins: MASE = Σ|model error| /
  Σ|seasonal-naive error| (< 1 beats seasonal naive), sMAPE of the model and of seasonal naive (mean over
  held-out days, M4's definition), coverage = share of actuals inside the interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from cloudoptima.clouds.sandbox import LookAlike, Manifest, PlantedAnomaly, WasteItem
from cloudoptima.domain.analytics import CostAnomaly
from cloudoptima.domain.recommendations import Recommendation
from cloudoptima_evals.datasets import ExpectedChange

EXPECTED_ACTION: dict[str, str | None] = {
    "stop": "stop",
    "resize": "resize",
    "terminate": "snapshot_and_delete_disk",
    "delete_disk": "snapshot_and_delete_disk",
    "delete_snapshot": "delete_snapshot",
    "release_ip": "release_ip",
    "delete_load_balancer": "tag",
    "purchase_commitment": None,
}
BUSY_CPU_P99 = 40.0
BUSY_MEMORY_P99 = 60.0


@dataclass
class RecommendationScore:
    """Counts and rates of one recommendation run against a manifest."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    critical_false_positives: list[str] = field(default_factory=list)
    savings_errors: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        planted = self.true_positives + self.false_negatives
        return self.true_positives / planted if planted else 1.0

    @property
    def savings_mape(self) -> float:
        return 100.0 * sum(self.savings_errors) / len(self.savings_errors) if self.savings_errors else 0.0

    def merge(self, other: RecommendationScore) -> RecommendationScore:
        """The sum of two scores (for aggregates over estates)."""
        return RecommendationScore(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
            self.critical_false_positives + other.critical_false_positives,
            self.savings_errors + other.savings_errors,
            self.missed + other.missed,
            self.spurious + other.spurious,
        )


def matches(recommendation: Recommendation, item: WasteItem) -> bool:
    """True when the recommendation fixes the waste item (see module contract)."""
    if set(recommendation.resource_ids) != set(item.resource_ids):
        return False
    expected = EXPECTED_ACTION.get(item.action, item.action)
    if expected is None:
        return recommendation.rule_id == "commitment_coverage" and not recommendation.actions
    kinds = {a.type for a in recommendation.actions}
    if kinds != {expected}:
        return False
    if expected == "resize":
        sizes = {a.parameters.get("size") for a in recommendation.actions}
        return sizes == {item.action_params.get("target_type")}
    return True


def _busy(summary: Mapping[str, Mapping[str, float]]) -> bool:
    cpu = summary.get("cpu_percent", {}).get("p99", 0.0)
    memory = summary.get("memory_percent", {}).get("p99", 0.0)
    return cpu >= BUSY_CPU_P99 or memory >= BUSY_MEMORY_P99


def score_recommendations(
    recommendations: Sequence[Recommendation],
    manifest: Manifest,
    utilisation: Mapping[str, Mapping[str, Mapping[str, float]]],
) -> RecommendationScore:
    """Score one run against the manifest (see module contract)."""
    score = RecommendationScore()
    protected = {rid: n for n in manifest.should_not_flag for rid in n.resource_ids}
    unmatched: list[WasteItem] = list(manifest.waste)
    for rec in recommendations:
        item = next((w for w in unmatched if matches(rec, w)), None)
        if item is not None:
            unmatched.remove(item)
            score.true_positives += 1
            truth = item.monthly_savings
            if truth > 0:
                error = abs(rec.estimated_savings_monthly - truth) / truth
                score.savings_errors.append(float(error))
            continue
        score.false_positives += 1
        score.spurious.append(f"{rec.rule_id}:{','.join(rec.resource_ids[:3])}")
        hit: LookAlike | None = next((protected[r] for r in rec.resource_ids if r in protected), None)
        shrink = [a.resource_id for a in rec.actions if a.type in ("stop", "resize")]
        if hit is not None:
            score.critical_false_positives.append(f"{rec.rule_id} flags look-alike {hit.id} ({hit.kind})")
        elif any(_busy(utilisation.get(rid, {})) for rid in shrink):
            score.critical_false_positives.append(f"{rec.rule_id} stops or shrinks busy {shrink[0]}")
    score.false_negatives = len(unmatched)
    score.missed = [f"{w.kind}:{w.id}" for w in unmatched]
    return score


@dataclass
class AnomalyScore:
    """Detection and root-cause counts of one or more estates."""

    incidents: int = 0
    matched_incidents: int = 0
    expected_incidents: int = 0
    planted: int = 0
    detected: int = 0
    detectable: int = 0
    detected_detectable: int = 0
    top1: int = 0
    top3: int = 0

    @property
    def precision(self) -> float:
        judged = self.incidents - self.expected_incidents
        return self.matched_incidents / judged if judged else 1.0

    @property
    def recall(self) -> float:
        return self.detected / self.planted if self.planted else 1.0

    @property
    def recall_detectable(self) -> float:
        return self.detected_detectable / self.detectable if self.detectable else 1.0

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.detected if self.detected else 0.0

    @property
    def top3_accuracy(self) -> float:
        return self.top3 / self.detected if self.detected else 0.0

    def merge(self, other: AnomalyScore) -> AnomalyScore:
        """The sum of two scores."""
        return AnomalyScore(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def _cell(planted: PlantedAnomaly) -> dict[str, str]:
    rc = planted.root_cause
    return {
        "account": rc.account_id,
        "service": rc.service_name,
        "region": rc.region_id,
        "usage_type": rc.usage_type,
    }


def _names(dimensions: Mapping[str, str], cell: Mapping[str, str]) -> bool:
    return all(cell.get(k) == v for k, v in dimensions.items() if v not in ("(none)",)) and any(
        cell.get(k) == v for k, v in dimensions.items()
    )


def _consistent(incident: CostAnomaly, planted: PlantedAnomaly) -> bool:
    start = incident.start_date
    window_end = min(planted.end, planted.start + timedelta(days=4))
    if not (planted.start - timedelta(days=1) <= start < window_end):
        return False
    cell = _cell(planted)
    return all(cell.get(k) == v for k, v in incident.scope.items())


def _planned(incident: CostAnomaly, change: ExpectedChange) -> bool:
    if not change.day - timedelta(days=1) <= incident.start_date <= change.day + timedelta(days=4):
        return False
    names = ("account", "service", "region", "usage_type")
    return any(
        all(dict(zip(names, cell, strict=True)).get(k) == v for k, v in incident.scope.items())
        for cell in change.cells
    )


def score_anomalies(
    incidents: Sequence[CostAnomaly],
    planted: Sequence[PlantedAnomaly],
    detectable_from: date,
    expected: Sequence[ExpectedChange] = (),
) -> AnomalyScore:
    """Score incidents against planted anomalies (see module contract)."""
    score = AnomalyScore(incidents=len(incidents), planted=len(planted))
    matched: set[str] = set()
    for anomaly in planted:
        hits = [i for i in incidents if _consistent(i, anomaly)]
        detectable = anomaly.start >= detectable_from
        score.detectable += int(detectable)
        if not hits:
            continue
        matched.update(i.anomaly_id for i in hits)
        score.detected += 1
        score.detected_detectable += int(detectable)
        best = max(hits, key=lambda i: abs(i.impact))
        causes = [c.dimensions for c in best.root_causes]
        cell = _cell(anomaly)
        score.top1 += int(bool(causes) and _names(causes[0], cell))
        score.top3 += int(any(_names(c, cell) for c in causes[:3]))
    score.matched_incidents = sum(1 for i in incidents if i.anomaly_id in matched)
    score.expected_incidents = sum(
        1 for i in incidents if i.anomaly_id not in matched and any(_planned(i, c) for c in expected)
    )
    return score


@dataclass
class ForecastScore:
    """Absolute errors of the model and of seasonal naive over held-out days, and interval hits."""

    model_abs_error: float = 0.0
    naive_abs_error: float = 0.0
    inside: int = 0
    points: int = 0
    models: list[str] = field(default_factory=list)
    model_smape_sum: float = 0.0
    naive_smape_sum: float = 0.0

    @property
    def mase(self) -> float:
        return self.model_abs_error / self.naive_abs_error if self.naive_abs_error else float("nan")

    @property
    def coverage(self) -> float:
        return self.inside / self.points if self.points else float("nan")

    @property
    def smape(self) -> float:
        """Mean sMAPE (percent, M4's ``200·|F−Y| / (|F| + |Y|)``) of the model over held-out days."""
        return self.model_smape_sum / self.points if self.points else float("nan")

    @property
    def smape_naive(self) -> float:
        """The same for seasonal naive."""
        return self.naive_smape_sum / self.points if self.points else float("nan")

    def merge(self, other: ForecastScore) -> ForecastScore:
        """The sum of two scores."""
        return ForecastScore(
            self.model_abs_error + other.model_abs_error,
            self.naive_abs_error + other.naive_abs_error,
            self.inside + other.inside,
            self.points + other.points,
            self.models + other.models,
            self.model_smape_sum + other.model_smape_sum,
            self.naive_smape_sum + other.naive_smape_sum,
        )


def _smape(actual: float, forecast: float) -> float:
    denominator = abs(actual) + abs(forecast)
    return 200.0 * abs(forecast - actual) / denominator if denominator else 0.0


def add_fold(
    score: ForecastScore,
    actual: Sequence[float],
    predicted: Sequence[Decimal],
    lower: Sequence[Decimal],
    upper: Sequence[Decimal],
    naive: Sequence[Decimal],
) -> None:
    """Add one held-out fold to ``score``."""
    for a, p, lo, hi, n in zip(actual, predicted, lower, upper, naive, strict=True):
        score.model_abs_error += abs(a - float(p))
        score.naive_abs_error += abs(a - float(n))
        score.model_smape_sum += _smape(a, float(p))
        score.naive_smape_sum += _smape(a, float(n))
        score.inside += int(float(lo) <= a <= float(hi))
        score.points += 1
