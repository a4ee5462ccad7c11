"""False positives fed back to the rules' profiles (#22): a profile users keep marking wrong is trusted less.

Contract:
- Per ``(rule_id, profile)`` of the organisation's recommendations (:func:`rule_feedback`): ``decided`` counts
  those a person decided on (status ``accepted``, ``dismissed``, ``false_positive``, ``scheduled``,
  ``applied`` or ``completed``), ``false_positives`` those marked false positive; ``rate_percent`` =
  false positives / decided × 100 (2 places, half-even; None when nothing was decided).
- A profile is *lowered* when ``false_positives >= MIN_FALSE_POSITIVES`` (3) and the rate is at least
  ``MIN_RATE_PERCENT`` (25 %).
- :func:`apply_feedback` lowers the confidence of every finding of a lowered profile one level
  (:data:`LEVEL_STEP` = 0.3, never below :data:`FLOOR`; levels: high ≥ 0.8, medium ≥ 0.5, low below), recomputes
  its priority, and writes the reason into its evidence (``false_positive_feedback``: "3 of 8 marked false
  positive here", with the rate and the confidence before). Findings of other profiles are returned as they were.
- Every query is scoped to the organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.recommendations import Recommendation, RecommendationStatus, priority
from cloudoptima.storage.models import Recommendation as RecommendationRow

MIN_FALSE_POSITIVES: Final = 3
MIN_RATE_PERCENT: Final = Decimal(25)
LEVEL_STEP: Final = 0.3
FLOOR: Final = 0.05
DECIDED: Final = (
    RecommendationStatus.ACCEPTED.value,
    RecommendationStatus.DISMISSED.value,
    RecommendationStatus.FALSE_POSITIVE.value,
    RecommendationStatus.SCHEDULED.value,
    RecommendationStatus.APPLIED.value,
    RecommendationStatus.COMPLETED.value,
)
_PERCENT = Decimal("0.01")
THRESHOLD: Final = (
    f"a profile with at least {MIN_FALSE_POSITIVES} false positives making at least {MIN_RATE_PERCENT} % of "
    f"its decided findings has its findings' confidence lowered by {LEVEL_STEP} (one level)"
)


@dataclass(frozen=True)
class ProfileFeedback:
    """How often people marked one rule profile's findings false positive."""

    rule_id: str
    profile: str
    false_positives: int
    decided: int

    @property
    def rate_percent(self) -> Decimal | None:
        if not self.decided:
            return None
        return (Decimal(self.false_positives) * 100 / self.decided).quantize(_PERCENT, ROUND_HALF_EVEN)

    @property
    def lowered(self) -> bool:
        rate = self.rate_percent
        return self.false_positives >= MIN_FALSE_POSITIVES and rate is not None and rate >= MIN_RATE_PERCENT

    @property
    def reason(self) -> str:
        return f"{self.false_positives} of {self.decided} marked false positive here"


def rule_feedback(session: Session, org: uuid.UUID) -> list[ProfileFeedback]:
    """Per rule and profile with at least one decided finding, by rule then profile (see module contract)."""
    false_positive = RecommendationRow.status == RecommendationStatus.FALSE_POSITIVE.value
    rows = session.execute(
        select(
            RecommendationRow.rule_id,
            RecommendationRow.profile,
            func.count(),
            func.sum(case((false_positive, 1), else_=0)),
        )
        .where(RecommendationRow.organization_id == org, RecommendationRow.status.in_(DECIDED))
        .group_by(RecommendationRow.rule_id, RecommendationRow.profile)
    ).all()
    found = [
        ProfileFeedback(
            rule_id=rule or "", profile=profile or "", false_positives=int(fp or 0), decided=int(n)
        )
        for rule, profile, n, fp in rows
    ]
    return sorted(found, key=lambda f: (f.rule_id, f.profile))


def apply_feedback(
    found: Sequence[Recommendation], feedback: Sequence[ProfileFeedback]
) -> list[Recommendation]:
    """``found`` with the findings of lowered profiles one confidence level down (see module contract)."""
    lowered = {(f.rule_id, f.profile): f for f in feedback if f.lowered}
    out = []
    for rec in found:
        judged = lowered.get((rec.rule_id, rec.profile))
        if judged is None:
            out.append(rec)
            continue
        confidence = round(max(FLOOR, rec.confidence - LEVEL_STEP), 4)
        note = {
            "reason": judged.reason,
            "rate_percent": str(judged.rate_percent),
            "confidence_before": rec.confidence,
        }
        out.append(
            rec.model_copy(
                update={
                    "confidence": confidence,
                    "priority": priority(rec.estimated_savings_monthly, confidence, rec.risk_level),
                    "evidence": {**rec.evidence, "false_positive_feedback": note},
                }
            )
        )
    return out
