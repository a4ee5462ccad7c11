"""Recommendation narrator: a short narrative per audience (engineer, finance), grounded in the preview.

- ``narrate(evidence, model=None)`` — kernel-independent; returns a :class:`Narratives`.
- ``narrate_recommendation(session, organization_id, recommendation_id, model=None, memory=None)`` — loads
  the stored recommendation of that organisation and returns its narratives, written once and stored on the
  row (``recommendations.narratives``) under a key of the evidence and the model: a later call with the same
  evidence and model returns the stored text without calling the model; changed evidence (a new run moved
  the numbers) or another model rewrites it. The caller commits. It also remembers the recommendation for
  recall when a memory is given.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.services.semantic_memory import MemoryKind, SemanticMemory
from cloudoptima.storage.models import Recommendation
from cloudoptima_agents.narrator.evidence import RecommendationEvidence, from_domain, from_row
from cloudoptima_agents.narrator.graph import build_graph
from cloudoptima_agents.offline import OfflineChatModel

__all__ = [
    "Narratives",
    "RecommendationEvidence",
    "build_graph",
    "from_domain",
    "narrate",
    "narrate_recommendation",
    "narrative_key",
]


@dataclass(frozen=True)
class Narratives:
    engineer: str
    finance: str
    source: str
    evidence: dict[str, Any]
    unsupported: str = ""
    written_at: datetime | None = None
    """When the stored text was written (None when not stored)."""


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


def model_label(model: BaseChatModel | None) -> str:
    """Which writer a narrative came from: ``offline`` or the model class and name."""
    if model is None or isinstance(model, OfflineChatModel):
        return "offline"
    name = getattr(model, "model", None) or getattr(model, "model_name", None) or ""
    return f"{type(model).__name__}:{name}"


def narrative_key(evidence: RecommendationEvidence, model: BaseChatModel | None) -> str:
    """The stored narratives' key: the evidence the text is grounded in, and the writer."""
    payload = json.dumps(evidence.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(f"{model_label(model)}\n{payload}".encode()).hexdigest()


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
    key = narrative_key(evidence, model)
    stored = row.narratives or {}
    if stored.get("key") == key:
        result = Narratives(
            engineer=str(stored["engineer"]),
            finance=str(stored["finance"]),
            source=str(stored["source"]),
            evidence=evidence.model_dump(mode="json"),
            written_at=datetime.fromisoformat(str(stored["written_at"])),
        )
    else:
        fresh = narrate(evidence, model=model)
        written = datetime.now(UTC)
        row.narratives = {
            "key": key,
            "engineer": fresh.engineer,
            "finance": fresh.finance,
            "source": fresh.source,
            "written_at": written.isoformat(),
        }
        session.flush()
        result = Narratives(
            fresh.engineer, fresh.finance, fresh.source, fresh.evidence, fresh.unsupported, written
        )
    if memory is not None:
        memory.remember(
            MemoryKind.RECOMMENDATION, str(recommendation_id), evidence.summary(), {"category": row.category}
        )
    return result
