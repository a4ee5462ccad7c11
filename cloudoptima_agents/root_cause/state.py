"""State of the root-cause graph."""

from __future__ import annotations

from typing import Any, TypedDict


class RootCauseState(TypedDict, total=False):
    anomaly_id: str
    """Input: the anomaly to explain (or pass ``evidence`` directly)."""
    evidence: dict[str, Any]
    """AnomalyEvidence as JSON: the only facts the explanation may use."""
    draft: str
    attempts: int
    feedback: str
    explanation: str
    source: str
    """``model`` (the configured LLM, grounded), ``offline`` or ``offline_fallback`` (the LLM's drafts
    stated facts not in the evidence twice, so the template was used)."""
    unsupported: str
