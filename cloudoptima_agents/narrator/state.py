"""State of the narrator graph."""

from __future__ import annotations

from typing import Any, TypedDict


class NarratorState(TypedDict, total=False):
    recommendation_id: str
    evidence: dict[str, Any]
    """RecommendationEvidence as JSON."""
    draft: str
    attempts: int
    feedback: str
    narratives: dict[str, str]
    """``{"engineer": ..., "finance": ...}``."""
    source: str
    """``model``, ``offline`` or ``offline_fallback``."""
    unsupported: str
