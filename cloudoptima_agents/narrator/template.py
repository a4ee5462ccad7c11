"""Offline recommendation narratives: one per audience, copied from the evidence, labelled.

Contract: ``offline_narratives(evidence)`` returns ``{"engineer": ..., "finance": ...}``; the engineer text
says what to change (each resource change with its before and after values) and the risk and rollback;
the finance text says the monthly and annual savings, the monthly cost before and after, and the
confidence. ``offline_narrative_json`` is the same as a JSON string (what the offline model answers).
"""

from __future__ import annotations

import json
from typing import Any

from cloudoptima_agents.narrator.evidence import Change, RecommendationEvidence

OFFLINE_LABEL = "[offline narrator]"


def _values(values: dict[str, Any]) -> str:
    shown = [f"{k} {v}" for k, v in values.items() if isinstance(v, str | int | float) and str(v) != ""]
    return ", ".join(shown) if shown else "nothing"


def _change(change: Change) -> str:
    if change.before or change.after:
        return (
            f"{change.change_type} {change.resource_id} ({_values(change.before)} → {_values(change.after)})"
        )
    return f"{change.change_type} {change.resource_id}"


def offline_narratives(evidence: RecommendationEvidence) -> dict[str, str]:
    changes = [_change(c) for c in evidence.changes[:4]] or [
        f"review {rid}" for rid in evidence.resource_ids[:4]
    ]
    risk = f"Risk is {evidence.risk_level}"
    if evidence.risks:
        risk += ": " + "; ".join(evidence.risks[:3])
    engineer = f"{OFFLINE_LABEL} What to change: {'; '.join(changes)}."
    others = [rid for rid in evidence.resource_ids[:4] if all(rid != c.resource_id for c in evidence.changes)]
    if others:
        engineer += f" Also concerns {', '.join(others)}."
    engineer += f" {risk}."
    if evidence.rollback:
        engineer += f" Rollback: {evidence.rollback}"
    cur = evidence.currency
    finance = (
        f"{OFFLINE_LABEL} Saves {evidence.savings_monthly:,} {cur} a month "
        f"({evidence.savings_annual:,} {cur} a year)"
    )
    if evidence.current_monthly is not None and evidence.projected_monthly is not None:
        finance += f": monthly cost goes from {evidence.current_monthly:,} {cur} to {evidence.projected_monthly:,} {cur}"
    finance += "."
    if evidence.confidence_percent is not None:
        finance += f" Confidence {evidence.confidence_percent} %, risk {evidence.risk_level}."
    else:
        finance += f" Risk {evidence.risk_level}."
    return {"engineer": engineer, "finance": finance}


def offline_narrative_json(data: dict[str, Any]) -> str:
    return json.dumps(offline_narratives(RecommendationEvidence.model_validate(data)), ensure_ascii=False)
