"""Recommendation narrator: a short narrative per audience (engineer, finance), grounded in the preview.

- ``narrate(evidence, model=None)`` — kernel-independent; returns a :class:`Narratives`.
- ``narrate_recommendation(session, organization_id, recommendation_id, model=None, memory=None)`` — loads
  the stored recommendation of that organisation and narrates it (and remembers it for recall when a
  memory is given). Narratives are returned, not stored: recommendation rows are rewritten by each run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.narrator.evidence import RecommendationEvidence, from_domain, from_row
from agents.narrator.graph import build_graph
from agents.offline import OfflineChatModel
from cloudoptima.services.semantic_memory import MemoryKind, SemanticMemory
from cloudoptima.storage.models import Recommendation

__all__ = [
    "Narratives",
    "RecommendationEvidence",
    "build_graph",
    "from_domain",
    "narrate",
    "narrate_recommendation",
]


@dataclass(frozen=True)
class Narratives:
    engineer: str
    finance: str
    source: str
    evidence: dict[str, Any]
    unsupported: str = ""


def narrate(
    evidence: RecommendationEvidence | dict[str, Any], *, model: BaseChatModel | None = None
) -> Narratives:
    data = evidence.model_dump(mode="json") if isinstance(evidence, RecommendationEvidence) else evidence
    result = build_graph(model or OfflineChatModel()).invoke({"evidence": data})
    return Narratives(
        engineer=result["narratives"]["engineer"],
        finance=result["narratives"]["finance"],
        source=result["source"],
        evidence=result["evidence"],
        unsupported=result.get("unsupported", ""),
    )


def narrate_recommendation(
    session: Session,
    organization_id: uuid.UUID,
    recommendation_id: uuid.UUID,
    *,
    model: BaseChatModel | None = None,
    memory: SemanticMemory | None = None,
) -> Narratives:
    row = session.scalars(
        select(Recommendation).where(
            Recommendation.organization_id == organization_id, Recommendation.id == recommendation_id
        )
    ).first()
    if row is None:
        raise LookupError(f"recommendation {recommendation_id} not found")
    evidence = from_row(row)
    result = narrate(evidence, model=model)
    if memory is not None:
        memory.remember(
            MemoryKind.RECOMMENDATION, str(recommendation_id), evidence.summary(), {"category": row.category}
        )
    return result
