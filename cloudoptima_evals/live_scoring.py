"""What the three live-path evals (``live_aws``, ``live_azure``, ``live_gcp``) share: the planted truth,
the workloads behind their metrics, the score and the CI floors.

Contract:

- An estate is a list of :class:`Planted` resources: waste (``rule`` = the rule id that must find it, and
  ``list_price_usd``, the monthly saving at the *connector's own* list price) and look-alikes (``rule``
  None: no finding may name them; ``protected``: a stop or shrink of it is a critical false positive).
  Busy production VMs are protected and expected under ``commitment_coverage`` (:func:`steady_production`).
- :func:`workload` gives the hourly CPU percent and network bytes (per direction) of one kind of workload
  (``idle``, ``oversized``, ``busy``, ``burst``), from a seeded generator: the same seed, the same estate.
- :func:`score` compares the engine's recommendations with the truth. A recommendation is a true positive
  when its rule and one of its resources match a planted waste item; anything else is a false positive.
  ``recall`` = planted waste found / planted waste; ``precision`` = true positives / recommendations;
  ``critical_false_positives`` = recommendations whose actions stop, resize or terminate a protected
  resource. The saving error of a finding is ``|engine − truth| / truth``: the truth is the connector's
  list price, or — when the engine saved the resource's billed cost (``price_source`` "billed cost (last
  30 days)") — what the estate billed it over those 30 days (the estates bill the list price per hour,
  24 hours a day: list × 720 / 730); ``savings_mape_percent`` is their mean, ``savings_max_error_percent``
  the worst.
- :func:`failures` lists the floors that do not hold: recall and precision ≥ :data:`FLOORS`, no critical
  false positive, every planted item found in the first analysis after connecting, no collection
  failure, and the saving error bound of the cloud when one is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

STOP_OR_SHRINK = frozenset({"stop", "resize", "terminate"})
BILLED_SOURCE = "billed cost (last 30 days)"  # analytics.recommendations.build.PRICE_BILLED
BILLED_HOURS, MONTH_HOURS = Decimal(720), Decimal(730)
FLOORS = {"recall": 0.9, "precision": 0.9}
HOURS = 30 * 24
"""Hours of metrics a 60-day-old planted VM has (the collection backfills 30 days)."""


@dataclass(frozen=True)
class Planted:
    """One resource of the estate and what the engine should say about it (``rule`` None: nothing)."""

    resource_id: str
    label: str
    rule: str | None
    protected: bool = False  # a stop or resize of it is a critical false positive
    list_price_usd: Decimal | None = None


@dataclass
class LiveEstate:
    """The truth of one built estate: when it was built for and what was planted."""

    now: datetime
    planted: list[Planted] = field(default_factory=list)
    endpoint: str = ""


def steady_production(resource_id: str, label: str) -> Planted:
    """A busy production VM running 24x7 for 90 days: never to be stopped or shrunk (protected), and what a
    1-year commitment is for, so the truth expects ``commitment_coverage`` to name it (a purchase, no action
    on the VM)."""
    return Planted(resource_id, label, "commitment_coverage", protected=True)


FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def workload(rng: np.random.Generator, kind: str, hours: int) -> tuple[FloatArray, FloatArray]:
    """CPU percent and network bytes per hour (each direction) for ``hours`` hours of one workload."""
    hour_of_day = np.arange(hours) % 24
    if kind == "idle":
        cpu = rng.uniform(0.4, 1.8, hours)
        net = rng.uniform(2e3, 2e4, hours)
    elif kind == "oversized":
        cpu = np.clip(17 + 6 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 2.5, hours), 5, 36)
        net = rng.uniform(3e8, 6e8, hours)
    elif kind == "busy":
        cpu = np.clip(62 + 12 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 4, hours), 30, 97)
        net = rng.uniform(2e9, 4e9, hours)
    elif kind == "burst":
        cpu = np.where(hour_of_day == 2, rng.uniform(90, 98, hours), rng.uniform(0.5, 2.0, hours))
        net = np.where(hour_of_day == 2, 5e9, 1e4) * rng.uniform(0.8, 1.2, hours)
    else:
        raise ValueError(kind)
    return cpu, net


def _percent(value: float) -> float:
    return round(value * 100, 2)


def score(estate: LiveEstate, recommendations: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall, precision, critical false positives and saving errors against the planted truth.

    Each recommendation is ``{"rule_id", "resource_ids", "actions", "savings"}`` (see module contract).
    """
    by_resource = {p.resource_id: p for p in estate.planted}
    waste = {(p.rule, p.resource_id) for p in estate.planted if p.rule}
    found: set[tuple[str | None, str]] = set()
    true_positive = false_positive = 0
    critical: list[str] = []
    spurious: list[str] = []
    savings: list[dict[str, Any]] = []
    errors: list[float] = []
    for rec in recommendations:
        ids = [str(r) for r in rec["resource_ids"]]
        hits = [(rec["rule_id"], rid) for rid in ids if (rec["rule_id"], rid) in waste]
        if hits:
            true_positive += 1
            found.update(hits)
            planted = by_resource[hits[0][1]]
            if planted.list_price_usd:
                engine = Decimal(str(rec["savings"]))
                billed = rec.get("price_source") == BILLED_SOURCE
                truth = planted.list_price_usd * (BILLED_HOURS / MONTH_HOURS if billed else 1)
                error = abs(float(engine - truth)) / float(truth)
                errors.append(error)
                savings.append(
                    {
                        "resource": planted.label,
                        "engine_usd": str(engine.quantize(Decimal("0.01"))),
                        "truth_usd": str(truth.quantize(Decimal("0.01"))),
                        "truth": "billed 30 days" if billed else "list price",
                        "list_price_usd": str(planted.list_price_usd.quantize(Decimal("0.01"))),
                        "error_percent": _percent(error),
                    }
                )
        else:
            false_positive += 1
            labels = (by_resource[r].label if r in by_resource else r for r in ids)
            spurious.append(f"{rec['rule_id']}:{','.join(labels)}")
        for rid in ids:
            planted_or_none = by_resource.get(rid)
            if planted_or_none and planted_or_none.protected and set(rec["actions"]) & STOP_OR_SHRINK:
                critical.append(f"{rec['rule_id']}:{planted_or_none.label}")
    missed = sorted(by_resource[rid].label for _rule, rid in waste - found)
    total = true_positive + false_positive
    return {
        "planted": len(waste),
        "found": len(found),
        "recall": round(len(found) / len(waste), 4) if waste else 1.0,
        "precision": round(true_positive / total, 4) if total else 1.0,
        "critical_false_positives": len(critical),
        "critical_details": critical,
        "missed": missed,
        "spurious": spurious,
        "savings_mape_percent": _percent(sum(errors) / len(errors)) if errors else 0.0,
        "savings_max_error_percent": _percent(max(errors)) if errors else 0.0,
        "savings_vs_list_price": savings,
    }


def failures(result: dict[str, Any], max_savings_error_percent: float | None = None) -> list[str]:
    """The live floors that do not hold for one cloud's result (CI: ``tests/evals/test_live_*.py``)."""
    problems = [f"{name} {result[name]} < {floor}" for name, floor in FLOORS.items() if result[name] < floor]
    if result["critical_false_positives"]:
        problems.append(f"critical false positives: {', '.join(result['critical_details'])}")
    if not result["first_analysis_found_all"]:
        problems.append(f"not found in the first analysis: {', '.join(result['missed'])}")
    if result["collection_failures"]:
        problems.append(f"collection failures: {'; '.join(result['collection_failures'])}")
    worst = result["savings_max_error_percent"]
    if max_savings_error_percent is not None and worst > max_savings_error_percent:
        problems.append(f"saving error {worst} % > {max_savings_error_percent} %")
    return problems
