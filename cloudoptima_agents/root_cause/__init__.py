"""Root-cause explainer: evidence from tools, an explanation written by the model, grounded or replaced.

Entry points:
- ``explain_anomaly(evidence, model=None, tools=None)`` — kernel-independent: give it the evidence (an
  :class:`AnomalyEvidence` or its JSON) or tools that load it; returns an :class:`Explanation`. With no
  model, the offline narrator writes it. This is what an analysis activity calls.
- ``explain_and_store(session, organization_id, anomaly_id, model=None, memory=None)`` — gathers evidence
  from the organisation's data (and similar incidents from semantic memory when given), stores the text on
  the anomaly (``root_cause``) and remembers the incident for later recall. The caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy.orm import Session

from cloudoptima.services.semantic_memory import MemoryKind, SemanticMemory
from cloudoptima.storage.models import Anomaly
from cloudoptima_agents.offline import OfflineChatModel
from cloudoptima_agents.root_cause.evidence import AnomalyEvidence, KernelEvidence, SimilarIncident
from cloudoptima_agents.root_cause.graph import build_graph
from cloudoptima_agents.root_cause.nodes import RootCauseTools

__all__ = [
    "AnomalyEvidence",
    "Explanation",
    "RootCauseTools",
    "build_graph",
    "explain_and_store",
    "explain_anomaly",
]


@dataclass(frozen=True)
class Explanation:
    text: str
    source: str
    """``model``, ``offline`` or ``offline_fallback``."""
    evidence: dict[str, Any]
    unsupported: str = ""


def explain_anomaly(
    evidence: AnomalyEvidence | dict[str, Any] | None = None,
    *,
    anomaly_id: str | None = None,
    model: BaseChatModel | None = None,
    tools: RootCauseTools | None = None,
) -> Explanation:
    """Explain one anomaly (see module docstring)."""
    graph = build_graph(model or OfflineChatModel(), tools or RootCauseTools())
    state: dict[str, Any] = {}
    if evidence is not None:
        data = evidence.model_dump(mode="json") if isinstance(evidence, AnomalyEvidence) else evidence
        state["evidence"] = data
    if anomaly_id is not None:
        state["anomaly_id"] = anomaly_id
    result = graph.invoke(state)
    return Explanation(
        text=result["explanation"],
        source=result["source"],
        evidence=result["evidence"],
        unsupported=result.get("unsupported", ""),
    )


def kernel_tools(
    session: Session, organization_id: uuid.UUID, memory: SemanticMemory | None = None
) -> RootCauseTools:
    """Evidence tools over one organisation's data (and its semantic memory when given)."""
    source = KernelEvidence(session, organization_id)

    def similar(evidence: AnomalyEvidence) -> list[SimilarIncident]:
        if memory is None:
            return []
        found = memory.recall(
            evidence.summary(),
            kinds=[MemoryKind.ANOMALY],
            limit=3,
            exclude_ref=evidence.anomaly_id,
            min_similarity=0.5,
        )
        return [SimilarIncident(ref_id=i.ref_id, summary=i.text, similarity=i.similarity) for i in found]

    return RootCauseTools(
        load=lambda anomaly_id: source.anomaly(uuid.UUID(anomaly_id)),
        billed_items=source.billed_items,
        inventory_changes=source.inventory_changes,
        audit_events=source.audit_events,
        similar=similar,
    )


def explain_and_store(
    session: Session,
    organization_id: uuid.UUID,
    anomaly_id: uuid.UUID,
    *,
    model: BaseChatModel | None = None,
    memory: SemanticMemory | None = None,
) -> Explanation:
    """Explain, store on the anomaly and remember it (see module docstring)."""
    explanation = explain_anomaly(
        anomaly_id=str(anomaly_id), model=model, tools=kernel_tools(session, organization_id, memory)
    )
    row = session.get(Anomaly, anomaly_id)
    if row is None or row.organization_id != organization_id:
        raise LookupError(f"anomaly {anomaly_id} not found")
    row.root_cause = explanation.text
    row.root_cause_source = f"agent:{explanation.source}"[:40]
    if memory is not None:
        evidence = AnomalyEvidence.model_validate(explanation.evidence)
        memory.remember(
            MemoryKind.ANOMALY,
            str(anomaly_id),
            evidence.summary(),
            {"start_date": str(evidence.start_date), "severity": evidence.severity},
        )
    session.flush()
    return explanation
